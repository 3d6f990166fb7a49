#pragma once

#include "redis/rediserror.h"

#include <QMetaType>
#include <QString>
#include <expected>
#include <optional>
#include <vector>

namespace lockscope::lock {

/// One node's answer to one lock operation; every failure carries all of them.
struct NodeVote
{
    enum class Outcome
    {
        Granted,  ///< the node did what was asked (took, extended, released the lock)
        Held,     ///< another owner holds the key on this node
        NotHeld,  ///< the key is absent or belongs to someone else (release / extend)
        Error,    ///< the node failed: see error
        Released, ///< granted, then released again because the attempt as a whole failed
    };
    /// What kept a Held vote from being granted (read/write locks and semaphores say more than
    /// "another owner").
    enum class Blocker
    {
        Owner,         ///< another owner holds the key (a mutex)
        Writer,        ///< a writer holds the read/write lock
        Readers,       ///< readers hold the read/write lock (a writer asked)
        WriterWaiting, ///< a writer waits for the readers: no new readers (writer preference)
        Permits,       ///< every permit of the semaphore is taken
        Queue,         ///< a fair lock: held, or others wait ahead of us (holders: how many)
        /// Free, but kept for the waiters of its wake-up queue (wakeOnRelease; holders: how
        /// many are ahead of us)
        Waiters,
    };
    QString node;
    Outcome outcome = Outcome::Error;
    Blocker blocker = Blocker::Owner; ///< Held votes
    /// Held votes of a read/write lock or semaphore: its holders; of a fair lock: the waiters
    /// queued ahead of us.
    int holders = 0;
    qint64 fence = 0; ///< fencing value this node assigned (acquire)
    qint64 pttl = 0;  ///< remaining TTL of the foreign holder (Held) or of our key, in ms
    std::optional<redis::RedisError> error;

    static QString outcomeName(Outcome outcome);
};

enum class LockErrorKind
{
    NotObtained,      ///< held by another owner (on enough nodes to deny the quorum)
    NotHeld,          ///< release / extend / ttl: we do not (or no longer) own the lock
    ValidityExpired,  ///< the quorum was reached too late: the lock's validity had run out
    QuorumNotReached, ///< node failures, not foreign holders, denied the quorum
    Timeout,          ///< the wait deadline passed while retrying
    Cancelled,        ///< cancelled from another thread
    InvalidArgument,  ///< bad key, TTL, options; nothing was sent
    ReadOnly,         ///< a write to a node marked read-only (NodeConfig::readOnly); nothing was sent
    Connection,       ///< single node: the node failed (see votes for the cause)
    /// Circuit breakers (LockerOptions::breaker) of too many nodes are open for the quorum this
    /// operation needs; nothing was sent, no timeout was waited out. The message names the open
    /// nodes, until when and why.
    BreakerOpen,
    // The node answered, and its answer names the cause (see nodeErrorKind):
    Permission,      ///< an ACL denied a command the operation sends (NOPERM)
    ReadOnlyReplica, ///< a write reached a replica (READONLY): name the master, not a replica
    OutOfMemory,     ///< the node is at maxmemory and refused the write (OOM)
    WrongType,       ///< the key holds another data type (a list, a hash, ...): it is not a lock
    // Read/write locks and semaphores:
    WriteLockHeld,    ///< a writer holds the lock, or waits for it (no new readers meanwhile)
    ReadersTimeout,   ///< a writer's wait deadline passed while readers still held the lock
    WriteLockTimeout, ///< the wait deadline passed while a writer held (or waited for) the lock
    KindMismatch,     ///< the key is a lock of another kind, or a semaphore of another permit count
};

struct LockError
{
    LockErrorKind kind = LockErrorKind::Connection;
    QString key;
    QString message;
    /// One per node, in node order; empty when nothing was sent (InvalidArgument, ReadOnly,
    /// BreakerOpen, a key held in degraded mode).
    std::vector<NodeVote> votes;
    int attempts = 0; ///< acquire attempts made (blocking acquire)
    /// Blocking acquire: the token its attempts used. A node that timed out may still apply an
    /// attempt later (a paused server runs the queued command when it resumes), so a caller
    /// that wants no key left behind can release a handleFor(key, token): owner-checked, safe.
    QByteArray token;
    /// For Timeout / Cancelled: why the last attempt failed.
    std::optional<LockErrorKind> lastCause;

    /// One line: "lock <key>: <kind>: <message> [node: vote, node: vote, ...]".
    QString toString() const;
    static QString kindName(LockErrorKind kind);
};

/// The kind of a failure that node errors decided, when the nodes named its cause: Permission,
/// ReadOnlyReplica, OutOfMemory or WrongType when every vote that failed failed with that one
/// error (NOPERM, READONLY, OOM, WRONGTYPE). nullopt otherwise (no failed vote, a node down or
/// timed out, different causes): then it is Connection on one node, QuorumNotReached on a
/// Redlock set.
std::optional<LockErrorKind> nodeErrorKind(const std::vector<NodeVote> &votes);

template <typename T>
using LockResult = std::expected<T, LockError>;

} // namespace lockscope::lock

Q_DECLARE_METATYPE(lockscope::lock::LockError)
