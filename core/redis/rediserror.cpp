#include "rediserror.h"

namespace lockscope::redis {

QString RedisError::kindName(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::InvalidConfig:
        return QStringLiteral("invalid configuration");
    case ErrorKind::Resolve:
        return QStringLiteral("cannot resolve host");
    case ErrorKind::Refused:
        return QStringLiteral("connection refused");
    case ErrorKind::Unreachable:
        return QStringLiteral("unreachable");
    case ErrorKind::Timeout:
        return QStringLiteral("timeout");
    case ErrorKind::AuthFailed:
        return QStringLiteral("authentication failed");
    case ErrorKind::NoPerm:
        return QStringLiteral("permission denied");
    case ErrorKind::Tls:
        return QStringLiteral("TLS failure");
    case ErrorKind::Protocol:
        return QStringLiteral("protocol error");
    case ErrorKind::Server:
        return QStringLiteral("server error");
    case ErrorKind::ConnectionClosed:
        return QStringLiteral("connection closed");
    case ErrorKind::NoScript:
        return QStringLiteral("script not loaded");
    case ErrorKind::PoolExhausted:
        return QStringLiteral("no free connection");
    case ErrorKind::Io:
        return QStringLiteral("I/O error");
    }
    return QStringLiteral("error");
}

QString RedisError::toString() const
{
    QString text = node.isEmpty() ? kindName(kind) : node + QStringLiteral(": ") + kindName(kind);
    if (!message.isEmpty())
        text += QStringLiteral(": ") + message;
    return text;
}

RedisError RedisError::fromServerReply(const QString &node, const QByteArray &errorText)
{
    const QString text = QString::fromUtf8(errorText);
    auto startsWith = [&](const char *prefix) {
        return errorText.startsWith(prefix);
    };
    ErrorKind kind = ErrorKind::Server;
    if (startsWith("NOPERM"))
        kind = ErrorKind::NoPerm;
    else if (startsWith("WRONGPASS") || startsWith("NOAUTH") || startsWith("ERR invalid password") ||
             startsWith("ERR invalid username-password") || startsWith("ERR AUTH"))
        kind = ErrorKind::AuthFailed;
    else if (startsWith("NOSCRIPT"))
        kind = ErrorKind::NoScript;
    return RedisError{kind, node, text};
}

} // namespace lockscope::redis
