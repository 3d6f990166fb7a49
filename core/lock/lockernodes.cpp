// Locker::Private's per-node I/O: one command or script sent to every node at once (with
// NOSCRIPT fallback and undo-on-timeout, past each node's circuit breaker), the checks made
// before anything is sent (the breakers' among them), and the multi-node follow-ups (fence raise,
// release, undo, value recovery) built on it.

#include "lockerprivate.h"
#include "lockscripts.h"
#include "redis/script.h"

namespace lockscope::lock {

std::vector<Result<RedisReply>>
Locker::Private::runOnAll(const redis::Script &script, const std::vector<QByteArray> &keys,
                          const std::vector<QByteArray> &args, milliseconds ttlForTimeout,
                          const std::vector<bool> &only, const std::vector<QByteArray> *undo,
                          std::vector<Delivery> *delivery, const std::vector<QByteArray> *lastArgPerNode)
{
    std::vector<QByteArray> argv = script.evalshaCommand(keys, args);
    return sendToAll(argv, &script, ttlForTimeout, only, undo, delivery, lastArgPerNode);
}

std::vector<Result<RedisReply>>
Locker::Private::sendToAll(const std::vector<QByteArray> &argv, const redis::Script *script,
                           milliseconds ttlForTimeout, const std::vector<bool> &only,
                           const std::vector<QByteArray> *undo, std::vector<Delivery> *delivery,
                           const std::vector<QByteArray> *lastArgPerNode)
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
    // Nodes whose breaker let this call through: each reports its reply or failure back.
    std::vector<bool> allowed(n, false);
    for (size_t i = 0; i < n; ++i) {
        if (!asked(i))
            continue;
        state[i] = Delivery::NotSent;
        if (breakers.size() == n && !breakers[i]->allow()) {
            results[i] = std::unexpected(breakerSkip(*breakers[i]));
            continue;
        }
        allowed[i] = true;
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
        const milliseconds bound = std::min(configs[i].connectTimeout,
                                            std::max(nodeTimeout(ttlForTimeout, configs[i]), kMinConnect));
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
    for (size_t i = 0; i < n; ++i) {
        if (!allowed[i])
            continue;
        if (results[i])
            breakers[i]->recordSuccess();
        else
            breakers[i]->recordFailure(results[i].error());
    }
    if (delivery)
        *delivery = std::move(state);
    return results;
}

RedisError Locker::Private::breakerSkip(const redis::CircuitBreaker &breaker)
{
    // Unreachable, not a kind of its own: to every vote count the node is simply down, and the
    // message says why nothing was sent to it.
    const redis::BreakerStatus status = breaker.status();
    // "circuit breaker open until 17:42:05, 3 failures: connection refused; nothing was sent"
    return RedisError{ErrorKind::Unreachable, status.node,
                      QStringLiteral("circuit breaker %1; nothing was sent").arg(status.describe())};
}

std::optional<LockError> Locker::Private::breakerCheck(const QByteArray &key, int need)
{
    std::vector<size_t> closedOff;
    for (size_t i = 0; i < breakers.size(); ++i) {
        if (!breakers[i]->wouldAllow())
            closedOff.push_back(i);
    }
    const int n = static_cast<int>(breakers.size());
    const int usable = n - static_cast<int>(closedOff.size());
    if (usable >= need)
        return std::nullopt;
    QStringList open;
    for (const size_t i : closedOff) {
        breakers[i]->noteRejected();
        const redis::BreakerStatus status = breakers[i]->status();
        open << QStringLiteral("%1 (%2)").arg(status.node, status.describe());
    }
    return makeError(LockErrorKind::BreakerOpen, key,
                     QStringLiteral("breaker open on %1: %2 of %3 nodes usable, quorum %4; nothing was sent")
                         .arg(open.join(QStringLiteral(", ")))
                         .arg(usable)
                         .arg(n)
                         .arg(need),
                     {});
}

std::vector<redis::BreakerStatus> Locker::breakerStates() const
{
    std::vector<redis::BreakerStatus> states;
    for (const auto &breaker : d->breakers)
        states.push_back(breaker->status());
    return states;
}

LockerStats Locker::stats() const
{
    LockerStats stats;
    for (const auto &breaker : d->breakers) {
        const redis::BreakerStatus status = breaker->status();
        stats.breakerOpens += status.opens;
        stats.breakerRejections += status.rejected;
    }
    stats.degradedAcquisitions = d->degradedAcquisitions.load(std::memory_order_relaxed);
    stats.degradedHeld = static_cast<quint64>(LocalLocks::instance().heldBy(d->localId));
    return stats;
}

LockError Locker::Private::nodeFailure(const QByteArray &key, const QString &message,
                                       std::vector<NodeVote> votes)
{
    const std::optional<LockErrorKind> cause = nodeErrorKind(votes);
    if (pools.size() == 1 && votes.front().error) {
        QString nodeError = votes.front().error->toString(); // before `votes` is moved from
        return makeError(cause.value_or(LockErrorKind::Connection), key, std::move(nodeError),
                         std::move(votes));
    }
    return makeError(cause.value_or(LockErrorKind::QuorumNotReached), key, message, std::move(votes));
}

LockError Locker::Private::makeError(LockErrorKind kind, const QByteArray &key, QString message,
                                     std::vector<NodeVote> votes)
{
    LockError error;
    error.kind = kind;
    error.key = QString::fromUtf8(key);
    error.message = std::move(message);
    error.votes = std::move(votes);
    return error;
}

std::optional<LockError> Locker::Private::validate(const QByteArray &key, milliseconds ttl, bool write) const
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
        error.message = key.isEmpty() ? QStringLiteral("empty key") : QStringLiteral("TTL must be positive");
        return error;
    }
    return std::nullopt;
}

void Locker::Private::recoverValue(Lock &lock, const QByteArray &prefix)
{
    bool found = false;
    for (auto &result : runOnAll(scripts::ownValue(), {lock.key}, {prefix}, milliseconds(1000))) {
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

int Locker::Private::raiseFences(const QByteArray &key, const QByteArray &prefix, qint64 fence,
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
                                  {prefix, QByteArray::number(fence), legacyFenceKey(key)}, ttl, behind);
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

std::vector<Result<RedisReply>>
Locker::Private::runAcquire(const redis::Script &plain, const redis::Script &queued,
                            std::vector<QByteArray> keys, std::vector<QByteArray> args,
                            const AcquireOptions &acquire, const detail::WaitMark &waitMark,
                            const std::vector<QByteArray> &undo, std::vector<Delivery> &delivery)
{
    if (!wakeHub)
        return runOnAll(plain, keys, args, acquire.ttl, {}, &undo, &delivery);
    const auto [waiters, deadlines] = waitQueueKeys(keys.front());
    keys.push_back(waiters);
    keys.push_back(deadlines);
    const bool exclusive = isExclusive(acquire.kind);
    args.push_back(waitMark.waiterId);
    args.push_back(QByteArray::number(static_cast<qint64>(waitMark.waiterLife.count())));
    args.push_back(QByteArray::number(waitMark.arrivalUs));
    args.push_back(exclusive ? QByteArrayLiteral("1") : QByteArrayLiteral("0"));
    args.push_back(QByteArray::number(static_cast<qint64>(handOffWindow().count())));
    args.push_back(QByteArray::number(arrivalNowUs())); // the same on every node: one decision
    return runOnAll(queued, keys, args, acquire.ttl, {}, &undo, &delivery);
}

std::vector<Result<RedisReply>> Locker::Private::runRelease(const std::vector<QByteArray> &keys,
                                                            const QByteArray &token,
                                                            const WakeHub::GrantOffer *offer)
{
    const QByteArray prefix = LockValue::ownerPrefix(token);
    if (keys.size() > 1) {
        std::vector<QByteArray> args{prefix, token, QByteArray()};
        for (const QByteArray &key : keys) {
            if (options.publishOnRelease)
                args.push_back(releaseChannel(key));
        }
        return runOnAll(scripts::releaseMany(), keys, args, milliseconds(1000));
    }
    const QByteArray &key = keys.front();
    if (options.publishOnRelease) {
        const auto [waiters, deadlines] = waitQueueKeys(key);
        std::vector<QByteArray> scriptKeys{key, waiters, deadlines};
        std::vector<QByteArray> args{prefix, token, releaseChannel(key),
                                     QByteArray::number(static_cast<qint64>(handOffWindow().count())),
                                     QByteArray::number(arrivalNowUs())};
        if (offer) {
            // A release that times out gets the undo of the grant behind it on the same
            // connection: when it runs late, what it took in the waiter's name goes at once.
            const std::vector<QByteArray> undo =
                undoCommand({key}, LockValue::ownerPrefix(offer->value.token), QByteArray());
            scriptKeys.push_back(fenceKey(key));
            args.insert(args.end(),
                        {offer->id, LockValue::ownerPrefix(offer->value.token), offer->value.encodeTail(),
                         QByteArray::number(static_cast<qint64>(offer->ttl.count())),
                         options.fencing ? QByteArrayLiteral("1") : QByteArrayLiteral("0"),
                         legacyFenceKey(key)});
            return runOnAll(scripts::releaseAndPublish(), scriptKeys, args, milliseconds(1000), {}, &undo);
        }
        return runOnAll(scripts::releaseAndPublish(), scriptKeys, args, milliseconds(1000));
    }
    return runOnAll(scripts::release(), {key}, {prefix}, milliseconds(1000));
}

bool Locker::Private::handOver(const QByteArray &key, const QByteArray &token,
                               const WakeHub::GrantOffer &offer,
                               const std::vector<Result<RedisReply>> &results, SteadyClock::time_point start)
{
    const QByteArray channel = releaseChannel(key);
    const QByteArray prefix = LockValue::ownerPrefix(offer.value.token);
    // The nodes whose release took the lock in the waiter's name: {1, id, 2, fence, ttl}.
    WakeHub::Grant grant;
    grant.token = offer.value.token;
    std::vector<bool> taken(results.size(), false);
    int count = 0;
    bool unknown = false; // a node whose release may still run (timed out, reply lost)
    for (size_t i = 0; i < results.size(); ++i) {
        NodeVote vote;
        vote.node = configs[i].label();
        vote.outcome = Outcome::NotHeld;
        if (!results[i]) {
            vote = errorVote(vote.node, results[i].error());
            unknown = true;
        } else if (const RedisReply &reply = *results[i];
                   reply.isArray() && reply.elements().size() >= 5 && integerAt(reply, 0) == 1 &&
                   integerAt(reply, 2) == 2 && reply.elements()[1].bytes() == offer.id) {
            vote.outcome = Outcome::Granted;
            vote.fence = integerAt(reply, 3);
            vote.pttl = integerAt(reply, 4);
            grant.fence = std::max(grant.fence, vote.fence);
            taken[i] = true;
            ++count;
        }
        grant.votes.push_back(std::move(vote));
    }
    if (count == 0) {
        // Another waiter was first (of another Locker), the key stayed (a re-entry), or the
        // release failed: the waiter keeps waiting, and keeps its offer unless a node may
        // still run the release late (its undo follows it there).
        wakeHub->resolveGrant(channel, offer.id, std::nullopt, unknown);
        return false; // the releaser wakes whom the release named, as without an offer
    }
    const int need = quorumFor(LockKind::Mutex, 0);
    grant.validUntil = start + offer.ttl - drift(offer.ttl);
    int fenced = count;
    if (options.fencing && count >= need && results.size() > 1)
        fenced = raiseFences(key, prefix, grant.fence, grant.votes, offer.ttl);
    if (count >= need && fenced >= need && options.clock->now() < grant.validUntil) {
        LockValue value = offer.value;
        value.fence = grant.fence;
        grant.value = value.encode();
        if (wakeHub->resolveGrant(channel, offer.id, grant))
            return true;
        // The waiter was cancelled meanwhile: the lock taken in its name is released as the
        // waiter would have, announced to the next waiter.
        const auto again = runRelease({key}, offer.value.token);
        QByteArray next;
        for (const auto &result : again) {
            if (result && result->isArray() && result->elements().size() > 1 &&
                result->elements()[1].isString())
                next = result->elements()[1].bytes();
        }
        wakeHub->releasedHere(channel, offer.value.token, next);
        return true;
    }
    // Too few nodes took it for the waiter (a Redlock set whose queues disagree, a node that
    // failed, the fences): undone, and the waiter is woken to try for itself.
    wakeHub->resolveGrant(channel, offer.id, std::nullopt, true);
    runUndo({key}, prefix, QByteArray(), taken);
    wakeHub->releasedHere(channel, token, offer.id);
    return true;
}

std::vector<QByteArray> Locker::Private::undoCommand(const std::vector<QByteArray> &keys,
                                                     const QByteArray &prefix, const QByteArray &mark)
{
    std::vector<QByteArray> command{QByteArrayLiteral("EVAL"), scripts::undoAcquire().source(),
                                    QByteArray::number(static_cast<qsizetype>(keys.size()))};
    command.insert(command.end(), keys.begin(), keys.end());
    command.push_back(prefix);
    command.push_back(mark);
    return command;
}

void Locker::Private::runUndo(const std::vector<QByteArray> &keys, const QByteArray &prefix,
                              const QByteArray &mark, const std::vector<bool> &on,
                              const detail::WaitMark *requeue)
{
    if (std::ranges::find(on, true) == on.end())
        return;
    if (requeue && !requeue->waiterId.isEmpty() && keys.size() == 1) {
        const auto [waiters, deadlines] = waitQueueKeys(keys.front());
        runOnAll(scripts::undoAcquire(), {keys.front(), waiters, deadlines},
                 {prefix, mark, requeue->waiterId, QByteArray::number(requeue->arrivalUs),
                  QByteArray::number(static_cast<qint64>(requeue->waiterLife.count()))},
                 milliseconds(1000), on);
        return;
    }
    runOnAll(scripts::undoAcquire(), keys, {prefix, mark}, milliseconds(1000), on);
}

void Locker::Private::runRestore(const std::vector<QByteArray> &keys, const QByteArray &prefix,
                                 const std::vector<QByteArray> &beforeAt, const std::vector<bool> &on)
{
    if (std::ranges::find(on, true) == on.end())
        return;
    runOnAll(scripts::restoreAcquire(), keys, {prefix, QByteArray()}, milliseconds(1000), on, nullptr,
             nullptr, &beforeAt);
}

} // namespace lockscope::lock
