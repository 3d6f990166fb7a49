// Opening a Connection: the TCP or unix socket (non-blocking connect within the deadline),
// TLS, and the handshake (AUTH, SELECT, CLIENT SETNAME) in one round trip; also the reconnect
// before a write when the server closed an idle connection.

#include "connectionprivate.h"
#include "util/logging.h"

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace lockscope::redis {

namespace {

QString describeConnectError(int error, const QString &address)
{
    if (error == ECONNREFUSED)
        return QStringLiteral("nothing is listening on %1").arg(address);
    if (error == ENOENT)
        return QStringLiteral("no socket at %1").arg(address);
    return QStringLiteral("%1 (%2)").arg(errnoText(error), address);
}

} // namespace

Result<void> Connection::Private::finishConnect(int socketFd, Clock::time_point deadline, const QString &what)
{
    const int ready = waitFd(socketFd, POLLOUT, deadline);
    if (ready == 0) {
        ::close(socketFd);
        return fail(ErrorKind::Timeout, node,
                    QStringLiteral("no answer from %1 within %2 ms").arg(what).arg(connectBudget.count()));
    }
    int error = 0;
    socklen_t length = sizeof error;
    if (ready < 0)
        error = errno;
    else if (::getsockopt(socketFd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        error = errno;
    if (error != 0) {
        ::close(socketFd);
        const ErrorKind kind = (error == ECONNREFUSED || error == ENOENT) ? ErrorKind::Refused
                               : error == ETIMEDOUT                       ? ErrorKind::Timeout
                                                                          : ErrorKind::Unreachable;
        return fail(kind, node, describeConnectError(error, what));
    }
    fd = socketFd;
    return {};
}

Result<void> Connection::Private::connectTcp(Clock::time_point deadline)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo *list = nullptr;
    const QByteArray host = config.host.toUtf8();
    const QByteArray port = QByteArray::number(config.port);
    const int rc = ::getaddrinfo(host.constData(), port.constData(), &hints, &list);
    if (rc != 0) {
        return fail(ErrorKind::Resolve, node,
                    QStringLiteral("cannot resolve \"%1\": %2")
                        .arg(config.host, QString::fromLocal8Bit(gai_strerror(rc))));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(list, &freeaddrinfo);
    RedisError last{ErrorKind::Unreachable, node, QStringLiteral("no address for \"%1\"").arg(config.host)};
    for (addrinfo *ai = list; ai; ai = ai->ai_next) {
        const int s =
            ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (s < 0) {
            last = RedisError{ErrorKind::Io, node, errnoText(errno)};
            continue;
        }
        const int one = 1;
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        char text[INET6_ADDRSTRLEN] = {};
        const void *addr =
            ai->ai_family == AF_INET6
                ? static_cast<const void *>(&reinterpret_cast<sockaddr_in6 *>(ai->ai_addr)->sin6_addr)
                : static_cast<const void *>(&reinterpret_cast<sockaddr_in *>(ai->ai_addr)->sin_addr);
        ::inet_ntop(ai->ai_family, addr, text, sizeof text);
        const QString what = QString::fromLatin1(text) + QLatin1Char(':') + QString::fromLatin1(port);
        if (::connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
            fd = s;
            return {};
        }
        if (errno != EINPROGRESS) {
            const int error = errno;
            ::close(s);
            last = RedisError{error == ECONNREFUSED ? ErrorKind::Refused : ErrorKind::Unreachable, node,
                              describeConnectError(error, what)};
            continue;
        }
        auto done = finishConnect(s, deadline, what);
        if (done)
            return {};
        last = done.error();
        if (last.kind == ErrorKind::Timeout)
            break;
    }
    return std::unexpected(last);
}

Result<void> Connection::Private::connectUnix(Clock::time_point deadline)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const QByteArray path = config.unixPath.toLocal8Bit();
    if (path.size() >= static_cast<qsizetype>(sizeof addr.sun_path))
        return fail(ErrorKind::InvalidConfig, node,
                    QStringLiteral("socket path is longer than %1 bytes").arg(sizeof addr.sun_path - 1));
    std::memcpy(addr.sun_path, path.constData(), static_cast<size_t>(path.size()));
    const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return fail(ErrorKind::Io, node, errnoText(errno));
    if (::connect(s, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0) {
        fd = s;
        return {};
    }
    if (errno != EINPROGRESS && errno != EAGAIN) {
        const int error = errno;
        ::close(s);
        const ErrorKind kind =
            (error == ENOENT || error == ECONNREFUSED) ? ErrorKind::Refused : ErrorKind::Unreachable;
        return fail(kind, node, describeConnectError(error, config.unixPath));
    }
    return finishConnect(s, deadline, config.unixPath);
}

Result<void> Connection::Private::openSocket(Clock::time_point deadline)
{
    auto opened =
        config.transport == NodeConfig::Transport::Unix ? connectUnix(deadline) : connectTcp(deadline);
    if (!opened)
        return opened;
    if (config.tls.enabled && config.transport == NodeConfig::Transport::Tcp) {
        auto session = TlsSession::handshake(fd, config, node, deadline);
        if (!session) {
            const RedisError error = session.error();
            closeSocket();
            return std::unexpected(error);
        }
        tls = std::move(*session);
    }
    reader = ReplyReader::create();
    if (!reader)
        return broken(ErrorKind::Io, QStringLiteral("out of memory for the reply reader"));
    if (!tls) {
        const int flags = ::fcntl(fd, F_GETFL);
        blockingReads = flags >= 0 && ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0;
    }
    return {};
}

Result<void> Connection::Private::handshake(Clock::time_point deadline)
{
    enum Step
    {
        Auth,
        Select,
        SetName
    };
    QVarLengthArray<Step, 3> steps;
    if (!config.password.isEmpty()) {
        ArgVector a;
        const QByteArray user = config.username.toUtf8();
        const QByteArray pass = config.password.toUtf8();
        a.add("AUTH", 4);
        if (!config.username.isEmpty())
            a.add(user.constData(), user.size());
        a.add(pass.constData(), pass.size());
        encode(a);
        steps.append(Auth);
    }
    if (config.db != 0) {
        ArgVector a;
        const QByteArray db = QByteArray::number(config.db);
        a.add("SELECT", 6);
        a.add(db.constData(), db.size());
        encode(a);
        steps.append(Select);
    }
    if (!config.clientName.isEmpty()) {
        ArgVector a;
        QByteArray name = config.clientName.toUtf8();
        name.replace(' ', '-'); // CLIENT SETNAME rejects spaces
        a.add("CLIENT", 6);
        a.add("SETNAME", 7);
        a.add(name.constData(), name.size());
        encode(a);
        steps.append(SetName);
    }
    if (steps.isEmpty())
        return {};
    // One round trip for the whole handshake.
    inflight += queued;
    queued = 0;
    if (auto w = writeAll(deadline); !w)
        return w;
    std::optional<RedisError> firstError;
    for (const Step step : steps) {
        auto reply = read(deadline);
        if (!reply)
            return std::unexpected(reply.error());
        if (!reply->isError() || firstError)
            continue;
        RedisError error = RedisError::fromServerReply(node, reply->bytes());
        if (step == Auth) {
            error.kind = ErrorKind::AuthFailed;
            firstError = error;
        } else if (step == SetName && error.kind != ErrorKind::AuthFailed) {
            // The name is cosmetic: a least-privilege user may not run CLIENT.
            qCDebug(lcRedis) << node << "CLIENT SETNAME refused:" << reply->bytes();
        } else {
            firstError = error;
        }
    }
    if (firstError) {
        closeSocket();
        return std::unexpected(*firstError);
    }
    return {};
}

Result<void> Connection::Private::connect(std::chrono::milliseconds timeout)
{
    const bool wasConnected = everConnected;
    closeSocket();
    connectBudget = timeout;
    const auto deadline = Clock::now() + timeout;
    if (auto opened = openSocket(deadline); !opened)
        return opened;
    if (auto shaken = handshake(deadline); !shaken)
        return shaken;
    everConnected = true;
    if (wasConnected)
        ++reconnects;
    qCDebug(lcRedis) << node << "connected";
    return {};
}

Result<void> Connection::Private::ensureConnected()
{
    if (fd >= 0 && inflight == 0 && !pushMode && Clock::now() - lastReply > kLivenessCheckAfter) {
        // With nothing in flight, readable means the server closed the connection (restart,
        // idle timeout, CLIENT KILL) or sent an error before closing: reconnect before
        // writing, so that a command is never lost to a connection that is already dead.
        // Checked only after a quiet spell, which keeps the syscall off the hot path.
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0 && !(tls && tls->hasPending())) {
            qCDebug(lcRedis) << node << "connection was closed by the server; reconnecting";
            const QByteArray pendingOut = out;
            const qsizetype pendingQueued = queued;
            closeSocket();
            out = pendingOut;
            queued = pendingQueued;
        }
    }
    if (fd >= 0)
        return {};
    const QByteArray pendingOut = out;
    const qsizetype pendingQueued = queued;
    if (auto c = connect(config.connectTimeout); !c)
        return c;
    out = pendingOut;
    queued = pendingQueued;
    return {};
}
} // namespace lockscope::redis
