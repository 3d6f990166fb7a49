#pragma once

#include "lockerror.h"
#include "lockvalue.h"
#include "redis/nodeconfig.h"
#include "retry.h"

#include <QByteArray>
#include <QMap>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace lockscope::redis {
class ConnectionPool;
}

namespace lockscope::lock {

struct LockerOptions
{
    /// Redlock clock drift: validity = TTL - elapsed - (TTL * driftFactor + driftBuffer).
    double driftFactor = 0.01;
    milliseconds driftBuffer{2};
    /// How long one attempt waits for a node's reply. 0 = TTL / 10, at least 10 ms and at
    /// most the node's command timeout. Keep it well below the TTL on a Redlock set.
    milliseconds nodeTimeout{0};
    /// Connections per node, shared by all threads using this Locker (the seeds' PoolSize).
    int poolSize = 8;
    /// Fencing tokens: every acquire increments the lock's counter inside the acquire script
    /// and writes the value into the lock. Off, an acquire is a plain SET NX PX (no Lua on the
    /// server, about a third faster per cycle on one node) and Lock::fence is 0.
    /// On a Redlock set the fence is the highest value among the granting nodes, and before
    /// an acquire returns, every granting node whose own value was lower gets its counter
    /// raised (and its stored value rewritten) to it: one extra round trip, to those nodes
    /// only, and only when the nodes' counters disagree (after failed partial attempts). This
    /// keeps the fences of successive holders strictly increasing although their quorums
    /// differ; an acquire fails (QuorumNotReached, released) when the raise does not reach a
    /// quorum.
    bool fencing = true;
    /// The fencing counter of a lock key (full key, prefix included). Empty = fenceKeyFor():
    /// one counter per lock key, "{key}.fence", which has no TTL (it must outlive the lock for
    /// fences to keep rising), so per-entity keys leave one counter each. A function that maps
    /// many lock keys to one counter (for example one per namespace) bounds their number; the
    /// fences of each lock then still only increase. On Redis Cluster the counter must hash to
    /// the lock key's slot (share its hash tag). See fenceKeyFor() for when fences are
    /// strictly increasing at all.
    std::function<QByteArray(const QByteArray &lockKey)> fenceKey;
    /// Prepended to every key ("myapp:" turns "jobs" into "myapp:jobs").
    QByteArray keyPrefix;
    /// Time source for validity and retry sleeps (a fake in tests).
    std::shared_ptr<LockClock> clock = LockClock::system();
    /// Uniform [0,1) random numbers for retry jitter (replaceable for tests).
    std::function<double()> random;
    /// Release also PUBLISHes the token on releaseChannelFor(key), inside the release script
    /// (Redisson and redis-py style wake-up). Off by default: the plain release script runs.
    bool publishOnRelease = false;
    /// A blocking acquire that finds the lock held SUBSCRIBEs to releaseChannelFor(key) (on the
    /// first node that accepts, on a connection of its own) and retries as soon as a release
    /// is announced, instead of sleeping out the retry delay. It still retries at the latest
    /// after the strategy's largest delay (or when the holder's TTL runs out, if sooner), so a
    /// lost message or a lock that expires without a release costs latency, never liveness.
    /// Useful when the holders publish (publishOnRelease). Subscriber connections come from a
    /// pool of their own (poolSize per node). The wait runs on the real steady clock.
    /// On a Redlock set the subscription is on one node (the first that accepts): a release
    /// is published by every node it reaches, and one is enough to wake the waiter. A waiter
    /// woken there may try before the release reached the other nodes; if that attempt fails,
    /// it tries again after the strategy's base delay, not its largest. The cleanup of a failed
    /// attempt is no release and publishes nothing. A reused subscriber connection that the
    /// server closed is reconnected before it subscribes.
    bool wakeOnRelease = false;
};

/// What a lock key holds, and so who may hold it at once.
enum class LockKind
{
    Mutex,     ///< one owner (a string key)
    Read,      ///< a reader of a read/write lock: shares it with other readers, never a writer
    Write,     ///< the writer of a read/write lock: alone, no readers
    Semaphore, ///< one of AcquireOptions::permits holders of a counting semaphore
    /// One owner (AcquireOptions::token is the owner id; empty = this Locker and thread) that
    /// may acquire again: each acquire adds a hold and sets the TTL, each release removes one,
    /// the last deletes the key. A string key with a hold count ("cnt=N").
    Reentrant,
    /// A mutex whose waiters are served in arrival order (Redisson's fair lock): a blocking
    /// acquire that finds it held queues up (a sorted set by arrival, each place with its own
    /// deadline, renewed by every attempt, so a vanished waiter drops out) and only the first in
    /// line may take it. A plain mutex acquire on the same key ignores the queue.
    Fair,
};

/// "mutex", "read", "write", "semaphore", "reentrant", "fair": the stable identifier (lockctl, JSON).
QString lockKindName(LockKind kind);

struct AcquireOptions
{
    /// Mutex: a string key, one owner. Read / Write: a read/write lock (a sorted set of
    /// holders, each with its own expiry; many readers or one writer, writer preference: a
    /// writer that waits in a blocking acquire leaves an intent key that turns new readers
    /// away). Semaphore: at most `permits` holders, each with its own expiry. The kinds do not
    /// mix on one key: a read/write lock is refused by a semaphore's key and the other way
    /// round (KindMismatch), and a mutex acquire on either answers WrongType.
    LockKind kind = LockKind::Mutex;
    /// Semaphore: the number of permits, part of the semaphore's definition: every holder
    /// records it, and an acquire that names another number is refused (KindMismatch) while
    /// holders of the other definition remain.
    int permits = 0;
    milliseconds ttl{10'000};
    /// Caller-chosen token: acquiring again with it succeeds and refreshes the TTL (the same
    /// owner re-acquiring, or a handoff to another process that was given the token).
    /// A call that fails leaves what the token held before: never deleted, and where a node
    /// refreshed it, its previous expiry (a holder entry's deadline) is put back, unless it has
    /// changed since. A node whose reply was lost may keep the new TTL (its previous one is
    /// unknown): at worst a failed call leaves the held lock longer than before, never shorter,
    /// never freed.
    /// Empty = a new random token. Reentrant: the owner id (empty = one id per Locker and
    /// thread, so a thread re-entering through the same Locker is the same owner).
    QByteArray token;
    QString label;
    QString thread; ///< worker or thread name shown to operators; empty = the OS thread name
    QMap<QString, QString> metadata;
    /// Blocking acquire: retry schedule and overall deadline (0 = until the TTL passed).
    RetryStrategy retry = RetryStrategy::exponential(milliseconds(8), milliseconds(256), 0, 0.5);
    milliseconds wait{0};
    std::shared_ptr<CancellationToken> cancel;
};

/// A held lock. A plain value: copy it to another thread to release it there, or give its
/// token to another process for a handoff.
struct Lock
{
    QByteArray key; ///< full key, prefix included
    LockKind kind = LockKind::Mutex;
    int permits = 0; ///< Semaphore: the number of permits
    int holds = 0;   ///< Reentrant: the hold count after this acquire
    /// Multi-key lock: all its keys (full, sorted, each once; `key` is the first) and each
    /// key's fence (`fence` is the first key's). Empty for a lock on one key.
    std::vector<QByteArray> keys;
    std::vector<qint64> fences;
    QByteArray token;
    QByteArray value; ///< the value written (with the fence below)
    /// Fencing token, strictly increasing across the lock's holders. On a Redlock set: the
    /// highest value among the nodes that granted (votes[i].fence is each node's own value
    /// before the raise; see LockerOptions::fencing).
    qint64 fence = 0;
    milliseconds ttl{0};
    /// Until when the lock is safely ours (TTL minus acquire time and drift), on the Locker's clock.
    SteadyClock::time_point validUntil;
    std::vector<NodeVote> votes;
    /// Attempts the acquire made (1 for tryAcquire; a blocking acquire counts its retries).
    int attempts = 1;
    /// Blocking acquire with wakeOnRelease: how many times a release message woke it up.
    int wakeups = 0;

    milliseconds validityLeft(SteadyClock::time_point now) const;
};

enum class ExtendMode
{
    Replace, ///< the TTL becomes exactly the given duration (redsync, bsm Refresh)
    Add,     ///< the given duration is added to the remaining TTL (redis-py extend)
};

namespace detail {
/// A blocking acquire's mark (a writer's intent, a fair lock waiter's place in the queue): how
/// long it lives (0: leave none), and the arrival time (client Unix µs, taken once per call)
/// that orders a fair lock's waiters the same way on every node of a Redlock set.
struct WaitMark
{
    milliseconds ttl{0};
    qint64 arrivalUs = 0;
};
} // namespace detail

/// Distributed locks over one Redis node or a Redlock set of N independent nodes.
///
/// With one node it is a single-instance lock (SET-if-absent with a TTL, owner-checked
/// release and extend in Lua). With N nodes every operation is sent to all nodes at once
/// (write to every node, then read: one round trip) and needs a quorum of N/2+1; an acquire
/// also needs the validity (TTL - elapsed - drift) to be positive, and a failed acquire
/// releases whatever it took on every node.
///
/// Thread-safe: many threads may share one Locker; connections come from a bounded pool per
/// node. Errors are returned as values (LockError), never thrown.
class Locker
{
public:
    explicit Locker(std::vector<redis::NodeConfig> nodes, LockerOptions options = {});
    ~Locker();
    Locker(const Locker &) = delete;
    Locker &operator=(const Locker &) = delete;

    int nodeCount() const;
    int quorum() const;
    /// The nodes a lock of this kind needs: quorum() (N/2+1), except for a semaphore of
    /// `permits` > 1 on several nodes: floor(n * permits / (permits + 1)) + 1. A majority is
    /// not enough there: with 3 nodes, 4 holders of a 3-permit semaphore could each find 2
    /// nodes with a free permit (8 entries fit in 3 nodes x 3 permits). With this quorum,
    /// permits + 1 holders would need more entries than the nodes can hold, so at most
    /// `permits` hold it at once. The price is availability: on 3 nodes, a semaphore of 2 or
    /// more permits needs all 3 nodes.
    int quorumFor(LockKind kind, int permits) const;
    const std::vector<redis::NodeConfig> &nodes() const;
    const LockerOptions &options() const;
    /// How long one operation on a lock with this TTL waits for a node's reply
    /// (LockerOptions::nodeTimeout, or TTL / 10 within [10 ms, command timeout]).
    milliseconds operationBudget(milliseconds ttl) const;

    /// One attempt, no retry. A refused read/write lock answers WriteLockHeld when a writer
    /// holds it or waits for it, NotObtained when readers keep a writer out; a semaphore
    /// with all permits taken answers NotObtained.
    LockResult<Lock> tryAcquire(const QByteArray &key, const AcquireOptions &options = {});
    /// A multi-key mutex: all of `keys` or none, for one owner. The keys are taken in one script
    /// per node (sorted, each once; atomic on that node), so overlapping sets cannot deadlock
    /// and a refused or failed call leaves none of them behind. Release, extend and ttl work on
    /// the returned Lock as a whole. Mutex kind only (InvalidArgument otherwise). On Redis
    /// Cluster the keys must share a hash tag. One key: the same as tryAcquire(key).
    LockResult<Lock> tryAcquire(const std::vector<QByteArray> &keys, const AcquireOptions &options = {});
    /// Blocking form of the multi-key tryAcquire (see acquire(key)).
    LockResult<Lock> acquire(const std::vector<QByteArray> &keys, const AcquireOptions &options = {});
    /// Attempts until obtained, the retry strategy gives up, the wait deadline passes
    /// (Timeout, carrying the last cause; for a read/write lock ReadersTimeout when a writer
    /// waited for readers, WriteLockTimeout when it waited for a writer) or options.cancel is
    /// cancelled (Cancelled). A writer's intent key is deleted when its acquire gives up.
    LockResult<Lock> acquire(const QByteArray &key, const AcquireOptions &options = {});
    /// Acquire with the lock's own token: extends (replaces the TTL) where we still hold it and
    /// takes it where it is free, but never where another owner holds it. A reentrant lock
    /// still held is only extended (no hold is added).
    LockResult<Lock> acquireOrExtend(const Lock &lock, milliseconds ttl);

    /// Owner-checked delete on every node (a reader or a permit: only this holder's entry).
    /// NotHeld when we no longer hold it on a quorum
    /// (expired, or taken over); other owners' keys are never touched.
    LockResult<void> release(const Lock &lock);
    /// Owner-checked TTL change on every node. With `heal`, a node that lost the key (restart
    /// without persistence) gets it back; a key another owner holds is never taken.
    LockResult<Lock> extend(const Lock &lock, milliseconds ttl, ExtendMode mode = ExtendMode::Replace,
                            bool heal = false);
    /// Owner-checked remaining validity: how long a quorum of nodes still holds the key for us
    /// (the quorum's shortest remaining PTTL, less this call's duration and the clock drift,
    /// as for an acquire; never negative).
    LockResult<milliseconds> ttl(const Lock &lock);

    /// A Lock handle for a token obtained elsewhere (handoff): release/extend/ttl work on it.
    /// It says Mutex: for a semaphore permit on several nodes, set its kind and permits so that
    /// extend and ttl count the semaphore's quorum.
    Lock handleFor(const QByteArray &key, const QByteArray &token) const;
    /// The handle of a multi-key lock (the keys sorted, each once; one key: as above).
    Lock handleFor(const std::vector<QByteArray> &keys, const QByteArray &token) const;

private:
    /// One acquire attempt with `token`. `mayAlreadyHold`: the token may already be on a node
    /// (caller's token, or an earlier attempt of a blocking acquire), so the owner-checking
    /// script runs. `callId`: empty when the token is this call's own; otherwise the id written
    /// into the keys this call creates, so that a failure undoes only those.
    /// `waitMark`: see detail::WaitMark.
    LockResult<Lock> attempt(const std::vector<QByteArray> &rawKeys, const AcquireOptions &options,
                             const QByteArray &token, bool mayAlreadyHold, const QByteArray &callId,
                             detail::WaitMark waitMark = {});

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace lockscope::lock
