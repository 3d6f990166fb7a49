#include "scanner.h"

#include "redis/connection.h"
#include "util/glob.h"

#include <QHash>
#include <QSet>
#include <algorithm>
#include <optional>
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
    NodeScanResult result;
    bool cancelled = false;
};

struct ScanPlan
{
    std::vector<QByteArray> patterns;         ///< SCAN MATCH globs, deduplicated
    std::vector<QByteArray> specificPatterns; ///< schema-specific globs (undecoded keys listed)
    bool listAllRaw = false;                  ///< --match given: every matching key is listed
    QString schema;
};

/// The scanner waits for long pipelined replies, not for one quick round trip: busy-polling
/// before sleeping (spin_us) would only take CPU from the servers on a small machine.
redis::NodeConfig withoutSpin(redis::NodeConfig config)
{
    config.spin = std::chrono::microseconds(0);
    return config;
}

class NodeScan
{
public:
    NodeScan(const redis::NodeConfig &config, const ScanPlan &plan, const ScanOptions &options, int index,
             const std::function<void(const ScanProgress &)> &progress, const std::atomic<bool> *cancel)
        : m_connection(withoutSpin(config)), m_label(config.label()), m_plan(plan), m_options(options),
          m_index(index), m_progress(progress), m_cancel(cancel)
    {}

    NodeHarvest run()
    {
        m_harvest.result.node = m_label;
        if (auto connected = m_connection.connect(); !connected)
            return failed(connected.error().toString());
        QSet<QByteArray> seen;
        const bool dedupe = m_plan.patterns.size() > 1;
        std::vector<QByteArray> batch;
        batch.reserve(std::size_t(m_options.batch));
        const QByteArray count = QByteArray::number(std::max(1, m_options.count));
        for (const QByteArray &pattern : m_plan.patterns) {
            QByteArray cursor("0");
            do {
                if (isCancelled())
                    return cancelled();
                auto reply = m_connection.command({QByteArrayView("SCAN"), cursor, QByteArrayView("MATCH"),
                                                   pattern, QByteArrayView("COUNT"), count});
                if (!reply)
                    return failed(reply.error().toString());
                if (!reply->isArray() || reply->elements().size() != 2 || !reply->elements()[1].isArray())
                    return failed(
                        QStringLiteral("unexpected reply to SCAN: %1").arg(reply->toDisplayString()));
                cursor = reply->elements()[0].bytes();
                for (const RedisReply &key : reply->elements()[1].elements()) {
                    ++m_harvest.result.keysScanned;
                    if (dedupe) {
                        if (seen.contains(key.bytes()))
                            continue;
                        seen.insert(key.bytes());
                    }
                    batch.push_back(key.bytes());
                    if (batch.size() >= std::size_t(std::max(1, m_options.batch))) {
                        if (auto error = fetch(batch))
                            return failed(*error);
                        batch.clear();
                        report(false);
                        if (isCancelled())
                            return cancelled();
                    }
                }
            } while (cursor != "0");
        }
        if (!batch.empty()) {
            if (auto error = fetch(batch))
                return failed(*error);
            batch.clear();
        }
        report(true);
        return std::move(m_harvest);
    }

private:
    bool isCancelled() const { return m_cancel && m_cancel->load(std::memory_order_relaxed); }

    void report(bool finished)
    {
        if (m_progress)
            m_progress(ScanProgress{m_index, m_harvest.result.keysScanned, finished});
    }

    NodeHarvest failed(const QString &error)
    {
        NodeHarvest harvest;
        harvest.result = m_harvest.result;
        harvest.result.ok = false;
        harvest.result.error = error;
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

    /// One pipelined round trip of PTTL + GET per key. GET answers a string's value, nil for a key
    /// that went away, and WRONGTYPE for anything else: only those get a second round of TYPE +
    /// HGETALL (locks are mostly strings, so most batches need one round trip).
    std::optional<QString> fetch(const std::vector<QByteArray> &keys)
    {
        for (const QByteArray &key : keys) {
            m_connection.append({QByteArrayView("PTTL"), key});
            m_connection.append({QByteArrayView("GET"), key});
        }
        if (auto flushed = m_connection.flush(); !flushed)
            return flushed.error().toString();
        std::vector<RawEntry> raws(keys.size());
        std::vector<std::size_t> others;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            auto pttl = m_connection.readReply();
            if (!pttl)
                return pttl.error().toString();
            auto value = m_connection.readReply();
            if (!value)
                return value.error().toString();
            if (pttl->isError())
                return QStringLiteral("PTTL: %1").arg(QString::fromUtf8(pttl->bytes()));
            RawEntry &raw = raws[i];
            raw.pttlMs = pttl->integer();
            if (value->isString()) {
                raw.type = RawEntry::Type::String;
                raw.typeName = typeNameString();
                raw.value = value->bytes();
            } else if (value->isError()) {
                if (!value->bytes().startsWith("WRONGTYPE"))
                    return QStringLiteral("GET: %1").arg(QString::fromUtf8(value->bytes()));
                others.push_back(i);
            } else {
                raw.type = RawEntry::Type::Missing;
                raw.pttlMs = -2;
            }
        }
        if (!others.empty()) {
            for (std::size_t i : others) {
                m_connection.append({QByteArrayView("TYPE"), keys[i]});
                m_connection.append({QByteArrayView("HGETALL"), keys[i]});
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
                RawEntry &raw = raws[i];
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
                } else if (raw.typeName == QLatin1String("string") && fields->isError()) {
                    // Replaced by a string between the two rounds: read it on the next scan.
                    raw.type = RawEntry::Type::Missing;
                    raw.pttlMs = -2;
                } else {
                    raw.type = RawEntry::Type::Other;
                }
            }
        }
        // Decoding waits for the merge: a Redlock group holds the same value on every node, so
        // it is decoded once per key there instead of once per node here.
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (raws[i].type == RawEntry::Type::Missing)
                continue;
            m_harvest.keys.push_back(keys[i]);
            m_harvest.raws.push_back(std::move(raws[i]));
        }
        return std::nullopt;
    }

    Connection m_connection;
    QString m_label;
    const ScanPlan &m_plan;
    const ScanOptions &m_options;
    int m_index;
    const std::function<void(const ScanProgress &)> &m_progress;
    const std::atomic<bool> *m_cancel;
    NodeHarvest m_harvest;
};

/// Whether a key no schema decodes is listed (raw, anomaly "undecoded").
bool listRaw(const ScanPlan &plan, const QByteArray &key)
{
    if (!plan.schema.isEmpty())
        return false;
    if (plan.listAllRaw)
        return true;
    return std::ranges::any_of(plan.specificPatterns,
                               [&](const QByteArray &pattern) { return globMatch(pattern, key); });
}

ScanPlan makePlan(const SchemaRegistry &registry, const ScanOptions &options)
{
    ScanPlan plan;
    plan.schema = options.schema;
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

    std::vector<NodeHarvest> harvests(m_group.size());
    {
        std::vector<std::jthread> threads;
        threads.reserve(m_group.size());
        for (std::size_t i = 0; i < m_group.size(); ++i) {
            threads.emplace_back([&, i] {
                NodeScan scan(m_group[i], plan, options, static_cast<int>(i), progress, cancel);
                harvests[i] = scan.run();
            });
        }
    }

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

    // Decode and aggregate the groups on every core: each value once per key when the nodes
    // agree (the usual case), then the record.
    std::vector<std::optional<LockRecord>> built(groupKeys.size());
    std::atomic<std::size_t> next{0};
    constexpr std::size_t Chunk = 256;
    const auto worker = [&] {
        for (std::size_t from = next.fetch_add(Chunk); from < groupKeys.size();
             from = next.fetch_add(Chunk)) {
            const std::size_t to = std::min(from + Chunk, groupKeys.size());
            for (std::size_t g = from; g < to; ++g) {
                const QByteArray &key = groupKeys[g];
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
                    const qint32 index = groupIndex[g * n + i];
                    if (index < 0)
                        continue;
                    entry.raw = std::move(h.raws[std::size_t(index)]);
                    const auto same = std::find_if(
                        entries.begin(), entries.begin() + std::ptrdiff_t(i), [&](const NodeEntry &other) {
                            return other.present() && other.raw.type == entry.raw.type &&
                                   other.raw.value == entry.raw.value && other.raw.fields == entry.raw.fields;
                        });
                    entry.decoded = same != entries.begin() + std::ptrdiff_t(i)
                                        ? same->decoded
                                        : m_registry.decode(key, entry.raw);
                    if (entry.decoded) {
                        decodedAny = true;
                        schemaMatched |= entry.decoded->schema == plan.schema;
                    }
                }
                const bool listed = plan.schema.isEmpty() ? decodedAny || listRaw(plan, key) : schemaMatched;
                if (!listed)
                    continue;
                LockRecord record = aggregate(key, std::move(entries));
                record.readAt = readAt;
                record.readAtSteady = start;
                built[g] = std::move(record);
            }
        }
    };
    {
        const std::size_t threads = std::clamp<std::size_t>(
            std::thread::hardware_concurrency(), 1, std::max<std::size_t>(1, groupKeys.size() / Chunk));
        std::vector<std::jthread> pool;
        for (std::size_t t = 1; t < threads; ++t)
            pool.emplace_back(worker);
        worker();
    }
    std::vector<quint32> order;
    for (std::size_t g = 0; g < built.size(); ++g) {
        if (built[g])
            order.push_back(quint32(g));
    }
    std::ranges::sort(order, [&](quint32 a, quint32 b) { return groupKeys[a] < groupKeys[b]; });
    snapshot.records.reserve(order.size());
    for (quint32 g : order)
        snapshot.records.push_back(std::move(*built[g]));
    snapshot.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return snapshot;
}

} // namespace lockscope::inspect
