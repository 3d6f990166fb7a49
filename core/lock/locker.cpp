#include "locker.h"

#include "lockscripts.h"
#include "redis/connectionpool.h"
#include "redis/script.h"
#include "util/quorum.h"

#include <QSysInfo>
#include <QThread>
#include <algorithm>
#include <random>
#include <unistd.h>

namespace lockscope::lock {

using redis::ConnectionPool;
using redis::ErrorKind;
using redis::RedisError;
using redis::RedisReply;
using redis::Result;
using Outcome = NodeVote::Outcome;

milliseconds Lock::validityLeft(SteadyClock::time_point now) const
{
    return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(validUntil - now));
}

namespace {

// A new connection gets at least this long, even when the per-node timeout is shorter:
// connecting (TLS, AUTH) costs more than one command on a busy machine.
constexpr milliseconds kMinConnect{250};

double defaultRandom()
{
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

QString currentThreadName()
{
    const QString name = QThread::currentThread()->objectName();
    return name.isEmpty() ? QStringLiteral("tid-%1").arg(::gettid()) : name;
}

qint64 integerAt(const RedisReply &reply, size_t index)
{
    const auto &e = reply.elements();
    return index < e.size() ? e[index].integer() : 0;
}

int countOf(const std::vector<NodeVote> &votes, Outcome outcome)
{
    return static_cast<int>(std::ranges::count(votes, outcome, &NodeVote::outcome));
}

NodeVote errorVote(const QString &node, RedisError error)
{
    NodeVote vote;
    vote.node = node;
    vote.outcome = Outcome::Error;
    vote.error = std::move(error);
    return vote;
}

} // namespace

struct Locker::Private
{
    std::vector<redis::NodeConfig> configs;
    std::vector<std::unique_ptr<ConnectionPool>> pools;
    /// wakeOnRelease: connections that SUBSCRIBE (a subscribed connection runs no commands).
    std::vector<std::unique_ptr<ConnectionPool>> subscriberPools;
    LockerOptions options;
    QString host = QSysInfo::machineHostName();
    qint64 pid = ::getpid();

    int quorum() const { return quorumOf(static_cast<int>(pools.size())); }

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
                                             const std::vector<QByteArray> *lastArgPerNode = nullptr)
    {
        std::vector<QByteArray> argv;
        argv.reserve(3 + keys.size() + args.size());
        argv.emplace_back(QByteArrayLiteral("EVALSHA"));
        argv.push_back(script.sha1());
        argv.push_back(QByteArray::number(static_cast<qulonglong>(keys.size())));
        argv.insert(argv.end(), keys.begin(), keys.end());
        argv.insert(argv.end(), args.begin(), args.end());
        return sendToAll(argv, &script, ttlForTimeout, only, undo, delivery, lastArgPerNode);
    }

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
                                              const std::vector<QByteArray> *lastArgPerNode = nullptr)
    {
        const size_t n = pools.size();
        std::vector<Result<RedisReply>> results(n, RedisReply());
        std::vector<ConnectionPool::Lease> leases(n);
        std::vector<Delivery> state(n, Delivery::NotAsked);
        auto asked = [&only](size_t i) {
            return only.empty() || only[i];
        };
        auto argvFor = [&](size_t i) {
            std::vector<QByteArray> own = argv;
            own.back() = (*lastArgPerNode)[i];
            return own;
        };
        auto send = [&](size_t i) {
            if (lastArgPerNode)
                leases[i]->append(std::span<const QByteArray>(argvFor(i)));
            else
                leases[i]->append(std::span<const QByteArray>(argv));
            state[i] = Delivery::Sent; // a failed flush may still have written part or all of it
            if (auto flushed = leases[i]->flush(); !flushed)
                results[i] = std::unexpected(flushed.error());
        };
        // Slots are taken in node order, so threads that wait for a busy pool never hold a
        // lease another waiter needs (no lock-order cycle). Ready connections are written at
        // once; connecting (a new connection, or one the server closed while idle) comes
        // after, within the node timeout rather than the connect timeout: a stalled node
        // (accepts TCP, never answers the handshake) must neither eat the lock's validity nor
        // hold back the healthy nodes' commands.
        std::vector<size_t> toConnect;
        for (size_t i = 0; i < n; ++i) {
            if (!asked(i))
                continue;
            state[i] = Delivery::NotSent;
            leases[i] = pools[i]->takeIdle();
            if (!leases[i]) {
                auto lease = pools[i]->reserve(configs[i].connectTimeout);
                if (!lease) {
                    results[i] = std::unexpected(lease.error());
                    continue;
                }
                leases[i] = std::move(*lease);
            }
            if (leases[i]->needsConnect())
                toConnect.push_back(i);
            else
                send(i);
        }
        for (const size_t i : toConnect) {
            const milliseconds bound = std::min(
                configs[i].connectTimeout, std::max(nodeTimeout(ttlForTimeout, configs[i]), kMinConnect));
            if (auto connected = leases[i]->connect(bound); !connected) {
                results[i] = std::unexpected(connected.error());
                leases[i].discard();
                continue;
            }
            send(i);
        }
        const auto start = SteadyClock::now();
        for (size_t i = 0; i < n; ++i) {
            if (!asked(i) || !results[i])
                continue;
            const auto deadline = start + nodeTimeout(ttlForTimeout, configs[i]);
            if (undo)
                leases[i]->armUndoOnTimeout(*undo);
            auto reply = leases[i]->readReply(deadline);
            if (script && reply && reply->isError() && reply->bytes().startsWith("NOSCRIPT")) {
                // The node lost its script cache (restart, SCRIPT FLUSH): send the source once.
                std::vector<QByteArray> evalArgv = lastArgPerNode ? argvFor(i) : argv;
                evalArgv[0] = QByteArrayLiteral("EVAL");
                evalArgv[1] = script->source();
                leases[i]->append(std::span<const QByteArray>(evalArgv));
                if (undo)
                    leases[i]->armUndoOnTimeout(*undo);
                reply = leases[i]->readReply(SteadyClock::now() + nodeTimeout(ttlForTimeout, configs[i]));
            }
            if (leases[i]->undoWritten())
                state[i] = Delivery::Undone;
            if (reply && reply->isError())
                results[i] = std::unexpected(RedisError::fromServerReply(leases[i]->node(), reply->bytes()));
            else
                results[i] = std::move(reply);
        }
        if (delivery)
            *delivery = std::move(state);
        return results;
    }

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
    LockError nodeFailure(const QByteArray &key, const QString &message, std::vector<NodeVote> votes)
    {
        const std::optional<LockErrorKind> cause = nodeErrorKind(votes);
        if (pools.size() == 1 && votes.front().error) {
            QString nodeError = votes.front().error->toString(); // before `votes` is moved from
            return makeError(cause.value_or(LockErrorKind::Connection), key, std::move(nodeError),
                             std::move(votes));
        }
        return makeError(cause.value_or(LockErrorKind::QuorumNotReached), key, message, std::move(votes));
    }

    LockError makeError(LockErrorKind kind, const QByteArray &key, QString message,
                        std::vector<NodeVote> votes)
    {
        LockError error;
        error.kind = kind;
        error.key = QString::fromUtf8(key);
        error.message = std::move(message);
        error.votes = std::move(votes);
        return error;
    }

    /// Set when the node list names one server twice: every operation fails with it.
    QString duplicateNodes;
    /// Labels of the nodes marked read-only (NodeConfig::readOnly): every write is refused.
    QStringList readOnlyNodes;

    /// Checks before anything is sent. `write`: the operation changes data on the nodes.
    std::optional<LockError> validate(const QByteArray &key, milliseconds ttl, bool write = true) const
    {
        if (!duplicateNodes.isEmpty()) {
            LockError error;
            error.kind = LockErrorKind::InvalidArgument;
            error.key = QString::fromUtf8(key);
            error.message = duplicateNodes;
            return error;
        }
        if (write && !readOnlyNodes.isEmpty()) {
            LockError error;
            error.kind = LockErrorKind::ReadOnly;
            error.key = QString::fromUtf8(key);
            error.message =
                QStringLiteral("%1 marked read-only: LockScope writes nothing to %2; nothing was sent")
                    .arg(readOnlyNodes.size() == 1
                             ? QStringLiteral("node %1 is").arg(readOnlyNodes.front())
                             : QStringLiteral("nodes %1 are").arg(readOnlyNodes.join(QStringLiteral(", "))),
                         readOnlyNodes.size() == 1 ? QStringLiteral("it") : QStringLiteral("them"));
            return error;
        }
        if (key.isEmpty() || ttl.count() <= 0) {
            LockError error;
            error.kind = LockErrorKind::InvalidArgument;
            error.key = QString::fromUtf8(key);
            error.message =
                key.isEmpty() ? QStringLiteral("empty key") : QStringLiteral("TTL must be positive");
            return error;
        }
        return std::nullopt;
    }

    /// Fills lock.value and lock.fence from the node that still holds our token with the
    /// highest fence (a node that missed the Redlock fence raise stores a lower one).
    void recoverValue(Lock &lock, const QByteArray &prefix)
    {
        bool found = false;
        for (auto &result : sendToAll({QByteArrayLiteral("GET"), lock.key}, nullptr, milliseconds(1000))) {
            if (!result || !result->isString() || !result->bytes().startsWith(prefix))
                continue;
            const auto parsed = LockValue::parse(result->bytes());
            const qint64 fence = parsed ? parsed->fence : 0;
            if (!found || fence > lock.fence) {
                found = true;
                lock.value = result->bytes();
                lock.fence = fence;
            }
        }
    }

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
                    std::vector<NodeVote> &votes, milliseconds ttl)
    {
        std::vector<bool> behind(votes.size(), false);
        int confirmed = 0;
        bool any = false;
        for (size_t i = 0; i < votes.size(); ++i) {
            if (votes[i].outcome != Outcome::Granted)
                continue;
            if (votes[i].fence >= fence) {
                ++confirmed;
            } else {
                behind[i] = true;
                any = true;
            }
        }
        if (!any)
            return confirmed; // the usual case: the counters agree, no extra round trip
        const auto results = runOnAll(scripts::raiseFence(), {key, fenceKey(key)},
                                      {prefix, QByteArray::number(fence)}, ttl, behind);
        for (size_t i = 0; i < votes.size(); ++i) {
            if (!behind[i])
                continue;
            if (!results[i]) {
                votes[i].outcome = Outcome::Error;
                votes[i].error = results[i].error();
            } else if (results[i]->isInteger() && results[i]->integer() == 1) {
                ++confirmed;
            } else {
                votes[i].outcome = Outcome::NotHeld;
            }
        }
        return confirmed;
    }

    /// The owner-checked delete on every node; with publishOnRelease the script also
    /// announces the release on the key's channel.
    std::vector<Result<RedisReply>> runRelease(const QByteArray &key, const QByteArray &token)
    {
        const QByteArray prefix = LockValue::ownerPrefix(token);
        if (options.publishOnRelease)
            return runOnAll(scripts::releaseAndPublish(), {key}, {prefix, token, releaseChannelFor(key)},
                            milliseconds(1000));
        return runOnAll(scripts::release(), {key}, {prefix}, milliseconds(1000));
    }

    QByteArray fenceKey(const QByteArray &key) const
    {
        return options.fenceKey ? options.fenceKey(key) : fenceKeyFor(key);
    }

    /// scripts::undoAcquire as a command for Connection::armUndoOnTimeout: EVAL with the
    /// source, because the node may never have loaded it (it runs on failure paths only) and
    /// an EVALSHA answered NOSCRIPT there would undo nothing.
    static std::vector<QByteArray> undoCommand(const QByteArray &key, const QByteArray &prefix,
                                               const QByteArray &mark)
    {
        return {QByteArrayLiteral("EVAL"),
                scripts::undoAcquire().source(),
                QByteArrayLiteral("1"),
                key,
                prefix,
                mark};
    }

    /// Undoes a failed call on the nodes marked in `on`: deletes the key where it holds our
    /// token (and, with a mark, carries it). Not a release: it never publishes, so waiters are
    /// not woken by an attempt that took nothing from them.
    void runUndo(const QByteArray &key, const QByteArray &prefix, const QByteArray &mark,
                 const std::vector<bool> &on)
    {
        if (std::ranges::find(on, true) == on.end())
            return;
        runOnAll(scripts::undoAcquire(), {key}, {prefix, mark}, milliseconds(1000), on);
    }
};

namespace {

/// A blocking acquire's SUBSCRIBE to the lock's release channel, on one node's subscriber
/// connection, for as long as the acquire waits. Any failure just ends the subscription: the
/// caller then sleeps out its retry delay as without pub/sub.
class ReleaseSubscription
{
public:
    enum class Wait
    {
        Message,   ///< a release was announced
        Timeout,   ///< nothing came before the deadline
        Cancelled, ///< the cancellation token fired
        Broken,    ///< the connection failed; the subscription is gone
    };

    ReleaseSubscription() = default;
    ReleaseSubscription(const ReleaseSubscription &) = delete;
    ReleaseSubscription &operator=(const ReleaseSubscription &) = delete;
    ~ReleaseSubscription() { close(); }

    bool active() const { return static_cast<bool>(m_lease); }

    /// SUBSCRIBEs on the first node that confirms within `timeout`.
    void open(std::vector<std::unique_ptr<ConnectionPool>> &pools, const QByteArray &channel,
              milliseconds timeout)
    {
        m_channel = channel;
        m_timeout = timeout;
        for (auto &pool : pools) {
            ConnectionPool::Lease lease = pool->takeIdle();
            if (!lease) {
                auto fresh = pool->reserve(milliseconds(0));
                if (!fresh)
                    continue;
                lease = std::move(*fresh);
            }
            // A reused connection the server closed meanwhile (idle timeout, restart) is
            // reconnected here, within the same bound as a new one.
            if (lease->needsConnect() && !lease->connect(std::max(timeout, kMinConnect))) {
                lease.discard();
                continue;
            }
            lease->append({QByteArrayView("SUBSCRIBE"), QByteArrayView(channel)});
            auto flushed = lease->flush();
            auto confirmed = flushed ? lease->readReply(SteadyClock::now() + timeout)
                                     : Result<RedisReply>(std::unexpected(flushed.error()));
            if (confirmed && isPush(*confirmed, "subscribe")) {
                m_lease = std::move(lease);
                return;
            }
            lease.discard();
        }
    }

    /// Waits for a release message until `until` (real steady clock). Buffered messages that
    /// arrived together are consumed with the first one.
    Wait wait(SteadyClock::time_point until, const CancellationToken *cancel)
    {
        // The socket wait cannot be interrupted, so a cancellable wait looks up in short slices.
        constexpr milliseconds kSlice{20};
        for (;;) {
            if (cancel && cancel->isCancelled())
                return Wait::Cancelled;
            const auto now = SteadyClock::now();
            if (now >= until)
                return Wait::Timeout;
            auto left = std::chrono::duration_cast<milliseconds>(until - now) + milliseconds(1);
            if (cancel)
                left = std::min(left, kSlice);
            auto push = m_lease->readPush(left);
            if (!push) {
                m_lease.discard();
                return Wait::Broken;
            }
            if (*push && isPush(**push, "message")) {
                drainBuffered();
                return m_lease ? Wait::Message : Wait::Broken;
            }
        }
    }

private:
    static bool isPush(const RedisReply &reply, const char *kind)
    {
        return reply.isArray() && !reply.elements().empty() && reply.elements().front().bytes() == kind;
    }

    void drainBuffered()
    {
        for (;;) {
            auto push = m_lease->readPush(milliseconds(0));
            if (!push) {
                m_lease.discard();
                return;
            }
            if (!*push)
                return;
        }
    }

    /// UNSUBSCRIBE and read up to its confirmation, so that the connection goes back to the
    /// pool clean; anything unexpected closes it instead.
    void close()
    {
        if (!m_lease)
            return;
        m_lease->append({QByteArrayView("UNSUBSCRIBE"), QByteArrayView(m_channel)});
        const auto deadline = SteadyClock::now() + m_timeout;
        while (SteadyClock::now() < deadline) {
            auto push = m_lease->readPush(
                std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()) + milliseconds(1));
            if (!push || !*push)
                break;
            if (isPush(**push, "unsubscribe")) {
                const auto &e = (*push)->elements();
                if (e.size() >= 3 && e[2].integer() == 0) {
                    m_lease->endPushMode();
                    m_lease = {};
                    return;
                }
            }
        }
        m_lease.discard();
    }

    ConnectionPool::Lease m_lease;
    QByteArray m_channel;
    milliseconds m_timeout{100};
};

/// Whether a node that showed another owner's key before a wake-up still shows a key counting
/// down from there (the same holder: the release has not reached that node yet), on a set of
/// several nodes. A key with more TTL left than before is a new holder's.
bool releaseInFlight(const std::vector<NodeVote> &before, const std::vector<NodeVote> &after)
{
    if (after.size() < 2 || before.size() != after.size())
        return false;
    for (size_t i = 0; i < after.size(); ++i) {
        if (before[i].outcome == Outcome::Held && after[i].outcome == Outcome::Held && before[i].pttl > 0 &&
            after[i].pttl > 0 && after[i].pttl <= before[i].pttl)
            return true;
    }
    return false;
}

/// The soonest the lock can change hands without a release: the shortest remaining TTL among
/// the nodes where another owner holds it. 0 when none reported one.
milliseconds soonestExpiry(const std::vector<NodeVote> &votes)
{
    qint64 soonest = 0;
    for (const NodeVote &vote : votes) {
        if (vote.outcome == Outcome::Held && vote.pttl > 0)
            soonest = soonest == 0 ? vote.pttl : std::min(soonest, vote.pttl);
    }
    return milliseconds(soonest);
}

} // namespace

Locker::Locker(std::vector<redis::NodeConfig> nodes, LockerOptions options) : d(std::make_unique<Private>())
{
    d->options = std::move(options);
    if (!d->options.clock)
        d->options.clock = LockClock::system();
    if (!d->options.random)
        d->options.random = defaultRandom;
    d->configs = std::move(nodes);
    if (const auto duplicate = redis::findDuplicateNodes(d->configs)) {
        // Two entries for one server would let it cast two votes: a "quorum" resting on it alone.
        d->duplicateNodes = QStringLiteral("nodes %1 and %2 are the same server (%3): a Redlock set needs "
                                           "distinct servers")
                                .arg(d->configs[size_t(duplicate->first)].label(),
                                     d->configs[size_t(duplicate->second)].label(),
                                     d->configs[size_t(duplicate->first)].address());
    }
    for (const auto &config : d->configs) {
        if (config.readOnly)
            d->readOnlyNodes << config.label();
        d->pools.push_back(std::make_unique<ConnectionPool>(config, d->options.poolSize));
        if (d->options.wakeOnRelease)
            d->subscriberPools.push_back(std::make_unique<ConnectionPool>(config, d->options.poolSize));
    }
}

Locker::~Locker() = default;

int Locker::nodeCount() const
{
    return static_cast<int>(d->pools.size());
}

int Locker::quorum() const
{
    return d->quorum();
}

const std::vector<redis::NodeConfig> &Locker::nodes() const
{
    return d->configs;
}

const LockerOptions &Locker::options() const
{
    return d->options;
}

milliseconds Locker::operationBudget(milliseconds ttl) const
{
    milliseconds budget{0};
    for (const auto &config : d->configs)
        budget = std::max(budget, d->nodeTimeout(ttl, config));
    return budget;
}

Lock Locker::handleFor(const QByteArray &key, const QByteArray &token) const
{
    Lock lock;
    lock.key = d->options.keyPrefix + key;
    lock.token = token;
    return lock;
}

LockResult<Lock> Locker::tryAcquire(const QByteArray &rawKey, const AcquireOptions &options)
{
    const bool callerToken = !options.token.isEmpty();
    const QByteArray token = callerToken ? options.token : randomToken();
    auto result = attempt(rawKey, options, token, callerToken, callerToken ? randomCallId() : QByteArray());
    if (!result)
        result.error().token = token;
    return result;
}

LockResult<Lock> Locker::attempt(const QByteArray &rawKey, const AcquireOptions &options,
                                 const QByteArray &token, bool mayAlreadyHold, const QByteArray &callId)
{
    const QByteArray key = d->options.keyPrefix + rawKey;
    if (auto invalid = d->validate(rawKey, options.ttl))
        return std::unexpected(*invalid);
    if (d->pools.empty())
        return std::unexpected(
            d->makeError(LockErrorKind::InvalidArgument, key, QStringLiteral("no nodes"), {}));

    LockValue value;
    value.token = token;
    value.host = d->host;
    value.pid = d->pid;
    value.thread = options.thread.isEmpty() ? currentThreadName() : options.thread;
    value.acquiredAt = QDateTime::currentDateTimeUtc();
    value.label = options.label;
    value.metadata = options.metadata;
    value.call = callId;
    const QByteArray prefix = LockValue::ownerPrefix(value.token);
    const QByteArray ttlText = QByteArray::number(static_cast<qint64>(options.ttl.count()));
    // What a failure of this call may delete: any key with our token when the token is this
    // call's own, otherwise only keys this call created (they carry its call id), never a key
    // the caller's token held before the call.
    const QByteArray mark = callId.isEmpty() ? QByteArray() : QByteArrayLiteral(" call=") + callId;
    const std::vector<QByteArray> undo = d->undoCommand(key, prefix, mark);

    const QByteArray tail = value.encodeTail();
    const bool fencing = d->options.fencing;
    const auto start = d->options.clock->now();
    std::vector<Result<RedisReply>> results;
    std::vector<Private::Delivery> delivery;
    if (!fencing && !mayAlreadyHold) {
        // A fresh random token cannot be on any node yet: a plain SET NX PX does it, without
        // the cost of a Lua call on the server.
        value.fence = 0;
        results = d->sendToAll({QByteArrayLiteral("SET"), key, value.encode(), QByteArrayLiteral("NX"),
                                QByteArrayLiteral("PX"), ttlText},
                               nullptr, options.ttl, {}, &undo, &delivery);
        for (auto &result : results) {
            if (result)
                result = result->isOk()
                             ? RedisReply::array({RedisReply::integer(1), RedisReply::integer(0),
                                                  RedisReply::integer(options.ttl.count()),
                                                  RedisReply::integer(1)})
                             : RedisReply::array({RedisReply::integer(0), RedisReply::integer(-1)});
        }
    } else {
        results =
            d->runOnAll(scripts::acquire(), {key, d->fenceKey(key)},
                        {prefix, ttlText, tail, fencing ? QByteArrayLiteral("1") : QByteArrayLiteral("0")},
                        options.ttl, {}, &undo, &delivery);
    }

    std::vector<NodeVote> votes = d->collectVotes(results, [](NodeVote &vote, const RedisReply &reply) {
        if (!reply.isArray() || reply.elements().empty()) {
            vote.outcome = Outcome::Error;
            vote.error = RedisError{ErrorKind::Protocol, vote.node,
                                    QStringLiteral("unexpected reply %1").arg(reply.toDisplayString())};
        } else if (integerAt(reply, 0) == 1) {
            vote.outcome = Outcome::Granted;
            vote.fence = integerAt(reply, 1);
            vote.pttl = integerAt(reply, 2);
        } else {
            vote.outcome = Outcome::Held;
            vote.pttl = integerAt(reply, 1);
        }
    });
    const int granted = countOf(votes, Outcome::Granted);
    const int held = countOf(votes, Outcome::Held);
    qint64 fence = 0;
    for (const NodeVote &vote : votes)
        fence = std::max(fence, vote.fence);

    auto now = d->options.clock->now();
    const auto validUntil = start + options.ttl - d->drift(options.ttl);
    const int n = nodeCount();
    // Redlock with fencing: the granting nodes' counters must all reach the lock's fence before
    // it is handed out (see raiseFences); one node, or no fencing, needs nothing more.
    int fenced = granted;
    if (fencing && n > 1 && granted >= d->quorum() && now < validUntil) {
        fenced = d->raiseFences(key, prefix, fence, votes, options.ttl);
        now = d->options.clock->now();
    }
    if (granted >= d->quorum() && fenced >= d->quorum() && now < validUntil) {
        Lock lock;
        lock.key = key;
        lock.token = value.token;
        value.fence = fence;
        lock.value = value.encode();
        lock.fence = fence;
        lock.ttl = options.ttl;
        lock.validUntil = validUntil;
        lock.votes = std::move(votes);
        return lock;
    }

    // The attempt failed: what it took must go, or it blocks everyone (us included) until it
    // expires; what the token held before the call must stay. A node whose reply was lost
    // after the write may have run it: it gets the undo too, unless the undo already went
    // behind the command on the same connection. A node that was never written to is skipped.
    std::vector<bool> undoOn(static_cast<size_t>(n), false);
    for (size_t i = 0; i < undoOn.size(); ++i) {
        if (delivery[i] != Private::Delivery::Sent)
            continue;
        if (!results[i]) {
            undoOn[i] = true;
        } else if (integerAt(*results[i], 0) == 1) {
            const bool created = integerAt(*results[i], 3) == 1;
            undoOn[i] = created || mark.isEmpty(); // refreshed with a fresh token: an earlier attempt's grant
        }
    }
    d->runUndo(key, prefix, mark, undoOn);
    for (size_t i = 0; i < votes.size(); ++i) {
        if (votes[i].outcome == Outcome::Granted && undoOn[i])
            votes[i].outcome = Outcome::Released;
    }

    if (granted >= d->quorum() && fenced < d->quorum()) {
        return std::unexpected(d->makeError(
            LockErrorKind::QuorumNotReached, key,
            QStringLiteral("granted on %1 of %2 nodes, but the fence %3 reached only %4 of them (%5 needed); "
                           "released")
                .arg(granted)
                .arg(n)
                .arg(fence)
                .arg(fenced)
                .arg(d->quorum()),
            std::move(votes)));
    }
    if (granted >= d->quorum()) {
        return std::unexpected(d->makeError(
            LockErrorKind::ValidityExpired, key,
            QStringLiteral("quorum reached after %1 ms, past the validity of the %2 ms TTL; released")
                .arg(std::chrono::duration_cast<milliseconds>(now - start).count())
                .arg(options.ttl.count()),
            std::move(votes)));
    }
    if (held > n - d->quorum()) {
        const QString message = n == 1 ? QStringLiteral("held by another owner")
                                       : QStringLiteral("held by another owner on %1 of %2 nodes (quorum %3)")
                                             .arg(held)
                                             .arg(n)
                                             .arg(d->quorum());
        return std::unexpected(d->makeError(LockErrorKind::NotObtained, key, message, std::move(votes)));
    }
    return std::unexpected(d->nodeFailure(
        key, QStringLiteral("%1 of %2 nodes granted, %3 needed").arg(granted).arg(n).arg(d->quorum()),
        std::move(votes)));
}

LockResult<Lock> Locker::acquire(const QByteArray &key, const AcquireOptions &options)
{
    if (auto invalid = d->validate(key, options.ttl))
        return std::unexpected(*invalid);
    LockClock &clock = *d->options.clock;
    const auto start = clock.now();
    // Without an explicit wait, give up once a whole TTL has passed: by then the holder we
    // are waiting for has either released, expired, or is refreshing the lock on purpose.
    const auto deadline = start + (options.wait.count() > 0 ? options.wait : options.ttl);
    // One token for all attempts: a late reply can only refresh our own key. A caller's token
    // may already hold the lock; then one call id marks what this call creates.
    const bool callerToken = !options.token.isEmpty();
    const QByteArray token = callerToken ? options.token : randomToken();
    const QByteArray callId = callerToken ? randomCallId() : QByteArray();
    int attempts = 0;
    int wakeups = 0;
    ReleaseSubscription subscription;
    bool subscribeTried = false;
    bool justWoken = false;
    std::vector<NodeVote> heldBefore; // the votes of the attempt before the last wait
    for (;;) {
        ++attempts;
        auto result = this->attempt(key, options, token, attempts > 1 || callerToken, callId);
        if (result) {
            result->attempts = attempts;
            result->wakeups = wakeups;
            return result;
        }
        if (result.error().kind == LockErrorKind::InvalidArgument ||
            result.error().kind == LockErrorKind::ReadOnly)
            return result;
        LockError last = std::move(result.error());
        last.attempts = attempts;
        last.token = token;
        auto finish = [&](LockErrorKind kind, const QString &message) {
            LockError error = last;
            error.lastCause = last.kind;
            error.kind = kind;
            error.message = message + QStringLiteral(" (last attempt: ") + LockError::kindName(last.kind) +
                            QStringLiteral(": ") + last.message + QLatin1Char(')');
            return std::unexpected(std::move(error));
        };
        if (options.cancel && options.cancel->isCancelled())
            return finish(LockErrorKind::Cancelled,
                          QStringLiteral("cancelled after %1 attempts").arg(attempts));
        if (!options.retry.allowsAnotherAfter(attempts)) {
            if (options.retry.kind == RetryStrategy::Kind::None)
                return std::unexpected(std::move(last));
            return finish(last.kind, QStringLiteral("gave up after %1 attempts").arg(attempts));
        }
        const auto now = clock.now();
        if (now >= deadline)
            return finish(LockErrorKind::Timeout,
                          QStringLiteral("not obtained within %1 ms after %2 attempts")
                              .arg(std::chrono::duration_cast<milliseconds>(deadline - start).count())
                              .arg(attempts));
        if (d->options.wakeOnRelease && last.kind == LockErrorKind::NotObtained) {
            if (!subscribeTried) {
                subscribeTried = true;
                subscription.open(d->subscriberPools, releaseChannelFor(d->options.keyPrefix + key),
                                  d->nodeTimeout(options.ttl, d->configs.front()));
                // Try once more right away: a release between the failed attempt and the
                // SUBSCRIBE was announced to nobody.
                if (subscription.active())
                    continue;
            }
            if (subscription.active()) {
                // Until a release message, at most the strategy's largest delay, and no longer
                // than the holder's TTL: an expiry is announced by nobody.
                milliseconds bound = options.retry.kind == RetryStrategy::Kind::Exponential
                                         ? options.retry.maxDelay
                                         : options.retry.delay;
                if (const milliseconds expiry = soonestExpiry(last.votes); expiry.count() > 0)
                    bound = std::min(bound, expiry + milliseconds(1));
                // Woken by the release on the subscribed node of a Redlock set, the attempt
                // may have beaten the release to the other nodes: when a node still shows the
                // same holder counting down (its TTL went down, not up to a new holder's), the
                // release is on its way there: look again after the base delay instead of
                // waiting for a message that was already sent. A new holder means another waiter
                // won: wait for its release as usual.
                if (std::exchange(justWoken, false) && releaseInFlight(heldBefore, last.votes))
                    bound = std::min(bound, std::max(options.retry.delay, milliseconds(1)));
                heldBefore = last.votes;
                const auto until = std::min(deadline, now + std::max(bound, milliseconds(1)));
                switch (subscription.wait(SteadyClock::now() + (until - now), options.cancel.get())) {
                case ReleaseSubscription::Wait::Message:
                    ++wakeups;
                    justWoken = true;
                    continue;
                case ReleaseSubscription::Wait::Timeout:
                    continue;
                case ReleaseSubscription::Wait::Cancelled:
                    return finish(LockErrorKind::Cancelled,
                                  QStringLiteral("cancelled after %1 attempts").arg(attempts));
                case ReleaseSubscription::Wait::Broken:
                    break; // sleep out the delay as without pub/sub
                }
            }
        }
        const auto wake = std::min(deadline, now + options.retry.delayBefore(attempts, d->options.random()));
        if (!clock.sleepUntil(wake, options.cancel.get()))
            return finish(LockErrorKind::Cancelled,
                          QStringLiteral("cancelled after %1 attempts").arg(attempts));
    }
}

LockResult<Lock> Locker::acquireOrExtend(const Lock &lock, milliseconds ttl)
{
    AcquireOptions options;
    options.ttl = ttl;
    options.token = lock.token;
    if (auto parsed = LockValue::parse(lock.value)) {
        options.label = parsed->label;
        options.thread = parsed->thread;
        options.metadata = parsed->metadata;
    }
    QByteArray key = lock.key;
    if (key.startsWith(d->options.keyPrefix))
        key = key.mid(d->options.keyPrefix.size());
    return tryAcquire(key, options);
}

LockResult<void> Locker::release(const Lock &lock)
{
    if (auto invalid = d->validate(lock.key, milliseconds(1)))
        return std::unexpected(*invalid);
    auto results = d->runRelease(lock.key, lock.token);
    std::vector<NodeVote> votes = d->collectVotes(results, [](NodeVote &vote, const RedisReply &reply) {
        const qint64 r = reply.integer();
        vote.outcome = r == 1 ? Outcome::Granted : r == 0 ? Outcome::Held : Outcome::NotHeld;
    });
    const int granted = countOf(votes, Outcome::Granted);
    const int errors = countOf(votes, Outcome::Error);
    if (granted >= d->quorum())
        return {};
    const int n = nodeCount();
    if (errors > n - d->quorum() && granted + errors >= d->quorum())
        return std::unexpected(d->nodeFailure(
            lock.key, QStringLiteral("released on %1 of %2 nodes; the others failed").arg(granted).arg(n),
            std::move(votes)));
    return std::unexpected(d->makeError(LockErrorKind::NotHeld, lock.key,
                                        QStringLiteral("not held by this token (expired or taken over)"),
                                        std::move(votes)));
}

LockResult<Lock> Locker::extend(const Lock &lock, milliseconds ttl, ExtendMode mode, bool heal)
{
    if (auto invalid = d->validate(lock.key, ttl))
        return std::unexpected(*invalid);
    const QByteArray prefix = LockValue::ownerPrefix(lock.token);
    Lock source = lock;
    if (heal && source.value.isEmpty())
        d->recoverValue(source, prefix); // a handle made from a token: heal with the owner's real value
    const auto start = d->options.clock->now();
    // A late extend must not land. Each node that granted the lock's last acquire or extend
    // set its key's TTL to votes[i].pttl after that operation started, so when it runs this
    // extend on time its PTTL is at least that, less the time since, the node budget and the
    // drift. A node that runs it later (a stalled server resuming, after the owner was told the
    // lock is lost) finds less and changes nothing. "0" (no check) where that is unknown: a
    // handle made from a token, or a node that did not grant last time.
    const size_t n = d->pools.size();
    std::vector<QByteArray> minPttl(n, QByteArrayLiteral("0"));
    if (lock.votes.size() == n && lock.ttl.count() > 0) {
        const auto lastStart = lock.validUntil - lock.ttl + d->drift(lock.ttl);
        const auto since = std::chrono::duration_cast<milliseconds>(start - lastStart) + operationBudget(ttl);
        for (size_t i = 0; i < n; ++i) {
            const NodeVote &vote = lock.votes[i];
            if (vote.outcome != Outcome::Granted || vote.pttl <= 0)
                continue;
            const milliseconds set(vote.pttl);
            const milliseconds least = set - since - d->drift(set);
            if (least.count() > 0)
                minPttl[i] = QByteArray::number(static_cast<qint64>(least.count()));
        }
    }
    // A healed key carries a call id of this extend, so that undoing the heal (here, or on the
    // same connection after a timeout) can never delete a key that survived.
    const QByteArray healMark = heal && !source.value.isEmpty() ? " call=" + randomCallId() : QByteArray();
    const QByteArray healValue = healMark.isEmpty() ? QByteArray() : source.value + healMark;
    const std::vector<QByteArray> undoHeal = d->undoCommand(lock.key, prefix, healMark);
    const std::vector<QByteArray> keys{lock.key, d->fenceKey(lock.key)};
    const std::vector<QByteArray> args{prefix,
                                       QByteArray::number(static_cast<qint64>(ttl.count())),
                                       mode == ExtendMode::Add ? QByteArrayLiteral("add")
                                                               : QByteArrayLiteral("set"),
                                       healValue,
                                       QByteArray::number(source.fence),
                                       QByteArray()};
    const std::vector<QByteArray> *undo = healMark.isEmpty() ? nullptr : &undoHeal;
    auto results = d->runOnAll(scripts::extend(), keys, args, ttl, {}, undo, nullptr, &minPttl);
    // A refusal that came back in time was no late run: the node's TTL is shorter than the
    // last grant implies for another reason (someone shortened it, the server's clock
    // stepped). Those nodes are asked once more without the check.
    std::vector<bool> refused(n, false);
    for (size_t i = 0; i < n; ++i)
        refused[i] = results[i] && integerAt(*results[i], 0) == 3;
    if (std::ranges::find(refused, true) != refused.end()) {
        const std::vector<QByteArray> noCheck(n, QByteArrayLiteral("0"));
        auto again = d->runOnAll(scripts::extend(), keys, args, ttl, refused, undo, nullptr, &noCheck);
        for (size_t i = 0; i < n; ++i) {
            if (refused[i])
                results[i] = std::move(again[i]);
        }
    }
    std::vector<bool> healedOn(results.size(), false);
    std::vector<NodeVote> votes = d->collectVotes(results, [](NodeVote &vote, const RedisReply &reply) {
        const qint64 status = integerAt(reply, 0);
        vote.pttl = integerAt(reply, 1);
        if (status == 3) { // refused twice: not expected, as the second ask has no check
            vote.outcome = Outcome::Error;
            vote.error = RedisError{ErrorKind::Server, vote.node, QStringLiteral("extend refused")};
            return;
        }
        vote.outcome = status == 1 || status == 2 ? Outcome::Granted
                       : status == 0              ? Outcome::Held
                                                  : Outcome::NotHeld;
    });
    int healed = 0;
    for (size_t i = 0; i < results.size(); ++i) {
        healedOn[i] = results[i] && integerAt(*results[i], 0) == 2;
        healed += healedOn[i];
    }
    const int granted = countOf(votes, Outcome::Granted) - healed;
    const int errors = countOf(votes, Outcome::Error);
    const int notHeld = countOf(votes, Outcome::Held) + countOf(votes, Outcome::NotHeld);
    // The new TTL: the shortest among the nodes where the lock survived (healed ones say
    // nothing about the original lock).
    qint64 minTtl = std::numeric_limits<qint64>::max();
    for (size_t i = 0; i < results.size(); ++i) {
        if (results[i] && integerAt(*results[i], 0) == 1)
            minTtl = std::min(minTtl, votes[i].pttl);
    }
    const auto now = d->options.clock->now();
    // Healed nodes do not count towards the quorum: the lock must still be ours where it
    // survived, or healing would resurrect a lock that expired everywhere.
    if (granted >= d->quorum()) {
        const milliseconds effective(minTtl);
        const auto validUntil = start + effective - d->drift(effective);
        if (now < validUntil) {
            Lock extended = source;
            extended.ttl = effective;
            extended.validUntil = validUntil;
            extended.votes = std::move(votes);
            return extended;
        }
        return std::unexpected(d->makeError(LockErrorKind::ValidityExpired, lock.key,
                                            QStringLiteral("extended too late: validity already over"),
                                            std::move(votes)));
    }
    if (healed > 0) {
        // Undo the heal, and only the heal: the lock was not ours on a quorum, so the keys this
        // call re-created must go; where the lock survived it stays as it was.
        d->runUndo(lock.key, prefix, healMark, healedOn);
        for (size_t i = 0; i < votes.size(); ++i) {
            if (healedOn[i])
                votes[i].outcome = Outcome::Released;
        }
    }
    if (errors > 0 && notHeld < d->quorum() && granted + errors >= d->quorum())
        return std::unexpected(d->nodeFailure(
            lock.key,
            QStringLiteral("extended on %1 of %2 nodes, %3 needed").arg(granted).arg(n).arg(d->quorum()),
            std::move(votes)));
    return std::unexpected(d->makeError(LockErrorKind::NotHeld, lock.key,
                                        QStringLiteral("not held by this token (expired or taken over)"),
                                        std::move(votes)));
}

LockResult<milliseconds> Locker::ttl(const Lock &lock)
{
    if (auto invalid = d->validate(lock.key, milliseconds(1), false))
        return std::unexpected(*invalid);
    const QByteArray prefix = LockValue::ownerPrefix(lock.token);
    const auto start = d->options.clock->now();
    auto results = d->runOnAll(scripts::pttl(), {lock.key}, {prefix}, milliseconds(1000));
    std::vector<NodeVote> votes = d->collectVotes(results, [](NodeVote &vote, const RedisReply &reply) {
        const qint64 status = integerAt(reply, 0);
        vote.pttl = integerAt(reply, 1);
        vote.outcome = status == 1 ? Outcome::Granted : status == 0 ? Outcome::Held : Outcome::NotHeld;
    });
    const int errors = countOf(votes, Outcome::Error);
    std::vector<qint64> owned;
    for (const NodeVote &vote : votes) {
        if (vote.outcome == Outcome::Granted)
            owned.push_back(vote.pttl < 0 ? std::numeric_limits<qint64>::max() : vote.pttl);
    }
    const auto q = static_cast<size_t>(d->quorum());
    if (owned.size() >= q) {
        // Held while at least a quorum of nodes still has the key: the q-th longest TTL, less
        // what may have passed since the node read it (this call's duration) and the clock
        // drift, as for an acquire's validity: what is left is safely ours.
        std::sort(owned.begin(), owned.end(), std::greater<>());
        const qint64 pttl = owned[q - 1];
        if (pttl == std::numeric_limits<qint64>::max())
            return milliseconds(pttl); // no expiry on a quorum (persisted by someone)
        const auto elapsed = std::chrono::duration_cast<milliseconds>(d->options.clock->now() - start);
        return std::max(milliseconds(0), milliseconds(pttl) - elapsed - d->drift(milliseconds(pttl)));
    }
    if (errors > 0 && owned.size() + static_cast<size_t>(errors) >= q)
        return std::unexpected(
            d->nodeFailure(lock.key, QStringLiteral("too many nodes failed to answer"), std::move(votes)));
    return std::unexpected(d->makeError(LockErrorKind::NotHeld, lock.key,
                                        QStringLiteral("not held by this token"), std::move(votes)));
}

} // namespace lockscope::lock
