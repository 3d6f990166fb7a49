// Locker helpers for the lock kinds beyond the mutex: how an acquire of a read/write lock,
// semaphore or fair lock reads the nodes' refusals, what its timeout is called, and the kinds'
// names. Declared in lockerprivate.h.

#include "lockerprivate.h"

namespace lockscope::lock {

QString lockKindName(LockKind kind)
{
    switch (kind) {
    case LockKind::Mutex:
        return QStringLiteral("mutex");
    case LockKind::Read:
        return QStringLiteral("read");
    case LockKind::Write:
        return QStringLiteral("write");
    case LockKind::Semaphore:
        return QStringLiteral("semaphore");
    case LockKind::Reentrant:
        return QStringLiteral("reentrant");
    case LockKind::Fair:
        return QStringLiteral("fair");
    }
    return {};
}

namespace detail {

/// Now on the wall clock in Unix microseconds: a fair lock waiter's arrival. Waiters of one
/// host are ordered as they came; across hosts, as far as their clocks agree.
qint64 arrivalNowUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// A fair lock waiter's place: how many waiters are ahead of it (the fewest any node reports);
/// -1 when no node reported a place.
int waitersAhead(const std::vector<NodeVote> &votes)
{
    int ahead = -1;
    for (const NodeVote &vote : votes) {
        if (vote.outcome == Outcome::Held && vote.blocker == NodeVote::Blocker::Queue)
            ahead = ahead < 0 ? vote.holders : std::min(ahead, vote.holders);
    }
    return ahead;
}

/// A holder-kind acquire's refusal because the key is another kind ({-2, why, n[, type]}).
QString mismatchText(const RedisReply &reply, const AcquireOptions &options)
{
    const qint64 why = integerAt(reply, 1);
    const qint64 n = integerAt(reply, 2);
    const QString asked = options.kind == LockKind::Semaphore
                              ? QStringLiteral("a semaphore of %1 permits").arg(options.permits)
                              : QStringLiteral("a read/write lock");
    switch (why) {
    case 1:
        return QStringLiteral("the key is a read/write lock, not %1").arg(asked);
    case 2:
        return QStringLiteral("the key is a semaphore of %1 permits, not %2").arg(n).arg(asked);
    case 3:
        return n > 0 ? QStringLiteral("the key is a semaphore of %1 permits, not %2").arg(n).arg(asked)
                     : QStringLiteral("the key's holders are not read/write lock holders");
    case 6:
        return QStringLiteral(
            "this owner holds the key as a plain mutex (no hold count), not a reentrant lock");
    case 4:
        return QStringLiteral("this token already holds the lock in the other mode (%1)")
            .arg(options.kind == LockKind::Read ? QStringLiteral("as writer") : QStringLiteral("as reader"));
    default: {
        const auto &e = reply.elements();
        const QString type = e.size() > 3 ? QString::fromUtf8(e[3].bytes()) : QStringLiteral("another type");
        return QStringLiteral("the key holds a %1, not %2 (a sorted set)").arg(type, asked);
    }
    }
}

/// Why a holder-kind acquire was refused, from the nodes that refused it: a writer (holding or
/// waiting) outranks readers and taken permits.
std::pair<LockErrorKind, QString> refusal(const std::vector<NodeVote> &votes)
{
    using Blocker = NodeVote::Blocker;
    int holders = 0;
    bool writer = false, waiting = false, readers = false, permits = false, queue = false, waiters = false;
    for (const NodeVote &vote : votes) {
        if (vote.outcome != Outcome::Held)
            continue;
        holders = std::max(holders, vote.holders);
        writer |= vote.blocker == Blocker::Writer;
        waiting |= vote.blocker == Blocker::WriterWaiting;
        readers |= vote.blocker == Blocker::Readers;
        permits |= vote.blocker == Blocker::Permits;
        queue |= vote.blocker == Blocker::Queue;
        waiters |= vote.blocker == Blocker::Waiters;
    }
    if (writer)
        return {LockErrorKind::WriteLockHeld, QStringLiteral("a writer holds it")};
    if (waiting)
        return {LockErrorKind::WriteLockHeld,
                QStringLiteral("a writer is waiting for it (writer preference: no new readers)")};
    if (readers)
        return {LockErrorKind::NotObtained, holders == 1 ? QStringLiteral("held by 1 reader")
                                                         : QStringLiteral("held by %1 readers").arg(holders)};
    if (permits)
        return {LockErrorKind::NotObtained, QStringLiteral("all %1 permits are taken").arg(holders)};
    if (queue)
        return {LockErrorKind::NotObtained,
                holders == 0 ? QStringLiteral("held by another owner (fair lock: first in the queue)")
                             : QStringLiteral("%1 waiter%2 ahead in the fair queue")
                                   .arg(holders)
                                   .arg(holders == 1 ? QString() : QStringLiteral("s"))};
    if (waiters)
        return {
            LockErrorKind::NotObtained,
            QStringLiteral("free, but kept for %1 earlier waiter%2 (the wake-up queue hands it on in order)")
                .arg(std::max(holders, 1))
                .arg(holders == 1 ? QString() : QStringLiteral("s"))};
    return {LockErrorKind::NotObtained, QStringLiteral("held by another owner")};
}

/// The kind of a blocking read/write acquire's timeout: what it was waiting for.
LockErrorKind timeoutKind(LockKind kind, const LockError &last)
{
    if (kind != LockKind::Read && kind != LockKind::Write)
        return LockErrorKind::Timeout;
    if (last.kind == LockErrorKind::WriteLockHeld)
        return LockErrorKind::WriteLockTimeout;
    const bool readers = std::ranges::any_of(last.votes, [](const NodeVote &vote) {
        return vote.outcome == Outcome::Held && vote.blocker == NodeVote::Blocker::Readers;
    });
    return readers ? LockErrorKind::ReadersTimeout : LockErrorKind::Timeout;
}

NodeVote::Blocker blockerOf(qint64 code)
{
    switch (code) {
    case 1:
        return NodeVote::Blocker::Writer;
    case 2:
        return NodeVote::Blocker::Readers;
    case 3:
        return NodeVote::Blocker::WriterWaiting;
    case 4:
        return NodeVote::Blocker::Permits;
    case 5:
        return NodeVote::Blocker::Queue;
    case 6:
        return NodeVote::Blocker::Waiters;
    default:
        return NodeVote::Blocker::Owner;
    }
}

} // namespace detail

} // namespace lockscope::lock
