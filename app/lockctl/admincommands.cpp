#include "admincommands.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTextStream>
#include <algorithm>
#include <cstdio>
#include <inspect/admin.h>
#include <inspect/keyread.h>
#include <inspect/lockrecord.h>
#include <inspect/lockschema.h>
#include <lock/lockvalue.h>
#include <optional>
#include <redis/connection.h>
#include <unistd.h>
#include <util/displaytext.h>
#include <vector>

namespace lockctl {

using lockscope::displayText;
using lockscope::inspect::Admin;
using lockscope::inspect::AdminNode;
using lockscope::inspect::AdminNodeResult;
using lockscope::inspect::AdminOutcome;
using lockscope::inspect::AdminResult;
using lockscope::inspect::AuditLog;
using lockscope::inspect::Confidence;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;
using lockscope::inspect::Operator;
using lockscope::inspect::RawEntry;
using lockscope::inspect::SchemaRegistry;
using lockscope::lock::LockValue;
using lockscope::redis::NodeConfig;
using lockscope::redis::RedisError;

namespace {

const QCommandLineOption ExpectValueOption(
    QStringLiteral("expect-value"),
    QStringLiteral("Delete only where the key still holds exactly V (the value 'lockctl list' showed); a "
                   "node holding anything else keeps it and the exit code is 5."),
    QStringLiteral("V"));
const QCommandLineOption
    YesOption(QStringLiteral("yes"),
              QStringLiteral("Do not ask: delete what is shown without typing the key."));
const QCommandLineOption UnconditionalOption(
    QStringLiteral("unconditional"),
    QStringLiteral("Delete whatever the key holds at the moment of the delete, even if it changed since "
                   "it was shown (audited as force-delete)."));
const QCommandLineOption HolderOption(
    QStringLiteral("holder"),
    QStringLiteral("Release only the holder with token T of a lock of several holders (one reader of a "
                   "read/write lock, one semaphore permit), as shown; the others keep it."),
    QStringLiteral("T"));
const QCommandLineOption ReadOnlyNodesOption(
    QStringLiteral("read-only-nodes"),
    QStringLiteral("Nodes (name or host:port) that must not be written: they are shown, never changed."),
    QStringLiteral("N,..."));
const QCommandLineOption
    AuditLogOption(QStringLiteral("audit-log"),
                   QStringLiteral("Append the audit lines to FILE instead of the default location (%1).")
                       .arg(QStringLiteral("~/.local/share/lockscope/audit.jsonl")),
                   QStringLiteral("FILE"));

QList<QCommandLineOption> forceReleaseOptions()
{
    return {nodesOption(), groupOption(),       ExpectValueOption,   YesOption,
            HolderOption,  UnconditionalOption, ReadOnlyNodesOption, AuditLogOption,
            jsonOption(),  timeoutOption(),     helpOption()};
}

QString forceReleaseHelp()
{
    return formatHelp(
        QStringLiteral("lockctl force-release KEY [--nodes URL,...] [--expect-value V | --holder T] [--yes] "
                       "[--unconditional] [--read-only-nodes N,...] [--json]"),
        QStringLiteral(
            "Releases a lock for its owner: reads KEY on every node, prints what would be deleted\n"
            "(value, TTL and the decoded owner), asks you to type the key (unless --yes), then\n"
            "deletes it on each node only if it still holds the value shown (compare-and-delete\n"
            "in Lua). For LockScope locks the fencing counter is bumped in the same script, so a\n"
            "stale holder is fenced out; Redisson waiters are woken up. Every attempt is written\n"
            "to the audit log (JSON lines). A key whose lock format is only a guess (a random-\n"
            "looking token on a key that does not name a lock: maybe application data) needs --yes\n"
            "even on a terminal: typing the key confirms the key, not that it is a lock. With\n"
            "--holder, only that holder of a read/write lock or semaphore is removed (its entry as\n"
            "shown); the other holders keep the lock."),
        forceReleaseOptions(),
        QStringLiteral(
            "Exit codes: 0 released; 1 error (a node failed); 2 usage error, not confirmed, or refused\n"
            "(read-only node); 4 nothing to release (the key is on no node); 5 changed: the value\n"
            "differed from the one shown or from --expect-value, nothing deleted there."));
}

QString typeNameOf(const RawEntry &raw)
{
    return raw.typeName.isEmpty() ? QStringLiteral("none") : raw.typeName;
}

QString ttlText(const NodeEntry &entry)
{
    if (!entry.reachable)
        return QStringLiteral("-");
    if (entry.raw.pttlMs == -1)
        return QStringLiteral("no TTL");
    if (entry.raw.pttlMs < 0)
        return QStringLiteral("-");
    return QStringLiteral("%1 ms").arg(entry.raw.pttlMs);
}

QString valueText(const RawEntry &raw)
{
    switch (raw.type) {
    case RawEntry::Type::Missing:
        return QStringLiteral("(absent)");
    case RawEntry::Type::String:
        return displayText(raw.value);
    case RawEntry::Type::Hash: {
        QStringList parts;
        for (const auto &[field, value] : raw.fields)
            parts << displayText(field) + QStringLiteral(" => ") + displayText(value);
        return QStringLiteral("hash {") + parts.join(QStringLiteral(", ")) + QLatin1Char('}');
    }
    case RawEntry::Type::Other:
        break;
    }
    return QStringLiteral("(%1)").arg(displayText(raw.typeName));
}

QString ownerText(const LockValue &value)
{
    QStringList parts{QStringLiteral("token %1").arg(displayText(value.token))};
    if (value.fence > 0)
        parts << QStringLiteral("fence %1").arg(value.fence);
    if (!value.host.isEmpty())
        parts << QStringLiteral("host %1").arg(displayText(value.host));
    if (value.pid > 0)
        parts << QStringLiteral("pid %1").arg(value.pid);
    if (!value.thread.isEmpty())
        parts << QStringLiteral("thread %1").arg(displayText(value.thread));
    if (value.acquiredAt.isValid())
        parts << QStringLiteral("since %1").arg(value.acquiredAt.toString(Qt::ISODateWithMs));
    if (!value.label.isEmpty())
        parts << QStringLiteral("label \"%1\"").arg(displayText(value.label));
    return parts.join(QStringLiteral(", "));
}

QJsonObject hashJson(const RawEntry &raw)
{
    QJsonObject object;
    for (const auto &[field, value] : raw.fields)
        object.insert(QString::fromUtf8(field), QString::fromUtf8(value));
    return object;
}

QJsonValue ownerJson(const RawEntry &raw)
{
    if (raw.type != RawEntry::Type::String)
        return {};
    const auto value = LockValue::parse(raw.value);
    if (!value)
        return {};
    return QJsonObject{
        {QStringLiteral("token"), QString::fromUtf8(value->token)},
        {QStringLiteral("fence"), value->fence},
        {QStringLiteral("host"), value->host},
        {QStringLiteral("pid"), value->pid},
        {QStringLiteral("thread"), value->thread},
        {QStringLiteral("acquired_at"), value->acquiredAt.isValid()
                                            ? QJsonValue(value->acquiredAt.toString(Qt::ISODateWithMs))
                                            : QJsonValue()},
        {QStringLiteral("label"), value->label},
    };
}

void printPreview(const LockRecord &record, const QStringList &readOnly, bool unconditional, Output &out)
{
    if (!record.schema.isEmpty()) {
        QString schema = displayText(record.schema);
        if (record.confidence)
            schema += QStringLiteral(" (%1: %2)")
                          .arg(lockscope::inspect::confidenceText(*record.confidence),
                               displayText(record.confidenceReason));
        out.line(QStringLiteral("Lock schema: %1").arg(schema));
    }
    out.line(QStringLiteral("%1 %2 on:")
                 .arg(unconditional ? QStringLiteral("Would delete (unconditionally)")
                                    : QStringLiteral("Would release"),
                      displayText(record.key)));
    for (const NodeEntry &entry : record.nodes) {
        QString head = QStringLiteral("  %1").arg(displayText(entry.node));
        if (readOnly.contains(entry.node))
            head += QStringLiteral(" (read-only: will not be changed)");
        out.line(head);
        if (!entry.reachable) {
            out.line(QStringLiteral("    error  %1").arg(displayText(entry.error)));
            continue;
        }
        out.line(QStringLiteral("    value  %1").arg(valueText(entry.raw)));
        if (!entry.error.isEmpty()) // up, but the key is on another cluster node (MOVED / ASK)
            out.line(QStringLiteral("    note   %1").arg(displayText(entry.error)));
        if (!entry.present())
            continue;
        out.line(QStringLiteral("    ttl    %1").arg(ttlText(entry)));
        const auto value =
            entry.raw.type == RawEntry::Type::String ? LockValue::parse(entry.raw.value) : std::nullopt;
        if (value)
            out.line(QStringLiteral("    owner  %1").arg(ownerText(*value)));
        else if (entry.decoded && !entry.decoded->owner.isEmpty())
            out.line(QStringLiteral("    owner  %1 (%2)")
                         .arg(displayText(entry.decoded->owner), displayText(entry.decoded->schema)));
    }
}

/// Asks for the key to be typed (as lockctl shows keys: \xNN for bytes that are not text).
/// Returns the exit code to stop with (and `why`, for the audit log), or nullopt when confirmed.
std::optional<int> confirm(const QByteArray &key, bool json, bool yesGiven, Output &out, QString &why)
{
    if (!isatty(STDIN_FILENO)) {
        // With --yes this is a production node, where the key must be typed all the same.
        out.error(yesGiven
                      ? QStringLiteral("force-release: the key is on a production node, where it must be "
                                       "typed even with --yes, and stdin is not a terminal; nothing deleted")
                      : QStringLiteral("force-release: refusing to delete without confirmation: stdin is not "
                                       "a terminal (pass --yes to confirm); nothing deleted"));
        why = QStringLiteral("refused: not confirmed (stdin is not a terminal)");
        return exitcode::Usage;
    }
    const QString prompt = QStringLiteral("Type the key to confirm: ");
    if (json) {
        out.flush();
        QTextStream(stderr) << prompt << Qt::flush;
    } else {
        out.write(prompt);
        out.flush();
    }
    QTextStream in(stdin);
    const QString typed = in.readLine();
    if (lockscope::bytesFromDisplayText(typed) != key) {
        out.error(
            QStringLiteral("force-release: not confirmed (the typed text is not the key); nothing deleted"));
        why = QStringLiteral("refused: not confirmed (the typed text was not the key)");
        return exitcode::Usage;
    }
    return std::nullopt;
}

int exitCodeFor(const std::vector<AdminNodeResult> &results)
{
    bool error = false, changed = false, refused = false, done = false;
    for (const AdminNodeResult &result : results) {
        error |= result.outcome == AdminOutcome::Error;
        changed |= result.outcome == AdminOutcome::Changed;
        refused |= result.outcome == AdminOutcome::Refused;
        done |= result.outcome == AdminOutcome::Done;
    }
    if (error)
        return exitcode::NodeFailure;
    if (changed)
        return exitcode::Changed;
    if (refused)
        return exitcode::Usage;
    return done ? exitcode::Ok : exitcode::NotHeld;
}

int runForceRelease(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("force-release");
    QCommandLineParser parser;
    if (auto stop =
            parseArguments(parser, invocation.args, forceReleaseOptions(), command, forceReleaseHelp(), out))
        return *stop;
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 1 || positional.front().isEmpty()) {
        out.error(QStringLiteral("%1: expected exactly one KEY (see 'lockctl help %1')").arg(command));
        return exitcode::Usage;
    }
    const auto parsedKey = keyArgument(positional.front(), command, QStringLiteral("KEY"), out);
    if (!parsedKey)
        return exitcode::Usage;
    const QByteArray key = *parsedKey;
    auto nodes = resolveNodes(parser, command, out);
    if (!nodes || !applyTimeoutOption(parser, *nodes, command, out))
        return exitcode::Usage;
    const bool unconditional = parser.isSet(UnconditionalOption);
    std::optional<QByteArray> expected;
    if (parser.isSet(ExpectValueOption)) {
        expected =
            keyArgument(parser.value(ExpectValueOption), command, QStringLiteral("--expect-value"), out);
        if (!expected)
            return exitcode::Usage;
    }
    if (unconditional && expected) {
        out.error(QStringLiteral("%1: --unconditional and --expect-value exclude each other").arg(command));
        return exitcode::Usage;
    }
    const std::optional<QByteArray> holder =
        parser.isSet(HolderOption)
            ? keyArgument(parser.value(HolderOption), command, QStringLiteral("--holder"), out)
            : std::nullopt;
    if (parser.isSet(HolderOption) && (!holder || holder->isEmpty() || unconditional || expected)) {
        if (holder)
            out.error(QStringLiteral("%1: --holder takes a non-empty token and excludes --unconditional and "
                                     "--expect-value")
                          .arg(command));
        return exitcode::Usage;
    }

    // A saved group carries the guards of its nodes: read-only (never written) and production
    // (the key must be typed even with --yes).
    bool groupOk = true;
    const auto group = groupValue(parser, command, out, groupOk);
    if (!groupOk)
        return exitcode::Usage;
    std::vector<AdminNode> adminNodes;
    QStringList readOnlyLabels;
    QStringList productionLabels;
    QStringList unknownReadOnly = splitUrlList(parser.values(ReadOnlyNodesOption));
    for (size_t i = 0; i < nodes->size(); ++i) {
        const NodeConfig &config = (*nodes)[i];
        AdminNode node{config, group && group->nodes[i].readOnly, group && group->nodes[i].production};
        if (node.production)
            productionLabels << config.label();
        for (const QString &name : {config.label(), config.address()}) {
            if (unknownReadOnly.removeAll(name) > 0)
                node.readOnly = true;
        }
        if (node.readOnly)
            readOnlyLabels << config.label();
        adminNodes.push_back(std::move(node));
    }
    if (!unknownReadOnly.isEmpty()) {
        out.error(
            QStringLiteral("%1: --read-only-nodes names unknown nodes: %2 (use a node's name or host:port)")
                .arg(command, unknownReadOnly.join(QStringLiteral(", "))));
        return exitcode::Usage;
    }

    const bool json = parser.isSet(QStringLiteral("json"));
    const SchemaRegistry registry = SchemaRegistry::builtins();
    const LockRecord record = lockscope::inspect::readRecord(*nodes, key, registry);

    // --expect-value: nodes holding something else are reported "changed" and left alone.
    std::vector<AdminNodeResult> skipped;
    LockRecord acted = record;
    if (expected) {
        for (NodeEntry &entry : acted.nodes) {
            if (!entry.present())
                continue;
            if (entry.raw.type == RawEntry::Type::String && entry.raw.value == *expected)
                continue;
            skipped.push_back({entry.node, AdminOutcome::Changed,
                               QStringLiteral("the value differs from --expect-value: nothing deleted")});
            entry.raw = RawEntry{}; // not acted on
        }
    }

    if (!json)
        printPreview(record, readOnlyLabels, unconditional, out);
    const bool anyPresent = std::ranges::any_of(acted.nodes, &NodeEntry::present);
    const bool anyUnreachable =
        std::ranges::any_of(record.nodes, [](const NodeEntry &e) { return !e.reachable; });

    const QString auditPath =
        parser.isSet(AuditLogOption) ? parser.value(AuditLogOption) : AuditLog::defaultPath();
    AuditLog audit(auditPath);
    Admin admin(group ? group->name : QStringLiteral("cli"), std::move(adminNodes), Operator::current(),
                &audit);
    const QString action = holder          ? QStringLiteral("force-release-holder")
                           : unconditional ? QStringLiteral("force-delete")
                                           : QStringLiteral("force-release");
    // Every attempt is audited, refused ones included: the nodes --expect-value left alone, and
    // a stop before anything was sent.
    if (!skipped.empty()) {
        LockRecord differing = record;
        for (NodeEntry &entry : differing.nodes) {
            const bool wasSkipped = std::ranges::any_of(
                skipped, [&](const AdminNodeResult &result) { return result.node == entry.node; });
            if (!wasSkipped)
                entry.raw = RawEntry{};
        }
        admin.auditStopped(differing, action,
                           QStringLiteral("changed: the value differs from --expect-value"));
    }
    AdminResult result;
    if (anyPresent) {
        const bool onProduction = std::ranges::any_of(record.nodes, [&](const NodeEntry &entry) {
            return entry.present() && productionLabels.contains(entry.node);
        });
        // A guessed format may be application data that merely looks like a token: the operator
        // says so explicitly with --yes; the typed key would only confirm which key.
        if (record.confidence == Confidence::Guess && !parser.isSet(YesOption)) {
            out.error(QStringLiteral("%1: %2 is only a guess at a %3 lock (%4); pass --yes to release it "
                                     "anyway; nothing deleted")
                          .arg(command, displayText(key), displayText(record.schema),
                               displayText(record.confidenceReason)));
            admin.auditStopped(acted, action,
                               QStringLiteral("refused: the format is only a guess (no --yes)"));
            return exitcode::Usage;
        }
        if (!parser.isSet(YesOption) || onProduction) {
            if (onProduction && parser.isSet(YesOption) && !json)
                out.line(QStringLiteral("The key is on a production node (%1): --yes is not enough.")
                             .arg(displayText(productionLabels.join(QStringLiteral(", ")))));
            QString why;
            if (auto stop = confirm(key, json, parser.isSet(YesOption), out, why)) {
                admin.auditStopped(acted, action, why);
                return *stop;
            }
        }
        result = holder ? admin.forceReleaseHolder(acted, *holder)
                        : admin.forceRelease(acted, registry, unconditional);
    }
    std::vector<AdminNodeResult> outcomes = result.nodes;
    outcomes.insert(outcomes.end(), skipped.begin(), skipped.end());
    for (const NodeEntry &entry : record.nodes)
        if (!entry.reachable)
            outcomes.push_back({entry.node, AdminOutcome::Error, entry.error});

    int code = exitCodeFor(outcomes);
    QString message = result.message;
    if (!anyPresent && skipped.empty()) {
        code = anyUnreachable ? exitcode::NodeFailure : exitcode::NotHeld;
        message = anyUnreachable ? QStringLiteral("the key is on no reachable node")
                                 : QStringLiteral("nothing to release: the key is on no node");
    } else if (!anyPresent) {
        message = QStringLiteral("the lock changed since it was shown: nothing deleted");
    }

    if (json) {
        QJsonArray array;
        for (const NodeEntry &entry : record.nodes) {
            QJsonObject object{
                {QStringLiteral("node"), entry.node},
                {QStringLiteral("type"), entry.reachable ? QJsonValue(typeNameOf(entry.raw)) : QJsonValue()},
                {QStringLiteral("value"), entry.present() && entry.raw.type == RawEntry::Type::String
                                              ? QJsonValue(QString::fromUtf8(entry.raw.value))
                                              : QJsonValue()},
                {QStringLiteral("fields"), entry.present() && entry.raw.type == RawEntry::Type::Hash
                                               ? QJsonValue(hashJson(entry.raw))
                                               : QJsonValue()},
                {QStringLiteral("pttl_ms"), entry.present() ? QJsonValue(entry.raw.pttlMs) : QJsonValue()},
                {QStringLiteral("owner"), ownerJson(entry.raw)},
                {QStringLiteral("outcome"), QJsonValue()},
                {QStringLiteral("detail"), QJsonValue()},
            };
            for (const AdminNodeResult &outcome : outcomes)
                if (outcome.node == entry.node) {
                    object.insert(QStringLiteral("outcome"), outcomeName(outcome.outcome));
                    object.insert(QStringLiteral("detail"), outcome.detail);
                }
            array.append(object);
        }
        out.json(withBytes(
            QJsonObject{
                {QStringLiteral("key"), QString::fromUtf8(key)},
                {QStringLiteral("schema"),
                 record.schema.isEmpty() ? QJsonValue() : QJsonValue(record.schema)},
                {QStringLiteral("confidence"),
                 record.confidence ? QJsonValue(lockscope::inspect::confidenceText(*record.confidence))
                                   : QJsonValue()},
                {QStringLiteral("unconditional"), unconditional},
                {QStringLiteral("released"), code == exitcode::Ok},
                {QStringLiteral("exit_code"), code},
                {QStringLiteral("message"), message},
                {QStringLiteral("nodes"), array},
            },
            QStringLiteral("key"), key));
    } else {
        if (!outcomes.empty()) {
            Table table({QStringLiteral("NODE"), QStringLiteral("OUTCOME"), QStringLiteral("DETAIL")});
            for (const AdminNodeResult &outcome : outcomes)
                table.addRow({displayText(outcome.node), outcomeName(outcome.outcome),
                              outcome.detail.isEmpty() ? QStringLiteral("-") : displayText(outcome.detail)});
            out.line();
            out.write(table.render());
        }
        out.line(displayText(message));
    }
    if (code != exitcode::Ok) {
        out.flush();
        if (code == exitcode::Changed)
            out.error(
                QStringLiteral("%1: changed: the lock changed since it was shown: nothing deleted there")
                    .arg(command));
    }
    return code;
}

} // namespace

Command forceReleaseCommand()
{
    return Command{
        .name = QStringLiteral("force-release"),
        .summary = QStringLiteral("Release a lock for its owner: compare-and-delete of the value shown"),
        .help = forceReleaseHelp(),
        .run = runForceRelease,
    };
}

} // namespace lockctl
