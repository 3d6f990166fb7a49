// Connection: writing commands and reading replies on an open socket (spin, blocking recv,
// TLS, undo-on-timeout), and the public API (pipelining, pub/sub, commands, EVALSHA). Opening
// the socket and the handshake are in connectionopen.cpp.

#include "connectionprivate.h"
#include "script.h"
#include "util/cpus.h"

#include <atomic>
#include <cerrno>
#include <poll.h>
#include <sys/socket.h>
#include <thread>

namespace lockscope::redis {

namespace {

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

} // namespace

bool Connection::Private::spinUntilReadable(Clock::time_point deadline)
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

bool Connection::Private::fitRecvTimeout(std::chrono::microseconds left)
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

bool Connection::Private::writeUndoBeforeDrop()
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
        if (!tryFirst && blockingReads && !(stream && interruptFd >= 0)) {
            const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
            blockInRecv = left.count() > 0 && fitRecvTimeout(left);
        }
        if (!tryFirst && !blockInRecv) {
            const int ready = waitFd(fd, POLLIN, deadline, stream ? interruptFd : -1);
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
    return readPush(wait, -1);
}

Result<std::optional<RedisReply>> Connection::readPush(std::chrono::milliseconds wait, int interruptFd)
{
    if (d->fd < 0)
        return fail(ErrorKind::ConnectionClosed, d->node, QStringLiteral("not connected (subscribe first)"));
    if (d->queued > 0) {
        if (auto f = flush(); !f)
            return std::unexpected(f.error());
    }
    d->pushMode = true;
    d->interruptFd = interruptFd;
    auto reply = d->read(Clock::now() + wait, true);
    d->interruptFd = -1;
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
    std::vector<QByteArray> argv = script.evalshaCommand(keys, args);
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
