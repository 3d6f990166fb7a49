#pragma once

// Private to lockscope_core: the state a Locker shares between its source files
// (locker.cpp: construction and acquire; lockernodes.cpp: the per-node I/O declared here;
// lockerextend.cpp: release, extend and ttl; lockerkinds.cpp: what the kinds' refusals mean),
// and the small helpers they all use.

#include "locallocks.h"
#include "locker.h"
#include "redis/circuitbreaker.h"
#include "redis/connectionpool.h"
#include "util/quorum.h"
#include "wakehub.h"

#include <QSysInfo>
#include <algorithm>
#include <atomic>
#include <limits>
#include <optional>
#include <unistd.h>

namespace lockscope::redis {
class Script;
}

namespace lockscope::lock {

using redis::ConnectionPool;
using redis::ErrorKind;
using redis::RedisError;
using redis::RedisReply;
using redis::Result;
using Outcome = NodeVote::Outcome;

namespace detail {

// A new connection gets at least this long, even when the per-node timeout is shorter:
// connecting (TLS, AUTH) costs more than one command on a busy machine.
inline constexpr milliseconds kMinConnect{250};

inline qint64 integerAt(const RedisReply &reply, size_t index)
{
    const auto &e = reply.elements();
    return index < e.size() ? e[index].integer() : 0;
}

inline int countOf(const std::vector<NodeVote> &votes, Outcome outcome)
{
    return static_cast<int>(std::ranges::count(votes, outcome, &NodeVote::outcome));
}

inline NodeVote errorVote(const QString &node, RedisError error)
{
    NodeVote vote;
    vote.node = node;
    vote.outcome = Outcome::Error;
    vote.error = std::move(error);
    return vote;
}

// Lock kinds (lockerkinds.cpp).

/// A holder-kind acquire's refusal because the key is another kind ({-2, why, n[, type]}).
QString mismatchText(const RedisReply &reply, const AcquireOptions &options);
/// Why a holder-kind acquire was refused, from the nodes that refused it: a writer (holding or
/// waiting) outranks readers, taken permits and a fair lock's queue.
std::pair<LockErrorKind, QString> refusal(const std::vector<NodeVote> &votes);
/// The kind of a blocking read/write acquire's timeout: what it was waiting for.
LockErrorKind timeoutKind(LockKind kind, const LockError &last);
/// The blocker code of a holder-kind script's refusal.
NodeVote::Blocker blockerOf(qint64 code);
/// Now on the wall clock in Unix microseconds: a fair lock waiter's arrival.
qint64 arrivalNowUs();
/// One holder at a time (mutex, reentrant, write): the kinds whose wake-up queue order binds
/// (hand-off to the first waiter, the hand-off window).
inline bool isExclusive(LockKind kind)
{
    return kind == LockKind::Mutex || kind == LockKind::Reentrant || kind == LockKind::Write;
}
/// A fair lock waiter's place: how many waiters are ahead of it (the fewest any node
/// reports); -1 when no node reported a place.
int waitersAhead(const std::vector<NodeVote> &votes);

} // namespace detail

using detail::arrivalNowUs;
using detail::blockerOf;
using detail::countOf;
using detail::errorVote;
using detail::integerAt;
using detail::isExclusive;
using detail::kMinConnect;
using detail::mismatchText;
using detail::refusal;
using detail::timeoutKind;
using detail::waitersAhead;
using detail::WakeHub;

struct Locker::Private
{
    std::vector<redis::NodeConfig> configs;
    std::vector<std::unique_ptr<ConnectionPool>> pools;
    /// wakeOnRelease: the subscriber connections and the waiters on them.
    std::unique_ptr<WakeHub> wakeHub;
    LockerOptions options;
    QString host = QSysInfo::machineHostName();
    /// The default owner id of reentrant locks is this plus the thread id.
    QByteArray ownerBase = randomToken();
    qint64 pid = ::getpid();

    int quorum() const { return quorumOf(static_cast<int>(pools.size())); }

    /// The value an acquire with `token` writes (fence 0: the script adds it).
    LockValue newValue(const QByteArray &token, const AcquireOptions &acquire,
                       const QByteArray &callId) const;

    /// The token an acquire uses, and the call id that marks what it creates (empty when the
    /// token is new: everything with it is this call's).
    std::pair<QByteArray, QByteArray> tokenFor(const AcquireOptions &acquire) const
    {
        if (acquire.kind == LockKind::Reentrant) // every acquire may re-enter: always a call id
            return {acquire.token.isEmpty() ? ownerBase + ':' + QByteArray::number(::gettid())
                                            : acquire.token,
                    randomCallId()};
        if (!acquire.token.isEmpty())
            return {acquire.token, randomCallId()};
        return {randomToken(), QByteArray()};
    }

    /// LockerOptions::handOffAfter as it applies: on a Redlock set of more than one node, 0
    /// (a newcomer barging in while the woken first waiter tries would split the nodes' votes
    /// between them, and both attempts fail).
    milliseconds handOffWindow() const { return configs.size() > 1 ? milliseconds(0) : options.handOffAfter; }
    /// See Locker::quorumFor.
    int quorumFor(LockKind kind, int permits) const
    {
        const auto n = static_cast<qint64>(pools.size());
        if (kind != LockKind::Semaphore || permits <= 1)
            return quorum();
        return static_cast<int>(std::min(n, n * permits / (permits + 1) + 1));
    }

    milliseconds nodeTimeout(milliseconds ttl, const redis::NodeConfig &config) const
    {
        if (options.nodeTimeout.count() > 0)
            return options.nodeTimeout;
        return std::clamp(ttl / 10, milliseconds(10), std::max(milliseconds(10), config.commandTimeout));
    }

    milliseconds drift(milliseconds ttl) const
    {
        return milliseconds(static_cast<qint64>(static_cast<double>(ttl.count()) * options.driftFactor)) +
               options.driftBuffer;
    }

    /// What became of one node's command in sendToAll.
    enum class Delivery
    {
        NotAsked, ///< not in `only`
        NotSent,  ///< no connection: the node cannot have run it
        Sent,     ///< written (and answered, or failed after the write: outcome unknown)
        Undone,   ///< timed out, and the undo was written behind it on the same connection
    };

    /// Runs `script` on every node (EVALSHA; a node that answers NOSCRIPT gets the source,
    /// EVAL, in a second round trip of its own).
    /// `only`: when not empty, just the nodes marked true are asked; the others' results stay
    /// a nil reply.
    std::vector<Result<RedisReply>> runOnAll(const redis::Script &script, const std::vector<QByteArray> &keys,
                                             const std::vector<QByteArray> &args, milliseconds ttlForTimeout,
                                             const std::vector<bool> &only = {},
                                             const std::vector<QByteArray> *undo = nullptr,
                                             std::vector<Delivery> *delivery = nullptr,
                                             const std::vector<QByteArray> *lastArgPerNode = nullptr);

    /// An acquire script on every node: `plain`, or with wakeOnRelease `queued` (the same
    /// script with the lock's wake-up queue: its two keys and the waiter's arguments appended,
    /// see scripts::acquireQueued()).
    std::vector<Result<RedisReply>>
    runAcquire(const redis::Script &plain, const redis::Script &queued, std::vector<QByteArray> keys,
               std::vector<QByteArray> args, const AcquireOptions &acquire, const detail::WaitMark &waitMark,
               const std::vector<QByteArray> &undo, std::vector<Delivery> &delivery);

    /// Sends one command to every node: writes to all nodes first, then reads each reply, so
    /// an attempt costs the slowest node's round trip rather than the sum.
    ///
    /// `undo`: written behind the command on the same connection when a node's reply times
    /// out (Connection::armUndoOnTimeout), so that a stalled node that runs the command late
    /// runs the undo right after it. `delivery` receives what happened per node.
    /// `lastArgPerNode`: node i gets (*lastArgPerNode)[i] as the command's last argument.
    std::vector<Result<RedisReply>> sendToAll(const std::vector<QByteArray> &argv,
                                              const redis::Script *script, milliseconds ttlForTimeout,
                                              const std::vector<bool> &only = {},
                                              const std::vector<QByteArray> *undo = nullptr,
                                              std::vector<Delivery> *delivery = nullptr,
                                              const std::vector<QByteArray> *lastArgPerNode = nullptr);

    /// One vote per node, in node order: Error for a node that failed, otherwise what
    /// `classify` reads from the node's reply.
    template <typename Classify>
    std::vector<NodeVote> collectVotes(const std::vector<Result<RedisReply>> &results,
                                       Classify classify) const
    {
        std::vector<NodeVote> votes;
        votes.reserve(results.size());
        for (size_t i = 0; i < results.size(); ++i) {
            const QString &node = configs[i].label();
            if (!results[i]) {
                votes.push_back(errorVote(node, results[i].error()));
                continue;
            }
            NodeVote vote;
            vote.node = node;
            classify(vote, *results[i]);
            votes.push_back(std::move(vote));
        }
        return votes;
    }

    /// Node failures decided the outcome: the cause the nodes named (nodeErrorKind: NOPERM,
    /// READONLY, OOM, WRONGTYPE), else Connection (with the node's error) on one node,
    /// QuorumNotReached with `message` on a Redlock set.
    LockError nodeFailure(const QByteArray &key, const QString &message, std::vector<NodeVote> votes);

    LockError makeError(LockErrorKind kind, const QByteArray &key, QString message,
                        std::vector<NodeVote> votes);

    /// Set when the node list names one server twice: every operation fails with it.
    QString duplicateNodes;
    /// Labels of the nodes marked read-only (NodeConfig::readOnly): every write is refused.
    QStringList readOnlyNodes;

    /// Checks before anything is sent. `write`: the operation changes data on the nodes.
    std::optional<LockError> validate(const QByteArray &key, milliseconds ttl, bool write = true) const;

    /// Fills lock.value and lock.fence from the node that still holds our token with the
    /// highest fence (a node that missed the Redlock fence raise stores a lower one).
    void recoverValue(Lock &lock, const QByteArray &prefix);

    /// Redlock fencing, after a quorum granted: every granting node whose own fence is below
    /// the lock's `fence` (the highest among them) gets its counter raised to `fence` and our
    /// value's fence= field rewritten to it (scripts::raiseFence), all such nodes at once (one
    /// round trip, only when the granting nodes' fences differ). Returns how many granting
    /// nodes now carry the fence: those that already did plus those whose raise found the key
    /// still ours. A node whose raise failed becomes an Error vote, one that lost the key a
    /// NotHeld vote; their vote.fence stays what the node's acquire returned.
    ///
    /// Why the fences of a Redlock set then only increase: let A be a holder with fence F,
    /// and B a later holder (granted after A's lock was released or expired). Two quorums
    /// intersect, and A only returns the lock when a quorum of its granting nodes confirmed
    /// the raise, so B's quorum contains a node m whose counter was >= F while A's key was
    /// still on m (the raise checks ownership in the same script; a node that already had
    /// fence F got it from its own INCR, in the script that set A's key). B can only be granted
    /// on m once A's key is gone there, so B's INCR on m comes later and yields > F, and B's
    /// fence, the highest among its granting nodes, is > F. Without the raise, failed partial
    /// attempts leave the counters apart: A could get 100 from node m, B's quorum could
    /// exclude m, and B's highest could be 50.
    int raiseFences(const QByteArray &key, const QByteArray &prefix, qint64 fence,
                    std::vector<NodeVote> &votes, milliseconds ttl);

    /// The owner-checked delete on every node; with publishOnRelease the script also
    /// announces the release on the key's channel.
    /// Several keys: a multi-key lock's (all deleted where ours, each announced on its channel).
    /// `offer`: take the lock for that waiter in the same script where it is the queue's first
    /// (releaseAndPublish, direct hand-over).
    std::vector<Result<RedisReply>> runRelease(const std::vector<QByteArray> &keys, const QByteArray &token,
                                               const WakeHub::GrantOffer *offer = nullptr);
    /// After a release with `token` that carried `offer` (claimed from the wake hub): the lock
    /// the release took in the waiter's name, where it did, goes to the waiter when a quorum
    /// holds it with time left (and, with fencing on a Redlock set, the fences agree);
    /// otherwise what was taken is undone and the waiter woken to try. A waiter cancelled
    /// meanwhile gets nothing: the lock is released in its name, announced to the next. The
    /// claim is resolved either way. False when no node took it: the release wakes whom it
    /// named, as without an offer.
    bool handOver(const QByteArray &key, const QByteArray &token, const WakeHub::GrantOffer &offer,
                  const std::vector<Result<RedisReply>> &results, SteadyClock::time_point start);

    // The companion names of a full key under this Locker's prefix (see fenceKeyFor()).
    QByteArray fenceKey(const QByteArray &key) const
    {
        return options.fenceKey ? options.fenceKey(key) : fenceKeyFor(key, options.keyPrefix);
    }
    /// The counter an older LockScope kept for `key` ("{<key>}.fence") when fenceKey() now
    /// names another one, else empty: the scripts start a missing counter from it, so that
    /// fences keep rising across the rename. Passed as an argument, not in KEYS: a declared key
    /// is ACL-checked before the script runs, and a user limited to the prefix may not touch it
    /// (the scripts read it only where the user may, in the same slot; see ls_legacy).
    QByteArray legacyFenceKey(const QByteArray &key) const
    {
        if (options.fenceKey || options.keyPrefix.isEmpty())
            return {};
        QByteArray legacy = fenceKeyFor(key);
        return legacy == fenceKeyFor(key, options.keyPrefix) ? QByteArray() : legacy;
    }
    QByteArray releaseChannel(const QByteArray &key) const
    {
        return releaseChannelFor(key, options.keyPrefix);
    }
    QByteArray writerIntentKey(const QByteArray &key) const
    {
        return writerIntentKeyFor(key, options.keyPrefix);
    }
    std::pair<QByteArray, QByteArray> fairQueueKeys(const QByteArray &key) const
    {
        return fairQueueKeysFor(key, options.keyPrefix);
    }
    std::pair<QByteArray, QByteArray> waitQueueKeys(const QByteArray &key) const
    {
        return waitQueueKeysFor(key, options.keyPrefix);
    }

    /// scripts::undoAcquire as a command for Connection::armUndoOnTimeout: EVAL with the
    /// source, because the node may never have loaded it (it runs on failure paths only) and
    /// an EVALSHA answered NOSCRIPT there would undo nothing.
    static std::vector<QByteArray> undoCommand(const std::vector<QByteArray> &keys, const QByteArray &prefix,
                                               const QByteArray &mark);

    /// Undoes a failed call on the nodes marked in `on`: deletes the key where it holds our
    /// token (and, with a mark, carries it). Not a release: it never publishes, so waiters are
    /// not woken by an attempt that took nothing from them.
    /// `requeue`: a blocking acquire's wait mark; its place in the wake-up queue, taken out by
    /// the grants undone here, is put back on those nodes (one key).
    void runUndo(const std::vector<QByteArray> &keys, const QByteArray &prefix, const QByteArray &mark,
                 const std::vector<bool> &on, const detail::WaitMark *requeue = nullptr);

    /// Puts back what a failed call's refresh changed on the nodes marked in `on`
    /// (scripts::restoreAcquire): `beforeAt[i]` is node i's "before:at" per key, from its reply.
    void runRestore(const std::vector<QByteArray> &keys, const QByteArray &prefix,
                    const std::vector<QByteArray> &beforeAt, const std::vector<bool> &on);

    // Circuit breakers and degraded mode.

    /// One per node, in node order (LockerOptions::breaker). sendToAll skips a node whose
    /// breaker does not allow() it and reports every asked node's reply or failure to it.
    std::vector<std::unique_ptr<redis::CircuitBreaker>> breakers;
    /// This Locker in the process-wide LocalLocks table.
    quint64 localId = LocalLocks::newLockerId();
    std::atomic<quint64> degradedAcquisitions{0};
    /// The degraded-mode warning's rate limit (locallocks.cpp): when it was last logged (steady
    /// ms; far in the past at first) and how many degraded acquisitions followed it.
    std::atomic<qint64> degradedWarnedAtMs{std::numeric_limits<qint64>::min() / 2};
    std::atomic<quint64> degradedSinceWarning{0};

    /// Before anything is sent: BreakerOpen when fewer than `need` nodes are usable (breaker
    /// closed, or due for its half-open probe; wouldAllow() takes no probe slot), naming the
    /// open nodes and until when. Counts a rejection on each of them.
    std::optional<LockError> breakerCheck(const QByteArray &key, int need);
    /// The error of a node sendToAll skipped because its breaker is open.
    static RedisError breakerSkip(const redis::CircuitBreaker &breaker);

    // locallocks.cpp:
    /// An acquire of keys some of which this process holds in degraded mode: taken in the
    /// in-process table (degradedMode) or refused (NotObtained) without asking Redis; nullopt
    /// when none of the keys is held there.
    std::optional<LockResult<Lock>> acquireHeldLocally(const std::vector<QByteArray> &keys,
                                                       const AcquireOptions &acquire, const LockValue &value);
    /// An acquire that failed on Redis: with degradedMode, and when nodes that are down (open
    /// breakers, connection failures; not holders) made the quorum impossible, the in-process
    /// lock instead; otherwise `failure` as it is.
    LockResult<Lock> degradedFallback(const std::vector<QByteArray> &keys, const AcquireOptions &acquire,
                                      const LockValue &value, LockError failure);
    /// Before a breaker refusal goes local: asks the nodes whose breakers let calls through
    /// (EXISTS, a read) whether any of `keys` is held there. Why not to go local (a node shows
    /// a holder, or answered with an error), or nullopt when none does (the others are down).
    std::optional<QString> holderOnUsableNodes(const std::vector<QByteArray> &keys, milliseconds ttl);
    /// Takes the in-process lock (counted, logged with `cause`); `votes` go into the Lock.
    LockResult<Lock> acquireLocally(const std::vector<QByteArray> &keys, const AcquireOptions &acquire,
                                    const LockValue &value, const QString &cause,
                                    std::vector<NodeVote> votes);
    LockResult<void> releaseLocally(const Lock &lock);
    LockResult<Lock> extendLocally(const Lock &lock, milliseconds ttl, ExtendMode mode);
    LockResult<milliseconds> ttlLocally(const Lock &lock);
};

} // namespace lockscope::lock
