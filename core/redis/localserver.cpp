#include "localserver.h"

#include "util/logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QUrl>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace lockscope::redis {

namespace {

using namespace std::chrono_literals;

constexpr quint16 kDefaultRedisPort = 6379;
constexpr int kStartAttempts = 5;
constexpr auto kReadyTimeout = 5s;
constexpr auto kPollInterval = 10ms;
constexpr auto kStopGrace = 2s;
const QByteArray kReadyMarker = "Ready to accept connections";

QString nodeLabel(quint16 port)
{
    return QStringLiteral("local redis-server 127.0.0.1:%1").arg(port);
}

bool canConnect(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

QByteArray readFrom(const QString &path, qint64 offset)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    if (offset > 0 && !file.seek(offset))
        return {};
    return file.readAll();
}

/// A rejected directive (unknown option, bad ACL rule, unreadable TLS file) is a configuration
/// error; anything else is an I/O problem.
ErrorKind failureKind(const QString &log)
{
    return log.contains(QLatin1String("FATAL CONFIG FILE ERROR")) ? ErrorKind::InvalidConfig : ErrorKind::Io;
}

enum class SpawnOutcome
{
    Ready,
    AddressInUse,
    Failed
};

} // namespace

struct LocalRedisServer::Private
{
    LocalServerOptions options;
    QString executablePath;
    std::unique_ptr<QTemporaryDir> dir;
    quint16 port = 0;
    pid_t pid = -1;
    bool paused = false;

    QString logPath() const { return dir->filePath(QStringLiteral("redis.log")); }
    QString socketPath() const { return dir->filePath(QStringLiteral("redis.sock")); }

    std::vector<std::string> buildArgs(quint16 listenPort) const
    {
        std::vector<std::string> args;
        auto add = [&args](const QString &value) {
            args.push_back(value.toStdString());
        };
        add(executablePath);
        if (options.tls) {
            add(QStringLiteral("--port"));
            add(QStringLiteral("0"));
            add(QStringLiteral("--tls-port"));
            add(QString::number(listenPort));
            add(QStringLiteral("--tls-cert-file"));
            add(options.tlsCertFile);
            add(QStringLiteral("--tls-key-file"));
            add(options.tlsKeyFile);
            if (!options.tlsCaFile.isEmpty()) {
                add(QStringLiteral("--tls-ca-cert-file"));
                add(options.tlsCaFile);
            }
            add(QStringLiteral("--tls-auth-clients"));
            add(options.tlsAuthClients ? QStringLiteral("yes") : QStringLiteral("no"));
        } else {
            add(QStringLiteral("--port"));
            add(QString::number(listenPort));
        }
        add(QStringLiteral("--bind"));
        add(QStringLiteral("127.0.0.1"));
        add(QStringLiteral("--save"));
        add(QString());
        add(QStringLiteral("--appendonly"));
        add(QStringLiteral("no"));
        add(QStringLiteral("--daemonize"));
        add(QStringLiteral("no"));
        add(QStringLiteral("--dir"));
        add(dir->path());
        add(QStringLiteral("--logfile"));
        add(logPath());
        if (options.unixSocket) {
            add(QStringLiteral("--unixsocket"));
            add(socketPath());
            add(QStringLiteral("--unixsocketperm"));
            add(QStringLiteral("700"));
        }
        if (!options.requirePass.isEmpty()) {
            add(QStringLiteral("--requirepass"));
            add(options.requirePass);
        }
        // redis-server appends every word after "--user" (until the next "--" option) to the
        // same directive, so each word of the ACL rule is its own argument.
        for (const QString &rule : options.aclUsers) {
            add(QStringLiteral("--user"));
            for (const QString &word : rule.split(QLatin1Char(' '), Qt::SkipEmptyParts))
                add(word);
        }
        for (const QString &extra : options.extraArgs)
            add(extra);
        return args;
    }

    /// fork + exec. Only async-signal-safe calls between fork and exec: the argv, the log path
    /// and the executable path are all prepared before forking.
    pid_t spawn(quint16 listenPort, QString *error) const
    {
        const std::vector<std::string> args = buildArgs(listenPort);
        std::vector<char *> argv;
        argv.reserve(args.size() + 1);
        for (const std::string &arg : args)
            argv.push_back(const_cast<char *>(arg.c_str()));
        argv.push_back(nullptr);
        const std::string log = logPath().toStdString();
        const pid_t parent = ::getpid();
        const long maxFd = ::sysconf(_SC_OPEN_MAX);

        const pid_t child = ::fork();
        if (child < 0) {
            *error = QStringLiteral("fork failed: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
            return -1;
        }
        if (child == 0) {
            // The server must not outlive us (a crashed test leaves no redis behind). The
            // getppid() check closes the race where the parent died before prctl().
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent)
                ::_exit(126);
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::signal(SIGPIPE, SIG_DFL);
            const int devNull = ::open("/dev/null", O_RDONLY);
            if (devNull >= 0)
                ::dup2(devNull, STDIN_FILENO);
            // Startup errors ("FATAL CONFIG FILE ERROR", bad TLS files) go to stderr before the
            // log file is opened; send them to the log so that logTail() shows them.
            const int logFd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (logFd >= 0) {
                ::dup2(logFd, STDOUT_FILENO);
                ::dup2(logFd, STDERR_FILENO);
            }
            // Do not leak our sockets (e.g. client connections) into the server: a closed
            // client must really close.
            if (::close_range(3, ~0U, 0) != 0) {
                for (long fd = 3; fd < maxFd; ++fd)
                    ::close(static_cast<int>(fd));
            }
            ::execvp(argv[0], argv.data());
            const char msg[] = "exec of redis-server failed\n";
            [[maybe_unused]] auto written = ::write(STDERR_FILENO, msg, sizeof msg - 1);
            ::_exit(127);
        }
        return child;
    }

    /// Reaps the child if it has exited. Returns true while it is alive.
    bool checkAlive()
    {
        if (pid <= 0)
            return false;
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) {
            pid = -1;
            paused = false;
            return false;
        }
        return true;
    }

    void killAndReap()
    {
        if (pid <= 0)
            return;
        ::kill(pid, SIGKILL);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        pid = -1;
        paused = false;
    }

    SpawnOutcome startOnce(quint16 listenPort, QString *error)
    {
        const qint64 logOffset = QFileInfo(logPath()).size();
        pid = spawn(listenPort, error);
        if (pid < 0)
            return SpawnOutcome::Failed;
        port = listenPort;

        const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (!checkAlive()) {
                const QByteArray log = readFrom(logPath(), logOffset);
                if (log.contains("Address already in use") || log.contains("listening socket"))
                    return SpawnOutcome::AddressInUse;
                *error = QStringLiteral("redis-server exited during startup");
                return SpawnOutcome::Failed;
            }
            // A connect alone is not enough: with a port conflict it would reach the other
            // process. The log line proves that *our* server has bound its sockets.
            if (readFrom(logPath(), logOffset).contains(kReadyMarker) && canConnect(listenPort))
                return SpawnOutcome::Ready;
            std::this_thread::sleep_for(kPollInterval);
        }
        killAndReap();
        *error = QStringLiteral("redis-server did not become ready within %1 ms")
                     .arg(std::chrono::milliseconds(kReadyTimeout).count());
        return SpawnOutcome::Failed;
    }
};

LocalRedisServer::LocalRedisServer() : d(std::make_unique<Private>()) {}

LocalRedisServer::~LocalRedisServer()
{
    stop();
}

quint16 LocalRedisServer::freeLoopbackPort()
{
    for (int attempt = 0; attempt < 20; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return 0;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        quint16 port = 0;
        if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0) {
            socklen_t len = sizeof addr;
            if (::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0)
                port = ntohs(addr.sin_port);
        }
        ::close(fd);
        // Never 6379 nor its cluster bus: a developer's own Redis may want them, and tests must
        // never meet it.
        if (port != 0 && port != kDefaultRedisPort && port != kDefaultRedisPort + 10000)
            return port;
    }
    return 0;
}

Result<std::unique_ptr<LocalRedisServer>> LocalRedisServer::start(LocalServerOptions options)
{
    const QString label = QStringLiteral("local redis-server");
    QString executable = options.executable;
    if (!executable.contains(QLatin1Char('/')))
        executable = QStandardPaths::findExecutable(executable);
    if (executable.isEmpty() || !QFileInfo(executable).isExecutable())
        return fail(ErrorKind::InvalidConfig, label,
                    QStringLiteral("executable not found: %1").arg(options.executable));
    if (options.tls && (options.tlsCertFile.isEmpty() || options.tlsKeyFile.isEmpty()))
        return fail(ErrorKind::InvalidConfig, label,
                    QStringLiteral("TLS needs a certificate file and a key file"));
    if (options.tls && options.tlsAuthClients && options.tlsCaFile.isEmpty())
        return fail(ErrorKind::InvalidConfig, label,
                    QStringLiteral("TLS client authentication needs a CA file"));

    std::unique_ptr<LocalRedisServer> server(new LocalRedisServer());
    Private &p = *server->d;
    p.options = std::move(options);
    p.executablePath = executable;
    // Directories a killed process could not remove (SIGKILL, a crash) go first.
    removeOrphanedDirectories();
    // Short path: the unix socket path must fit in sun_path (108 bytes). The owner's pid in the
    // name tells a later run whether the directory is orphaned.
    p.dir = std::make_unique<QTemporaryDir>(QDir::tempPath() +
                                            QStringLiteral("/lockscope-redis-%1-XXXXXX").arg(::getpid()));
    if (!p.dir->isValid())
        return fail(ErrorKind::Io, label,
                    QStringLiteral("cannot create a temporary directory: %1").arg(p.dir->errorString()));

    QString error;
    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
        const quint16 port = freeLoopbackPort();
        if (port == 0)
            return fail(ErrorKind::Io, label, QStringLiteral("no free loopback port"));
        switch (p.startOnce(port, &error)) {
        case SpawnOutcome::Ready:
            qCDebug(lcLocalServer) << "redis-server" << p.pid << "listening on port" << port;
            return server;
        case SpawnOutcome::AddressInUse:
            qCDebug(lcLocalServer) << "port" << port << "taken, picking another";
            continue;
        case SpawnOutcome::Failed:
            return fail(failureKind(server->logTail()), nodeLabel(port),
                        QStringLiteral("%1; log:\n%2").arg(error, server->logTail()));
        }
    }
    return fail(ErrorKind::Io, label,
                QStringLiteral("no usable port after %1 attempts; log:\n%2")
                    .arg(kStartAttempts)
                    .arg(server->logTail()));
}

quint16 LocalRedisServer::port() const
{
    return d->port;
}

qint64 LocalRedisServer::pid() const
{
    return d->pid;
}

QString LocalRedisServer::unixSocketPath() const
{
    return d->options.unixSocket ? d->socketPath() : QString();
}

QString LocalRedisServer::workDir() const
{
    return d->dir->path();
}

NodeConfig LocalRedisServer::nodeConfig() const
{
    NodeConfig config;
    config.transport = NodeConfig::Transport::Tcp;
    config.host = QStringLiteral("127.0.0.1");
    config.port = d->port;
    config.clientName = QStringLiteral("lockscope-test");
    if (d->options.tls) {
        config.tls.enabled = true;
        config.tls.caFile = d->options.tlsCaFile;
    }
    return config;
}

QString LocalRedisServer::url() const
{
    QString url = QStringLiteral("%1://127.0.0.1:%2")
                      .arg(d->options.tls ? QStringLiteral("rediss") : QStringLiteral("redis"))
                      .arg(d->port);
    if (d->options.tls && !d->options.tlsCaFile.isEmpty())
        url +=
            QStringLiteral("?ca=") + QString::fromLatin1(QUrl::toPercentEncoding(d->options.tlsCaFile, "/"));
    return url;
}

bool LocalRedisServer::isRunning() const
{
    return d->checkAlive();
}

bool LocalRedisServer::isPaused() const
{
    return d->checkAlive() && d->paused;
}

bool LocalRedisServer::pause()
{
    if (!d->checkAlive())
        return false;
    if (d->paused)
        return true;
    if (::kill(d->pid, SIGSTOP) != 0)
        return false;
    // Wait until the kernel reports the stop, so that the caller's next command really meets a
    // stopped server.
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(d->pid, &status, WUNTRACED);
    } while (r < 0 && errno == EINTR);
    if (r == d->pid && !WIFSTOPPED(status)) {
        d->pid = -1;
        return false;
    }
    d->paused = true;
    return true;
}

bool LocalRedisServer::resume()
{
    if (!d->checkAlive())
        return false;
    if (::kill(d->pid, SIGCONT) != 0)
        return false;
    d->paused = false;
    return true;
}

void LocalRedisServer::kill()
{
    d->killAndReap();
}

Result<void> LocalRedisServer::restart()
{
    stop();
    QString error;
    // The old listening socket is gone once the process is reaped and redis sets SO_REUSEADDR,
    // but allow a short retry in case the kernel has not released the port yet.
    const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
    SpawnOutcome outcome = SpawnOutcome::AddressInUse;
    while (outcome == SpawnOutcome::AddressInUse && std::chrono::steady_clock::now() < deadline) {
        outcome = d->startOnce(d->port, &error);
        if (outcome == SpawnOutcome::AddressInUse)
            std::this_thread::sleep_for(100ms);
    }
    if (outcome == SpawnOutcome::Ready)
        return {};
    if (outcome == SpawnOutcome::AddressInUse)
        error = QStringLiteral("port %1 stayed in use").arg(d->port);
    return fail(failureKind(logTail()), nodeLabel(d->port),
                QStringLiteral("restart failed: %1; log:\n%2").arg(error, logTail()));
}

void LocalRedisServer::stop()
{
    if (!d->checkAlive())
        return;
    // A stopped process does not act on SIGTERM until it is continued.
    if (d->paused) {
        ::kill(d->pid, SIGCONT);
        d->paused = false;
    }
    ::kill(d->pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!d->checkAlive())
            return;
        std::this_thread::sleep_for(kPollInterval);
    }
    qCWarning(lcLocalServer) << "redis-server" << d->pid << "ignored SIGTERM, killing it";
    d->killAndReap();
}

QString LocalRedisServer::logTail(int lines) const
{
    if (!d->dir)
        return {};
    const QByteArray log = readFrom(d->logPath(), 0);
    QList<QByteArray> all = log.split('\n');
    while (!all.isEmpty() && all.last().isEmpty())
        all.removeLast();
    const qsizetype first = std::max<qsizetype>(0, all.size() - lines);
    QStringList tail;
    for (qsizetype i = first; i < all.size(); ++i)
        tail << QString::fromUtf8(all.at(i));
    return tail.join(QLatin1Char('\n'));
}

int LocalRedisServer::removeOrphanedDirectories()
{
    // lockscope-redis-<pid>-XXXXXX of this user whose process is gone. Its redis-server died
    // with it (PR_SET_PDEATHSIG), so nothing uses the directory any more.
    static const QRegularExpression name(QStringLiteral("^lockscope-redis-(\\d+)-[A-Za-z0-9]{6}$"));
    int removed = 0;
    const QDir temp(QDir::tempPath());
    for (const QFileInfo &entry : temp.entryInfoList({QStringLiteral("lockscope-redis-*")},
                                                     QDir::Dirs | QDir::NoDotAndDotDot | QDir::NoSymLinks)) {
        const auto match = name.match(entry.fileName());
        if (!match.hasMatch() || entry.ownerId() != ::getuid())
            continue;
        const qint64 pid = match.captured(1).toLongLong();
        if (pid <= 0 || pid == ::getpid() || ::kill(pid_t(pid), 0) == 0 || errno != ESRCH)
            continue; // alive (or not ours to judge)
        if (QDir(entry.absoluteFilePath()).removeRecursively())
            ++removed;
    }
    return removed;
}

} // namespace lockscope::redis
