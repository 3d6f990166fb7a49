#include "scanner.h"

#include "nodescan.h"
#include "redis/connection.h"
#include "util/cpus.h"
#include "util/fanout.h"

#include <QHash>
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

using detail::Clock;
using detail::listRaw;
using detail::NodeHarvest;
using detail::NodeScan;
using detail::ScanPlan;
using detail::withoutSpin;
using redis::Connection;

namespace {

/// When the round that read entry `index` of `harvest` was sent (`fallback` when unknown).
Clock::time_point sentAtOf(const NodeHarvest &harvest, std::size_t index, Clock::time_point fallback)
{
    const auto after = std::ranges::upper_bound(harvest.sentAt, index, {},
                                                &std::pair<std::size_t, Clock::time_point>::first);
    return after == harvest.sentAt.begin() ? fallback : std::prev(after)->second;
}

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

/// Which of `keys` are companions of another key in `present` (SchemaRegistry::companionOwners):
/// those are read with that key and shown in its record, so they are not listed on their own.
template <typename KeySet>
std::vector<char> companionFlags(const SchemaRegistry &registry, const std::vector<QByteArray> &keys,
                                 const KeySet &present)
{
    std::vector<char> flags(keys.size(), 0);
    for (std::size_t k = 0; k < keys.size(); ++k) {
        const auto owners = registry.companionOwners(keys[k]);
        flags[k] =
            std::ranges::any_of(owners, [&](const QByteArray &owner) { return present.contains(owner); });
    }
    return flags;
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
            // Sets, lists and companions are decoded per node: their holders' remaining time
            // depends on the node's own clock (serverTimeMs).
            const bool shareable =
                entry.raw.members.empty() && entry.raw.elements.empty() && entry.raw.companions.empty();
            const auto same = std::find_if(
                entries.begin(), entries.begin() + std::ptrdiff_t(i), [&](const NodeEntry &other) {
                    return shareable && other.present() && other.raw.type == entry.raw.type &&
                           other.raw.typeName == entry.raw.typeName && other.raw.value == entry.raw.value &&
                           other.raw.fields == entry.raw.fields && other.raw.members.empty() &&
                           other.raw.elements.empty() && other.raw.companions.empty();
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
    std::vector<char> companion;    // per group: shown in its lock's record instead
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
        companion = companionFlags(m_registry, groupKeys, groups);
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
            for (std::size_t g = chunk * Chunk; g < to; ++g) {
                if (!companion[g])
                    built[g] = builder.build(harvests, groupKeys[g], &groupIndex[g * n]);
            }
        });
    }
    std::size_t listed = 0;
    for (std::size_t g = 0; g < built.size(); ++g) {
        if (built[g]) {
            ++listed;
        } else if (!companion[g]) {
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
        // Companions of a listed key are read with it and shown in its record.
        const std::vector<char> companion = companionFlags(m_registry, keys, index);
        std::size_t kept = 0;
        for (std::size_t k = 0; k < keys.size(); ++k) {
            if (companion[k])
                continue;
            if (kept != k) {
                keys[kept] = std::move(keys[k]);
                std::copy_n(holds.begin() + std::ptrdiff_t(k * n), n,
                            holds.begin() + std::ptrdiff_t(kept * n));
            }
            ++kept;
        }
        keys.resize(kept);
        holds.resize(kept * n);
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
