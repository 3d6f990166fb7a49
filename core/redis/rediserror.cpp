#include "rediserror.h"

#include <QRegularExpression>
#include <algorithm>

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
    case ErrorKind::ClusterRedirect:
        return QStringLiteral("cluster redirect");
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
    else if (const auto redirect = ClusterRedirect::parse(errorText))
        return RedisError{ErrorKind::ClusterRedirect, node, redirect->describe()};
    return RedisError{kind, node, text};
}

namespace {

bool isDigits(QByteArrayView text)
{
    return !text.isEmpty() && std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

/// "host:port" with the port after the last ':'; "[v6]:port" too. False when there is no port.
bool splitHostPort(QByteArrayView text, QString &host, quint16 &port)
{
    const qsizetype colon = text.lastIndexOf(':');
    if (colon < 0)
        return false;
    const QByteArrayView portText = text.sliced(colon + 1);
    if (!isDigits(portText) || portText.size() > 5)
        return false;
    const uint value = portText.toUInt();
    if (value == 0 || value > 65535)
        return false;
    QByteArrayView hostText = text.first(colon);
    if (hostText.startsWith('[') && hostText.endsWith(']'))
        hostText = hostText.sliced(1, hostText.size() - 2);
    if (hostText.contains('[') || hostText.contains(']'))
        return false;
    host = QString::fromUtf8(hostText);
    port = quint16(value);
    return true;
}

// The message describe() writes, read back by RedisError::redirect(): RedisError stays a plain
// {kind, node, message} aggregate, so the redirect travels inside its message.
const QRegularExpression &describedPattern()
{
    static const QRegularExpression pattern(
        QStringLiteral("^key (moved|migrating): slot (\\d+) is (?:served by|migrating to) (\\S+) \\("));
    return pattern;
}

} // namespace

std::optional<ClusterRedirect> ClusterRedirect::parse(QByteArrayView errorText)
{
    ClusterRedirect redirect;
    QByteArrayView rest;
    if (errorText.startsWith("MOVED ")) {
        redirect.type = Type::Moved;
        rest = errorText.sliced(6);
    } else if (errorText.startsWith("ASK ")) {
        redirect.type = Type::Ask;
        rest = errorText.sliced(4);
    } else {
        return std::nullopt;
    }
    const qsizetype space = rest.indexOf(' ');
    if (space < 0)
        return std::nullopt;
    const QByteArrayView slotText = rest.first(space);
    QByteArrayView target = rest.sliced(space + 1);
    while (target.endsWith('\r') || target.endsWith('\n'))
        target.chop(1);
    if (!isDigits(slotText) || slotText.size() > 5 || target.isEmpty() || target.contains(' '))
        return std::nullopt;
    const int slot = slotText.toInt();
    if (slot >= 16384)
        return std::nullopt;
    redirect.slot = quint16(slot);
    if (!splitHostPort(target, redirect.host, redirect.port))
        return std::nullopt;
    return redirect;
}

QString ClusterRedirect::address() const
{
    const QString hostText =
        host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return hostText + QLatin1Char(':') + QString::number(port);
}

QString ClusterRedirect::describe() const
{
    const QString where = type == Type::Moved ? QStringLiteral("key moved: slot %1 is served by %2")
                                              : QStringLiteral("key migrating: slot %1 is migrating to %2");
    return where.arg(slot).arg(address()) +
           QStringLiteral(" (a Redis Cluster node; LockScope does not follow cluster redirects yet)");
}

std::optional<ClusterRedirect> RedisError::redirect() const
{
    if (kind != ErrorKind::ClusterRedirect)
        return std::nullopt;
    const QRegularExpressionMatch match = describedPattern().match(message);
    if (!match.hasMatch())
        return std::nullopt;
    ClusterRedirect redirect;
    redirect.type = match.captured(1) == QLatin1String("moved") ? ClusterRedirect::Type::Moved
                                                                : ClusterRedirect::Type::Ask;
    const QString slotText = match.captured(2);
    if (slotText.size() > 5 || slotText.toInt() >= 16384)
        return std::nullopt;
    redirect.slot = quint16(slotText.toInt());
    const QByteArray target = match.captured(3).toUtf8();
    if (!splitHostPort(target, redirect.host, redirect.port))
        return std::nullopt;
    return redirect;
}

} // namespace lockscope::redis
