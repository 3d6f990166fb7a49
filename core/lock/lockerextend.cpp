// Locker operations on a lock already held: release, extend (with the late-extend check and
// heal) and the owner-checked remaining validity (ttl). A degraded lock's go to the in-process
// table (locallocks.cpp); the others fail at once (BreakerOpen) when too many nodes' breakers
// are open for the lock's quorum.

#include "lockerprivate.h"
#include "lockscripts.h"

#include <limits>

namespace lockscope::lock {

LockResult<void> Locker::release(const Lock &lock)
{
    if (lock.degraded)
        return d->releaseLocally(lock);
    if (auto invalid = d->validate(lock.key, milliseconds(1)))
        return std::unexpected(*invalid);
    const int need = d->quorumFor(lock.kind, lock.permits);
    if (auto open = d->breakerCheck(lock.key, need))
        return std::unexpected(std::move(*open));
    // A direct hand-over to a waiter of this Locker (LockerOptions::wakeOnRelease): claimed
    // before the release runs, resolved (granted, or not) before this returns.
    const bool single = lock.keys.size() <= 1;
    std::optional<WakeHub::GrantOffer> offer;
    const QByteArray channel = d->wakeHub && single ? d->releaseChannel(lock.key) : QByteArray();
    if (d->wakeHub && d->options.publishOnRelease && single &&
        (lock.kind == LockKind::Mutex || lock.kind == LockKind::Reentrant)) {
        offer = d->wakeHub->claimGrant(channel);
        if (offer)
            offer->value.acquiredAt = QDateTime::currentDateTimeUtc();
    }
    const auto start = d->options.clock->now();
    auto results = d->runRelease(single ? std::vector<QByteArray>{lock.key} : lock.keys, lock.token,
                                 offer ? &*offer : nullptr);
    const bool handedOver = offer && d->handOver(lock.key, lock.token, *offer, results, start);
    int deleted = 0; // nodes where the key (or our holder entry) is gone, not a hold fewer
    // The waiter each node's release named in its message (releaseAndPublish: {1, id}), and
    // how many nodes' releases were quiet ({1, id, 1}: within the named waiter's hand-off
    // window, nothing published, nobody to wake).
    QHash<QByteArray, int> named;
    int quiet = 0;
    std::vector<NodeVote> votes = d->collectVotes(results, [&deleted, &named,
                                                            &quiet](NodeVote &vote, const RedisReply &reply) {
        const qint64 r = reply.isArray() ? integerAt(reply, 0) : reply.integer();
        vote.outcome = r >= 1 ? Outcome::Granted : r == 0 ? Outcome::Held : Outcome::NotHeld;
        deleted += r == 1 ? 1 : 0;
        if (r == 1 && reply.isArray() && reply.elements().size() > 2 && integerAt(reply, 2) == 1)
            ++quiet;
        else if (r == 1 && reply.isArray() && reply.elements().size() > 1 && reply.elements()[1].isString())
            ++named[reply.elements()[1].bytes()];
    });
    const int granted = countOf(votes, Outcome::Granted);
    const int errors = countOf(votes, Outcome::Error);
    if (granted >= need) {
        if (d->wakeHub && !handedOver && deleted >= need && deleted - quiet > 0) {
            // Wake the waiter the release named, when it is one of this Locker's, now rather
            // than when the message comes back (the one most nodes named: they agree unless a
            // node missed a waiter's place).
            QByteArray target;
            int most = 0;
            for (auto it = named.cbegin(); it != named.cend(); ++it) {
                if (it.value() > most || (it.value() == most && it.key() < target)) {
                    target = it.key();
                    most = it.value();
                }
            }
            for (const QByteArray &key : lock.keys.size() > 1 ? lock.keys : std::vector<QByteArray>{lock.key})
                d->wakeHub->releasedHere(d->releaseChannel(key), lock.token, target);
        }
        return {};
    }
    const int n = nodeCount();
    if (errors > n - need && granted + errors >= need)
        return std::unexpected(d->nodeFailure(
            lock.key, QStringLiteral("released on %1 of %2 nodes; the others failed").arg(granted).arg(n),
            std::move(votes)));
    return std::unexpected(d->makeError(LockErrorKind::NotHeld, lock.key,
                                        QStringLiteral("not held by this token (expired or taken over)"),
                                        std::move(votes)));
}

LockResult<Lock> Locker::extend(const Lock &lock, milliseconds ttl, ExtendMode mode, bool heal)
{
    if (lock.degraded) {
        if (ttl.count() <= 0)
            return std::unexpected(d->makeError(LockErrorKind::InvalidArgument, lock.key,
                                                QStringLiteral("TTL must be positive"), {}));
        return d->extendLocally(lock, ttl, mode);
    }
    if (auto invalid = d->validate(lock.key, ttl))
        return std::unexpected(*invalid);
    const QByteArray prefix = LockValue::ownerPrefix(lock.token);
    const int need = d->quorumFor(lock.kind, lock.permits);
    if (auto open = d->breakerCheck(lock.key, need))
        return std::unexpected(std::move(*open));
    const bool many = lock.keys.size() > 1;
    heal = heal && !many; // a multi-key lock is extended where all its keys survived, never healed
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
    const std::vector<QByteArray> undoHeal = d->undoCommand({lock.key}, prefix, healMark);
    const QByteArray ms = QByteArray::number(static_cast<qint64>(ttl.count()));
    const QByteArray modeText = mode == ExtendMode::Add ? QByteArrayLiteral("add") : QByteArrayLiteral("set");
    const redis::Script &script = many ? scripts::extendMany() : scripts::extend();
    const std::vector<QByteArray> keys =
        many ? lock.keys : std::vector<QByteArray>{lock.key, d->fenceKey(lock.key)};
    const std::vector<QByteArray> args = many ? std::vector<QByteArray>{prefix, ms, modeText, QByteArray()}
                                              : std::vector<QByteArray>{prefix,
                                                                        ms,
                                                                        modeText,
                                                                        healValue,
                                                                        QByteArray::number(source.fence),
                                                                        d->legacyFenceKey(lock.key),
                                                                        QByteArray()};
    const std::vector<QByteArray> *undo = healMark.isEmpty() ? nullptr : &undoHeal;
    auto results = d->runOnAll(script, keys, args, ttl, {}, undo, nullptr, &minPttl);
    // A refusal that came back in time was no late run: the node's TTL is shorter than the
    // last grant implies for another reason (someone shortened it, the server's clock
    // stepped). Those nodes are asked once more without the check.
    std::vector<bool> refused(n, false);
    for (size_t i = 0; i < n; ++i)
        refused[i] = results[i] && integerAt(*results[i], 0) == 3;
    if (std::ranges::find(refused, true) != refused.end()) {
        const std::vector<QByteArray> noCheck(n, QByteArrayLiteral("0"));
        auto again = d->runOnAll(script, keys, args, ttl, refused, undo, nullptr, &noCheck);
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
    if (granted >= need) {
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
        d->runUndo({lock.key}, prefix, healMark, healedOn);
        for (size_t i = 0; i < votes.size(); ++i) {
            if (healedOn[i])
                votes[i].outcome = Outcome::Released;
        }
    }
    if (errors > 0 && notHeld < need && granted + errors >= need)
        return std::unexpected(d->nodeFailure(
            lock.key, QStringLiteral("extended on %1 of %2 nodes, %3 needed").arg(granted).arg(n).arg(need),
            std::move(votes)));
    return std::unexpected(d->makeError(LockErrorKind::NotHeld, lock.key,
                                        QStringLiteral("not held by this token (expired or taken over)"),
                                        std::move(votes)));
}

LockResult<milliseconds> Locker::ttl(const Lock &lock)
{
    if (lock.degraded)
        return d->ttlLocally(lock);
    if (auto invalid = d->validate(lock.key, milliseconds(1), false))
        return std::unexpected(*invalid);
    const QByteArray prefix = LockValue::ownerPrefix(lock.token);
    const int need = d->quorumFor(lock.kind, lock.permits);
    if (auto open = d->breakerCheck(lock.key, need))
        return std::unexpected(std::move(*open));
    const auto start = d->options.clock->now();
    auto results = lock.keys.size() > 1
                       ? d->runOnAll(scripts::pttlMany(), lock.keys, {prefix}, milliseconds(1000))
                       : d->runOnAll(scripts::pttl(), {lock.key}, {prefix}, milliseconds(1000));
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
    const auto q = static_cast<size_t>(need);
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
