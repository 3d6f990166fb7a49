#include "lockerror.h"

#include <QStringList>

namespace lockscope::lock {

QString NodeVote::outcomeName(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Granted:
        return QStringLiteral("granted");
    case Outcome::Held:
        return QStringLiteral("held by another owner");
    case Outcome::NotHeld:
        return QStringLiteral("not held");
    case Outcome::Error:
        return QStringLiteral("error");
    case Outcome::Released:
        return QStringLiteral("granted, then released");
    }
    return {};
}

QString LockError::kindName(LockErrorKind kind)
{
    switch (kind) {
    case LockErrorKind::NotObtained:
        return QStringLiteral("not obtained");
    case LockErrorKind::NotHeld:
        return QStringLiteral("not held");
    case LockErrorKind::ValidityExpired:
        return QStringLiteral("validity expired");
    case LockErrorKind::QuorumNotReached:
        return QStringLiteral("quorum not reached");
    case LockErrorKind::Timeout:
        return QStringLiteral("timeout");
    case LockErrorKind::Cancelled:
        return QStringLiteral("cancelled");
    case LockErrorKind::InvalidArgument:
        return QStringLiteral("invalid argument");
    case LockErrorKind::ReadOnly:
        return QStringLiteral("read-only");
    case LockErrorKind::Connection:
        return QStringLiteral("connection error");
    case LockErrorKind::BreakerOpen:
        return QStringLiteral("breaker-open");
    case LockErrorKind::Permission:
        return QStringLiteral("permission denied");
    case LockErrorKind::ReadOnlyReplica:
        return QStringLiteral("read-only replica");
    case LockErrorKind::OutOfMemory:
        return QStringLiteral("out of memory");
    case LockErrorKind::WrongType:
        return QStringLiteral("wrong type");
    case LockErrorKind::WriteLockHeld:
        return QStringLiteral("write lock held");
    case LockErrorKind::ReadersTimeout:
        return QStringLiteral("readers timeout");
    case LockErrorKind::WriteLockTimeout:
        return QStringLiteral("write lock timeout");
    case LockErrorKind::KindMismatch:
        return QStringLiteral("kind mismatch");
    }
    return {};
}

std::optional<LockErrorKind> nodeErrorKind(const std::vector<NodeVote> &votes)
{
    const auto causeOf = [](redis::ErrorKind kind) -> std::optional<LockErrorKind> {
        switch (kind) {
        case redis::ErrorKind::NoPerm:
            return LockErrorKind::Permission;
        case redis::ErrorKind::ReadOnlyReplica:
            return LockErrorKind::ReadOnlyReplica;
        case redis::ErrorKind::OutOfMemory:
            return LockErrorKind::OutOfMemory;
        case redis::ErrorKind::WrongType:
            return LockErrorKind::WrongType;
        default:
            return std::nullopt;
        }
    };
    std::optional<LockErrorKind> common;
    for (const NodeVote &vote : votes) {
        if (!vote.error)
            continue;
        const auto cause = causeOf(vote.error->kind);
        if (!cause || (common && *common != *cause))
            return std::nullopt;
        common = cause;
    }
    return common;
}

QString LockError::toString() const
{
    QString text = QStringLiteral("lock %1: %2").arg(key, kindName(kind));
    if (!message.isEmpty())
        text += QStringLiteral(": ") + message;
    if (!votes.empty()) {
        QStringList parts;
        for (const NodeVote &vote : votes) {
            QString part = vote.node + QStringLiteral(" ") + NodeVote::outcomeName(vote.outcome);
            if (vote.error)
                part += QStringLiteral(" (") + redis::RedisError::kindName(vote.error->kind) +
                        QStringLiteral(": ") + vote.error->message + QLatin1Char(')');
            parts << part;
        }
        text += QStringLiteral(" [") + parts.join(QStringLiteral("; ")) + QLatin1Char(']');
    }
    return text;
}

} // namespace lockscope::lock
