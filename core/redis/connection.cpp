#include "connection.h"

#include "replyreader.h"
#include "script.h"
#include "tlscontext.h"
#include "util/cpus.h"
#include "util/logging.h"

#include <QVarLengthArray>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace lockscope::redis {

using detail::Clock;
using detail::TlsSession;
using detail::waitFd;

namespace {

// A connection that answered this recently is assumed alive; an older one is checked for a
// close by the server before it is written to.
constexpr auto kLivenessCheckAfter = std::chrono::milliseconds(20);

// Process-wide bound on threads busy-polling for replies: one usable CPU is always left for
// the rest of the process and for a Redis server on the same machine. Usable CPUs (affinity,
// cgroup quota), not the host's cores: in a 1-CPU container on a 64-core host one thread may
// spin, not 63.
class SpinSlot
{
public:
    SpinSlot()
    {
        static const int limit = std::max(1, util::usableCpuCount() - 1);
        m_acquired = s_spinning.fetch_add(1, std::memory_order_relaxed) < limit;
        if (!m_acquired)
            s_spinning.fetch_sub(1, std::memory_order_relaxed);
    }
    ~SpinSlot()
    {
        if (m_acquired)
            s_spinning.fetch_sub(1, std::memory_order_relaxed);
    }
    SpinSlot(const SpinSlot &) = delete;
    SpinSlot &operator=(const SpinSlot &) = delete;
    bool acquired() const { return m_acquired; }

private:
    static inline std::atomic<int> s_spinning{0};
    bool m_acquired = false;
};

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

QString describeConnectError(int error, const QString &address)
{
    if (error == ECONNREFUSED)
        return QStringLiteral("nothing is listening on %1").arg(address);
    if (error == ENOENT)
        return QStringLiteral("no socket at %1").arg(address);
    return QStringLiteral("%1 (%2)").arg(errnoText(error), address);
}

// Stack storage for the argv of typical commands.
struct ArgVector
{
    QVarLengthArray<const char *, 16> argv;
    QVarLengthArray<size_t, 16> lengths;
    void add(const char *data, qsizetype size)
    {
        argv.append(data ? data : "");
        lengths.append(static_cast<size_t>(size));
    }
};

} // namespace

struct Connection::Private
{
    explicit Private(NodeConfig c) : config(std::move(c)), node(config.label()) {}

    NodeConfig config;
    QString node;
    int fd = -1;
    std::unique_ptr<TlsSession> tls;
    std::unique_ptr<ReplyReader> reader;
    // Bytes received but not yet fed to the reader. hiredis moves its unparsed rest to the front
    // of its buffer whenever 1 KB has been parsed, so feeding it a whole 16 KB read at once
    // costs a memmove of up to 15 KB per kilobyte of replies; small slices keep that move short.
    static constexpr std::size_t kInputSize = 16384;
    static constexpr std::size_t kFeedSlice = 1024;
    std::unique_ptr<char[]> input = std::make_unique<char[]>(kInputSize);
    std::size_t inputPos = 0;
    std::size_t inputLen = 0;
    QByteArray out;         // encoded commands not yet written
    qsizetype queued = 0;   // commands in `out`
    qsizetype inflight = 0; // commands written whose replies are not read yet
    bool everConnected = false;
    quint64 reconnects = 0;
    bool readFirst = false;      // last read filled the buffer: more may be waiting, skip poll()
    Clock::time_point lastReply; // when the last reply arrived (liveness check)
    std::chrono::milliseconds connectBudget{0}; // timeout of the connect in progress
    bool pushMode = false;                      // subscribed: the server sends messages nobody asked for
    std::span<const QByteArray>
        undoOnTimeout; // armUndoOnTimeout(): written before a timed-out socket is dropped
    bool undoWritten = false;
    // Plain sockets block in recv() with SO_RCVTIMEO after connecting: one syscall per reply
    // instead of poll() + recv(), which is what keeps a round trip at bare-hiredis speed.
    bool blockingReads = false;
    std::chrono::microseconds recvTimeout{-1}; // current SO_RCVTIMEO

    ~Private() { closeSocket(); }

    void closeSocket()
    {
        tls.reset();
        if (fd >= 0)
            ::close(fd);
        fd = -1;
        reader.reset();
        inputPos = inputLen = 0;
        out.clear();
        queued = 0;
        inflight = 0;
        readFirst = false;
        blockingReads = false;
        recvTimeout = std::chrono::microseconds(-1);
        pushMode = false;
    }

    /// Busy-polls for reply bytes for up to config.spin (and never past the deadline), if
    /// this thread may spin now. True when bytes are waiting.
    bool spinUntilReadable(Clock::time_point deadline)
    {
        SpinSlot slot;
        if (!slot.acquired())
            return false;
        const auto end = std::min(deadline, Clock::now() + config.spin);
        do {
            if (tls && tls->hasPending())
                return true;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 0) != 0)
                return true; // readable, hung up, or an error for the read to report
        } while (Clock::now() < end);
        return false;
    }

    /// Makes SO_RCVTIMEO no longer than `left` (and not much shorter), so a blocking recv()
    /// honours the deadline. Only changes the option when needed: usually never.
    bool fitRecvTimeout(std::chrono::microseconds left)
    {
        using std::chrono::microseconds;
        // A shorter timeout than needed only costs an extra wake-up and loop, so the option
        // is changed when it would overshoot the deadline or is far too short.
        if (recvTimeout.count() >= 0 && recvTimeout <= left + microseconds(1000) && recvTimeout * 16 >= left)
            return true;
        const microseconds value = std::max(left, microseconds(1000));
        const timeval tv{static_cast<time_t>(value.count() / 1'000'000),
                         static_cast<suseconds_t>(value.count() % 1'000'000)};
        if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
            return false;
        recvTimeout = value;
        return true;
    }

    /// The armed undo, written without waiting; then whatever already arrived is read and
    /// thrown away, so that close() ends the stream with a FIN (unread input would make the
    /// kernel send a reset, and a reset can discard the undo before the server reads it).
    bool writeUndoBeforeDrop()
    {
        // Encoded only now: arming it costs nothing on the path where replies come in time.
        const QByteArray pendingOut = std::exchange(out, QByteArray());
        const qsizetype pendingQueued = queued;
        ArgVector a;
        for (const QByteArray &arg : std::exchange(undoOnTimeout, {}))
            a.add(arg.constData(), arg.size());
        encode(a);
        const QByteArray undo = std::exchange(out, pendingOut);
        queued = pendingQueued;
        size_t done = 0;
        if (tls) {
            if (tls->write(undo.constData(), static_cast<size_t>(undo.size()), done) != TlsSession::Io::Ok ||
                done != static_cast<size_t>(undo.size()))
                return false;
        } else {
            const ssize_t n =
                ::send(fd, undo.constData(), static_cast<size_t>(undo.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n != undo.size())
                return false;
            char sink[4096];
            while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
            }
        }
        undoWritten = true;
        return true;
    }

    // Any I/O failure leaves the byte stream in an unknown state (a reply may still be on
    // its way), so the socket is closed; the next call reconnects.
    std::unexpected<RedisError> broken(ErrorKind kind, const QString &message)
    {
        closeSocket();
        return fail(kind, node, message);
    }

    /// RESP encoding of one command, written straight into `out`: hiredis'
    /// redisFormatCommandArgv formats every length with sprintf into a buffer of its own, which
    /// cost more than everything else in a pipelined scan of short commands.
    void encode(const ArgVector &args)
    {
        const auto digits = [](std::size_t n) {
            qsizetype d = 1;
            while (n >= 10) {
                n /= 10;
                ++d;
            }
            return d;
        };
        const qsizetype argc = args.argv.size();
        qsizetype size = 3 + digits(std::size_t(argc));
        for (const std::size_t length : args.lengths)
            size += 5 + digits(length) + qsizetype(length);
        const qsizetype at = out.size();
        out.resize(at + size);
        char *p = out.data() + at;
        const auto header = [&p](char kind, std::size_t n) {
            *p++ = kind;
            p = std::to_chars(p, p + 20, n).ptr;
            *p++ = '\r';
            *p++ = '\n';
        };
        header('*', std::size_t(argc));
        for (qsizetype i = 0; i < argc; ++i) {
            header('$', args.lengths[i]);
            if (args.lengths[i] > 0)
                std::memcpy(p, args.argv[i], args.lengths[i]);
            p += args.lengths[i];
            *p++ = '\r';
            *p++ = '\n';
        }
        Q_ASSERT(p == out.data() + out.size());
        ++queued;
    }

    Result<void> openSocket(Clock::time_point deadline);
    Result<void> connectTcp(Clock::time_point deadline);
    Result<void> connectUnix(Clock::time_point deadline);
    Result<void> finishConnect(int socketFd, Clock::time_point deadline, const QString &what);
    Result<void> handshake(Clock::time_point deadline);
    Result<void> connect(std::chrono::milliseconds timeout);
    Result<void> ensureConnected();
    Result<void> writeAll(Clock::time_point deadline);
    Result<RedisReply> read(Clock::time_point deadline, bool stream = false);
};

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

Result<void> Connection::Private::writeAll(Clock::time_point deadline)
{
    qsizetype written = 0;
    while (written < out.size()) {
        const char *data = out.constData() + written;
        const auto size = static_cast<size_t>(out.size() - written);
        size_t done = 0;
        short waitFor = POLLOUT;
        if (tls) {
            switch (tls->write(data, size, done)) {
            case TlsSession::Io::Ok:
                written += static_cast<qsizetype>(done);
                continue;
            case TlsSession::Io::WantRead:
                waitFor = POLLIN;
                break;
            case TlsSession::Io::WantWrite:
                break;
            case TlsSession::Io::Closed:
                return broken(ErrorKind::ConnectionClosed, QStringLiteral("connection closed by the server"));
            case TlsSession::Io::Error:
                return broken(ErrorKind::Tls, tls->errorText());
            }
        } else {
            const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                written += n;
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                const int error = errno;
                return broken(error == EPIPE || error == ECONNRESET ? ErrorKind::ConnectionClosed
                                                                    : ErrorKind::Io,
                              errnoText(error));
            }
        }
        const int ready = waitFd(fd, waitFor, deadline);
        if (ready == 0)
            return broken(ErrorKind::Timeout,
                          QStringLiteral("could not send within %1 ms").arg(config.commandTimeout.count()));
        if (ready < 0)
            return broken(ErrorKind::Io, errnoText(errno));
    }
    out.clear();
    return {};
}

Result<RedisReply> Connection::Private::read(Clock::time_point deadline, bool stream)
{
    // A command's reply that comes too late would be taken for the next command's, so a
    // timeout closes the connection; a pub/sub stream has no such pairing and stays open.
    auto timedOut = [this, stream](const QString &text) {
        if (stream)
            return fail(ErrorKind::Timeout, node, text);
        if (!undoOnTimeout.empty() && writeUndoBeforeDrop())
            return broken(ErrorKind::Timeout, text + QStringLiteral(" (undo queued on the same connection)"));
        return broken(ErrorKind::Timeout, text);
    };
    // The budget is worded only when it ran out: formatting it costs more than a pipelined reply.
    const Clock::time_point started = Clock::now();
    auto timedOutText = [&] {
        return QStringLiteral("no reply within %1 ms")
            .arg(std::max<qint64>(
                0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - started).count()));
    };
    for (;;) {
        auto next = reader->next();
        if (!next)
            return broken(ErrorKind::Protocol, next.error());
        if (*next) {
            if (inflight > 0)
                --inflight;
            lastReply = Clock::now();
            return std::move(**next);
        }
        if (inputPos < inputLen) {
            const std::size_t slice = std::min(kFeedSlice, inputLen - inputPos);
            if (auto fed = reader->feed(input.get() + inputPos, slice); !fed)
                return broken(ErrorKind::Protocol, fed.error());
            inputPos += slice;
            continue;
        }
        char *buffer = input.get();
        const std::size_t bufferSize = kInputSize;
        bool tryFirst = readFirst || (tls && tls->hasPending());
        if (!tryFirst && config.spin.count() > 0 && !stream)
            tryFirst = spinUntilReadable(deadline);
        bool blockInRecv = false;
        if (!tryFirst && blockingReads) {
            const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
            blockInRecv = left.count() > 0 && fitRecvTimeout(left);
        }
        if (!tryFirst && !blockInRecv) {
            const int ready = waitFd(fd, POLLIN, deadline);
            if (ready == 0)
                return timedOut(timedOutText());
            if (ready < 0)
                return broken(ErrorKind::Io, errnoText(errno));
        }
        size_t got = 0;
        if (tls) {
            switch (tls->read(buffer, bufferSize, got)) {
            case TlsSession::Io::Ok:
                break;
            case TlsSession::Io::WantRead:
            case TlsSession::Io::WantWrite:
                readFirst = false;
                continue;
            case TlsSession::Io::Closed:
                return broken(ErrorKind::ConnectionClosed, QStringLiteral("connection closed by the server"));
            case TlsSession::Io::Error:
                return broken(ErrorKind::Tls, tls->errorText());
            }
        } else {
            const ssize_t n = ::recv(fd, buffer, bufferSize, blockInRecv ? 0 : MSG_DONTWAIT);
            if (n == 0)
                return broken(ErrorKind::ConnectionClosed, QStringLiteral("connection closed by the server"));
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    readFirst = false;
                    if (blockInRecv && Clock::now() >= deadline)
                        return timedOut(timedOutText());
                    continue;
                }
                const int error = errno;
                return broken(error == ECONNRESET ? ErrorKind::ConnectionClosed : ErrorKind::Io,
                              errnoText(error));
            }
            got = static_cast<size_t>(n);
        }
        readFirst = got == bufferSize;
        inputPos = 0;
        inputLen = got;
    }
}

Connection::Connection(NodeConfig config) : d(std::make_unique<Private>(std::move(config))) {}

Connection::~Connection() = default;

const NodeConfig &Connection::config() const
{
    return d->config;
}

const QString &Connection::node() const
{
    return d->node;
}

Result<void> Connection::connect()
{
    return d->connect(d->config.connectTimeout);
}

Result<void> Connection::connect(std::chrono::milliseconds timeout)
{
    return d->connect(timeout);
}

void Connection::close()
{
    d->closeSocket();
}

bool Connection::isConnected() const
{
    return d->fd >= 0;
}

quint64 Connection::reconnectCount() const
{
    return d->reconnects;
}

void Connection::append(std::initializer_list<QByteArrayView> args)
{
    ArgVector a;
    for (const QByteArrayView &arg : args)
        a.add(arg.data(), arg.size());
    d->encode(a);
}

void Connection::append(std::span<const QByteArray> args)
{
    ArgVector a;
    for (const QByteArray &arg : args)
        a.add(arg.constData(), arg.size());
    d->encode(a);
}

qsizetype Connection::pendingReplies() const
{
    return d->queued + d->inflight;
}

Result<void> Connection::flush()
{
    if (d->queued == 0)
        return {};
    if (auto c = d->ensureConnected(); !c)
        return c;
    d->inflight += d->queued;
    d->queued = 0;
    return d->writeAll(Clock::now() + d->config.commandTimeout);
}

Result<RedisReply> Connection::readReply()
{
    return readReply(Clock::now() + d->config.commandTimeout);
}

Result<RedisReply> Connection::readReply(std::chrono::steady_clock::time_point deadline)
{
    d->undoWritten = false;
    if (d->inflight == 0) {
        // Queued, not yet sent (a command appended after a NOSCRIPT): sent now, with the undo
        // still armed for its reply.
        if (d->queued == 0) {
            d->undoOnTimeout = {};
            return fail(ErrorKind::Protocol, d->node,
                        QStringLiteral("readReply() without a pending command"));
        }
        if (auto f = flush(); !f) {
            d->undoOnTimeout = {};
            return std::unexpected(f.error());
        }
    }
    auto reply = d->read(deadline);
    d->undoOnTimeout = {};
    return reply;
}

void Connection::armUndoOnTimeout(std::span<const QByteArray> argv)
{
    d->undoOnTimeout = argv;
}

void Connection::endPushMode()
{
    d->pushMode = false;
}

bool Connection::undoWritten() const
{
    return d->undoWritten;
}

bool Connection::needsConnect()
{
    if (d->fd >= 0 && d->inflight == 0 && !d->pushMode && Clock::now() - d->lastReply > kLivenessCheckAfter) {
        pollfd p{d->fd, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0 && !(d->tls && d->tls->hasPending()))
            d->closeSocket(); // closed by the server (or an error sent before closing)
    }
    return d->fd < 0;
}

Result<std::optional<RedisReply>> Connection::readPush(std::chrono::milliseconds wait)
{
    if (d->fd < 0)
        return fail(ErrorKind::ConnectionClosed, d->node, QStringLiteral("not connected (subscribe first)"));
    if (d->queued > 0) {
        if (auto f = flush(); !f)
            return std::unexpected(f.error());
    }
    d->pushMode = true;
    auto reply = d->read(Clock::now() + wait, true);
    if (!reply && reply.error().kind == ErrorKind::Timeout && d->fd >= 0)
        return std::optional<RedisReply>();
    if (!reply)
        return std::unexpected(reply.error());
    return std::optional<RedisReply>(std::move(*reply));
}

Result<std::vector<RedisReply>> Connection::pipeline(std::span<const std::vector<QByteArray>> commands)
{
    for (const auto &command : commands)
        append(std::span<const QByteArray>(command));
    if (auto f = flush(); !f)
        return std::unexpected(f.error());
    std::vector<RedisReply> replies;
    replies.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) {
        auto reply = d->read(Clock::now() + d->config.commandTimeout);
        if (!reply)
            return std::unexpected(reply.error());
        replies.push_back(std::move(*reply));
    }
    return replies;
}

namespace {
Result<RedisReply> errorReplyToError(const QString &node, Result<RedisReply> reply)
{
    if (reply && reply->isError())
        return std::unexpected(RedisError::fromServerReply(node, reply->bytes()));
    return reply;
}
} // namespace

Result<RedisReply> Connection::command(std::initializer_list<QByteArrayView> args)
{
    if (pendingReplies() != 0)
        return fail(ErrorKind::Protocol, d->node,
                    QStringLiteral("command() while pipelined replies are pending"));
    append(args);
    return errorReplyToError(d->node, readReply());
}

Result<RedisReply> Connection::command(std::span<const QByteArray> args)
{
    if (pendingReplies() != 0)
        return fail(ErrorKind::Protocol, d->node,
                    QStringLiteral("command() while pipelined replies are pending"));
    append(args);
    return errorReplyToError(d->node, readReply());
}

Result<RedisReply> Connection::eval(const Script &script, std::span<const QByteArray> keys,
                                    std::span<const QByteArray> args)
{
    std::vector<QByteArray> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv.emplace_back(QByteArrayLiteral("EVALSHA"));
    argv.push_back(script.sha1());
    argv.push_back(QByteArray::number(static_cast<qulonglong>(keys.size())));
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    auto reply = command(std::span<const QByteArray>(argv));
    if (reply || reply.error().kind != ErrorKind::NoScript)
        return reply;
    // The server lost its script cache (restart, failover, SCRIPT FLUSH): send the source.
    // EVAL caches it again, so the next EVALSHA succeeds.
    argv[0] = QByteArrayLiteral("EVAL");
    argv[1] = script.source();
    return command(std::span<const QByteArray>(argv));
}

} // namespace lockscope::redis
