#include "listcommands.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"

#include <QTime>
#include <QUtf8StringView>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <inspect/keyread.h>
#include <inspect/keyspace.h>
#include <inspect/lockrecord.h>
#include <inspect/scanner.h>
#include <mutex>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <redis/connection.h>
#include <thread>
#include <unistd.h>
#include <util/displaytext.h>
#include <util/duration.h>
#include <util/fanout.h>
#include <vector>

namespace lockctl {

using lockscope::displayText;
using lockscope::displayTextPrefix;
using lockscope::inspect::Confidence;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;
using lockscope::inspect::RawEntry;
using lockscope::inspect::Scanner;
using lockscope::inspect::ScanOptions;
using lockscope::inspect::SchemaRegistry;
using lockscope::inspect::Snapshot;
using lockscope::inspect::StreamSummary;
using lockscope::redis::Connection;
using lockscope::redis::NodeConfig;

namespace {

const QCommandLineOption MatchOption(
    QStringLiteral("match"),
    QStringLiteral("SCAN MATCH glob; may be repeated. Given explicitly, every matching key is "
                   "listed, raw when no schema reads it. Default: the --group's saved \"match\" globs, "
                   "else the schemas' own patterns."),
    QStringLiteral("PATTERN"));
const QCommandLineOption SchemaOption(QStringLiteral("schema"),
                                      QStringLiteral("Only locks of this schema (lockscope, redis-py, "
                                                     "node-redlock, redsync, redisson-rlock, ...)."),
                                      QStringLiteral("S"));
const QCommandLineOption CountOption(QStringLiteral("count"), QStringLiteral("SCAN COUNT hint per call."),
                                     QStringLiteral("N"), QStringLiteral("1000"));
const QCommandLineOption CsvOption(QStringLiteral("csv"), QStringLiteral("Print CSV instead of a table."));
const QCommandLineOption JsonLinesOption(QStringLiteral("jsonl"),
                                         QStringLiteral("Print JSON Lines: one record per line, no array."));
const QCommandLineOption PrettyOption(QStringLiteral("pretty"), QStringLiteral("Indent the --json output."));

/// --match, else the "match" globs of the --group's saved entry, else none (the schemas' own).
QStringList matchPatterns(const QCommandLineParser &parser, const QString &command, Output &out)
{
    QStringList match = parser.values(MatchOption);
    if (match.isEmpty() && parser.isSet(groupOption())) {
        bool ok = true;
        if (const auto group = groupValue(parser, command, out, ok))
            match = group->match;
    }
    return match;
}

QString nodesFooter()
{
    return QStringLiteral(
        "Nodes: --nodes URL[,URL...] (repeatable), else $LOCKSCOPE_NODES; see 'lockctl --help' for URLs.\n"
        "Read-only: sends SCAN, MGET, PTTL, TYPE, GET, HGETALL, ZRANGE, LRANGE and TIME only (never KEYS,\n"
        "never a write), so a user with '+scan +mget +get +pttl +type +hgetall +zrange +lrange +time ~*'\n"
        "can run it (without +mget, list and watch read values with GET, one command per key: slower;\n"
        "without +zrange, +lrange or +time, sorted-set and list locks show undecoded).");
}

QList<QCommandLineOption> listOptions()
{
    return {nodesOption(), groupOption(),   MatchOption, SchemaOption,    CountOption, jsonOption(),
            PrettyOption,  JsonLinesOption, CsvOption,   timeoutOption(), helpOption()};
}

QString listHelp()
{
    return formatHelp(
        QStringLiteral("lockctl list [--nodes URL,...] [--match PATTERN]... [--schema S] [--count N] "
                       "[--json [--pretty]|--jsonl|--csv]"),
        QStringLiteral("Lists the locks of a node group: one SCAN cursor per node, all nodes in parallel,\n"
                       "TTLs and values fetched in pipelined batches, decoded by the lock schemas\n"
                       "(LockScope, Redisson, ShedLock, redis-py, node-redlock, go-redsync, ...), then one\n"
                       "row per key aggregated across the nodes. HELD is k/N: nodes holding the majority\n"
                       "token. Anomalies: no-ttl, tokens-differ, quorum-lost, node-unreachable, undecoded,\n"
                       "lock-state, cluster-redirect (lockctl show: a Redis Cluster node answered MOVED).\n"
                       "A '?' after the schema marks a guess: only a random-looking token matched, on a key\n"
                       "that does not name a lock (it may be application data, such as a cache entry).\n"
                       "--json prints an array of records (key, schema, confidence (certain, likely, guess;\n"
                       "null when undecoded), confidence_reason, owner, token, fence, held, of, quorum,\n"
                       "ttl_ms (-1: no TTL), nodes [{node, present, pttl_ms, value, error}], anomalies),\n"
                       "compact, one record per line (--pretty indents it); --jsonl prints the same records\n"
                       "as JSON Lines. JSON and CSV are written as the records are read, in key order, so a\n"
                       "list of any length starts at once and is never held in memory as a whole."),
        listOptions(),
        nodesFooter() + QStringLiteral("\nExit codes: 0 done, 1 a node could not be read (the others are "
                                       "still listed), 2 usage error."));
}

QList<QCommandLineOption> showOptions()
{
    return {nodesOption(), groupOption(), jsonOption(), timeoutOption(), helpOption()};
}

QString showHelp()
{
    return formatHelp(
        QStringLiteral("lockctl show KEY [--nodes URL,...] [--json]"),
        QStringLiteral(
            "What every node holds under KEY: type, PTTL and value (GET, or HGETALL for a hash),\n"
            "decoded by the lock schemas, and the record aggregated across the nodes. The\n"
            "confidence says how sure the decoding is: certain (the value carries the library's\n"
            "own format), likely, or guess (only a random-looking token; a '?' after the schema)."),
        showOptions(),
        nodesFooter() +
            QStringLiteral(
                "\nA Redis Cluster node that answers MOVED / ASK for KEY is up: show names the node\n"
                "serving the key's slot (anomaly cluster-redirect) and does not follow it.\n"
                "Exit codes: 0 done, 1 a node could not be read, 2 usage error, 4 no node holds\n"
                "KEY (also when it moved to a cluster node outside the group)."));
}

// --- rendering --------------------------------------------------------------------------------

QString schemaText(const QString &schema, const std::optional<Confidence> &confidence)
{
    if (schema.isEmpty())
        return QStringLiteral("-");
    return displayText(schema) + (confidence == Confidence::Guess ? QStringLiteral("?") : QString());
}

QString typeName(const NodeEntry &entry)
{
    if (!entry.reachable)
        return QStringLiteral("?");
    if (entry.raw.type == RawEntry::Type::Missing)
        return QStringLiteral("none");
    return entry.raw.typeName;
}

QString valueText(const RawEntry &raw)
{
    switch (raw.type) {
    case RawEntry::Type::String:
        // The start only: a 50 MB value is not a terminal's business (--json prints it all).
        return displayTextPrefix(raw.value, MaxCellChars);
    case RawEntry::Type::Hash: {
        QStringList parts;
        qsizetype length = 0;
        for (const auto &[field, value] : raw.fields) {
            if (length > MaxCellChars) {
                parts << QStringLiteral("\u2026 (%1 fields)").arg(raw.fields.size());
                break;
            }
            parts << QStringLiteral("%1=%2").arg(displayTextPrefix(field, 80), displayTextPrefix(value, 80));
            length += parts.back().size();
        }
        return QStringLiteral("{%1}").arg(parts.join(QStringLiteral(", ")));
    }
    case RawEntry::Type::Other:
        return QStringLiteral("(%1)").arg(displayText(raw.typeName));
    case RawEntry::Type::Missing:
        break;
    }
    return QStringLiteral("-");
}

// --- JSON -----------------------------------------------------------------------------------
// Records are written with RapidJSON's writers straight into a byte buffer: no QJsonObject per
// record, and no document holding them all (list writes them as they are read).

using JsonBuffer = rapidjson::StringBuffer;
using CompactJson = rapidjson::Writer<JsonBuffer>;
using PrettyJson = rapidjson::PrettyWriter<JsonBuffer>;

template <typename Writer>
void jsonText(Writer &json, QByteArrayView utf8)
{
    json.String(utf8.data(), rapidjson::SizeType(utf8.size()));
}

template <typename Writer>
void jsonText(Writer &json, const QString &text)
{
    jsonText(json, QByteArrayView(text.toUtf8()));
}

/// Text that is null when empty.
template <typename Writer>
void jsonTextOrNull(Writer &json, const QString &text)
{
    if (text.isEmpty())
        json.Null();
    else
        jsonText(json, text);
}

/// `name`: what `write` writes when `present`, else null.
template <typename Writer, typename Write>
void jsonFieldOrNull(Writer &json, const char *name, bool present, Write write)
{
    json.Key(name);
    if (present)
        write();
    else
        json.Null();
}

/// A value's bytes as JSON text: as they are when they are UTF-8, else decoded with U+FFFD for
/// what is not (a value's text is for reading; keys, which are for typing, use jsonBytesField).
template <typename Writer>
void jsonLossyText(Writer &json, const QByteArray &bytes)
{
    if (QUtf8StringView(bytes).isValidUtf8())
        jsonText(json, QByteArrayView(bytes));
    else
        jsonText(json, QString::fromUtf8(bytes));
}

/// `name`: the bytes as text when they are UTF-8 (exact), else in their displayed form (`\xNN`,
/// which the KEY arguments accept) plus `<name>_base64` with the bytes (as putBytes()).
template <typename Writer>
void jsonBytesField(Writer &json, const char *name, const QByteArray &bytes)
{
    json.Key(name);
    if (QUtf8StringView(bytes).isValidUtf8()) {
        jsonText(json, QByteArrayView(bytes));
        return;
    }
    jsonText(json, displayText(bytes));
    json.Key((QByteArray(name) + "_base64").constData());
    jsonText(json, QByteArrayView(bytes.toBase64()));
}

template <typename Writer>
void jsonConfidence(Writer &json, const std::optional<Confidence> &confidence)
{
    if (confidence)
        jsonText(json, lockscope::inspect::confidenceText(*confidence));
    else
        json.Null();
}

template <typename Writer>
void jsonValue(Writer &json, const RawEntry &raw)
{
    switch (raw.type) {
    case RawEntry::Type::String:
        jsonLossyText(json, raw.value);
        return;
    case RawEntry::Type::Hash:
        json.StartObject();
        for (const auto &[field, value] : raw.fields) {
            const QByteArray name =
                QUtf8StringView(field).isValidUtf8() ? field : QString::fromUtf8(field).toUtf8();
            json.Key(name.constData(), rapidjson::SizeType(name.size()));
            jsonLossyText(json, value);
        }
        json.EndObject();
        return;
    case RawEntry::Type::Other:
    case RawEntry::Type::Missing:
        break;
    }
    json.Null();
}

/// Holders or waiters: [{owner, token, pttl_ms, count, fence, mode}, ...].
template <typename Writer>
void jsonHolders(Writer &json, const std::vector<lockscope::inspect::LockHolder> &holders)
{
    json.StartArray();
    for (const auto &holder : holders) {
        json.StartObject();
        json.Key("owner");
        jsonTextOrNull(json, holder.owner);
        json.Key("token");
        jsonLossyText(json, holder.token);
        jsonFieldOrNull(json, "pttl_ms", holder.pttlMs >= 0, [&] { json.Int64(holder.pttlMs); });
        jsonFieldOrNull(json, "count", holder.count >= 0, [&] { json.Int(holder.count); });
        jsonFieldOrNull(json, "fence", holder.fence >= 0, [&] { json.Int64(holder.fence); });
        json.Key("mode");
        jsonTextOrNull(json, holder.mode);
        json.EndObject();
    }
    json.EndArray();
}

/// The majority node's decoding of a record (holders, permits, queue), or nullptr.
const lockscope::inspect::DecodedLock *majorityDecoding(const LockRecord &record)
{
    const NodeEntry *entry = lockscope::inspect::majorityEntry(record);
    return entry && entry->decoded ? &*entry->decoded : nullptr;
}

/// One record: key, schema, kind, confidence, confidence_reason, owner, token, fence,
/// hold_count, mode, holders [...], permits, queue [...], held, of, quorum, ttl_ms, read_at,
/// nodes [...], anomalies.
template <typename Writer>
void jsonRecord(Writer &json, const LockRecord &record)
{
    json.StartObject();
    jsonBytesField(json, "key", record.key);
    json.Key("schema");
    jsonTextOrNull(json, record.schema);
    json.Key("confidence");
    jsonConfidence(json, record.confidence);
    jsonFieldOrNull(json, "confidence_reason", record.confidence.has_value(),
                    [&] { jsonTextOrNull(json, record.confidenceReason); });
    json.Key("owner");
    jsonTextOrNull(json, record.owner);
    jsonFieldOrNull(json, "token", record.held > 0, [&] { jsonLossyText(json, record.token); });
    jsonFieldOrNull(json, "fence", record.fence >= 0, [&] { json.Int64(record.fence); });
    jsonFieldOrNull(json, "hold_count", record.holdCount >= 0, [&] { json.Int64(record.holdCount); });
    json.Key("mode");
    jsonTextOrNull(json, record.mode);
    json.Key("kind");
    jsonTextOrNull(json, record.kind);
    const auto *decoded = majorityDecoding(record);
    json.Key("holders");
    jsonHolders(json, decoded ? decoded->holders : std::vector<lockscope::inspect::LockHolder>{});
    jsonFieldOrNull(json, "permits", decoded && decoded->permits >= 0, [&] { json.Int(decoded->permits); });
    json.Key("queue");
    jsonHolders(json, decoded ? decoded->queue : std::vector<lockscope::inspect::LockHolder>{});
    json.Key("held");
    json.Int(record.held);
    json.Key("of");
    json.Int(record.of);
    json.Key("quorum");
    json.Bool(record.quorum);
    json.Key("ttl_ms");
    json.Int64(record.minPttlMs);
    json.Key("read_at");
    jsonText(json, record.readAt.toString(Qt::ISODateWithMs));
    json.Key("nodes");
    json.StartArray();
    for (const NodeEntry &entry : record.nodes) {
        json.StartObject();
        json.Key("node");
        jsonText(json, entry.node);
        json.Key("reachable");
        json.Bool(entry.reachable);
        json.Key("present");
        json.Bool(entry.present());
        jsonFieldOrNull(json, "type", entry.reachable, [&] { jsonText(json, typeName(entry)); });
        jsonFieldOrNull(json, "pttl_ms", entry.present(), [&] { json.Int64(entry.raw.pttlMs); });
        jsonFieldOrNull(json, "value", entry.present(), [&] { jsonValue(json, entry.raw); });
        jsonFieldOrNull(json, "schema", bool(entry.decoded),
                        [&] { jsonTextOrNull(json, entry.decoded->schema); });
        jsonFieldOrNull(json, "confidence", bool(entry.decoded),
                        [&] { jsonConfidence(json, entry.decoded->confidence); });
        jsonFieldOrNull(json, "token", bool(entry.decoded),
                        [&] { jsonLossyText(json, entry.decoded->token); });
        json.Key("error");
        jsonTextOrNull(json, entry.error);
        json.EndObject();
    }
    json.EndArray();
    json.Key("anomalies");
    json.StartArray();
    for (const QString &anomaly : record.anomalies)
        jsonText(json, anomaly);
    json.EndArray();
    json.EndObject();
}

/// list's JSON output, written a record at a time: compact, one record per line inside the
/// array (`[` and `]` on lines of their own: valid JSON, and friendly to grep and diff),
/// indented (--pretty), or JSON Lines (--jsonl: one record per line, no array).
class RecordJsonStream
{
public:
    enum class Style
    {
        Compact,
        Pretty,
        Lines
    };

    RecordJsonStream(Output &out, Style style) : m_out(out), m_style(style)
    {
        if (m_style == Style::Pretty) {
            m_pretty.SetIndent(' ', 4);
            m_pretty.StartArray();
        } else if (m_style == Style::Compact) {
            m_buffer.Put('[');
        }
    }

    void add(const LockRecord &record)
    {
        if (m_style == Style::Pretty) {
            jsonRecord(m_pretty, record);
        } else {
            if (m_style == Style::Compact && m_count > 0)
                m_buffer.Put(',');
            if (m_style == Style::Compact || m_count > 0)
                m_buffer.Put('\n');
            m_compact.Reset(m_buffer); // one JSON text per record
            jsonRecord(m_compact, record);
        }
        ++m_count;
        if (m_buffer.GetSize() >= 64 * 1024)
            flush();
    }

    /// Closes the array (an empty one is "[]") and writes what is left.
    void finish()
    {
        if (m_style == Style::Pretty)
            m_pretty.EndArray();
        else if (m_style == Style::Compact && m_count > 0)
            m_buffer.Put('\n');
        if (m_style == Style::Compact)
            m_buffer.Put(']');
        if (m_style != Style::Lines || m_count > 0)
            m_buffer.Put('\n');
        flush();
    }

private:
    void flush()
    {
        m_out.writeUtf8(m_buffer.GetString(), m_buffer.GetSize());
        m_buffer.Clear();
    }

    Output &m_out;
    Style m_style;
    JsonBuffer m_buffer;
    CompactJson m_compact{m_buffer};
    PrettyJson m_pretty{m_buffer};
    qint64 m_count = 0;
};

QString ttlText(const LockRecord &record)
{
    if (record.held == 0)
        return QStringLiteral("-");
    if (record.minPttlMs < 0)
        return QStringLiteral("none");
    return lockscope::formatDuration(std::chrono::milliseconds(record.minPttlMs));
}

QString abbreviate(const QByteArray &token)
{
    const QString text = displayText(token);
    return text.size() > 14 ? text.left(12) + QStringLiteral("…") : text;
}

QString orDash(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("-") : text;
}

/// show's table of a lock's holders and waiters (read locks, semaphores, fair queues), as the
/// majority node has them.
QString holdersTable(const lockscope::inspect::DecodedLock &decoded)
{
    Table table({QStringLiteral("ROLE"), QStringLiteral("OWNER"), QStringLiteral("TOKEN"),
                 QStringLiteral("PTTL"), QStringLiteral("FENCE")});
    table.setAlignment(3, Table::Align::Right);
    table.setAlignment(4, Table::Align::Right);
    const auto add = [&table](const QString &role, const lockscope::inspect::LockHolder &holder) {
        table.addRow({role, orDash(displayTextPrefix(holder.owner.toUtf8(), MaxKeyChars)),
                      displayTextPrefix(holder.token, MaxKeyChars),
                      holder.pttlMs >= 0 ? QString::number(holder.pttlMs) : QStringLiteral("-"),
                      holder.fence >= 0 ? QString::number(holder.fence) : QStringLiteral("-")});
    };
    for (const auto &holder : decoded.holders)
        add(holder.mode.isEmpty() ? QStringLiteral("holder") : holder.mode, holder);
    for (size_t i = 0; i < decoded.queue.size(); ++i)
        add(QStringLiteral("waiting #%1").arg(i + 1), decoded.queue[i]);
    return QStringLiteral("\n") + table.render();
}

/// One row of the `list` table and CSV, every cell display text (see displayText()).
QStringList recordRow(const LockRecord &record, bool fullToken)
{
    return {displayTextPrefix(record.key, MaxKeyChars),
            schemaText(record.schema, record.confidence),
            orDash(displayTextPrefix(record.owner.toUtf8(), MaxCellChars)),
            ttlText(record),
            QStringLiteral("%1/%2").arg(record.held).arg(record.of),
            record.fence >= 0 ? QString::number(record.fence) : QStringLiteral("-"),
            fullToken ? displayTextPrefix(record.token, MaxKeyChars) : orDash(abbreviate(record.token)),
            record.anomalies.isEmpty() ? QStringLiteral("-")
                                       : displayText(record.anomalies.join(QLatin1Char(',')))};
}

const QStringList &recordHeaders()
{
    static const QStringList headers{QStringLiteral("KEY"),   QStringLiteral("SCHEMA"),
                                     QStringLiteral("OWNER"), QStringLiteral("TTL"),
                                     QStringLiteral("HELD"),  QStringLiteral("FENCE"),
                                     QStringLiteral("TOKEN"), QStringLiteral("ANOMALIES")};
    return headers;
}

/// The `list` / `watch` table with no rows yet (TTL, HELD and FENCE right-aligned).
Table emptyRecordTable()
{
    Table table(recordHeaders());
    table.setAlignment(3, Table::Align::Right);
    table.setAlignment(4, Table::Align::Right);
    table.setAlignment(5, Table::Align::Right);
    return table;
}

/// The records as the `list` / `watch` table.
QString recordTable(const std::vector<LockRecord> &records)
{
    Table table = emptyRecordTable();
    for (const LockRecord &record : records)
        table.addRow(recordRow(record, false));
    return table.render();
}

QString csvLine(const QStringList &cells)
{
    QStringList fields;
    for (const QString &cell : cells)
        fields << lockscope::csvField(cell);
    return fields.join(QLatin1Char(',')) + QLatin1Char('\n');
}

// --- list -------------------------------------------------------------------------------------

int runList(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("list");
    QCommandLineParser parser;
    if (auto stop = parseArguments(parser, invocation.args, listOptions(), command, listHelp(), out))
        return *stop;
    if (!parser.positionalArguments().isEmpty()) {
        out.error(QStringLiteral("list: unexpected argument '%1' (see 'lockctl help list')")
                      .arg(parser.positionalArguments().front()));
        return exitcode::Usage;
    }
    if (int(parser.isSet(jsonOption())) + int(parser.isSet(JsonLinesOption)) + int(parser.isSet(CsvOption)) >
        1) {
        out.error(QStringLiteral("list: --json, --jsonl and --csv exclude each other"));
        return exitcode::Usage;
    }
    if (parser.isSet(PrettyOption) && !parser.isSet(jsonOption())) {
        out.error(QStringLiteral("list: --pretty goes with --json"));
        return exitcode::Usage;
    }
    const auto count = parsePositive(parser.value(CountOption));
    if (!count || *count > 1'000'000) {
        out.error(QStringLiteral("list: --count takes a positive integer (at most 1000000)"));
        return exitcode::Usage;
    }
    SchemaRegistry registry = SchemaRegistry::builtins();
    const QString schema = parser.value(SchemaOption);
    if (!schema.isEmpty() && !registry.find(schema)) {
        QStringList ids;
        for (const auto &known : registry.schemas())
            ids << known->id();
        out.error(QStringLiteral("list: unknown schema '%1' (known: %2)")
                      .arg(schema, ids.join(QStringLiteral(", "))));
        return exitcode::Usage;
    }
    auto nodes = resolveNodes(parser, command, out);
    if (!nodes || !applyTimeoutOption(parser, *nodes, command, out))
        return exitcode::Usage;

    ScanOptions options;
    options.match = matchPatterns(parser, command, out);
    options.schema = schema;
    // As in the app: a key whose name says lock is listed (raw) even when no format reads it.
    options.lockLikeRaw = true;
    options.count = static_cast<int>(*count);
    const Scanner scanner(std::move(*nodes), std::move(registry));

    // JSON and CSV go out batch by batch as the scanner reads them; the table needs every row
    // for its column widths, so it keeps the rows (text only, not the records).
    std::optional<RecordJsonStream> json;
    if (parser.isSet(jsonOption()) || parser.isSet(JsonLinesOption))
        json.emplace(out, parser.isSet(JsonLinesOption) ? RecordJsonStream::Style::Lines
                          : parser.isSet(PrettyOption)  ? RecordJsonStream::Style::Pretty
                                                        : RecordJsonStream::Style::Compact);
    const bool csv = parser.isSet(CsvOption);
    if (csv)
        out.write(csvLine(recordHeaders()));
    std::optional<Table> table;
    if (!json && !csv)
        table.emplace(emptyRecordTable());
    const StreamSummary summary = scanner.stream(options, [&](std::vector<LockRecord> &&records) {
        if (json) {
            for (const LockRecord &record : records)
                json->add(record);
        } else if (csv) {
            QString text;
            for (const LockRecord &record : records)
                text += csvLine(recordRow(record, true));
            out.write(text);
        } else {
            for (const LockRecord &record : records)
                table->addRow(recordRow(record, false));
        }
    });
    if (json)
        json->finish();
    else if (table)
        out.write(table->render());
    out.flush();

    int code = exitcode::Ok;
    for (const auto &node : summary.nodes) {
        if (!node.ok) {
            out.error(node.error);
            code = exitcode::NodeFailure;
        } else if (!node.note.isEmpty()) {
            out.error(QStringLiteral("note: %1: %2").arg(node.node, node.note));
        }
    }
    return code;
}

// --- show -------------------------------------------------------------------------------------

int runShow(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("show");
    QCommandLineParser parser;
    if (auto stop = parseArguments(parser, invocation.args, showOptions(), command, showHelp(), out))
        return *stop;
    if (parser.positionalArguments().size() != 1) {
        out.error(QStringLiteral("show: expected exactly one KEY (see 'lockctl help show')"));
        return exitcode::Usage;
    }
    const auto parsedKey =
        keyArgument(parser.positionalArguments().front(), command, QStringLiteral("KEY"), out);
    if (!parsedKey)
        return exitcode::Usage;
    const QByteArray key = *parsedKey;
    auto nodes = resolveNodes(parser, command, out);
    if (!nodes || !applyTimeoutOption(parser, *nodes, command, out))
        return exitcode::Usage;
    const SchemaRegistry registry = SchemaRegistry::builtins();

    // Every node at once (core's readRecord, as the app re-reads a lock before an action): the
    // total time is the slowest node's, not the sum.
    const LockRecord record = lockscope::inspect::readRecord(*nodes, key, registry);
    int code = exitcode::Ok;
    for (const NodeEntry &entry : record.nodes) {
        if (!entry.reachable) {
            out.error(entry.error);
            code = exitcode::NodeFailure;
        } else if (!entry.error.isEmpty()) {
            out.error(entry.error); // a cluster redirect: up, but the key is served elsewhere
        }
    }
    const bool anywhere = std::ranges::any_of(record.nodes, &NodeEntry::present);
    if (code == exitcode::Ok && !anywhere)
        code = exitcode::NotHeld;

    if (parser.isSet(jsonOption())) {
        JsonBuffer buffer;
        PrettyJson json(buffer);
        json.SetIndent(' ', 4);
        jsonRecord(json, record);
        buffer.Put('\n');
        out.writeUtf8(buffer.GetString(), buffer.GetSize());
        return code;
    }
    QList<std::pair<QString, QString>> rows{
        {QStringLiteral("key"), displayTextPrefix(record.key, MaxKeyChars)},
        {QStringLiteral("schema"), orDash(displayText(record.schema))},
        {QStringLiteral("confidence"),
         record.confidence
             ? QStringLiteral("%1 (%2)").arg(lockscope::inspect::confidenceText(*record.confidence),
                                             displayText(record.confidenceReason))
             : QStringLiteral("-")},
        {QStringLiteral("owner"), orDash(displayTextPrefix(record.owner.toUtf8(), MaxKeyChars))},
        {QStringLiteral("token"), orDash(displayTextPrefix(record.token, MaxKeyChars))},
        {QStringLiteral("fence"), record.fence >= 0 ? QString::number(record.fence) : QStringLiteral("-")},
        {QStringLiteral("held"), QStringLiteral("%1/%2 (quorum %3)")
                                     .arg(record.held)
                                     .arg(record.of)
                                     .arg(record.quorum ? QStringLiteral("held") : QStringLiteral("lost"))},
        {QStringLiteral("ttl"), ttlText(record)},
        {QStringLiteral("anomalies"), record.anomalies.isEmpty()
                                          ? QStringLiteral("-")
                                          : displayText(record.anomalies.join(QLatin1Char(',')))},
    };
    if (!record.kind.isEmpty())
        rows.append({QStringLiteral("kind"), displayText(record.kind)});
    if (record.holdCount >= 0)
        rows.append({QStringLiteral("hold count"), QString::number(record.holdCount)});
    if (!record.mode.isEmpty())
        rows.append({QStringLiteral("mode"), displayText(record.mode)});
    const auto *decoded = majorityDecoding(record);
    if (decoded && decoded->permits >= 0)
        rows.append({QStringLiteral("permits"),
                     QStringLiteral("%1 used of %2").arg(decoded->holders.size()).arg(decoded->permits)});
    qsizetype width = 0;
    for (const auto &row : rows)
        width = std::max(width, row.first.size());
    QString text;
    for (const auto &[name, value] : rows)
        text += QStringLiteral("%1  %2\n").arg(name.leftJustified(width), value);
    out.write(text);
    out.line();
    Table table({QStringLiteral("NODE"), QStringLiteral("TYPE"), QStringLiteral("PTTL"),
                 QStringLiteral("SCHEMA"), QStringLiteral("VALUE")});
    table.setAlignment(2, Table::Align::Right);
    for (const NodeEntry &entry : record.nodes) {
        table.addRow({displayText(entry.node), displayText(typeName(entry)),
                      entry.present() ? QString::number(entry.raw.pttlMs) : QStringLiteral("-"),
                      entry.decoded ? schemaText(entry.decoded->schema, entry.decoded->confidence)
                                    : QStringLiteral("-"),
                      !entry.reachable ? QStringLiteral("error: ") + displayText(entry.error)
                      : !entry.present() && !entry.error.isEmpty() ? displayText(entry.error)
                                                                   : valueText(entry.raw)});
    }
    out.write(table.render());
    if (decoded && (decoded->holders.size() > 1 || !decoded->queue.empty()))
        out.write(holdersTable(*decoded));
    return code;
}

// --- watch ------------------------------------------------------------------------------------

const QCommandLineOption IntervalOption(QStringLiteral("interval"),
                                        QStringLiteral("Time between refreshes (default 1s)."),
                                        QStringLiteral("duration"), QStringLiteral("1s"));
const QCommandLineOption
    IterationsOption(QStringLiteral("iterations"),
                     QStringLiteral("Stop after N refreshes (default: until interrupted)."),
                     QStringLiteral("N"));

QList<QCommandLineOption> watchOptions()
{
    return {nodesOption(),  groupOption(),    MatchOption,     SchemaOption, CountOption,
            IntervalOption, IterationsOption, timeoutOption(), helpOption()};
}

QString watchHelp()
{
    return formatHelp(
        QStringLiteral("lockctl watch [--nodes URL,... | --group G] [--match PATTERN]... [--schema S] "
                       "[--interval 1s] [--iterations N]"),
        QStringLiteral(
            "The 'lockctl list' table, refreshed in place: every --interval, and at once when a lock key\n"
            "changes if the nodes have keyspace notifications on (read with CONFIG GET; never switched on\n"
            "by lockctl: when they are off it says so and prints the command an administrator can run).\n"
            "On a terminal the screen is redrawn; otherwise every refresh is printed after a header line."),
        watchOptions(),
        nodesFooter() +
            QStringLiteral("\nExit codes: 0 done (--iterations reached, every node read by the last\n"
                           "refresh), 1 a node could not be read by the last refresh (as 'list'),\n"
                           "2 usage error."));
}

/// Wakes the refresh loop early when a node reports a change to a watched key.
struct RefreshSignal
{
    std::mutex mutex;
    std::condition_variable wake;
    bool dirty = false;

    void raise()
    {
        {
            std::lock_guard lock(mutex);
            dirty = true;
        }
        wake.notify_one();
    }
    void waitUntil(std::chrono::steady_clock::time_point deadline)
    {
        std::unique_lock lock(mutex);
        wake.wait_until(lock, deadline, [this] { return dirty; });
        dirty = false;
    }
};

/// Whether each node of a `watch` delivers keyspace events right now, and why not: a listener
/// thread per node keeps it current (a restart that turned notifications off, a lost
/// subscription), so the header never says "live" when it is not.
class LiveState
{
public:
    explicit LiveState(std::size_t nodes) : m_why(nodes) {}

    void set(std::size_t node, const QString &whyNot)
    {
        {
            const std::lock_guard lock(m_mutex);
            m_why[node] = whyNot;
        }
        m_checked.notify_all();
    }
    /// Until every node has been checked once, or `deadline`.
    void waitChecked(std::chrono::steady_clock::time_point deadline)
    {
        std::unique_lock lock(m_mutex);
        m_checked.wait_until(lock, deadline, [this] {
            return std::ranges::all_of(m_why, [](const auto &why) { return why.has_value(); });
        });
    }
    /// Empty when every node is live, else the first node's reason.
    QString whyNot() const
    {
        const std::lock_guard lock(m_mutex);
        for (const auto &why : m_why) {
            if (!why)
                return QStringLiteral("not checked yet");
            if (!why->isEmpty())
                return *why;
        }
        return {};
    }

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_checked;
    std::vector<std::optional<QString>> m_why; ///< nullopt: not checked yet; empty: live
};

/// One node's listener for `watch`: checks that the node publishes the events (CONFIG GET),
/// subscribes, and on a lost connection or a restart checks again; while it cannot listen, it
/// says why in `state` and looks again every `retry`.
void listenForWatch(const NodeConfig &node, std::size_t index, const QStringList &patterns,
                    std::chrono::milliseconds retry, RefreshSignal &refresh, LiveState &state,
                    const std::atomic<bool> &stop)
{
    const auto pause = [&] {
        const auto until = std::chrono::steady_clock::now() + retry;
        while (!stop && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    };
    while (!stop) {
        Connection connection(node);
        auto support = lockscope::inspect::readNotificationSupport(connection);
        if (!support || !support->usable) {
            state.set(index, support ? QStringLiteral("%1: %2").arg(node.label(), support->advice)
                                     : support.error().toString());
            refresh.raise();
            pause();
            continue;
        }
        state.set(index, {});
        refresh.raise(); // what changed while it was not listening
        lockscope::inspect::KeyspaceListener listener(node);
        auto listened = listener.run(
            patterns, [&refresh](const QByteArray &, const QByteArray &) { refresh.raise(); }, stop);
        if (stop)
            return;
        state.set(index, QStringLiteral("%1: keyspace events lost (%2); listening again when the node "
                                        "answers")
                             .arg(node.label(), listened ? QStringLiteral("subscription ended")
                                                         : listened.error().toString()));
        refresh.raise();
        pause();
    }
}

int runWatch(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("watch");
    QCommandLineParser parser;
    if (auto stop = parseArguments(parser, invocation.args, watchOptions(), command, watchHelp(), out))
        return *stop;
    if (!parser.positionalArguments().isEmpty()) {
        out.error(
            QStringLiteral("watch: unexpected argument '%1'").arg(parser.positionalArguments().front()));
        return exitcode::Usage;
    }
    bool ok = true;
    const auto interval =
        durationValue(parser, IntervalOption, command, out, ok).value_or(std::chrono::seconds(1));
    const auto count = parsePositive(parser.value(CountOption));
    std::optional<qint64> iterations;
    if (parser.isSet(IterationsOption)) {
        iterations = parsePositive(parser.value(IterationsOption));
        if (!iterations) {
            out.error(QStringLiteral("watch: --iterations takes a positive integer"));
            ok = false;
        }
    }
    if (!count) {
        out.error(QStringLiteral("watch: --count takes a positive integer"));
        ok = false;
    }
    SchemaRegistry registry = SchemaRegistry::builtins();
    const QString schema = parser.value(SchemaOption);
    if (!schema.isEmpty() && !registry.find(schema)) {
        out.error(QStringLiteral("watch: unknown schema '%1'").arg(schema));
        ok = false;
    }
    if (!ok)
        return exitcode::Usage;
    auto nodes = resolveNodes(parser, command, out);
    if (!nodes || !applyTimeoutOption(parser, *nodes, command, out))
        return exitcode::Usage;

    ScanOptions options;
    options.match = matchPatterns(parser, command, out);
    options.schema = schema;
    // As in the app: a key whose name says lock is listed (raw) even when no format reads it.
    options.lockLikeRaw = true;
    options.count = static_cast<int>(*count);

    // Live updates where every node publishes keyspace events; polling otherwise. Whether it is
    // live is checked again after a lost connection or a restart (which may have turned the
    // events off), so the header says what is true now.
    RefreshSignal refresh;
    std::atomic<bool> stopListeners{false};
    LiveState live(nodes->size());
    const QStringList patterns = options.match.isEmpty() ? QStringList{QStringLiteral("*")} : options.match;
    const auto retry = std::max<std::chrono::milliseconds>(interval, std::chrono::seconds(1));
    std::vector<std::jthread> listeners;
    for (std::size_t i = 0; i < nodes->size(); ++i)
        listeners.emplace_back(listenForWatch, (*nodes)[i], i, patterns, retry, std::ref(refresh),
                               std::ref(live), std::cref(stopListeners));
    auto stopAll = qScopeGuard([&] { stopListeners = true; });
    // The first header says whether it is live: every node checked once (CONFIG GET), and if
    // not, said once on stderr too, with the command an administrator can run.
    std::chrono::milliseconds connectTimeout{0};
    for (const NodeConfig &node : *nodes)
        connectTimeout = std::max(connectTimeout, node.connectTimeout + node.commandTimeout);
    live.waitChecked(std::chrono::steady_clock::now() + connectTimeout);
    if (const QString whyNot = live.whyNot(); !whyNot.isEmpty())
        out.error(QStringLiteral("watch: live updates off, refreshing every %1 (%2)")
                      .arg(lockscope::formatDuration(interval), whyNot));

    const bool terminal = isatty(STDOUT_FILENO) == 1;
    const Scanner scanner(std::move(*nodes), std::move(registry));
    // The last refresh decides, as `list` would have: a node down until the end is a failure,
    // one that came back is not.
    qsizetype failedLast = 0, nodeCount = 0;
    for (quint64 generation = 1;; ++generation) {
        const auto started = std::chrono::steady_clock::now();
        const Snapshot snapshot = scanner.scan(options, generation);
        int anomalies = 0, nodesUp = 0;
        for (const LockRecord &record : snapshot.records)
            anomalies += record.anomalies.isEmpty() ? 0 : 1;
        for (const auto &node : snapshot.nodes)
            nodesUp += node.ok ? 1 : 0;
        nodeCount = static_cast<qsizetype>(snapshot.nodes.size());
        failedLast = nodeCount - nodesUp;
        QString text;
        if (terminal)
            text += QStringLiteral("\x1b[H\x1b[2J");
        const QString whyNotLive = live.whyNot();
        text +=
            QStringLiteral("-- %1  %2 locks, %3 with anomalies, nodes read %4/%5, %6 (%7 ms)\n")
                .arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss")))
                .arg(snapshot.records.size())
                .arg(anomalies)
                .arg(nodesUp)
                .arg(snapshot.nodes.size())
                .arg(whyNotLive.isEmpty() ? QStringLiteral("live")
                                          : QStringLiteral("every ") + lockscope::formatDuration(interval))
                .arg(snapshot.elapsed.count());
        text += recordTable(snapshot.records);
        if (!whyNotLive.isEmpty())
            text += QStringLiteral("note: live updates off: %1\n").arg(displayText(whyNotLive));
        for (const auto &node : snapshot.nodes) {
            if (!node.ok)
                text += QStringLiteral("! %1\n").arg(displayText(node.error));
            else if (!node.note.isEmpty())
                text += QStringLiteral("note: %1: %2\n").arg(displayText(node.node), displayText(node.note));
        }
        out.write(text);
        out.flush();
        if (iterations && static_cast<qint64>(generation) >= *iterations)
            break;
        // Coalesce bursts of events: at most one refresh per 100 ms, at least one per interval.
        const auto earliest = started + std::chrono::milliseconds(100);
        refresh.waitUntil(started + interval);
        std::this_thread::sleep_until(earliest);
    }
    if (failedLast > 0) {
        out.error(QStringLiteral("watch: the last refresh could not read %1 of %2 nodes")
                      .arg(failedLast)
                      .arg(nodeCount));
        return exitcode::NodeFailure;
    }
    return exitcode::Ok;
}

} // namespace

Command watchCommand()
{
    return Command{
        .name = QStringLiteral("watch"),
        .summary = QStringLiteral("The list of locks, refreshed live (keyspace events) or every interval"),
        .help = watchHelp(),
        .run = runWatch,
    };
}

Command listCommand()
{
    return Command{
        .name = QStringLiteral("list"),
        .summary = QStringLiteral("List the locks of a node group: owner, TTL, held k/N, anomalies"),
        .help = listHelp(),
        .run = runList,
    };
}

Command showCommand()
{
    return Command{
        .name = QStringLiteral("show"),
        .summary = QStringLiteral("Show what every node holds under one key, decoded"),
        .help = showHelp(),
        .run = runShow,
    };
}

} // namespace lockctl
