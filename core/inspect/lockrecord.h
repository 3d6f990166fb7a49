#pragma once

#include "lockschema.h"

#include <QDateTime>
#include <QStringList>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace lockscope::inspect {

/// A node's decoded lock, immutable and shared by the nodes of a record that hold the same value
/// (a Redlock set holds it on every node): one copy per record instead of one per node. Reads
/// like std::optional<DecodedLock>, and is assigned from one.
class SharedDecodedLock
{
public:
    SharedDecodedLock() = default;
    SharedDecodedLock(std::nullopt_t) {}
    SharedDecodedLock(DecodedLock lock) : m_lock(std::make_shared<const DecodedLock>(std::move(lock))) {}
    SharedDecodedLock(std::optional<DecodedLock> lock)
    {
        if (lock)
            m_lock = std::make_shared<const DecodedLock>(std::move(*lock));
    }

    bool has_value() const { return m_lock != nullptr; }
    explicit operator bool() const { return has_value(); }
    const DecodedLock &operator*() const { return *m_lock; }
    const DecodedLock *operator->() const { return m_lock.get(); }
    void reset() { m_lock.reset(); }

    friend bool operator==(const SharedDecodedLock &a, const SharedDecodedLock &b)
    {
        return a.m_lock == b.m_lock || (a.m_lock && b.m_lock && *a.m_lock == *b.m_lock);
    }

private:
    std::shared_ptr<const DecodedLock> m_lock;
};

/// One node's view of one key.
struct NodeEntry
{
    QString node;          ///< node label
    bool reachable = true; ///< false when the node failed during this scan (see error)
    /// Why the node could not be read (reachable false); or, with reachable true, why the key is
    /// not read there although the node answered (a cluster redirect: anomaly::ClusterRedirect).
    QString error;
    RawEntry raw; ///< type, value / fields, PTTL
    SharedDecodedLock decoded;

    bool present() const { return reachable && raw.type != RawEntry::Type::Missing; }
};

/// Anomaly identifiers, stable: used in `lockctl list --json` and by the GUI.
namespace anomaly {
inline constexpr char NoTtl[] = "no-ttl";               ///< a node holds the key without a TTL
inline constexpr char TokensDiffer[] = "tokens-differ"; ///< nodes hold different owners' tokens
inline constexpr char QuorumLost[] = "quorum-lost";     ///< on a Redlock set, fewer than N/2+1 nodes hold it
inline constexpr char NodeUnreachable[] = "node-unreachable"; ///< a node of the group could not be read
inline constexpr char Expired[] = "expired";                  ///< the TTL ran out since the snapshot
inline constexpr char Undecoded[] = "undecoded";              ///< no schema could read the value (shown raw)
/// The lock's own state is wrong (a reader without expiry, more holders than permits, a queued
/// waiter that is gone): the majority decoding's DecodedLock::anomalies say what.
inline constexpr char LockState[] = "lock-state";
/// A node of the group is a Redis Cluster node that answered MOVED / ASK: it is up, but the key's
/// hash slot is served by another node (NodeEntry::error names it), which LockScope does not
/// follow yet; the record shows only what the group's nodes hold.
inline constexpr char ClusterRedirect[] = "cluster-redirect";
} // namespace anomaly

/// A lock key aggregated across the nodes of a group.
struct LockRecord
{
    QByteArray key;
    QString schema; ///< schema id of the majority decoding; empty when undecoded
    /// How sure the decoding is (see Confidence): the weakest among the nodes that hold the
    /// majority token (one node without a TTL can make the others' reading a Guess); nullopt
    /// when undecoded. Actions on a Guess ask for an explicit confirmation.
    std::optional<Confidence> confidence;
    QString confidenceReason; ///< what that confidence rests on (DecodedLock::confidenceReason)
    QString owner;
    QByteArray token; ///< the majority token
    qint64 fence = -1;
    int holdCount = -1;
    QString mode;
    QString kind; ///< the majority decoding's DecodedLock::kind ("mutex", "read", "semaphore", ...)
    std::vector<NodeEntry> nodes; ///< one per node of the group, in group order
    int held = 0;                 ///< nodes holding the majority token
    int of = 0;                   ///< nodes in the group
    bool quorum = false;          ///< held >= quorumOf(of)
    qint64 minPttlMs = -1;        ///< smallest TTL among the holders; -1 = none has a TTL
    QStringList anomalies;        ///< identifiers from `anomaly`
    QDateTime readAt;             ///< when the snapshot read it (wall clock, for display)
    std::chrono::steady_clock::time_point readAtSteady; ///< for the live TTL countdown

    /// Recomputes `expired` against `now` (the countdown reached zero on every holder).
    bool expiredAt(std::chrono::steady_clock::time_point now) const;
};

/// The node entry the record's owner, schema and fence come from: the first present node whose
/// decoded token is the majority token, else the first present node; nullptr when no node holds
/// the key.
const NodeEntry *majorityEntry(const LockRecord &record);

/// The label the majority holder attached (empty when none).
QString labelOf(const LockRecord &record);

/// Who holds the lock, for people: the one text the table, Details, the action dialogs and the
/// admin messages all show, so that they never name different owners for the same lock.
/// The holder's label and the decoded owner (host/pid/thread, client id, ...) both when both
/// exist ("“nightly export” — alice@box pid 12 main"), the label first: it names the service,
/// which an operator recognises sooner than a host; "not recorded by <schema>" when the format
/// names no owner; "unknown: the value is not decoded" when no schema reads it. Control
/// characters escaped (lockscope::displayText); an owner or label longer than 300 characters is
/// cut, with its whole length said (a 50 MB label must not be laid out). A lock of several
/// holders says how many first ("3 readers: web-1 pid 12 main, web-2 pid 3 w1", "2 of 5
/// permits: ..."), a fair lock with waiters how many wait (" (2 waiting)"). Pure, thread-safe.
QString ownerText(const LockRecord &record);
/// ownerText() without the holder count and queue a lock of several holders adds ("3 readers: ",
/// " (2 waiting)").
QString singleOwnerText(const LockRecord &record);

/// The lock's kind in a few characters, for a table cell: "mutex", "write", "read ×3" (three
/// readers), "semaphore 2/5" (permits used of N; "semaphore 2" when N is not recorded),
/// "reentrant ×2" (hold count), "fair, 2 waiting"; empty when the value is not decoded.
QString kindText(const LockRecord &record);

/// Builds a record from every node's entry for one key: the majority token (ties: the first
/// node's), k of N, quorum, the smallest TTL and the anomalies. Pure: no I/O.
LockRecord aggregate(const QByteArray &key, std::vector<NodeEntry> nodes);

} // namespace lockscope::inspect
