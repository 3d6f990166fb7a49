#pragma once

// Internal to core/inspect: one node's part of a scan (Scanner, scanner.cpp), run on a thread of
// its own with its own connection: the pipelined SCAN pages and the value, TTL, hash, sorted-set,
// list and companion-key reads of the keys they return.

#include "redis/connection.h"
#include "scanner.h"
#include "util/glob.h"

#include <QSet>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace lockscope::inspect::detail {

using Clock = std::chrono::steady_clock;

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
inline redis::NodeConfig withoutSpin(redis::NodeConfig config)
{
    config.spin = std::chrono::microseconds(0);
    return config;
}

/// Whether a key no schema decodes is listed (raw, anomaly "undecoded").
inline bool listRaw(const ScanPlan &plan, const QByteArray &key)
{
    if (!plan.schema.isEmpty())
        return false;
    if (plan.listAllRaw || (plan.lockLikeRaw && keyNamesLock(key)))
        return true;
    return std::ranges::any_of(plan.specificPatterns,
                               [&](const QByteArray &pattern) { return globMatch(pattern, key); });
}

/// One node's scan. scan() uses run(); stream() uses connect(), scanKeys(), then fetch() once
/// per batch and finish(). One thread at a time; the plan, registry, options and progress it is
/// given are held by reference and must outlive it.
class NodeScan
{
public:
    NodeScan(const redis::NodeConfig &config, const ScanPlan &plan, const SchemaRegistry &registry,
             const ScanOptions &options, int index, const std::function<void(const ScanProgress &)> &progress,
             const std::atomic<bool> *cancel);

    /// Each round trip carries the next SCAN page and the value fetches of the keys earlier
    /// pages returned, so the server always has the next page to work on while the client
    /// reads values, and a page costs one round trip instead of two or more.
    NodeHarvest run();

    /// Connects (false: the node failed, result() says why).
    bool connect();

    const NodeScanResult &result() const { return m_harvest.result; }

    /// The streamed scan, second step: every key the patterns match, nothing read yet (SCAN
    /// only, one round trip per page). False when the node failed or the scan was cancelled
    /// (finish() then says which).
    bool scanKeys(std::vector<QByteArray> &keys);

    /// The streamed scan, third step, once per batch: reads `keys` (values, TTLs where they
    /// matter, hashes) in one pipelined round, MGETs of ScanOptions::batch keys. The harvest
    /// holds the keys still there, in the order given; its result the node's running totals.
    NodeHarvest fetch(std::vector<QByteArray> keys);

    /// The node's result once the streamed scan is over (or failed, or was cancelled).
    NodeScanResult finish();

private:
    /// Why a reply is not a SCAN page, naming the node; nullopt when it is one. A user the ACL
    /// does not allow SCAN is told what to add, not shown a protocol error.
    std::optional<QString> scanPageError(const redis::RedisReply &reply) const;

    /// Counts a SCAN page's keys and adds them to `into`, each once across the patterns when
    /// `seen` is given; returns the next cursor.
    QByteArray takePage(const redis::RedisReply &page, QSet<QByteArray> *seen, std::vector<QByteArray> &into);

    bool fail(const QString &error);

    void noteNotPermitted();

    bool isCancelled() const { return m_cancel && m_cancel->load(std::memory_order_relaxed); }

    void report(bool finished);

    NodeHarvest failed(const QString &error);

    NodeHarvest cancelled();

    /// One MGET for the batch's values (a batch in one reply: far fewer commands for the server
    /// to parse and replies for the client to read); the PTTLs follow in one more round trip,
    /// for the values that may be locks only (askPttl). A user not permitted MGET gets
    /// PTTL + GET per key instead, as before.
    void appendFetch(const std::vector<QByteArray> &keys, std::size_t from, std::size_t to);

    static const QByteArray &mgetName();

    /// Reads the replies of this round's batches. Strings are final; what GET / MGET could not
    /// read as a string (a hash, another type, a key that went away) gets TYPE + HGETALL in one
    /// more round trip, and so do all the values of a batch whose MGET was refused (as GET).
    std::optional<QString> readFetches(const std::vector<QByteArray> &keys,
                                       const std::vector<std::pair<std::size_t, std::size_t>> &chunks,
                                       Clock::time_point sent);

    /// Whether a string value's PTTL is worth a command: it may be a lock, or its key is listed
    /// raw. The rest (in most keyspaces, nearly every key) keeps PttlNotRead.
    void askPttl(std::size_t index, std::vector<std::size_t> &needPttl) const;

    std::optional<QString> readPttls(const std::vector<std::size_t> &indices);

    static void setString(RawEntry &raw, const QByteArray &value);

    /// GET answers a string's value, nil for a key that went away, and WRONGTYPE for anything
    /// else (read in the next round).
    /// "NOPERM No permissions to access a key" (Redis 7), "... to access one of the keys used
    /// as arguments" (6.2): this key, not the command, is outside what the user may read.
    static bool keyNotPermitted(const redis::RedisReply &reply);

    /// A key the ACL hides: left out (as if gone), and counted for the node's note.
    void skipNotPermitted(RawEntry &raw);

    std::optional<QString> takeGetReply(const redis::RedisReply &value, std::size_t index,
                                        std::vector<std::size_t> &others);

    /// TYPE + HGETALL for what was not a string.
    std::optional<QString> readOthers(const std::vector<std::size_t> &others);

    /// ZRANGE ... WITHSCORES / LRANGE (at most RawEntry::MaxElements) for the sorted sets and
    /// lists among `others`, and one TIME for their serverTimeMs, in one more round trip.
    std::optional<QString> readCollections(const std::vector<std::size_t> &others);

    /// The companion keys the schemas name for the entries from index `from` on
    /// (SchemaRegistry::companionKeys), each read whole (rawread.h), and one TIME: one more
    /// round trip when any entry has some.
    std::optional<QString> readCompanions(std::size_t from);

    redis::Connection m_connection;
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

} // namespace lockscope::inspect::detail
