#pragma once

#include <QMetaType>
#include <QString>
#include <expected>

namespace lockscope::redis {

/// What went wrong talking to a node. Every error names the node it came from, so that a
/// failure in a multi-node operation can be reported per node.
enum class ErrorKind
{
    InvalidConfig,    ///< malformed URL / JSON / option; nothing was contacted
    Resolve,          ///< host name did not resolve
    Refused,          ///< TCP connection refused / unix socket missing
    Unreachable,      ///< network unreachable, host down, other connect() failures
    Timeout,          ///< connect, handshake or command did not complete in time
    AuthFailed,       ///< AUTH rejected (wrong password / user) or NOAUTH
    NoPerm,           ///< ACL denied a command (NOPERM)
    ReadOnlyReplica,  ///< a write sent to a replica (READONLY): the node is not the master
    OutOfMemory,      ///< maxmemory reached and the command would add data (OOM)
    WrongType,        ///< the key holds another data type than the command works on (WRONGTYPE)
    Tls,              ///< TLS handshake or certificate verification failed
    NotTls,           ///< a rediss:// URL, and the server answers plain RESP on that port
    Protocol,         ///< the peer sent bytes that are not RESP
    Server,           ///< the server answered with an error reply
    ConnectionClosed, ///< the peer closed the connection or it was reset
    NoScript,         ///< EVALSHA on a script the server does not know (handled internally)
    PoolExhausted,    ///< no pooled connection became free within the wait time
    Io,               ///< any other socket error
};

struct RedisError
{
    ErrorKind kind = ErrorKind::Io;
    QString node;    ///< node label (name or host:port), never contains secrets
    QString message; ///< human-readable cause, e.g. the server's error text or the TLS reason

    /// "node: kind: message", the one-line form used by lockctl and the GUI log.
    QString toString() const;
    static QString kindName(ErrorKind kind);

    /// Classifies a server error reply by its error code ("NOPERM ...", "WRONGPASS ...", "READONLY
    /// ...", "OOM ...", "WRONGTYPE ...", "NOSCRIPT ..."); a reply without a known code is Server.
    /// Errors a script's redis.call() raised carry the same codes (Redis 7 passes them through).
    static RedisError fromServerReply(const QString &node, const QByteArray &errorText);
};

template <typename T>
using Result = std::expected<T, RedisError>;

inline std::unexpected<RedisError> fail(ErrorKind kind, const QString &node, const QString &message)
{
    return std::unexpected(RedisError{kind, node, message});
}

} // namespace lockscope::redis

Q_DECLARE_METATYPE(lockscope::redis::RedisError)
