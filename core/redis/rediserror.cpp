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
    case ErrorKind::ReadOnlyReplica:
        return QStringLiteral("read-only replica");
    case ErrorKind::OutOfMemory:
        return QStringLiteral("out of memory");
    case ErrorKind::WrongType:
        return QStringLiteral("wrong type");
    case ErrorKind::Tls:
        return QStringLiteral("TLS failure");
    case ErrorKind::NotTls:
        return QStringLiteral("not a TLS port");
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
    // Redis 7.0 reports an ACL denial inside a script without the NOPERM code (7.2 has it).
    if (startsWith("NOPERM") || startsWith("ERR The user executing the script can't"))
        kind = ErrorKind::NoPerm;
    else if (startsWith("WRONGPASS") || startsWith("NOAUTH") || startsWith("ERR invalid password") ||
             startsWith("ERR invalid username-password") || startsWith("ERR AUTH"))
        kind = ErrorKind::AuthFailed;
    else if (startsWith("NOSCRIPT"))
        kind = ErrorKind::NoScript;
    else if (startsWith("READONLY "))
        kind = ErrorKind::ReadOnlyReplica;
    else if (startsWith("OOM "))
        kind = ErrorKind::OutOfMemory;
    else if (startsWith("WRONGTYPE "))
        kind = ErrorKind::WrongType;
    return RedisError{kind, node, text};
}

} // namespace lockscope::redis
