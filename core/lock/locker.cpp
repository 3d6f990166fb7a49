// Locker: construction, accessors and the acquire path (one attempt, the blocking acquire
// with its retries and the wake-on-release subscription). Per-node I/O is in lockernodes.cpp,
// release/extend/ttl in lockerextend.cpp, the lock kinds' helpers in lockerkinds.cpp.

#include "lockerprivate.h"
#include "lockscripts.h"
#include "util/displaytext.h"

#include <QThread>
#include <random>

namespace lockscope::lock {

milliseconds Lock::validityLeft(SteadyClock::time_point now) const
{
    return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(validUntil - now));
}

namespace {

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
        d->breakers.push_back(std::make_unique<redis::CircuitBreaker>(config.label(), d->options.breaker,
                                                                      d->options.onBreakerChange));
    }
    if (d->options.wakeOnRelease)
        d->wakeHub = std::make_unique<WakeHub>(d->configs);
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

int Locker::quorumFor(LockKind kind, int permits) const
{
    return d->quorumFor(kind, permits);
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

Lock Locker::handleFor(const std::vector<QByteArray> &keys, const QByteArray &token) const
{
    std::vector<QByteArray> full;
    for (const QByteArray &key : keys)
        full.push_back(d->options.keyPrefix + key);
    std::ranges::sort(full);
    full.erase(std::unique(full.begin(), full.end()), full.end());
    Lock lock;
    lock.key = full.empty() ? QByteArray() : full.front();
    lock.token = token;
    if (full.size() > 1)
        lock.keys = std::move(full);
    return lock;
}

LockResult<Lock> Locker::tryAcquire(const QByteArray &rawKey, const AcquireOptions &options)
{
    return tryAcquire(std::vector<QByteArray>{rawKey}, options);
}

LockResult<Lock> Locker::tryAcquire(const std::vector<QByteArray> &rawKeys, const AcquireOptions &options)
{
    const auto [token, callId] = d->tokenFor(options);
    auto result = attempt(rawKeys, options, token, !callId.isEmpty(), callId);
    if (!result)
        result.error().token = token;
    return result;
}

LockValue Locker::Private::newValue(const QByteArray &token, const AcquireOptions &acquire,
                                    const QByteArray &callId) const
{
    LockValue value;
    value.token = token;
    value.host = host;
    value.pid = pid;
    value.thread = acquire.thread.isEmpty() ? currentThreadName() : acquire.thread;
    value.acquiredAt = QDateTime::currentDateTimeUtc();
    value.label = acquire.label;
    value.metadata = acquire.metadata;
    value.call = callId;
    value.mode = acquire.kind == LockKind::Read ? 'r' : acquire.kind == LockKind::Write ? 'w' : 0;
    value.permits = acquire.kind == LockKind::Semaphore ? acquire.permits : 0;
    value.holds = acquire.kind == LockKind::Reentrant ? 1 : 0;
    value.fair = acquire.kind == LockKind::Fair;
    return value;
}

LockResult<Lock> Locker::attempt(const std::vector<QByteArray> &rawKeys, const AcquireOptions &options,
                                 const QByteArray &token, bool mayAlreadyHold, const QByteArray &callId,
                                 detail::WaitMark waitMark)
{
    // A multi-key lock takes its keys in one order (sorted, each once), all or none.
    std::vector<QByteArray> keys;
    for (const QByteArray &rawKey : rawKeys) {
        if (auto invalid = d->validate(rawKey, options.ttl))
            return std::unexpected(*invalid);
        keys.push_back(d->options.keyPrefix + rawKey);
    }
    std::ranges::sort(keys);
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    if (keys.empty())
        return std::unexpected(
            d->makeError(LockErrorKind::InvalidArgument, {}, QStringLiteral("no key"), {}));
    const QByteArray key = keys.front();
    const bool many = keys.size() > 1;
    if (many && options.kind != LockKind::Mutex)
        return std::unexpected(
            d->makeError(LockErrorKind::InvalidArgument, key,
                         QStringLiteral("several keys make a multi-key mutex; a %1 takes one key")
                             .arg(lockKindName(options.kind)),
                         {}));
    if (d->pools.empty())
        return std::unexpected(
            d->makeError(LockErrorKind::InvalidArgument, key, QStringLiteral("no nodes"), {}));
    if ((options.kind == LockKind::Semaphore) != (options.permits != 0) || options.permits < 0)
        return std::unexpected(
            d->makeError(LockErrorKind::InvalidArgument, key,
                         options.kind == LockKind::Semaphore
                             ? QStringLiteral("a semaphore needs a positive number of permits, not %1")
                                   .arg(options.permits)
                             : QStringLiteral("permits apply to semaphores only; nothing was sent"),
                         {}));

    LockValue value = d->newValue(token, options, callId);
    // Degraded mode (locallocks.cpp): a key this process holds in its in-process table is not
    // taken on Redis; nodes cut off by their breakers are not waited for.
    if (auto local = d->acquireHeldLocally(keys, options, value))
        return std::move(*local);
    if (auto open = d->breakerCheck(key, d->quorumFor(options.kind, options.permits)))
        return d->degradedFallback(keys, options, value, std::move(*open));
    const QByteArray prefix = LockValue::ownerPrefix(value.token);
    const QByteArray ttlText = QByteArray::number(static_cast<qint64>(options.ttl.count()));
    // What a failure of this call may delete: any key with our token when the token is this
    // call's own, otherwise only keys this call created (they carry its call id), never a key
    // the caller's token held before the call.
    const QByteArray mark = callId.isEmpty() ? QByteArray() : QByteArrayLiteral(" call=") + callId;
    const std::vector<QByteArray> undo = d->undoCommand(keys, prefix, mark);

    const QByteArray tail = value.encodeTail();
    const bool fencing = d->options.fencing;
    const auto start = d->options.clock->now();
    std::vector<Result<RedisReply>> results;
    std::vector<Private::Delivery> delivery;
    if (many) {
        std::vector<QByteArray> scriptKeys = keys;
        std::vector<QByteArray> args{prefix, ttlText, tail,
                                     fencing ? QByteArrayLiteral("1") : QByteArrayLiteral("0")};
        for (const QByteArray &k : keys) {
            scriptKeys.push_back(d->fenceKey(k));
            args.push_back(d->legacyFenceKey(k));
        }
        results = d->runOnAll(scripts::acquireMany(), scriptKeys, args, options.ttl, {}, &undo, &delivery);
    } else if (options.kind == LockKind::Fair) {
        const auto [queue, deadlines] = d->fairQueueKeys(key);
        results = d->runAcquire(
            scripts::acquireFair(), scripts::acquireFairQueued(), {key, d->fenceKey(key), queue, deadlines},
            {prefix, ttlText, tail, fencing ? QByteArrayLiteral("1") : QByteArrayLiteral("0"),
             QByteArray::number(static_cast<qint64>(waitMark.ttl.count())),
             QByteArray::number(waitMark.arrivalUs), d->legacyFenceKey(key)},
            options, waitMark, undo, delivery);
    } else if (options.kind == LockKind::Reentrant) {
        results = d->runAcquire(
            scripts::acquireReentrant(), scripts::acquireReentrantQueued(), {key, d->fenceKey(key)},
            {prefix, ttlText, tail, fencing ? QByteArrayLiteral("1") : QByteArrayLiteral("0"), mark,
             d->legacyFenceKey(key)},
            options, waitMark, undo, delivery);
    } else if (options.kind != LockKind::Mutex) {
        const QByteArray kind = options.kind == LockKind::Read    ? QByteArrayLiteral("r")
                                : options.kind == LockKind::Write ? QByteArrayLiteral("w")
                                                                  : QByteArrayLiteral("s");
        results = d->runAcquire(
            scripts::acquireHolder(), scripts::acquireHolderQueued(),
            {key, d->fenceKey(key), d->writerIntentKey(key)},
            {prefix, ttlText, tail, fencing ? QByteArrayLiteral("1") : QByteArrayLiteral("0"), kind,
             QByteArray::number(options.permits),
             QByteArray::number(static_cast<qint64>(waitMark.ttl.count())), d->legacyFenceKey(key)},
            options, waitMark, undo, delivery);
    } else if (!fencing && !mayAlreadyHold && !d->wakeHub) {
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
            d->runAcquire(scripts::acquire(), scripts::acquireQueued(), {key, d->fenceKey(key)},
                          {prefix, ttlText, tail, fencing ? QByteArrayLiteral("1") : QByteArrayLiteral("0"),
                           d->legacyFenceKey(key)},
                          options, waitMark, undo, delivery);
    }

    std::optional<QString> mismatch; // the key is another kind (on some node)
    int holds = 0;                   // reentrant: the hold count the granting nodes report
    qint64 heldKey = 0;              // multi-key: the (1-based) key another owner holds
    // Multi-key: each granting node's fence of every key.
    std::vector<std::vector<qint64>> keyFences(results.size());
    std::vector<NodeVote> votes = d->collectVotes(results, [&](NodeVote &vote, const RedisReply &reply) {
        if (!reply.isArray() || reply.elements().empty()) {
            vote.outcome = Outcome::Error;
            vote.error = RedisError{ErrorKind::Protocol, vote.node,
                                    QStringLiteral("unexpected reply %1").arg(reply.toDisplayString())};
        } else if (integerAt(reply, 0) == 1) {
            vote.outcome = Outcome::Granted;
            vote.fence = integerAt(reply, 1);
            vote.pttl = integerAt(reply, 2);
            holds = std::max(holds, static_cast<int>(integerAt(reply, 4)));
        } else if (integerAt(reply, 0) == -2) {
            vote.outcome = Outcome::Error;
            vote.error = RedisError{ErrorKind::Server, vote.node, mismatchText(reply, options)};
            if (!mismatch)
                mismatch = vote.node + QStringLiteral(": ") + vote.error->message;
        } else {
            vote.outcome = Outcome::Held;
            vote.pttl = integerAt(reply, 1);
            vote.blocker = many ? NodeVote::Blocker::Owner : blockerOf(integerAt(reply, 2));
            vote.holders = many ? 0 : static_cast<int>(integerAt(reply, 3));
            if (many)
                heldKey = integerAt(reply, 2);
        }
    });
    for (size_t i = 0; many && i < results.size(); ++i) {
        if (votes[i].outcome == Outcome::Granted) {
            for (size_t j = 0; j < keys.size(); ++j)
                keyFences[i].push_back(integerAt(*results[i], 5 + j));
        }
    }
    const int granted = countOf(votes, Outcome::Granted);
    const int held = countOf(votes, Outcome::Held);
    qint64 fence = 0;
    for (const NodeVote &vote : votes)
        fence = std::max(fence, vote.fence);

    const int need = d->quorumFor(options.kind, options.permits);
    auto now = d->options.clock->now();
    const auto validUntil = start + options.ttl - d->drift(options.ttl);
    const int n = nodeCount();
    // Redlock with fencing: the granting nodes' counters must all reach the lock's fence before
    // it is handed out (see raiseFences); one node, or no fencing, needs nothing more.
    int fenced = granted;
    std::vector<qint64> fences; // multi-key: each key's fence (the highest among the granting nodes)
    if (many) {
        fences.assign(keys.size(), 0);
        for (const auto &nodeFences : keyFences) {
            for (size_t j = 0; j < nodeFences.size(); ++j)
                fences[j] = std::max(fences[j], nodeFences[j]);
        }
        fence = fences.front();
    }
    if (fencing && n > 1 && granted >= need && now < validUntil) {
        if (!many) {
            fenced = d->raiseFences(key, prefix, fence, votes, options.ttl);
        } else {
            // Each key has its own counter: raised key by key (a round trip only for the keys
            // whose nodes disagree); a node that fails any raise no longer counts.
            for (size_t j = 0; j < keys.size(); ++j) {
                std::vector<NodeVote> keyVotes = votes;
                for (size_t i = 0; i < keyVotes.size(); ++i)
                    keyVotes[i].fence = j < keyFences[i].size() ? keyFences[i][j] : 0;
                fenced = std::min(fenced, d->raiseFences(keys[j], prefix, fences[j], keyVotes, options.ttl));
                for (size_t i = 0; i < votes.size(); ++i) {
                    if (keyVotes[i].outcome != Outcome::Granted && votes[i].outcome == Outcome::Granted) {
                        votes[i].outcome = keyVotes[i].outcome;
                        votes[i].error = keyVotes[i].error;
                    }
                }
            }
        }
        now = d->options.clock->now();
    }
    if (granted >= need && fenced >= need && now < validUntil) {
        Lock lock;
        lock.key = key;
        if (many) {
            lock.keys = keys;
            lock.fences = fences;
        }
        lock.kind = options.kind;
        lock.permits = value.permits;
        lock.holds = holds;
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
            // Created, or re-entered (a reentrant hold this call added); a refresh of what the
            // token held before stays (its expiry is put back below), unless the token is this
            // call's own (then it was an earlier attempt's grant).
            const qint64 change = integerAt(*results[i], 3);
            undoOn[i] = change == 1 || change == 2 || mark.isEmpty();
        }
    }
    // A blocking acquire's grants took its place out of the wake-up queue there: it goes back
    // (or the nodes' queues would name different first waiters, and a release that names
    // each on fewer nodes than a quorum wakes nobody until their retry delays run out).
    d->runUndo(keys, prefix, mark, undoOn, &waitMark);
    for (size_t i = 0; i < votes.size(); ++i) {
        if (votes[i].outcome == Outcome::Granted && undoOn[i])
            votes[i].outcome = Outcome::Released;
    }
    // A refresh (or a re-entry) of what the caller's token held before kept the key, but gave
    // it this call's TTL (a sorted set's member: its deadline): put back the expiry it had, or
    // the failed call would leave the caller's lock living longer than the caller believes. The
    // replies say what each key's expiry was and what the call set; the restore changes a key
    // only if it still carries exactly that (after the undo above, which keeps the TTL). A node
    // whose reply was lost, or whose undo went out behind a timed-out command, may or may not
    // have run the refresh; its previous expiry is unknown, so it keeps whatever it has: the
    // key is never deleted (it was the caller's), and its TTL may stay extended by this call.
    if (!mark.isEmpty()) {
        const size_t k = keys.size();
        std::vector<bool> restoreOn(static_cast<size_t>(n), false);
        std::vector<QByteArray> beforeAt(static_cast<size_t>(n));
        for (size_t i = 0; i < restoreOn.size(); ++i) {
            if (delivery[i] != Private::Delivery::Sent || !results[i] || integerAt(*results[i], 0) != 1)
                continue;
            const size_t beforeAt0 = many ? 5 + k : 5;
            if (results[i]->elements().size() < beforeAt0 + (many ? 2 * k : 2))
                continue; // not a script's grant (the SET NX fast path creates, never refreshes)
            QByteArrayList pairs;
            for (size_t j = 0; j < k; ++j) {
                const qint64 before = integerAt(*results[i], beforeAt0 + j);
                const qint64 at = integerAt(*results[i], beforeAt0 + (many ? k : 1) + j);
                restoreOn[i] = restoreOn[i] || (before != -2 && at > 0);
                pairs.push_back(QByteArray::number(before) + ':' + QByteArray::number(at));
            }
            beforeAt[i] = pairs.join(' ');
        }
        d->runRestore(keys, prefix, beforeAt, restoreOn);
    }

    if (granted >= need && fenced < need) {
        return std::unexpected(d->makeError(
            LockErrorKind::QuorumNotReached, key,
            QStringLiteral("granted on %1 of %2 nodes, but the fence %3 reached only %4 of them (%5 needed); "
                           "released")
                .arg(granted)
                .arg(n)
                .arg(fence)
                .arg(fenced)
                .arg(need),
            std::move(votes)));
    }
    if (granted >= need) {
        return std::unexpected(d->makeError(
            LockErrorKind::ValidityExpired, key,
            QStringLiteral("quorum reached after %1 ms, past the validity of the %2 ms TTL; released")
                .arg(std::chrono::duration_cast<milliseconds>(now - start).count())
                .arg(options.ttl.count()),
            std::move(votes)));
    }
    if (mismatch)
        return std::unexpected(d->makeError(LockErrorKind::KindMismatch, key,
                                            *mismatch + QStringLiteral("; nothing taken"), std::move(votes)));
    if (held > n - need) {
        auto [kind, message] = refusal(votes);
        if (many && heldKey > 0 && heldKey <= qint64(keys.size()))
            message = QStringLiteral("key %1 of %2 (%3) is held by another owner")
                          .arg(heldKey)
                          .arg(keys.size())
                          .arg(displayText(keys[size_t(heldKey - 1)]));
        if (n > 1)
            message += QStringLiteral(" on %1 of %2 nodes (quorum %3)").arg(held).arg(n).arg(need);
        return std::unexpected(d->makeError(kind, key, message, std::move(votes)));
    }
    return d->degradedFallback(
        keys, options, value,
        d->nodeFailure(key, QStringLiteral("%1 of %2 nodes granted, %3 needed").arg(granted).arg(n).arg(need),
                       std::move(votes)));
}

LockResult<Lock> Locker::acquire(const QByteArray &key, const AcquireOptions &options)
{
    return acquire(std::vector<QByteArray>{key}, options);
}

LockResult<Lock> Locker::acquire(const std::vector<QByteArray> &keys, const AcquireOptions &options)
{
    const QByteArray key = keys.empty() ? QByteArray() : *std::ranges::min_element(keys);
    if (auto invalid = d->validate(key, options.ttl))
        return std::unexpected(*invalid);
    LockClock &clock = *d->options.clock;
    const auto start = clock.now();
    // Without an explicit wait, give up once a whole TTL has passed: by then the holder we
    // are waiting for has either released, expired, or is refreshing the lock on purpose.
    const auto deadline = start + (options.wait.count() > 0 ? options.wait : options.ttl);
    // One token for all attempts: a late reply can only refresh our own key. A caller's token
    // may already hold the lock; then one call id marks what this call creates.
    const auto [token, callId] = d->tokenFor(options);
    int attempts = 0;
    int wakeups = 0;
    // A waiting writer keeps an intent key that turns new readers away (writer preference), a
    // fair lock's waiter its place in the queue: for a few retry delays at a time, renewed by
    // each attempt, and taken away when this call ends.
    detail::WaitMark waitMark;
    waitMark.arrivalUs = arrivalNowUs();
    const milliseconds longest = options.retry.kind == RetryStrategy::Kind::Exponential
                                     ? std::max(options.retry.maxDelay, options.retry.delay)
                                     : options.retry.delay;
    const milliseconds markLife = std::max(4 * longest, milliseconds(100)) + operationBudget(options.ttl);
    if (options.kind == LockKind::Write || options.kind == LockKind::Fair)
        waitMark.ttl = markLife;
    const bool shared = options.kind == LockKind::Read; // woken together: readers may share
    const bool exclusive = isExclusive(options.kind);
    if (d->wakeHub && keys.size() == 1 && options.retry.kind != RetryStrategy::Kind::None) {
        // Its place in the lock's wake-up queue, taken by its first refused attempt.
        waitMark.waiterId = d->wakeHub->newWaiterId(shared);
        waitMark.waiterLife = markLife;
    }
    // The nodes where an attempt of this call may have left its mark: those that refused it (a
    // late run on a node that timed out leaves one that expires by itself).
    struct WaitMarkCleanup
    {
        Locker::Private &d;
        LockKind kind;
        QByteArray key;
        QByteArray prefix;
        std::vector<bool> on;
        QByteArray waiterId;
        std::vector<bool> queued; ///< the nodes where the wake-up queue has this call's place
        void note(const std::vector<NodeVote> &votes)
        {
            // A refusal put the waiter in the wake-up queue; a grant took it out.
            for (size_t i = 0; !waiterId.isEmpty() && i < votes.size() && i < queued.size(); ++i) {
                // Refused; granted and undone (runUndo puts the place back); or no answer (a
                // late run may have queued it): it leaves there when the call ends.
                if (votes[i].outcome == Outcome::Held || votes[i].outcome == Outcome::Released ||
                    votes[i].outcome == Outcome::Error)
                    queued[i] = true;
                else if (votes[i].outcome == Outcome::Granted)
                    queued[i] = false;
            }
            for (size_t i = 0; i < votes.size() && i < on.size(); ++i) {
                if (votes[i].outcome == Outcome::Held)
                    on[i] = true;
                else if (votes[i].outcome == Outcome::Granted && kind == LockKind::Write)
                    on[i] = false; // the acquire script took our intent away there
                // A fair lock keeps our place in the queue through a grant (a grant on too few
                // nodes is undone, and the place must survive it): it is left here, at the end.
            }
        }
        ~WaitMarkCleanup()
        {
            if (std::ranges::find(queued, true) != queued.end()) {
                const auto [waiters, deadlines] = d.waitQueueKeys(key);
                d.runOnAll(scripts::leaveQueue(), {waiters, deadlines}, {waiterId}, milliseconds(1000),
                           queued);
            }
            if (std::ranges::find(on, true) == on.end())
                return;
            if (kind == LockKind::Fair) {
                const auto [queue, deadlines] = d.fairQueueKeys(key);
                d.runOnAll(scripts::leaveQueue(), {queue, deadlines}, {prefix}, milliseconds(1000), on);
            } else {
                d.runUndo({d.writerIntentKey(key)}, prefix, QByteArray(), on);
            }
        }
    } cleanup{*d,
              options.kind,
              d->options.keyPrefix + key,
              LockValue::ownerPrefix(token),
              std::vector<bool>(waitMark.ttl.count() > 0 ? d->pools.size() : 0, false),
              waitMark.waiterId,
              std::vector<bool>(d->pools.size(), false)};
    const QByteArray channel =
        d->options.wakeOnRelease ? d->releaseChannel(d->options.keyPrefix + key) : QByteArray();
    WakeHub::TicketPtr ticket(nullptr, nullptr);
    bool justWoken = false;
    // When the last wake-up came: it opened the hand-off window (after which the lock is kept
    // for this waiter if it is first in the queue).
    SteadyClock::time_point wokenAt;
    std::vector<NodeVote> heldBefore; // the votes of the attempt before the last wait
    for (;;) {
        ++attempts;
        // Taken before the attempt, so that a release during it is not missed by the wait.
        const std::optional<quint64> seen =
            d->wakeHub && !ticket ? d->wakeHub->sequence(channel) : std::nullopt;
        auto result =
            this->attempt(keys, options, token, attempts > 1 || !callId.isEmpty(), callId, waitMark);
        if (result) {
            result->attempts = attempts;
            result->wakeups = wakeups;
            cleanup.note(result->votes);
            return result;
        }
        cleanup.note(result.error().votes);
        if (result.error().kind == LockErrorKind::InvalidArgument ||
            result.error().kind == LockErrorKind::ReadOnly ||
            result.error().kind == LockErrorKind::KindMismatch ||
            result.error().kind == LockErrorKind::BreakerOpen)
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
            return finish(timeoutKind(options.kind, last),
                          QStringLiteral("not obtained within %1 ms after %2 attempts")
                              .arg(std::chrono::duration_cast<milliseconds>(deadline - start).count())
                              .arg(attempts));
        if (d->options.wakeOnRelease &&
            (last.kind == LockErrorKind::NotObtained || last.kind == LockErrorKind::WriteLockHeld)) {
            if (!ticket) {
                ticket = d->wakeHub->enter(channel, shared, waitMark.waiterId,
                                           d->nodeTimeout(options.ttl, d->configs.front()), seen);
                // A mutex waiter with a token of its own may be handed the lock by a release of
                // this Locker (LockerOptions::wakeOnRelease, direct hand-over), under a second
                // token of its own: a grant that lands late (after its release timed out) is
                // then nothing this call's attempts could take for theirs.
                if (keys.size() == 1 && !waitMark.waiterId.isEmpty() && options.kind == LockKind::Mutex &&
                    callId.isEmpty())
                    d->wakeHub->offerGrant(*ticket,
                                           {waitMark.waiterId, d->newValue(randomToken(), options, {}),
                                            options.ttl, waitMark.arrivalUs});
                // Registered after the attempt, and no node listened before it: a release in
                // between was announced to nobody, so try once more right away.
                if (!seen && d->wakeHub->listening(*ticket))
                    continue;
            }
            // Until a release message, at most the strategy's largest delay, and no longer
            // than the holder's TTL: an expiry is announced by nobody.
            milliseconds bound = options.retry.kind == RetryStrategy::Kind::Exponential
                                     ? options.retry.maxDelay
                                     : options.retry.delay;
            if (const milliseconds expiry = soonestExpiry(last.votes); expiry.count() > 0)
                bound = std::min(bound, expiry + milliseconds(1));
            // Woken once a quorum of a Redlock set announced the release, the attempt may
            // still have beaten it to a node it needed: when a node still shows the same
            // holder counting down (its TTL went down, not up to a new holder's), the
            // release is on its way there: look again after the base delay instead of
            // waiting for a message that was already sent. A new holder means another waiter
            // won: wait for its release as usual.
            // The end of the hand-off window the last wake-up opened, when it opened one.
            auto lookAgain = SteadyClock::time_point::max();
            if (std::exchange(justWoken, false)) {
                if (releaseInFlight(heldBefore, last.votes))
                    bound = std::min(bound, std::max(options.retry.delay, milliseconds(1)));
                // Woken by the release that named it, and refused: a thread that released
                // and came straight back has it. Its releases within the hand-off window are
                // quiet (they announce nothing): look again when the window closes; after
                // that, the next release announces.
                if (exclusive && d->handOffWindow().count() > 0)
                    lookAgain = wokenAt + d->handOffWindow();
            }
            heldBefore = last.votes;
            const auto until = std::min(deadline, now + std::max(bound, milliseconds(1)));
            switch (d->wakeHub->wait(*ticket, std::min(SteadyClock::now() + (until - now), lookAgain),
                                     options.cancel.get())) {
            case WakeHub::Wait::Granted:
                if (auto grant = d->wakeHub->takeGrant(*ticket)) {
                    ++wakeups;
                    cleanup.note(grant->votes); // the grant took our place out of the queue there
                    Lock lock;
                    lock.key = d->options.keyPrefix + key;
                    lock.kind = options.kind;
                    lock.token = grant->token;
                    lock.value = grant->value;
                    lock.fence = grant->fence;
                    lock.ttl = options.ttl;
                    lock.validUntil = grant->validUntil;
                    lock.votes = std::move(grant->votes);
                    lock.attempts = attempts;
                    lock.wakeups = wakeups;
                    lock.handedOver = true;
                    return lock;
                }
                continue;
            case WakeHub::Wait::Message:
                ++wakeups;
                justWoken = true;
                wokenAt = SteadyClock::now();
                continue;
            case WakeHub::Wait::Missed:
                justWoken = true;
                wokenAt = SteadyClock::now();
                continue;
            case WakeHub::Wait::Timeout:
                continue;
            case WakeHub::Wait::Cancelled:
                return finish(LockErrorKind::Cancelled,
                              QStringLiteral("cancelled after %1 attempts").arg(attempts));
            case WakeHub::Wait::NotListening:
                break; // sleep out the delay as without pub/sub
            }
        }
        milliseconds delay = options.retry.delayBefore(attempts, d->options.random());
        // Only the first in a fair lock's line may take it when it comes free, and everyone
        // behind waits for it: a waiter looks again after the base delay times its place (the
        // first after one base delay, the next after two, ...), so the line moves on as soon as
        // its head is done, at a polling load that grows with the line's length only slowly.
        if (const int ahead = waitersAhead(last.votes); options.kind == LockKind::Fair && ahead >= 0)
            delay = std::min(delay, std::max(options.retry.delay, milliseconds(1)) * (ahead + 1));
        const auto wake = std::min(deadline, now + delay);
        if (!clock.sleepUntil(wake, options.cancel.get()))
            return finish(LockErrorKind::Cancelled,
                          QStringLiteral("cancelled after %1 attempts").arg(attempts));
    }
}

WakeStats Locker::wakeStats() const
{
    return d->wakeHub ? d->wakeHub->stats() : WakeStats{};
}

LockResult<Lock> Locker::acquireOrExtend(const Lock &lock, milliseconds ttl)
{
    AcquireOptions options;
    options.ttl = ttl;
    options.token = lock.token;
    options.kind = lock.kind;
    options.permits = lock.permits;
    if (auto parsed = LockValue::parse(lock.value)) {
        if (parsed->mode != 0)
            options.kind = parsed->mode == 'r' ? LockKind::Read : LockKind::Write;
        if (parsed->permits > 0) {
            options.kind = LockKind::Semaphore;
            options.permits = parsed->permits;
        }
        if (parsed->holds > 0)
            options.kind = LockKind::Reentrant;
        if (parsed->fair)
            options.kind = LockKind::Fair;
        options.label = parsed->label;
        options.thread = parsed->thread;
        options.metadata = parsed->metadata;
    }
    if (options.kind == LockKind::Reentrant) {
        // Keeping a reentrant lock alive must not add a hold: extend where it is held.
        auto extended = extend(lock, ttl);
        if (extended || extended.error().kind != LockErrorKind::NotHeld)
            return extended;
    }
    std::vector<QByteArray> keys = lock.keys.size() > 1 ? lock.keys : std::vector<QByteArray>{lock.key};
    for (QByteArray &key : keys) {
        if (key.startsWith(d->options.keyPrefix))
            key = key.mid(d->options.keyPrefix.size());
    }
    return tryAcquire(keys, options);
}

} // namespace lockscope::lock
