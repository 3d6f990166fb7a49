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
    }
    return {};
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
