#pragma once

#include "nodeconfig.h"

#include <QStringList>
#include <memory>

namespace lockscope::redis {

struct LocalServerOptions
{
    QString executable = QStringLiteral("redis-server");
    QString requirePass;  ///< requirepass for the default user
    QStringList aclUsers; ///< ACL rules, one user each: "alice on >secret ~* +@all"
    bool tls = false;     ///< listen with TLS only (tls-port), using the files below
    QString tlsCertFile;
    QString tlsKeyFile;
    QString tlsCaFile;
    bool tlsAuthClients = false; ///< require client certificates
    bool unixSocket = false;     ///< also listen on a unix socket in the work directory
    QStringList extraArgs;       ///< more "--directive value" arguments
};

/// A redis-server process this program started itself, on a free loopback port (never 6379),
/// without persistence, in a private temporary directory. Used by the demo mode and the tests.
///
/// Thread-agnostic (no QObject). The process is killed when this object is destroyed, and,
/// through PR_SET_PDEATHSIG, when the thread that started it dies, so a crashing test leaves
/// no server behind. Keep the starting thread alive as long as the server should run.
class LocalRedisServer
{
public:
    static Result<std::unique_ptr<LocalRedisServer>> start(LocalServerOptions options = {});
    ~LocalRedisServer();
    LocalRedisServer(const LocalRedisServer &) = delete;
    LocalRedisServer &operator=(const LocalRedisServer &) = delete;

    quint16 port() const;
    qint64 pid() const;
    QString unixSocketPath() const;
    QString workDir() const;
    /// A client configuration for this server: 127.0.0.1:port, TLS on when the server uses it
    /// (CA = tlsCaFile), no credentials.
    NodeConfig nodeConfig() const;
    /// redis:// or rediss:// URL of the server (no credentials).
    QString url() const;

    bool isRunning() const;
    bool isPaused() const;
    /// Removes the temporary directories of local servers whose owning process is gone
    /// (killed with SIGKILL, crashed): lockscope-redis-<pid>-* of this user. start() calls it;
    /// returns how many it removed.
    static int removeOrphanedDirectories();
    /// A loopback port the kernel says is free now (0 when none could be had), never 6379 nor
    /// its cluster bus port 16379: a developer's own Redis may want them. Another process may
    /// take it before it is bound: callers retry with a new one.
    static quint16 freeLoopbackPort();

    /// SIGSTOP: the server keeps its sockets but answers nothing.
    bool pause();
    /// SIGCONT.
    bool resume();
    /// SIGKILL and reap; the data set is lost.
    void kill();
    /// Starts the server again on the same port with the same options (empty data set).
    Result<void> restart();
    /// SIGTERM (SIGKILL after a grace period) and reap.
    void stop();
    /// The last lines of the server's log file, for error messages.
    QString logTail(int lines = 20) const;

private:
    LocalRedisServer();
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace lockscope::redis
