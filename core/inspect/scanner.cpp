#include "scanner.h"

#include "redis/connection.h"
#include "util/cpus.h"
#include "util/fanout.h"
#include "util/glob.h"

#include <QHash>
#include <QSet>
#include <QtEndian>
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <utility>

namespace lockscope::inspect {

using redis::Connection;
using redis::RedisReply;

namespace {

using Clock = std::chrono::steady_clock;

const QString &typeNameString()
{
    static const QString name = QStringLiteral("string");
    return name;
}

/// What one node thread produces: the raw entries of the keys it read (not yet decoded), or why
/// it failed.
struct NodeHarvest
{
    std::vector<QByteArray> keys;
    std::vector<RawEntry> raws;
    /// When each round's commands were sent: (index of the round's first entry in raws, time),
    /// ascending. The PTTLs of a round were read no earlier, so a countdown from this time
    /// never shows more time left than there is.
    std::vector<std::pair<std::size_t, Clock::time_point>> sentAt;
    NodeScanResult result;
    bool cancelled = false;
};

/// When the round that read entry `index` of `harvest` was sent (`fallback` when unknown).
Clock::time_point sentAtOf(const NodeHarvest &harvest, std::size_t index, Clock::time_point fallback)
{
    const auto after = std::ranges::upper_bound(harvest.sentAt, index, {},
                                                &std::pair<std::size_t, Clock::time_point>::first);
    return after == harvest.sentAt.begin() ? fallback : std::prev(after)->second;
}

struct ScanPlan
{
    std::vector<QByteArray> patterns;         ///< SCAN MATCH globs, deduplicated
    std::vector<QByteArray> specificPatterns; ///< schema-specific globs (undecoded keys listed)
    bool listAllRaw = false;                  ///< --match given: every matching key is listed
    bool lockLikeRaw = false;                 ///< keys whose name says lock are listed raw
    QString schema;
};

/// The scanner waits for long pipelined replies, not for one quick round trip: busy-polling
/// before sleeping (spin_us) would only take CPU from the servers on a small machine.
redis::NodeConfig withoutSpin(redis::NodeConfig config)
{
    config.spin = std::chrono::microseconds(0);
    return config;
}

bool listRaw(const ScanPlan &plan, const QByteArray &key);

class NodeScan
{
public:
    NodeScan(const redis::NodeConfig &config, const ScanPlan &plan, const SchemaRegistry &registry,
             const ScanOptions &options, int index, const std::function<void(const ScanProgress &)> &progress,
             const std::atomic<bool> *cancel)
        : m_connection(withoutSpin(config)), m_label(config.label()), m_plan(plan), m_registry(registry),
          m_options(options), m_index(index), m_progress(progress), m_cancel(cancel)
    {}

    /// Each round trip carries the next SCAN page and the value fetches of the keys earlier
    /// pages returned, so the server always has the next page to work on while the client
    /// reads values, and a page costs one round trip instead of two or more.
    NodeHarvest run()
    {
        if (!connect())
            return failed(m_harvest.result.error);
        QSet<QByteArray> seen;
        const bool dedupe = m_plan.patterns.size() > 1;
        const std::size_t batch = std::size_t(std::max(1, m_options.batch));
        const QByteArray count = QByteArray::number(std::max(1, m_options.count));
        std::vector<QByteArray> pending; // keys SCAN returned, not fetched yet
        std::size_t pendingHead = 0;
        std::size_t pattern = 0;
        QByteArray cursor("0");
        bool scanDone = m_plan.patterns.empty();
        std::vector<std::pair<std::size_t, std::size_t>> chunks;
        for (;;) {
            if (isCancelled())
                return cancelled();
            const bool scanning = !scanDone;
            if (scanning)
                m_connection.append({QByteArrayView("SCAN"), cursor, QByteArrayView("MATCH"),
                                     m_plan.patterns[pattern], QByteArrayView("COUNT"), count});
            // Every full batch, and the rest once the last page is in.
            chunks.clear();
            while (pending.size() - pendingHead >= batch || (scanDone && pendingHead < pending.size())) {
                const std::size_t to = std::min(pendingHead + batch, pending.size());
                appendFetch(pending, pendingHead, to);
                chunks.emplace_back(pendingHead, to);
                pendingHead = to;
            }
            if (!scanning && chunks.empty())
                break;
            const Clock::time_point sent = Clock::now();
            if (auto flushed = m_connection.flush(); !flushed)
                return failed(flushed.error().toString());
            if (scanning) {
                auto reply = m_connection.readReply();
                if (!reply)
                    return failed(reply.error().toString());
                if (auto error = scanPageError(*reply))
                    return failed(*error);
                cursor = takePage(*reply, dedupe ? &seen : nullptr, pending);
                if (cursor == "0") // this pattern is done: the next one starts at cursor 0
                    scanDone = ++pattern >= m_plan.patterns.size();
            }
            if (auto error = readFetches(pending, chunks, sent))
                return failed(*error);
            if (pendingHead == pending.size()) {
                pending.clear();
                pendingHead = 0;
            }
        }
        noteNotPermitted();
        report(true);
        return std::move(m_harvest);
    }

    /// Connects (false: the node failed, result() says why).
    bool connect()
    {
        m_harvest.result.node = m_label;
        if (auto connected = m_connection.connect(); !connected)
            return fail(connected.error().toString());
        return true;
    }

    const NodeScanResult &result() const { return m_harvest.result; }

    /// The streamed scan, second step: every key the patterns match, nothing read yet (SCAN
    /// only, one round trip per page). False when the node failed or the scan was cancelled
    /// (finish() then says which).
    bool scanKeys(std::vector<QByteArray> &keys)
    {
        QSet<QByteArray> seen;
        const bool dedupe = m_plan.patterns.size() > 1;
        const QByteArray count = QByteArray::number(std::max(1, m_options.count));
        for (const QByteArray &pattern : m_plan.patterns) {
            QByteArray cursor("0");
            do {
                if (isCancelled()) {
                    m_harvest.cancelled = true;
                    return false;
                }
                m_connection.append({QByteArrayView("SCAN"), cursor, QByteArrayView("MATCH"), pattern,
                                     QByteArrayView("COUNT"), count});
                if (auto flushed = m_connection.flush(); !flushed)
                    return fail(flushed.error().toString());
                auto reply = m_connection.readReply();
                if (!reply)
                    return fail(reply.error().toString());
                if (auto error = scanPageError(*reply))
                    return fail(*error);
                cursor = takePage(*reply, dedupe ? &seen : nullptr, keys);
                report(false);
            } while (cursor != "0");
        }
        return true;
    }

    /// The streamed scan, third step, once per batch: reads `keys` (values, TTLs where they
    /// matter, hashes) in one pipelined round, MGETs of ScanOptions::batch keys. The harvest
    /// holds the keys still there, in the order given; its result the node's running totals.
    NodeHarvest fetch(std::vector<QByteArray> keys)
    {
        m_harvest.keys.clear();
        m_harvest.raws.clear();
        m_harvest.sentAt.clear();
        const std::size_t batch = std::size_t(std::max(1, m_options.batch));
        std::vector<std::pair<std::size_t, std::size_t>> chunks;
        for (std::size_t from = 0; from < keys.size(); from += batch) {
            const std::size_t to = std::min(from + batch, keys.size());
            appendFetch(keys, from, to);
            chunks.emplace_back(from, to);
        }
        if (!chunks.empty()) {
            const Clock::time_point sent = Clock::now();
            if (auto flushed = m_connection.flush(); !flushed)
                return failed(flushed.error().toString());
            if (auto error = readFetches(keys, chunks, sent))
                return failed(*error);
        }
        NodeHarvest harvest;
        harvest.keys = std::move(m_harvest.keys);
        harvest.raws = std::move(m_harvest.raws);
        harvest.sentAt = std::move(m_harvest.sentAt);
        harvest.result = m_harvest.result;
        return harvest;
    }

    /// The node's result once the streamed scan is over (or failed, or was cancelled).
    NodeScanResult finish()
    {
        noteNotPermitted();
        report(true);
        return m_harvest.result;
    }

private:
    /// Why a reply is not a SCAN page, naming the node; nullopt when it is one. A user the ACL
    /// does not allow SCAN is told what to add, not shown a protocol error.
    std::optional<QString> scanPageError(const RedisReply &reply) const
    {
        if (reply.isError() && reply.bytes().startsWith("NOPERM"))
            return QStringLiteral("%1: this ACL user may not run SCAN (%2): listing locks needs +scan "
                                  "(the inspector's ACL: +scan +mget +get +pttl +type +hgetall ~*)")
                .arg(m_label, QString::fromUtf8(reply.bytes()));
        if (reply.isError())
            return QStringLiteral("%1: SCAN: %2").arg(m_label, QString::fromUtf8(reply.bytes()));
        if (!reply.isArray() || reply.elements().size() != 2 || !reply.elements()[1].isArray())
            return QStringLiteral("%1: unexpected reply to SCAN: %2").arg(m_label, reply.toDisplayString());
        return std::nullopt;
    }

    /// Counts a SCAN page's keys and adds them to `into`, each once across the patterns when
    /// `seen` is given; returns the next cursor.
    QByteArray takePage(const RedisReply &page, QSet<QByteArray> *seen, std::vector<QByteArray> &into)
    {
        const auto &keys = page.elements()[1].elements();
        m_harvest.result.keysScanned += keys.size();
        for (const RedisReply &key : keys) {
            if (seen) {
                if (seen->contains(key.bytes()))
                    continue;
                seen->insert(key.bytes());
            }
            into.push_back(key.bytes());
        }
        return page.elements()[0].bytes();
    }

    bool fail(const QString &error)
    {
        m_harvest.result.ok = false;
        m_harvest.result.error = error;
        return false;
    }

    void noteNotPermitted()
    {
        if (const quint64 hidden = m_harvest.result.keysNotPermitted; hidden > 0) {
            const QString said =
                QStringLiteral("%1 not readable by this ACL user (outside its key patterns): "
                               "not shown")
                    .arg(hidden == 1 ? QStringLiteral("1 scanned key is")
                                     : QStringLiteral("%1 scanned keys are").arg(hidden));
            m_harvest.result.note =
                m_harvest.result.note.isEmpty() ? said : m_harvest.result.note + QStringLiteral("; ") + said;
        }
    }

    bool isCancelled() const { return m_cancel && m_cancel->load(std::memory_order_relaxed); }

    void report(bool finished)
    {
        if (m_progress)
            m_progress(ScanProgress{m_index, m_harvest.result.keysScanned, finished});
    }

    NodeHarvest failed(const QString &error)
    {
        fail(error);
        NodeHarvest harvest;
        harvest.result = m_harvest.result;
        report(true);
        return harvest;
    }

    NodeHarvest cancelled()
    {
        NodeHarvest harvest;
        harvest.result = m_harvest.result;
        harvest.cancelled = true;
        return harvest;
    }

    /// One MGET for the batch's values (a batch in one reply: far fewer commands for the server
    /// to parse and replies for the client to read); the PTTLs follow in one more round trip,
    /// for the values that may be locks only (askPttl). A user not permitted MGET gets
    /// PTTL + GET per key instead, as before.
    void appendFetch(const std::vector<QByteArray> &keys, std::size_t from, std::size_t to)
    {
        if (m_mget) {
            m_argv.clear();
            m_argv.push_back(mgetName());
            m_argv.insert(m_argv.end(), keys.begin() + std::ptrdiff_t(from),
                          keys.begin() + std::ptrdiff_t(to));
            m_connection.append(std::span<const QByteArray>(m_argv));
        } else {
            for (std::size_t i = from; i < to; ++i) {
                m_connection.append({QByteArrayView("PTTL"), keys[i]});
                m_connection.append({QByteArrayView("GET"), keys[i]});
            }
        }
        m_chunkMget.push_back(m_mget);
    }

    static const QByteArray &mgetName()
    {
        static const QByteArray name = QByteArrayLiteral("MGET");
        return name;
    }

    /// Reads the replies of this round's batches. Strings are final; what GET / MGET could not
    /// read as a string (a hash, another type, a key that went away) gets TYPE + HGETALL in one
    /// more round trip, and so do all the values of a batch whose MGET was refused (as GET).
    std::optional<QString> readFetches(const std::vector<QByteArray> &keys,
                                       const std::vector<std::pair<std::size_t, std::size_t>> &chunks,
                                       Clock::time_point sent)
    {
        const std::size_t base = m_harvest.raws.size();
        std::vector<std::size_t> needGet;
        std::vector<std::size_t> others;
        std::vector<std::size_t> needPttl;
        for (std::size_t c = 0; c < chunks.size(); ++c) {
            const auto [from, to] = chunks[c];
            const bool mget = m_chunkMget[c];
            const std::size_t first = m_harvest.raws.size();
            for (std::size_t i = from; i < to; ++i)
                m_harvest.keys.push_back(keys[i]);
            m_harvest.raws.resize(first + (to - from));
            if (mget) {
                for (std::size_t i = first; i < m_harvest.raws.size(); ++i)
                    m_harvest.raws[i].pttlMs = RawEntry::PttlNotRead;
                auto values = m_connection.readReply();
                if (!values)
                    return values.error().toString();
                if (values->isError() && keyNotPermitted(*values)) {
                    // A key of the batch is outside the user's key patterns: this batch with
                    // GET, key by key, skipping those (MGET stays for the next batches).
                    for (std::size_t i = 0; i < to - from; ++i)
                        needGet.push_back(first + i);
                    continue;
                }
                if (values->isError()) {
                    if (!values->bytes().startsWith("NOPERM"))
                        return QStringLiteral("MGET: %1").arg(QString::fromUtf8(values->bytes()));
                    // Not permitted: GET from now on (the ACL documented for the inspector has
                    // +mget; older least-privilege users still work, a little slower).
                    m_mget = false;
                    m_harvest.result.note =
                        QStringLiteral("MGET is not permitted for this user: values read with GET, one "
                                       "command per key (add +mget to the ACL user for faster scans)");
                    for (std::size_t i = 0; i < to - from; ++i)
                        needGet.push_back(first + i);
                    continue;
                }
                const auto &elements = values->elements();
                if (!values->isArray() || elements.size() != to - from)
                    return QStringLiteral("unexpected reply to MGET: %1").arg(values->toDisplayString());
                for (std::size_t i = 0; i < to - from; ++i) {
                    RawEntry &raw = m_harvest.raws[first + i];
                    if (elements[i].isString()) {
                        setString(raw, elements[i].bytes());
                        askPttl(first + i, needPttl);
                    } else {
                        others.push_back(first + i); // not a string, or gone
                    }
                }
            } else {
                for (std::size_t i = 0; i < to - from; ++i) {
                    auto pttl = m_connection.readReply();
                    if (!pttl)
                        return pttl.error().toString();
                    auto value = m_connection.readReply();
                    if (!value)
                        return value.error().toString();
                    RawEntry &raw = m_harvest.raws[first + i];
                    if (pttl->isError() && keyNotPermitted(*pttl)) {
                        skipNotPermitted(raw);
                        continue;
                    }
                    if (pttl->isError())
                        return QStringLiteral("PTTL: %1").arg(QString::fromUtf8(pttl->bytes()));
                    raw.pttlMs = pttl->integer();
                    if (auto error = takeGetReply(*value, first + i, others))
                        return error;
                }
            }
            report(false);
        }
        m_chunkMget.clear();
        if (!needGet.empty()) {
            for (std::size_t i : needGet)
                m_connection.append({QByteArrayView("GET"), m_harvest.keys[i]});
            if (auto flushed = m_connection.flush(); !flushed)
                return flushed.error().toString();
            for (std::size_t i : needGet) {
                auto value = m_connection.readReply();
                if (!value)
                    return value.error().toString();
                if (auto error = takeGetReply(*value, i, others))
                    return error;
                if (m_harvest.raws[i].type == RawEntry::Type::String)
                    askPttl(i, needPttl);
            }
        }
        // What GET / MGET did not answer as a string may be a hash lock: its PTTL too.
        for (std::size_t i : others) {
            if (m_harvest.raws[i].pttlMs == RawEntry::PttlNotRead)
                needPttl.push_back(i);
        }
        if (!needPttl.empty()) {
            if (auto error = readPttls(needPttl))
                return error;
        }
        if (!others.empty()) {
            if (auto error = readOthers(others))
                return error;
        }
        // Keys that went away between SCAN and the reads are not kept. Decoding waits for the
        // merge: a Redlock group holds the same value on every node, so it is decoded once per
        // key there instead of once per node here.
        std::size_t kept = base;
        for (std::size_t i = base; i < m_harvest.raws.size(); ++i) {
            if (m_harvest.raws[i].type == RawEntry::Type::Missing)
                continue;
            if (kept != i) {
                m_harvest.keys[kept] = std::move(m_harvest.keys[i]);
                m_harvest.raws[kept] = std::move(m_harvest.raws[i]);
            }
            ++kept;
        }
        m_harvest.keys.resize(kept);
        m_harvest.raws.resize(kept);
        if (kept > base)
            m_harvest.sentAt.emplace_back(base, sent);
        return std::nullopt;
    }

    /// Whether a string value's PTTL is worth a command: it may be a lock, or its key is listed
    /// raw. The rest (in most keyspaces, nearly every key) keeps PttlNotRead.
    void askPttl(std::size_t index, std::vector<std::size_t> &needPttl) const
    {
        const QByteArray &key = m_harvest.keys[index];
        const RawEntry &raw = m_harvest.raws[index];
        if (m_plan.listAllRaw || m_registry.mayDecode(key, raw) || listRaw(m_plan, key))
            needPttl.push_back(index);
    }

    std::optional<QString> readPttls(const std::vector<std::size_t> &indices)
    {
        for (std::size_t i : indices)
            m_connection.append({QByteArrayView("PTTL"), m_harvest.keys[i]});
        if (auto flushed = m_connection.flush(); !flushed)
            return flushed.error().toString();
        for (std::size_t i : indices) {
            auto pttl = m_connection.readReply();
            if (!pttl)
                return pttl.error().toString();
            if (pttl->isError())
                return QStringLiteral("PTTL: %1").arg(QString::fromUtf8(pttl->bytes()));
            m_harvest.raws[i].pttlMs = pttl->integer();
        }
        return std::nullopt;
    }

    static void setString(RawEntry &raw, const QByteArray &value)
    {
        raw.type = RawEntry::Type::String;
        raw.typeName = typeNameString();
        raw.value = value;
    }

    /// GET answers a string's value, nil for a key that went away, and WRONGTYPE for anything
    /// else (read in the next round).
    /// "NOPERM No permissions to access a key" (Redis 7), "... to access one of the keys used
    /// as arguments" (6.2): this key, not the command, is outside what the user may read.
    static bool keyNotPermitted(const RedisReply &reply)
    {
        return reply.isError() && reply.bytes().startsWith("NOPERM") && reply.bytes().contains("key");
    }

    /// A key the ACL hides: left out (as if gone), and counted for the node's note.
    void skipNotPermitted(RawEntry &raw)
    {
        raw = RawEntry{};
        raw.pttlMs = -2;
        ++m_harvest.result.keysNotPermitted;
    }

    std::optional<QString> takeGetReply(const RedisReply &value, std::size_t index,
                                        std::vector<std::size_t> &others)
    {
        RawEntry &raw = m_harvest.raws[index];
        if (value.isString()) {
            setString(raw, value.bytes());
        } else if (keyNotPermitted(value)) {
            skipNotPermitted(raw);
        } else if (value.isError()) {
            if (!value.bytes().startsWith("WRONGTYPE"))
                return QStringLiteral("GET: %1").arg(QString::fromUtf8(value.bytes()));
            others.push_back(index);
        } else {
            raw.type = RawEntry::Type::Missing;
            raw.pttlMs = -2;
        }
        return std::nullopt;
    }

    /// TYPE + HGETALL for what was not a string.
    std::optional<QString> readOthers(const std::vector<std::size_t> &others)
    {
        for (std::size_t i : others) {
            m_connection.append({QByteArrayView("TYPE"), m_harvest.keys[i]});
            m_connection.append({QByteArrayView("HGETALL"), m_harvest.keys[i]});
        }
        if (auto flushed = m_connection.flush(); !flushed)
            return flushed.error().toString();
        for (std::size_t i : others) {
            auto type = m_connection.readReply();
            if (!type)
                return type.error().toString();
            auto fields = m_connection.readReply();
            if (!fields)
                return fields.error().toString();
            if (type->isError())
                return QStringLiteral("TYPE: %1").arg(QString::fromUtf8(type->bytes()));
            RawEntry &raw = m_harvest.raws[i];
            raw.typeName = QString::fromUtf8(type->bytes());
            if (raw.typeName == QLatin1String("none")) {
                raw.type = RawEntry::Type::Missing;
                raw.pttlMs = -2;
            } else if (raw.typeName == QLatin1String("hash") && fields->isArray()) {
                raw.type = RawEntry::Type::Hash;
                const auto &elements = fields->elements();
                raw.fields.reserve(elements.size() / 2);
                for (std::size_t f = 0; f + 1 < elements.size(); f += 2)
                    raw.fields.emplace_back(elements[f].bytes(), elements[f + 1].bytes());
            } else if (raw.typeName == QLatin1String("string")) {
                // Became a string after the value was read: read it on the next scan.
                raw.type = RawEntry::Type::Missing;
                raw.pttlMs = -2;
            } else {
                raw.type = RawEntry::Type::Other;
            }
        }
        return std::nullopt;
    }

    Connection m_connection;
    QString m_label;
    const ScanPlan &m_plan;
    const SchemaRegistry &m_registry;
    const ScanOptions &m_options;
    int m_index;
    const std::function<void(const ScanProgress &)> &m_progress;
    const std::atomic<bool> *m_cancel;
    NodeHarvest m_harvest;
    bool m_mget = true;
    std::vector<bool> m_chunkMget; // per batch of the current round: sent as MGET
    std::vector<QByteArray> m_argv;
};

/// A key to sort, with its bytes at hand (no indirection through its QByteArray).
struct SortKey
{
    const char *data;
    std::size_t size;
    quint32 group;
};

/// Byte order, as QByteArray's operator<, compared eight bytes at a time: keys share long
/// prefixes ("app:lock:...") and a memcmp call per comparison dominated the sort.
bool keyLess(const SortKey &a, const SortKey &b)
{
    const std::size_t common = std::min(a.size, b.size);
    std::size_t i = 0;
    for (; i + 8 <= common; i += 8) {
        quint64 x;
        quint64 y;
        std::memcpy(&x, a.data + i, 8);
        std::memcpy(&y, b.data + i, 8);
        if (x != y)
            return qFromBigEndian(x) < qFromBigEndian(y);
    }
    for (; i < common; ++i) {
        if (a.data[i] != b.data[i])
            return static_cast<unsigned char>(a.data[i]) < static_cast<unsigned char>(b.data[i]);
    }
    return a.size < b.size;
}

/// Whether a key no schema decodes is listed (raw, anomaly "undecoded").
bool listRaw(const ScanPlan &plan, const QByteArray &key)
{
    if (!plan.schema.isEmpty())
        return false;
    if (plan.listAllRaw || (plan.lockLikeRaw && keyNamesLock(key)))
        return true;
    return std::ranges::any_of(plan.specificPatterns,
                               [&](const QByteArray &pattern) { return globMatch(pattern, key); });
}

ScanPlan makePlan(const SchemaRegistry &registry, const ScanOptions &options)
{
    ScanPlan plan;
    plan.schema = options.schema;
    plan.lockLikeRaw = options.lockLikeRaw && options.match.isEmpty();
    const auto addUnique = [](std::vector<QByteArray> &list, const QByteArray &pattern) {
        if (std::ranges::find(list, pattern) == list.end())
            list.push_back(pattern);
    };
    if (!options.match.isEmpty()) {
        plan.listAllRaw = true;
        for (const QString &pattern : options.match)
            addUnique(plan.patterns, pattern.toUtf8());
    } else {
        for (const auto &schema : registry.schemas()) {
            if (!options.schema.isEmpty() && schema->id() != options.schema)
                continue;
            for (const QString &pattern : schema->keyPatterns()) {
                const QByteArray glob = pattern.toUtf8();
                addUnique(plan.patterns, glob);
                if (glob != "*")
                    addUnique(plan.specificPatterns, glob);
            }
        }
    }
    // A catch-all pattern already returns every key: one cursor instead of several.
    if (std::ranges::find(plan.patterns, QByteArray("*")) != plan.patterns.end())
        plan.patterns = {QByteArray("*")};
    return plan;
}

/// The PTTLs the node threads skipped for keys that are listed after all (see the call).
void readSkippedPttls(const std::vector<redis::NodeConfig> &group, std::vector<NodeHarvest> &harvests,
                      std::span<const QByteArray> groupKeys, const std::vector<qint32> &groupIndex)
{
    const std::size_t n = harvests.size();
    std::vector<std::vector<std::size_t>> skipped(n); // per node: entry indices
    for (std::size_t g = 0; g < groupKeys.size(); ++g) {
        bool read = false;
        bool notRead = false;
        for (std::size_t i = 0; i < n; ++i) {
            const qint32 index = groupIndex[g * n + i];
            if (index < 0 || !harvests[i].result.ok)
                continue;
            (harvests[i].raws[std::size_t(index)].pttlMs == RawEntry::PttlNotRead ? notRead : read) = true;
        }
        if (!read || !notRead)
            continue;
        for (std::size_t i = 0; i < n; ++i) {
            const qint32 index = groupIndex[g * n + i];
            if (index >= 0 && harvests[i].result.ok &&
                harvests[i].raws[std::size_t(index)].pttlMs == RawEntry::PttlNotRead)
                skipped[i].push_back(std::size_t(index));
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (skipped[i].empty())
            continue;
        NodeHarvest &harvest = harvests[i];
        Connection connection(withoutSpin(group[i]));
        const auto fail = [&](const QString &error) {
            harvest.result.ok = false;
            harvest.result.error = QStringLiteral("reading TTLs: %1").arg(error);
        };
        if (auto connected = connection.connect(); !connected) {
            fail(connected.error().toString());
            continue;
        }
        for (std::size_t index : skipped[i])
            connection.append({QByteArrayView("PTTL"), harvest.keys[index]});
        if (auto flushed = connection.flush(); !flushed) {
            fail(flushed.error().toString());
            continue;
        }
        for (std::size_t index : skipped[i]) {
            auto pttl = connection.readReply();
            if (!pttl || pttl->isError()) {
                fail(pttl ? QString::fromUtf8(pttl->bytes()) : pttl.error().toString());
                break;
            }
            harvest.raws[index].pttlMs = pttl->integer();
        }
    }
}

/// Decodes one key's entries and aggregates them into its record: each value once per key
/// when the nodes agree (the usual case). Used from several threads at once (const, and each
/// call moves only its own key's entries out of the harvests).
struct RecordBuilder
{
    const SchemaRegistry &registry;
    const ScanPlan &plan;
    Clock::time_point start;
    QDateTime readAt;

    /// `index`: the key's entry index in each harvest (-1 where that node does not hold it).
    /// Nullopt when the key is not listed (no schema decodes it and it is not listed raw).
    std::optional<LockRecord> build(std::vector<NodeHarvest> &harvests, const QByteArray &key,
                                    const qint32 *index) const
    {
        const std::size_t n = harvests.size();
        std::vector<NodeEntry> entries(n);
        bool decodedAny = false;
        bool schemaMatched = false;
        for (std::size_t i = 0; i < n; ++i) {
            NodeEntry &entry = entries[i];
            NodeHarvest &h = harvests[i];
            entry.node = h.result.node;
            if (!h.result.ok) {
                entry.reachable = false;
                entry.error = h.result.error;
                continue;
            }
            if (index[i] < 0)
                continue;
            entry.raw = std::move(h.raws[std::size_t(index[i])]);
            if (entry.raw.pttlMs == RawEntry::PttlNotRead) {
                // No schema decodes it (SchemaRegistry::mayDecode said so on the node thread),
                // and no other node holds something that may be a lock.
                continue;
            }
            const auto same = std::find_if(
                entries.begin(), entries.begin() + std::ptrdiff_t(i), [&](const NodeEntry &other) {
                    return other.present() && other.raw.type == entry.raw.type &&
                           other.raw.value == entry.raw.value && other.raw.fields == entry.raw.fields;
                });
            if (same != entries.begin() + std::ptrdiff_t(i)) {
                // The same value as an earlier node's: share its bytes (one copy per record
                // instead of one per node) and its decoding.
                entry.raw.value = same->raw.value;
                entry.raw.fields = same->raw.fields;
                entry.decoded = same->decoded;
            } else {
                entry.decoded = registry.decode(key, entry.raw);
            }
            if (entry.decoded) {
                decodedAny = true;
                schemaMatched |= entry.decoded->schema == plan.schema;
            }
        }
        const bool listed = plan.schema.isEmpty() ? decodedAny || listRaw(plan, key) : schemaMatched;
        if (!listed)
            return std::nullopt;
        // Read at the earliest of its nodes' rounds: the countdown errs towards expiry.
        Clock::time_point readSteady = Clock::time_point::max();
        for (std::size_t i = 0; i < n; ++i) {
            if (index[i] >= 0)
                readSteady = std::min(readSteady, sentAtOf(harvests[i], std::size_t(index[i]), start));
        }
        if (readSteady == Clock::time_point::max())
            readSteady = start;
        LockRecord record = aggregate(key, std::move(entries));
        record.readAt = readAt.addMSecs(
            std::chrono::duration_cast<std::chrono::milliseconds>(readSteady - start).count());
        record.readAtSteady = readSteady;
        return record;
    }
};

} // namespace

Scanner::Scanner(std::vector<redis::NodeConfig> group, SchemaRegistry registry)
    : m_group(std::move(group)), m_registry(std::move(registry))
{}

Snapshot Scanner::scan(const ScanOptions &options, quint64 generation,
                       const std::function<void(const ScanProgress &)> &progress,
                       const std::atomic<bool> *cancel) const
{
    const Clock::time_point start = Clock::now();
    const QDateTime readAt = QDateTime::currentDateTimeUtc();
    Snapshot snapshot;
    snapshot.generation = generation;
    const ScanPlan plan = makePlan(m_registry, options);

    // Every node on a thread of its own; each NodeScan watches `cancel` itself.
    std::vector<NodeHarvest> harvests(m_group.size());
    util::forEachParallel(m_group.size(), m_group.size(), [&](std::size_t i) {
        NodeScan scan(m_group[i], plan, m_registry, options, static_cast<int>(i), progress, cancel);
        harvests[i] = scan.run();
    });

    for (NodeHarvest &harvest : harvests) {
        snapshot.nodes.push_back(harvest.result);
        snapshot.cancelled |= harvest.cancelled;
    }
    if (snapshot.cancelled || (cancel && cancel->load())) {
        snapshot.cancelled = true;
        snapshot.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        return snapshot;
    }

    // One group of entry indices per key (-1 where a node does not hold it). A hash instead of
    // sorting every node's keys: only the listed records are sorted, once.
    const std::size_t n = m_group.size();
    std::vector<QByteArray> groupKeys;
    std::vector<qint32> groupIndex; // n per group
    {
        std::size_t largest = 0;
        for (const NodeHarvest &harvest : harvests)
            largest = std::max(largest, harvest.keys.size());
        groupKeys.reserve(largest);
        groupIndex.reserve(largest * n);
        QHash<QByteArray, qint32> groups;
        groups.reserve(qsizetype(largest));
        for (std::size_t i = 0; i < n; ++i) {
            const NodeHarvest &h = harvests[i];
            for (std::size_t k = 0; k < h.keys.size(); ++k) {
                auto found = groups.find(h.keys[k]);
                if (found == groups.end()) {
                    found = groups.insert(h.keys[k], qint32(groupKeys.size()));
                    groupKeys.push_back(h.keys[k]);
                    groupIndex.resize(groupIndex.size() + n, -1);
                }
                groupIndex[std::size_t(*found) * n + i] = qint32(k);
            }
        }
    }

    // A key that may be a lock on one node and is something else on another (a lock's key
    // reused, or a lock on one node only and another value elsewhere) is listed with every
    // node's PTTL: read the ones its node skipped.
    readSkippedPttls(m_group, harvests, groupKeys, groupIndex);
    for (std::size_t i = 0; i < n; ++i)
        snapshot.nodes[i] = harvests[i].result; // a node may have failed in that round

    // Decode and aggregate the groups on every core: each value once per key when the nodes
    // agree (the usual case), then the record.
    const RecordBuilder builder{m_registry, plan, start, readAt};
    std::vector<std::optional<LockRecord>> built(groupKeys.size());
    constexpr std::size_t Chunk = 256;
    const std::size_t chunks = (groupKeys.size() + Chunk - 1) / Chunk;
    // The key order does not depend on the decoding: every key is sorted on a thread of its own
    // while the workers decode, instead of the listed ones alone after them on one core.
    std::vector<SortKey> order(groupKeys.size());
    for (std::size_t g = 0; g < groupKeys.size(); ++g)
        order[g] = SortKey{groupKeys[g].constData(), std::size_t(groupKeys[g].size()), quint32(g)};
    {
        std::jthread sorter([&] { std::ranges::sort(order, keyLess); });
        const std::size_t threads =
            std::clamp<std::size_t>(static_cast<std::size_t>(util::usableCpuCount()), 1,
                                    std::max<std::size_t>(1, groupKeys.size() / Chunk));
        util::forEachParallel(chunks, threads, [&](std::size_t chunk) {
            const std::size_t to = std::min((chunk + 1) * Chunk, groupKeys.size());
            for (std::size_t g = chunk * Chunk; g < to; ++g)
                built[g] = builder.build(harvests, groupKeys[g], &groupIndex[g * n]);
        });
    }
    std::size_t listed = 0;
    for (std::size_t g = 0; g < built.size(); ++g) {
        if (built[g]) {
            ++listed;
        } else {
            ++snapshot.unlistedCount;
            if (snapshot.unlisted.size() < options.keepUnlisted)
                snapshot.unlisted.push_back(groupKeys[g]);
        }
    }
    snapshot.records.reserve(listed);
    for (const SortKey &sorted : order) {
        if (built[sorted.group])
            snapshot.records.push_back(std::move(*built[sorted.group]));
    }
    snapshot.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return snapshot;
}

StreamSummary Scanner::stream(const ScanOptions &options,
                              const std::function<void(std::vector<LockRecord> &&)> &sink,
                              const std::function<void(const ScanProgress &)> &progress,
                              const std::atomic<bool> *cancel, std::size_t streamBatch) const
{
    const Clock::time_point start = Clock::now();
    const QDateTime readAt = QDateTime::currentDateTimeUtc();
    const ScanPlan plan = makePlan(m_registry, options);
    const std::size_t n = m_group.size();
    const std::size_t batchSize = std::max<std::size_t>(1, streamBatch);
    const auto isCancelled = [cancel] {
        return cancel && cancel->load(std::memory_order_relaxed);
    };
    StreamSummary summary;

    // One NodeScan (one connection) per node for the whole stream. First every node's keys.
    std::vector<std::unique_ptr<NodeScan>> scans;
    for (std::size_t i = 0; i < n; ++i)
        scans.push_back(std::make_unique<NodeScan>(m_group[i], plan, m_registry, options, static_cast<int>(i),
                                                   progress, cancel));
    std::vector<std::vector<QByteArray>> nodeKeys(n);
    util::forEachParallel(n, n, [&](std::size_t i) {
        if (scans[i]->connect())
            scans[i]->scanKeys(nodeKeys[i]);
    });

    // Every key once, in byte order, with the nodes that listed it (holds: n flags per key).
    std::vector<QByteArray> keys;
    std::vector<char> holds;
    {
        QHash<QByteArray, quint32> index;
        for (std::size_t i = 0; i < n; ++i) {
            for (QByteArray &key : nodeKeys[i]) {
                auto found = index.find(key);
                if (found == index.end()) {
                    found = index.insert(key, quint32(keys.size()));
                    keys.push_back(std::move(key));
                    holds.resize(holds.size() + n, 0);
                }
                holds[std::size_t(*found) * n + i] = 1;
            }
            std::vector<QByteArray>().swap(nodeKeys[i]);
        }
    }
    std::vector<SortKey> order(keys.size());
    for (std::size_t k = 0; k < keys.size(); ++k)
        order[k] = SortKey{keys[k].constData(), std::size_t(keys[k].size()), quint32(k)};
    std::ranges::sort(order, keyLess);
    {
        std::vector<QByteArray> sortedKeys;
        std::vector<char> sortedHolds;
        sortedKeys.reserve(keys.size());
        sortedHolds.reserve(holds.size());
        for (const SortKey &sorted : order) {
            sortedKeys.push_back(std::move(keys[sorted.group]));
            sortedHolds.insert(sortedHolds.end(), holds.begin() + std::ptrdiff_t(sorted.group * n),
                               holds.begin() + std::ptrdiff_t((sorted.group + 1) * n));
        }
        keys = std::move(sortedKeys);
        holds = std::move(sortedHolds);
        std::vector<SortKey>().swap(order);
    }

    // Then the values, batch by batch: the node threads read up to `Ahead` batches ahead of
    // the sink; ready[b % Ahead] holds batch b's harvests until the sink's turn.
    constexpr std::size_t Ahead = 3;
    const std::size_t batches = (keys.size() + batchSize - 1) / batchSize;
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t consumed = 0;
    bool stop = isCancelled();
    std::vector<std::vector<std::optional<NodeHarvest>>> ready(Ahead,
                                                               std::vector<std::optional<NodeHarvest>>(n));
    const RecordBuilder builder{m_registry, plan, start, readAt};
    std::vector<QString> lateErrors(n); // a node that failed re-reading skipped TTLs
    {
        std::vector<std::jthread> threads;
        for (std::size_t i = 0; i < n; ++i) {
            threads.emplace_back([&, i] {
                NodeScan &scan = *scans[i];
                for (std::size_t b = 0; b < batches; ++b) {
                    {
                        std::unique_lock lock(mutex);
                        changed.wait(lock, [&] { return stop || b < consumed + Ahead; });
                        if (stop)
                            return;
                    }
                    NodeHarvest harvest;
                    if (scan.result().ok) {
                        std::vector<QByteArray> held;
                        for (std::size_t k = b * batchSize; k < std::min(keys.size(), (b + 1) * batchSize);
                             ++k) {
                            if (holds[k * n + i])
                                held.push_back(keys[k]);
                        }
                        harvest = scan.fetch(std::move(held));
                    } else {
                        harvest.result = scan.result(); // failed: unreachable in every record from here
                    }
                    {
                        const std::lock_guard lock(mutex);
                        ready[b % Ahead][i] = std::move(harvest);
                    }
                    changed.notify_all();
                }
            });
        }

        for (std::size_t b = 0; b < batches; ++b) {
            std::vector<NodeHarvest> harvests(n);
            {
                std::unique_lock lock(mutex);
                auto &slot = ready[b % Ahead];
                changed.wait(lock, [&] {
                    return stop || std::ranges::all_of(slot, [](const auto &h) { return h.has_value(); });
                });
                if (stop)
                    break;
                for (std::size_t i = 0; i < n; ++i) {
                    harvests[i] = std::move(*slot[i]);
                    slot[i].reset();
                }
                ++consumed;
                stop = isCancelled();
            }
            changed.notify_all();
            if (stop)
                break;
            // The harvests hold the batch's keys in its order, less those gone since SCAN.
            const std::size_t from = b * batchSize;
            const std::size_t to = std::min(keys.size(), from + batchSize);
            std::vector<qint32> groupIndex((to - from) * n, -1);
            for (std::size_t i = 0; i < n; ++i) {
                const std::vector<QByteArray> &got = harvests[i].keys;
                std::size_t next = 0;
                for (std::size_t k = from; k < to && next < got.size(); ++k) {
                    if (got[next] == keys[k])
                        groupIndex[(k - from) * n + i] = qint32(next++);
                }
            }
            const std::span<const QByteArray> batchKeys(keys.data() + from, to - from);
            std::vector<char> fetched(n); // nodes whose batch read worked
            for (std::size_t i = 0; i < n; ++i)
                fetched[i] = harvests[i].result.ok;
            readSkippedPttls(m_group, harvests, batchKeys, groupIndex);
            std::vector<LockRecord> records;
            for (std::size_t k = 0; k < batchKeys.size(); ++k) {
                const qint32 *index = &groupIndex[k * n];
                if (std::all_of(index, index + n, [](qint32 i) { return i < 0; }))
                    continue; // gone since SCAN, or hidden by the ACL, on every node
                if (auto record = builder.build(harvests, batchKeys[k], index))
                    records.push_back(std::move(*record));
                else
                    ++summary.unlistedCount;
            }
            for (std::size_t i = 0; i < n; ++i) {
                if (fetched[i] && !harvests[i].result.ok && lateErrors[i].isEmpty())
                    lateErrors[i] = harvests[i].result.error;
            }
            summary.records += records.size();
            if (!records.empty())
                sink(std::move(records));
        }
        {
            const std::lock_guard lock(mutex);
            stop = true;
        }
        changed.notify_all();
    } // joins the node threads
    for (std::size_t i = 0; i < n; ++i) {
        summary.nodes.push_back(scans[i]->finish());
        if (!lateErrors[i].isEmpty() && summary.nodes[i].ok) {
            summary.nodes[i].ok = false;
            summary.nodes[i].error = lateErrors[i];
        }
    }
    summary.cancelled = isCancelled();
    summary.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return summary;
}

} // namespace lockscope::inspect
