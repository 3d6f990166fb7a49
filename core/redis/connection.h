#pragma once

#include "nodeconfig.h"
#include "redisreply.h"

#include <QByteArrayView>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace lockscope::redis {

class Script;

/// One connection to one Redis node: a POSIX socket (TCP or unix), optionally wrapped in
/// OpenSSL TLS, carrying bytes; hiredis encodes commands and decodes replies.
///
/// Not a QObject and not bound to a thread: any thread may use it, one thread at a time
/// (the pool hands it out exclusively). All calls block with poll()-based timeouts: the
/// connect timeout for connect + TLS + handshake, the command timeout for each reply.
///
/// The connection connects lazily on first use and reconnects by itself after it was dropped
/// (server restart, idle timeout, reset). A command that was in flight when the connection
/// broke is reported as an error and never silently re-sent, because it may have run.
class Connection
{
public:
    explicit Connection(NodeConfig config);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    const NodeConfig &config() const;
    /// The node label used in every error of this connection.
    const QString &node() const;

    /// Opens the socket, does TLS and the handshake (AUTH [user] password, SELECT db,
    /// CLIENT SETNAME) within the connect timeout. Closes any previous socket first.
    Result<void> connect();
    /// Same, within `timeout` instead of the configured connect timeout (a Redlock attempt
    /// bounds a reconnect by its per-node timeout).
    Result<void> connect(std::chrono::milliseconds timeout);
    void close();
    bool isConnected() const;
    /// How many times a dropped connection was re-established (not counting the first connect).
    quint64 reconnectCount() const;

    /// One command, one round trip. An error reply becomes a RedisError (Server, NoPerm,
    /// AuthFailed or NoScript) carrying the server's text.
    Result<RedisReply> command(std::initializer_list<QByteArrayView> args);
    Result<RedisReply> command(std::span<const QByteArray> args);

    /// Pipelining: queue commands with append(), send them with flush(), then call
    /// readReply() once per command, in order. Error replies are returned as replies here.
    /// Used directly for multi-node fan-out: flush to every node first, then read.
    void append(std::initializer_list<QByteArrayView> args);
    void append(std::span<const QByteArray> args);
    /// Number of commands appended or flushed whose replies have not been read yet.
    qsizetype pendingReplies() const;
    Result<void> flush();
    Result<RedisReply> readReply();
    /// Same, waiting until `deadline` instead of one command timeout (a Redlock attempt
    /// bounds every node by a timeout much shorter than the lock's TTL).
    Result<RedisReply> readReply(std::chrono::steady_clock::time_point deadline);

    /// A late reply's guard: when the next readReply() (with a deadline) runs out of time, the
    /// command `argv` is written on this same socket before it is dropped. The server executes
    /// one connection's commands in order, so a command that a stalled server runs after our
    /// timeout is followed by `argv` (an owner-checked undo) and cannot leave a grant behind
    /// that nobody knows of. Best effort: written only if the socket takes it at once (it is
    /// small). Disarmed by the next readReply(), whatever its outcome; `argv` must stay valid
    /// until then (it is encoded only if the timeout happens).
    void armUndoOnTimeout(std::span<const QByteArray> argv);
    /// Whether the last readReply() timed out and wrote the armed undo before dropping the socket.
    bool undoWritten() const;
    /// Whether a write now would first have to connect: never connected, dropped, or closed by
    /// the server while idle (a non-blocking check, made only after a quiet spell). A dead
    /// socket found this way is closed. Lets a multi-node caller write to every ready node
    /// before it spends time connecting to the others.
    bool needsConnect();

    /// Pub/sub: after SUBSCRIBE / PSUBSCRIBE (append + flush, then readReply for each
    /// confirmation), returns the next message the server pushes, or nullopt when none came
    /// within `wait`. Unlike a command timeout, that leaves the connection open.
    Result<std::optional<RedisReply>> readPush(std::chrono::milliseconds wait);
    /// Same, and the wait also ends (nullopt) as soon as `interruptFd` is readable (an eventfd
    /// or pipe another thread writes to: a subscriber thread that has commands to send).
    /// The caller drains `interruptFd`.
    Result<std::optional<RedisReply>> readPush(std::chrono::milliseconds wait, int interruptFd);

    /// After the last UNSUBSCRIBE was confirmed: the connection carries commands again, and is
    /// checked for a close by the server before its next write like any idle connection.
    void endPushMode();

    /// Sends all commands in one write and reads all replies. Error replies stay in place.
    Result<std::vector<RedisReply>> pipeline(std::span<const std::vector<QByteArray>> commands);

    /// EVALSHA, falling back to EVAL when the server answers NOSCRIPT. Error replies of the
    /// script itself become RedisError::Server.
    Result<RedisReply> eval(const Script &script, std::span<const QByteArray> keys,
                            std::span<const QByteArray> args);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace lockscope::redis
