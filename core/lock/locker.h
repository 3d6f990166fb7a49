#pragma once

#include "lockerror.h"
#include "lockvalue.h"
#include "redis/circuitbreaker.h"
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
    /// one counter per lock key ("myapp:{myapp:jobs}.fence", "{jobs}.fence"), which has no TTL
    /// (it must outlive the lock for fences to keep rising), so per-entity keys leave one
    /// counter each. A function that maps
    /// many lock keys to one counter (for example one per namespace) bounds their number; the
    /// fences of each lock then still only increase. On Redis Cluster the counter must hash to
    /// the lock key's slot (share its hash tag). See fenceKeyFor() for when fences are
    /// strictly increasing at all.
    std::function<QByteArray(const QByteArray &lockKey)> fenceKey;
    /// Prepended to every key ("myapp:" turns "jobs" into "myapp:jobs"), and the start of every
    /// other key and channel the Locker writes (fence counter, release channel, writer intent,
    /// fair queue: "myapp:{myapp:jobs}.fence"), so that an ACL such as `~myapp:* &myapp:*`
    /// suffices; see fenceKeyFor() for the rule and its exceptions (a prefix with '{').
    QByteArray keyPrefix;
    /// Time source for validity and retry sleeps (a fake in tests).
    std::shared_ptr<LockClock> clock = LockClock::system();
    /// Uniform [0,1) random numbers for retry jitter (replaceable for tests).
    std::function<double()> random;
    /// Release also PUBLISHes the token on releaseChannelFor(key, keyPrefix), inside the
    /// release script (Redisson and redis-py style wake-up). Off by default: the plain release script runs.
    bool publishOnRelease = false;
    /// A blocking acquire that finds the lock held waits for a release message on
    /// releaseChannelFor(key) instead of sleeping out the retry delay, and a release wakes one
    /// waiter among all processes, the one that has waited longest, not all of them:
    /// - Every blocking acquire has a place in the lock's wake-up queue in Redis
    ///   (waitQueueKeysFor(): waiters by arrival, each with a deadline renewed by its attempts,
    ///   so a crashed waiter drops out). It joins with its first refused attempt and leaves
    ///   when its call ends (got the lock, gave up, cancelled), in the same scripts.
    /// - A publishing release names the queue's first waiter in its message; only the Locker
    ///   of that waiter wakes it (a reader wakes the waiting readers of every Locker: they may
    ///   share). A message that names nobody (an empty queue, a release by another library)
    ///   wakes the longest waiter of each Locker.
    /// - Hand-off, for the exclusive kinds (mutex, reentrant, write): while the lock is free,
    ///   a waiter behind another in the queue may not take it, and a caller not in the queue
    ///   (a newcomer) may take it only while the first waiter has been passed over for less
    ///   than handOffAfter (counted from the first release that named it). So newcomers may
    ///   barge in (no wake-up latency per hand-over: a releasing thread that comes straight
    ///   back keeps the lock), and the first waiter never starves.
    /// - The Locker keeps one subscriber connection per node (a thread per node, started with
    ///   the first wait), shared by all its waiting threads: a channel is SUBSCRIBEd while it
    ///   has waiters (and for 2 s after the last one left). The same release announced by
    ///   several nodes of a Redlock set wakes once, when a quorum of nodes announced it. A
    ///   release by a thread of this Locker wakes its own named waiter at once, without waiting
    ///   for the message.
    /// - Direct hand-over (mutex and reentrant locks on one key, with publishOnRelease): when
    ///   the queue's first waiter is a thread of this Locker waiting now, the release script
    ///   takes the lock in its name (its token, value and TTL; a new fence) and the releasing
    ///   thread hands it over in the process. The waiter runs no attempt of its own; its
    ///   validity counts from the start of the release. A waiter cancelled meanwhile gets
    ///   nothing: the releaser releases what it took in its name. On a Redlock set the lock
    ///   must be taken so on a quorum (and, with fencing, the fences raised), or it is undone
    ///   and the waiter woken as usual.
    /// A waiter still retries at the latest after the strategy's largest delay (or when the
    /// holder's TTL runs out, if sooner), so a lost message or a lock that expires without a
    /// release costs latency, never liveness; a release that named a waiter whose attempt was
    /// in flight sends it back at once. While no node listens (connections lost; they
    /// reconnect with a back-off), waiters sleep out the retry delay as without pub/sub.
    /// Useful when the holders publish (publishOnRelease). The wait runs on the real steady
    /// clock. A waiter woken by one node of a Redlock set may try before the release reached
    /// the other nodes; if that attempt fails, it tries again after the strategy's base delay,
    /// not its largest. The cleanup of a failed attempt is no release and publishes nothing.
    bool wakeOnRelease = false;
    /// With wakeOnRelease: how long the first waiter of a lock's wake-up queue may be passed
    /// over, from the first release that named it, before newcomers stop barging in ahead of
    /// it (Go's sync.Mutex starvation mode uses 1 ms). Longer: more hand-overs per second
    /// (a thread that releases and comes back keeps the lock), longer waits for the others.
    /// When no release named it (the lock expired), its wait counts from its arrival. Both
    /// are clients' clocks (the releaser's, the waiter's) compared with the caller's: clocks
    /// that disagree shift the window by their difference. Releases within the window announce nothing (the
    /// waiter, woken by the first, looks again when the window closes). 0: strict arrival order. On a Redlock
    /// set of more than one node the order is always strict: a newcomer barging in while the woken waiter
    /// tries would split the nodes' votes between them (measured: a tenth of the hand-overs per second with 3
    /// nodes, 8 workers).
    milliseconds handOffAfter{1};
    /// A circuit breaker per node (on by default: 3 consecutive node failures open it for 5 s,
    /// see redis::BreakerOptions). Nothing is sent to a node whose breaker is open: its vote is
    /// an Error (Unreachable, "circuit breaker open until ..."), at once instead of after a
    /// timeout. An operation that would find fewer usable nodes than its quorum fails at once
    /// with BreakerOpen, sending nothing. After the cool-down one call probes the node
    /// (half-open); its answer closes the breaker, its failure opens it again.
    redis::BreakerOptions breaker;
    /// Called on every breaker transition, on the thread whose call caused it, outside the
    /// breaker's lock; must be thread-safe and must not block. Empty: none.
    std::function<void(const redis::BreakerEvent &)> onBreakerChange;
    /// Off by default. On: an acquire that cannot reach a quorum because nodes are down (open
    /// breakers, or node failures; never because others hold the lock) takes an in-process lock
    /// instead: a process-wide table of the same full keys, honouring the lock kinds and TTLs,
    /// returned with Lock::degraded set (and logged, and counted in LockerStats). It excludes
    /// only the threads of this process, not other processes: use it where a lock keeps a
    /// process's own workers apart and availability matters more than cross-process exclusion.
    /// While a key is held in degraded mode, every acquire of it in this process goes to the
    /// table (with degradedMode) or is refused (NotObtained, without), even when Redis is back.
    /// A multi-key lock takes all its keys in the table or none.
    bool degradedMode = false;
};

/// Counters of one Locker (Locker::stats()).
struct LockerStats
{
    quint64 breakerOpens = 0;         ///< transitions to open, all nodes, since construction
    quint64 breakerRejections = 0;    ///< calls a breaker refused (a node skipped, an operation refused)
    quint64 degradedAcquisitions = 0; ///< acquires that took an in-process lock (degradedMode)
    quint64 degradedHeld = 0;         ///< in-process locks this Locker holds now (not expired)
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
    /// Taken for this call by a release of the same Locker, in the release script (the direct
    /// hand-over of LockerOptions::wakeOnRelease): `token` is one the call made for it.
    bool handedOver = false;
    /// An in-process lock (LockerOptions::degradedMode), not on Redis: it excludes the threads
    /// of this process only. release, extend and ttl of it touch only the in-process table;
    /// it is never promoted to a Redis lock (release it and acquire again). fence is 0, votes
    /// are the failed Redis attempt's (empty when nothing was sent).
    bool degraded = false;

    milliseconds validityLeft(SteadyClock::time_point now) const;
};

/// The pub/sub wake-up of a Locker (LockerOptions::wakeOnRelease), counted since it was made.
struct WakeStats
{
    /// Releases heard: on a Redlock set, once a quorum of nodes announced the same release.
    quint64 messages = 0;
    quint64 duplicates = 0; ///< the other nodes' announcements of a release: they wake nobody
    quint64 wakeups = 0;    ///< waiters woken by a release (one per release; readers together)
    /// Releases by this Locker's own threads that woke a waiter of this Locker at once, ahead
    /// of their message (which then wakes nobody).
    quint64 handedOn = 0;
    /// Of those, the releases that took the lock for the waiter in the same script (a direct
    /// hand-over: the waiter had nothing left to do).
    quint64 granted = 0;
    quint64 missed = 0;       ///< waits skipped: a release came while the waiter's attempt was in flight
    quint64 resubscribes = 0; ///< subscriber connections re-established after a loss
    int channels = 0;         ///< channels listened on now (on at least one node)
    int waiting = 0;          ///< threads waiting for a message now
    int handing = 0;          ///< of those, the ones a release of this Locker is taking the lock for now
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
    /// Its id in the lock's wake-up queue (wakeOnRelease; "" = none: a tryAcquire), and how
    /// long its place there lives without an attempt renewing it.
    QByteArray waiterId;
    milliseconds waiterLife{0};
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

    /// Every node's circuit breaker, in node order (thread-safe; a snapshot).
    std::vector<redis::BreakerStatus> breakerStates() const;
    /// This Locker's breaker and degraded-mode counters (thread-safe; a snapshot).
    LockerStats stats() const;

    /// The pub/sub wake-up's counters (all zero without wakeOnRelease).
    WakeStats wakeStats() const;

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
