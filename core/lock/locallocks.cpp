// Degraded mode: the process-wide table of in-process locks, and the Locker's way into it (the
// fallback of an acquire that cannot reach a quorum, and release/extend/ttl of such a lock).

#include "locallocks.h"

#include "lockerprivate.h"
#include "util/displaytext.h"

#include <QStringList>
#include <atomic>
#include <set>

Q_LOGGING_CATEGORY(lcLock, "lockscope.lock", QtWarningMsg)

namespace lockscope::lock {

namespace {

/// Kinds that share a key's representation on Redis (a string key; a read/write sorted set; a
/// semaphore's sorted set): a lock of one family refuses the others (KindMismatch).
int familyOf(LockKind kind)
{
    switch (kind) {
    case LockKind::Mutex:
    case LockKind::Fair:
    case LockKind::Reentrant:
        return 0;
    case LockKind::Read:
    case LockKind::Write:
        return 1;
    case LockKind::Semaphore:
        return 2;
    }
    return 0;
}

LockError tableError(LockErrorKind kind, const QByteArray &key, QString message)
{
    LockError error;
    error.kind = kind;
    error.key = QString::fromUtf8(key);
    error.message = std::move(message);
    return error;
}

} // namespace

LocalLocks &LocalLocks::instance()
{
    static LocalLocks table;
    return table;
}

quint64 LocalLocks::newLockerId()
{
    static std::atomic<quint64> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

LocalLocks::Holders *LocalLocks::live(const QByteArray &key, SteadyClock::time_point now)
{
    const auto it = m_keys.find(key);
    if (it == m_keys.end())
        return nullptr;
    std::erase_if(it->second, [now](const Holder &holder) { return holder.deadline <= now; });
    if (it->second.empty()) {
        m_keys.erase(it);
        return nullptr;
    }
    return &it->second;
}

bool LocalLocks::isHeld(const std::vector<QByteArray> &keys)
{
    // Every Redis acquire asks: without a degraded lock in the process, no mutex is taken.
    if (m_keyCount.load(std::memory_order_acquire) == 0)
        return false;
    std::lock_guard lock(m_mutex);
    const KeyCountSync sync(*this);
    const auto now = SteadyClock::now();
    return std::ranges::any_of(keys, [&](const QByteArray &key) { return live(key, now) != nullptr; });
}

QString LocalLocks::describeHolders(const QByteArray &key)
{
    std::lock_guard lock(m_mutex);
    const KeyCountSync sync(*this);
    const Holders *holders = live(key, SteadyClock::now());
    if (!holders)
        return QStringLiteral("no holder");
    const Holder &first = holders->front();
    const auto count = static_cast<int>(holders->size());
    switch (first.kind) {
    case LockKind::Read:
        return count == 1 ? QStringLiteral("1 reader") : QStringLiteral("%1 readers").arg(count);
    case LockKind::Write:
        return QStringLiteral("1 writer");
    case LockKind::Semaphore:
        return QStringLiteral("%1 of %2 permits").arg(count).arg(first.permits);
    case LockKind::Reentrant:
        return QStringLiteral("1 owner, %1 holds").arg(first.holds);
    case LockKind::Mutex:
    case LockKind::Fair:
        break;
    }
    return QStringLiteral("1 owner");
}

std::optional<LockError> LocalLocks::refusal(const Request &request, const QByteArray &key,
                                             const Holders &holders)
{
    if (std::ranges::any_of(holders, [&](const Holder &h) { return h.token == request.token; }))
        return std::nullopt; // the same owner again: a refresh (a reentrant lock: one more hold)
    const Holder &first = holders.front();
    if (familyOf(first.kind) != familyOf(request.kind))
        return tableError(LockErrorKind::KindMismatch, key,
                          QStringLiteral("held in degraded mode by this process as a %1 lock, not a %2")
                              .arg(lockKindName(first.kind), lockKindName(request.kind)));
    switch (request.kind) {
    case LockKind::Read:
        if (std::ranges::all_of(holders, [](const Holder &h) { return h.kind == LockKind::Read; }))
            return std::nullopt;
        return tableError(LockErrorKind::WriteLockHeld, key,
                          QStringLiteral("a writer holds it in degraded mode in this process"));
    case LockKind::Semaphore:
        if (first.permits != request.permits)
            return tableError(LockErrorKind::KindMismatch, key,
                              QStringLiteral("held in degraded mode by this process as a semaphore of %1 "
                                             "permits, not %2")
                                  .arg(first.permits)
                                  .arg(request.permits));
        if (static_cast<int>(holders.size()) < request.permits)
            return std::nullopt;
        break;
    case LockKind::Write:
        if (first.kind == LockKind::Write)
            return tableError(LockErrorKind::WriteLockHeld, key,
                              QStringLiteral("a writer holds it in degraded mode in this process"));
        break;
    case LockKind::Mutex:
    case LockKind::Fair:
    case LockKind::Reentrant:
        break;
    }
    return tableError(LockErrorKind::NotObtained, key, QString());
}

LockResult<LocalLocks::Grant> LocalLocks::acquire(const Request &request)
{
    std::lock_guard lock(m_mutex);
    const KeyCountSync sync(*this);
    const auto now = SteadyClock::now();
    // All keys or none: every key is checked before any is taken.
    for (const QByteArray &key : request.keys) {
        const Holders *holders = live(key, now);
        if (!holders)
            continue;
        if (auto refused = refusal(request, key, *holders)) {
            if (refused->message.isEmpty()) {
                const auto count = static_cast<int>(holders->size());
                refused->message =
                    QStringLiteral("held in degraded mode by this process (an in-process lock: %1)")
                        .arg(request.kind == LockKind::Semaphore
                                 ? QStringLiteral("all %1 permits taken").arg(request.permits)
                             : holders->front().kind == LockKind::Read
                                 ? QStringLiteral("%1 reader%2").arg(count).arg(count == 1 ? "" : "s")
                                 : QStringLiteral("another owner"));
            }
            if (request.keys.size() > 1)
                refused->message = QStringLiteral("key %1: ").arg(displayText(key)) + refused->message;
            refused->key = QString::fromUtf8(request.keys.front());
            return std::unexpected(std::move(*refused));
        }
    }
    const auto deadline = now + request.ttl;
    const quint64 grantId = m_nextGrant++;
    Grant grant{0, deadline};
    for (const QByteArray &key : request.keys) {
        Holders &holders = m_keys[key];
        const auto own = std::ranges::find(holders, request.token, &Holder::token);
        if (own != holders.end()) {
            own->deadline = deadline;
            if (own->kind == LockKind::Reentrant)
                ++own->holds;
            grant.holds = own->holds;
            continue;
        }
        holders.push_back(
            Holder{request.token, request.locker, grantId, request.kind, request.permits, 1, deadline});
        grant.holds = 1;
    }
    if (request.kind != LockKind::Reentrant)
        grant.holds = 0;
    return grant;
}

LockResult<void> LocalLocks::release(const std::vector<QByteArray> &keys, const QByteArray &token)
{
    std::lock_guard lock(m_mutex);
    const KeyCountSync sync(*this);
    const auto now = SteadyClock::now();
    bool found = false;
    for (const QByteArray &key : keys) {
        Holders *holders = live(key, now);
        if (!holders)
            continue;
        const auto own = std::ranges::find(*holders, token, &Holder::token);
        if (own == holders->end())
            continue;
        found = true;
        if (own->kind == LockKind::Reentrant && own->holds > 1) {
            --own->holds;
            continue;
        }
        holders->erase(own);
        if (holders->empty())
            m_keys.erase(key);
    }
    if (!found)
        return std::unexpected(
            tableError(LockErrorKind::NotHeld, keys.empty() ? QByteArray() : keys.front(),
                       QStringLiteral("not held by this token in degraded mode (released, or expired)")));
    return {};
}

LockResult<LocalLocks::Grant> LocalLocks::extend(const std::vector<QByteArray> &keys, const QByteArray &token,
                                                 milliseconds ttl, ExtendMode mode)
{
    std::lock_guard lock(m_mutex);
    const KeyCountSync sync(*this);
    const auto now = SteadyClock::now();
    std::vector<Holder *> own;
    for (const QByteArray &key : keys) {
        Holders *holders = live(key, now);
        const auto it = holders ? std::ranges::find(*holders, token, &Holder::token) : Holders::iterator();
        if (!holders || it == holders->end())
            return std::unexpected(
                tableError(LockErrorKind::NotHeld, keys.front(),
                           QStringLiteral("not held by this token in degraded mode (released, or expired)")));
        own.push_back(&*it);
    }
    Grant grant;
    for (Holder *holder : own) {
        holder->deadline = mode == ExtendMode::Add ? holder->deadline + ttl : now + ttl;
        grant.deadline = grant.deadline == SteadyClock::time_point()
                             ? holder->deadline
                             : std::min(grant.deadline, holder->deadline);
        grant.holds = holder->kind == LockKind::Reentrant ? holder->holds : 0;
    }
    return grant;
}

LockResult<milliseconds> LocalLocks::remaining(const std::vector<QByteArray> &keys, const QByteArray &token)
{
    std::lock_guard lock(m_mutex);
    const KeyCountSync sync(*this);
    const auto now = SteadyClock::now();
    std::optional<SteadyClock::time_point> soonest;
    for (const QByteArray &key : keys) {
        Holders *holders = live(key, now);
        const auto it = holders ? std::ranges::find(*holders, token, &Holder::token) : Holders::iterator();
        if (!holders || it == holders->end())
            return std::unexpected(tableError(LockErrorKind::NotHeld, keys.front(),
                                              QStringLiteral("not held by this token in degraded mode")));
        soonest = soonest ? std::min(*soonest, it->deadline) : it->deadline;
    }
    if (!soonest)
        return std::unexpected(tableError(LockErrorKind::NotHeld, {}, QStringLiteral("no key")));
    return std::chrono::duration_cast<milliseconds>(*soonest - now);
}

int LocalLocks::heldBy(quint64 locker)
{
    std::lock_guard lock(m_mutex);
    const KeyCountSync sync(*this);
    const auto now = SteadyClock::now();
    std::set<quint64> grants;
    for (auto it = m_keys.begin(); it != m_keys.end();) {
        std::erase_if(it->second, [now](const Holder &holder) { return holder.deadline <= now; });
        for (const Holder &holder : it->second) {
            if (holder.locker == locker)
                grants.insert(holder.grant);
        }
        it = it->second.empty() ? m_keys.erase(it) : std::next(it);
    }
    return static_cast<int>(grants.size());
}

// --- the Locker's side ------------------------------------------------------------------------

LockResult<Lock> Locker::Private::acquireLocally(const std::vector<QByteArray> &keys,
                                                 const AcquireOptions &acquire, const LockValue &value,
                                                 const QString &cause, std::vector<NodeVote> votes)
{
    LocalLocks::Request request;
    request.keys = keys;
    request.kind = acquire.kind;
    request.permits = acquire.permits;
    request.token = value.token;
    request.ttl = acquire.ttl;
    request.locker = localId;
    auto grant = LocalLocks::instance().acquire(request);
    if (!grant) {
        grant.error().votes = std::move(votes);
        return std::unexpected(std::move(grant.error()));
    }
    Lock lock;
    lock.key = keys.front();
    if (keys.size() > 1) {
        lock.keys = keys;
        lock.fences.assign(keys.size(), 0);
    }
    lock.kind = acquire.kind;
    lock.permits = value.permits;
    lock.holds = grant->holds;
    lock.token = value.token;
    lock.value = value.encode();
    lock.ttl = acquire.ttl;
    lock.validUntil = options.clock->now() + acquire.ttl;
    lock.votes = std::move(votes);
    lock.degraded = true;
    degradedAcquisitions.fetch_add(1, std::memory_order_relaxed);
    // One warning per Locker and second at most (a busy process in degraded mode takes
    // thousands): the first, and then how many followed.
    const qint64 now =
        std::chrono::duration_cast<milliseconds>(SteadyClock::now().time_since_epoch()).count();
    qint64 last = degradedWarnedAtMs.load(std::memory_order_relaxed);
    const quint64 since = degradedSinceWarning.fetch_add(1, std::memory_order_relaxed);
    if (now - last >= 1000 && degradedWarnedAtMs.compare_exchange_strong(last, now)) {
        degradedSinceWarning.store(0, std::memory_order_relaxed);
        qCWarning(lcLock).noquote() << "lock" << displayText(lock.key)
                                    << "taken in degraded mode (an in-process lock, not on Redis):" << cause
                                    << (since > 0
                                            ? QStringLiteral("(and %1 more degraded acquisitions since the "
                                                             "last warning)")
                                                  .arg(since)
                                            : QString());
    }
    return lock;
}

std::optional<LockResult<Lock>> Locker::Private::acquireHeldLocally(const std::vector<QByteArray> &keys,
                                                                    const AcquireOptions &acquire,
                                                                    const LockValue &value)
{
    LocalLocks &table = LocalLocks::instance();
    if (!table.isHeld(keys))
        return std::nullopt;
    // A key this process holds in degraded mode stays with the table until those holders are
    // gone, even when Redis is back: a Redis lock next to the in-process one would let two
    // holders of this process in at once.
    if (options.degradedMode)
        return acquireLocally(keys, acquire, value,
                              QStringLiteral("the key is held in degraded mode by this process"), {});
    const auto held = std::ranges::find_if(keys, [&](const QByteArray &key) { return table.isHeld({key}); });
    const QByteArray key = held == keys.end() ? keys.front() : *held;
    return std::unexpected(
        makeError(LockErrorKind::NotObtained, keys.front(),
                  QStringLiteral("%1held in degraded mode by this process (an in-process "
                                 "lock: %2); nothing was sent")
                      .arg(keys.size() > 1 ? QStringLiteral("key %1 is ").arg(displayText(key)) : QString(),
                           table.describeHolders(key)),
                  {}));
}

LockResult<Lock> Locker::Private::degradedFallback(const std::vector<QByteArray> &keys,
                                                   const AcquireOptions &acquire, const LockValue &value,
                                                   LockError failure)
{
    if (!options.degradedMode)
        return std::unexpected(std::move(failure));
    bool nodesDown = failure.kind == LockErrorKind::BreakerOpen;
    if (failure.kind == LockErrorKind::QuorumNotReached || failure.kind == LockErrorKind::Connection) {
        // Only nodes that are down (not holders, not a node that answered with an error) may
        // send a lock into degraded mode: too many of them for any quorum.
        const auto down = std::ranges::count_if(failure.votes, [](const NodeVote &vote) {
            return vote.outcome == Outcome::Error && vote.error &&
                   redis::CircuitBreaker::countsAsFailure(vote.error->kind);
        });
        const auto n = static_cast<qsizetype>(pools.size());
        nodesDown = down > n - quorumFor(acquire.kind, acquire.permits);
    }
    if (!nodesDown)
        return std::unexpected(std::move(failure));
    // Refused by open breakers, nothing was sent: the nodes whose breakers still let calls
    // through are asked whether the key is held (a holder of this or another process that took
    // it before the outage, on the nodes that are left), as an attempt would have shown.
    if (failure.kind == LockErrorKind::BreakerOpen) {
        if (auto holder = holderOnUsableNodes(keys, acquire.ttl)) {
            failure.message += QStringLiteral(" (not taken in degraded mode: %1)").arg(*holder);
            return std::unexpected(std::move(failure));
        }
    }
    // A node that answered and shows the lock held by another owner: it is taken (a holder from
    // before the outage may still work under it), and a degraded lock next to it would be a
    // second holder. Only when no reachable node knows of a holder does the process go local.
    if (std::ranges::any_of(failure.votes,
                            [](const NodeVote &vote) { return vote.outcome == Outcome::Held; })) {
        failure.message +=
            QStringLiteral(" (not taken in degraded mode: a reachable node shows another holder)");
        return std::unexpected(std::move(failure));
    }
    const QString cause = LockError::kindName(failure.kind) + QStringLiteral(": ") + failure.message;
    auto local = acquireLocally(keys, acquire, value, cause, failure.votes);
    if (!local)
        local.error().message += QStringLiteral(" (Redis: %1)").arg(cause);
    return local;
}

std::optional<QString> Locker::Private::holderOnUsableNodes(const std::vector<QByteArray> &keys,
                                                            milliseconds ttl)
{
    std::vector<QByteArray> argv{QByteArrayLiteral("EXISTS")};
    argv.insert(argv.end(), keys.begin(), keys.end());
    // sendToAll skips the nodes whose breakers are open (an Unreachable error: down).
    const std::vector<Result<RedisReply>> results = sendToAll(argv, nullptr, ttl);
    for (size_t i = 0; i < results.size(); ++i) {
        const Result<RedisReply> &reply = results[i];
        if (!reply) {
            if (redis::CircuitBreaker::countsAsFailure(reply.error().kind))
                continue; // down as well
            return QStringLiteral("%1 could not say whether the key is held: %2")
                .arg(configs[i].label(), reply.error().message);
        }
        if (reply->isInteger() && reply->integer() > 0)
            return QStringLiteral("%1, still reachable, shows the key held").arg(configs[i].label());
    }
    return std::nullopt;
}

LockResult<void> Locker::Private::releaseLocally(const Lock &lock)
{
    return LocalLocks::instance().release(
        lock.keys.size() > 1 ? lock.keys : std::vector<QByteArray>{lock.key}, lock.token);
}

LockResult<Lock> Locker::Private::extendLocally(const Lock &lock, milliseconds ttl, ExtendMode mode)
{
    auto grant = LocalLocks::instance().extend(
        lock.keys.size() > 1 ? lock.keys : std::vector<QByteArray>{lock.key}, lock.token, ttl, mode);
    if (!grant)
        return std::unexpected(std::move(grant.error()));
    Lock extended = lock;
    const auto left = std::chrono::duration_cast<milliseconds>(grant->deadline - SteadyClock::now());
    extended.ttl = mode == ExtendMode::Add ? left : ttl;
    extended.validUntil = options.clock->now() + left;
    if (lock.kind == LockKind::Reentrant)
        extended.holds = grant->holds;
    return extended;
}

LockResult<milliseconds> Locker::Private::ttlLocally(const Lock &lock)
{
    auto left = LocalLocks::instance().remaining(
        lock.keys.size() > 1 ? lock.keys : std::vector<QByteArray>{lock.key}, lock.token);
    if (!left)
        return left;
    return std::max(milliseconds(0), *left);
}

} // namespace lockscope::lock
