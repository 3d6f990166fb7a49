#pragma once

#include "lockrecord.h"
#include "lockschema.h"
#include "redis/nodeconfig.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <vector>

namespace lockscope::inspect {

struct ScanOptions
{
    /// SCAN MATCH globs. Empty = the registry's schema patterns (keys no schema decodes are
    /// then listed only when they matched a schema-specific pattern, not a catch-all "*").
    /// Given explicitly, every matching key is listed, decoded or raw.
    QStringList match;
    QString schema; ///< only records of this schema id (empty = all)
    /// Also list the keys no schema decodes whose name says lock (keyNamesLock(): "jobs:lock:x",
    /// "orderMutex"), as raw records with the `undecoded` anomaly: locks of a library LockScope
    /// does not know are shown, not hidden. Without an explicit `match` only.
    bool lockLikeRaw = false;
    /// Keep the names of up to this many scanned keys that were not listed (Snapshot::unlisted),
    /// so that a caller can say "these keys matched, but none is a lock it recognises".
    std::size_t keepUnlisted = 0;
    int count = 1000; ///< SCAN COUNT
    int batch = 512;  ///< keys per pipelined batch of value and TTL reads (MGET + PTTLs)
};

struct ScanProgress
{
    int node = 0;            ///< index in the group
    quint64 keysScanned = 0; ///< keys returned by SCAN on that node so far
    bool finished = false;
};

struct NodeScanResult
{
    QString node;
    bool ok = true;
    QString error; ///< why this node could not be scanned (it is then unreachable in every record)
    QString note;  ///< what was degraded to what the ACL permits (empty when nothing was)
    quint64 keysScanned = 0;
    /// Keys SCAN listed that this ACL user may not read (outside its key patterns): skipped
    /// and counted, never a reason to fail the node (the note says how many).
    quint64 keysNotPermitted = 0;
};

struct Snapshot
{
    quint64 generation = 0;
    std::vector<LockRecord> records; ///< sorted by key
    /// Keys the scan read but did not list (no schema decodes them), up to ScanOptions::
    /// keepUnlisted of them, in no particular order; unlistedCount counts them all.
    std::vector<QByteArray> unlisted;
    quint64 unlistedCount = 0;
    std::vector<NodeScanResult> nodes;
    std::chrono::milliseconds elapsed{0};
    bool cancelled = false;
};

/// What Scanner::stream() says once it has handed every record over.
struct StreamSummary
{
    std::vector<NodeScanResult> nodes;
    quint64 records = 0;       ///< records handed over
    quint64 unlistedCount = 0; ///< keys read but not listed (no schema decodes them)
    std::chrono::milliseconds elapsed{0};
    bool cancelled = false;
};

/// Reads every lock of a node group: one SCAN cursor per node, all nodes in parallel (a
/// thread each, with its own connection), values and TTLs fetched in pipelined batches, then
/// one record per key aggregated across the nodes. Read-only: it sends SCAN, MGET, PTTL, TYPE,
/// HGETALL (and GET when MGET is not permitted), ZRANGE ... WITHSCORES and LRANGE (at most
/// RawEntry::MaxElements per key) for sorted sets and lists, TIME once per round that reads
/// those, and the same reads for the companion keys a schema names (LockSchema::companionKeys),
/// and nothing else (never KEYS), so a least-privilege ACL user
/// (`+scan +mget +pttl +type +hgetall +zrange +lrange +time ~*`) can run it. A user without
/// +zrange, +lrange or +time still scans: those sets and lists are not decoded (or their
/// holders' remaining time is unknown).
///
/// A companion key (a fair lock's queue, a writer's intent) is listed in its lock's record, not
/// on its own, whenever the scan also lists a key it may belong to
/// (SchemaRegistry::companionOwners); met without its lock it is decoded on its own.
class Scanner
{
public:
    Scanner(std::vector<redis::NodeConfig> group, SchemaRegistry registry);

    /// Blocking; call it from a worker thread. `progress` is called from the node threads (the calling thread
    /// among them). `cancel` set to true stops every node at its next batch (the snapshot says cancelled).
    Snapshot scan(const ScanOptions &options, quint64 generation,
                  const std::function<void(const ScanProgress &)> &progress = {},
                  const std::atomic<bool> *cancel = nullptr) const;

    /// The same records as scan(), in the same (key) order, handed to `sink` a batch at a time
    /// as they are read, on the calling thread, without ever holding them all: for output of
    /// any size (`lockctl list`). Every node's keys are listed first (SCAN only), then read in
    /// sorted batches of `streamBatch` keys, every node in parallel, a few batches ahead of the
    /// sink. Memory: the key names, plus those few batches. A node that fails midway is
    /// unreachable in the records after that point. `cancel` stops at the next batch.
    StreamSummary stream(const ScanOptions &options,
                         const std::function<void(std::vector<LockRecord> &&)> &sink,
                         const std::function<void(const ScanProgress &)> &progress = {},
                         const std::atomic<bool> *cancel = nullptr, std::size_t streamBatch = 4096) const;

    const std::vector<redis::NodeConfig> &group() const { return m_group; }
    const SchemaRegistry &registry() const { return m_registry; }

private:
    std::vector<redis::NodeConfig> m_group;
    SchemaRegistry m_registry;
};

} // namespace lockscope::inspect
