#pragma once

// Private to lockscope_core: the state of one Connection, shared by connection.cpp (socket
// reads and writes, the public Connection API) and connectionopen.cpp (opening the socket,
// TLS and the handshake), with the helpers both use (the RESP encoder among them).

#include "connection.h"
#include "replyreader.h"
#include "tlscontext.h"

#include <QVarLengthArray>
#include <charconv>
#include <cstring>
#include <unistd.h>

namespace lockscope::redis {

namespace detail {

// A connection that answered this recently is assumed alive; an older one is checked for a
// close by the server before it is written to.
inline constexpr auto kLivenessCheckAfter = std::chrono::milliseconds(20);

inline QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
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

} // namespace detail

using detail::ArgVector;
using detail::Clock;
using detail::errnoText;
using detail::kLivenessCheckAfter;
using detail::TlsSession;
using detail::waitFd;

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
    int interruptFd = -1; // readPush(wait, interruptFd): readable = stop waiting (stream reads only)
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
    bool spinUntilReadable(Clock::time_point deadline);

    /// Makes SO_RCVTIMEO no longer than `left` (and not much shorter), so a blocking recv()
    /// honours the deadline. Only changes the option when needed: usually never.
    bool fitRecvTimeout(std::chrono::microseconds left);

    /// The armed undo, written without waiting; then whatever already arrived is read and
    /// thrown away, so that close() ends the stream with a FIN (unread input would make the
    /// kernel send a reset, and a reset can discard the undo before the server reads it).
    bool writeUndoBeforeDrop();

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

} // namespace lockscope::redis
