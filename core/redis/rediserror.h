#pragma once

#include <QByteArrayView>
#include <QMetaType>
#include <QString>
#include <expected>
#include <optional>

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
    /// A Redis Cluster node answered MOVED or ASK: it is up, the key's slot is served elsewhere
    /// (RedisError::redirect() says which slot and where). LockScope does not follow redirects.
    ClusterRedirect,
};

/// Where a Redis Cluster node sent a command: "MOVED <slot> <host>:<port>" (the slot is served
/// by another master) or "ASK <slot> <host>:<port>" (the slot is being migrated there and this
/// key is already on the target).
struct ClusterRedirect
{
    enum class Type
    {
        Moved,
        Ask,
    };
    Type type = Type::Moved;
    quint16 slot = 0;
    /// The target's host as the server wrote it, without brackets; empty when the server does not
    /// know the endpoint (Redis then writes "MOVED 3999 :6380": the same host as the node asked).
    QString host;
    quint16 port = 0;

    /// host:port; an IPv6 host in brackets ("[::1]:7000").
    QString address() const;
    /// For people: "key moved: slot 1234 is served by 10.0.0.7:7001 (a Redis Cluster node;
    /// LockScope does not follow cluster redirects yet)"; "key migrating: slot 1234 is migrating
    /// to ..." for ASK.
    QString describe() const;

    /// Parses a MOVED or ASK error reply. The port is what follows the last ':' (Redis writes an
    /// IPv6 address without brackets: "MOVED 1 ::1:7000"; "[::1]:7000" is accepted too). Anything
    /// else (another error, a slot outside 0..16383, no port) gives nullopt.
    static std::optional<ClusterRedirect> parse(QByteArrayView errorText);

    bool operator==(const ClusterRedirect &) const = default;
};

struct RedisError
{
    ErrorKind kind = ErrorKind::Io;
    QString node;    ///< node label (name or host:port), never contains secrets
    QString message; ///< human-readable cause, e.g. the server's error text or the TLS reason

    /// "node: kind: message", the one-line form used by lockctl and the GUI log.
    QString toString() const;
    static QString kindName(ErrorKind kind);

    /// For a ClusterRedirect error: the slot and the node serving it, read back from the message
    /// fromServerReply() wrote (ClusterRedirect::describe()); nullopt for any other error.
    std::optional<ClusterRedirect> redirect() const;

    /// Classifies a server error reply by its error code ("NOPERM ...", "WRONGPASS ...", "READONLY
    /// ...", "OOM ...", "WRONGTYPE ...", "NOSCRIPT ...", "MOVED ...", "ASK ..."); a reply without a
    /// known code is Server. MOVED and ASK become ClusterRedirect with ClusterRedirect::describe()
    /// as the message, when they parse; otherwise they stay Server with the server's text.
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
