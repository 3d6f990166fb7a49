#include "redis/connection.h"
#include "redis/localserver.h"
#include "redisfixture.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTest>
#include <cerrno>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;

class TestLocalServer : public QObject
{
    Q_OBJECT

private slots:
    void startAndStop();
    void twoServersGetDifferentPorts();
    void configErrorIsReported();
    void pauseAndResume();
    void killMakesConnectsFail();
    void restartKeepsPortAndEmptiesData();
    void destructorLeavesNoProcess();
    void unixSocketAndUrl();
    void orphanedDirectoriesAreRemoved();
};

void TestLocalServer::startAndStop()
{
    LS_START_SERVER(server, ServerKind::Plain);
    QVERIFY(server->port() != 0);
    QVERIFY(server->port() != 6379);
    QVERIFY(server->pid() > 0);
    QVERIFY(server->isRunning());
    QVERIFY(!server->isPaused());
    QVERIFY(QFileInfo(server->workDir()).isDir());
    QVERIFY2(server->logTail().contains(QStringLiteral("Ready to accept connections")),
             qPrintable(server->logTail()));

    Connection connection(server->nodeConfig());
    const auto pong = connection.command({"PING"});
    LS_VERIFY_OK(pong);
    QCOMPARE(pong->bytes(), QByteArray("PONG"));
    // No persistence: nothing is ever written to the work directory.
    const auto save = connection.command({"CONFIG", "GET", "save"});
    LS_VERIFY_OK(save);
    QCOMPARE(save->elements().size(), size_t(2));
    QCOMPARE(save->elements().at(1).bytes(), QByteArray());

    const qint64 pid = server->pid();
    server->stop();
    QVERIFY(!server->isRunning());
    QCOMPARE(::kill(static_cast<pid_t>(pid), 0), -1);
    QCOMPARE(errno, ESRCH);
}

void TestLocalServer::twoServersGetDifferentPorts()
{
    LS_START_SERVER(first, ServerKind::Plain);
    LS_START_SERVER(second, ServerKind::Plain);
    QVERIFY(first->port() != second->port());
    QVERIFY(first->pid() != second->pid());
    QVERIFY(first->workDir() != second->workDir());

    // They are really two data sets.
    Connection a(first->nodeConfig());
    Connection b(second->nodeConfig());
    LS_VERIFY_OK(a.command({"SET", "which", "first"}));
    const auto fromB = b.command({"GET", "which"});
    LS_VERIFY_OK(fromB);
    QVERIFY(fromB->isNil());
}

void TestLocalServer::configErrorIsReported()
{
    LocalServerOptions options;
    options.extraArgs << QStringLiteral("--no-such-directive") << QStringLiteral("1");
    const auto result = LocalRedisServer::start(options);
    QVERIFY(!result.has_value());
    QVERIFY2(result.error().kind == ErrorKind::InvalidConfig || result.error().kind == ErrorKind::Io,
             qPrintable(result.error().toString()));
    // The server's own complaint is part of the message.
    QVERIFY2(result.error().message.contains(QStringLiteral("no-such-directive")),
             qPrintable(result.error().toString()));

    LocalServerOptions missing;
    missing.executable = QStringLiteral("/nonexistent/redis-server");
    const auto noExe = LocalRedisServer::start(missing);
    QVERIFY(!noExe.has_value());
    QCOMPARE(noExe.error().kind, ErrorKind::InvalidConfig);
}

void TestLocalServer::pauseAndResume()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config = server->nodeConfig();
    config.commandTimeout = 300ms;
    config.connectTimeout = 1000ms;
    Connection connection(config);
    LS_VERIFY_OK(connection.command({"PING"}));

    QVERIFY(server->pause());
    QVERIFY(server->isPaused());
    QVERIFY(server->isRunning());
    const auto start = std::chrono::steady_clock::now();
    const auto timedOut = connection.command({"PING"});
    const qint64 elapsed = elapsedMs(start);
    LS_VERIFY_ERROR(timedOut, ErrorKind::Timeout);
    QVERIFY2(elapsed < 300 + 2000, qPrintable(QString::number(elapsed)));

    QVERIFY(server->resume());
    QVERIFY(!server->isPaused());
    const auto pong = connection.command({"PING"});
    LS_VERIFY_OK(pong);
    QCOMPARE(pong->bytes(), QByteArray("PONG"));
}

void TestLocalServer::killMakesConnectsFail()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config = server->nodeConfig();
    config.connectTimeout = 1000ms;
    server->kill();
    QVERIFY(!server->isRunning());
    Connection connection(config);
    LS_VERIFY_ERROR(connection.connect(), ErrorKind::Refused);
}

void TestLocalServer::restartKeepsPortAndEmptiesData()
{
    LS_START_SERVER(server, ServerKind::Plain);
    const quint16 port = server->port();
    const qint64 oldPid = server->pid();
    {
        Connection connection(server->nodeConfig());
        LS_VERIFY_OK(connection.command({"SET", "survives", "no"}));
    }

    LS_VERIFY_OK(server->restart());
    QCOMPARE(server->port(), port);
    QVERIFY(server->pid() != oldPid);
    QVERIFY(server->isRunning());
    Connection connection(server->nodeConfig());
    const auto size = connection.command({"DBSIZE"});
    LS_VERIFY_OK(size);
    QCOMPARE(size->integer(), qint64(0));

    // Restart after a crash, and from a paused state.
    server->kill();
    LS_VERIFY_OK(server->restart());
    QCOMPARE(server->port(), port);
    QVERIFY(server->pause());
    LS_VERIFY_OK(server->restart());
    QVERIFY(!server->isPaused());
    Connection again(server->nodeConfig());
    LS_VERIFY_OK(again.command({"PING"}));
}

void TestLocalServer::destructorLeavesNoProcess()
{
    qint64 pid = 0;
    qint64 pausedPid = 0;
    QString dir;
    {
        LS_START_SERVER(server, ServerKind::Plain);
        pid = server->pid();
        dir = server->workDir();
        LS_START_SERVER(paused, ServerKind::Plain);
        pausedPid = paused->pid();
        QVERIFY(paused->pause());
    }
    QCOMPARE(::kill(static_cast<pid_t>(pid), 0), -1);
    QCOMPARE(errno, ESRCH);
    QCOMPARE(::kill(static_cast<pid_t>(pausedPid), 0), -1);
    QCOMPARE(errno, ESRCH);
    QVERIFY(!QFileInfo::exists(dir));
}

void TestLocalServer::unixSocketAndUrl()
{
    LS_START_SERVER(server, ServerKind::UnixSocket);
    QVERIFY(!server->unixSocketPath().isEmpty());
    QVERIFY(QFileInfo::exists(server->unixSocketPath()));
    QCOMPARE(server->url(), QStringLiteral("redis://127.0.0.1:%1").arg(server->port()));
    const auto parsed = NodeConfig::fromUrl(server->url());
    LS_VERIFY_OK(parsed);
    QCOMPARE(parsed->port, server->port());

    LS_START_SERVER(plain, ServerKind::Plain);
    QVERIFY(plain->unixSocketPath().isEmpty());
}

// A run killed with SIGKILL leaves its temporary directory (its redis-server dies with it):
// the next start removes the directories whose owner is gone, and only those.
void TestLocalServer::orphanedDirectoriesAreRemoved()
{
    // A pid that is surely gone: a child that exited and was reaped.
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    QVERIFY(child > 0);
    ::waitpid(child, nullptr, 0);
    const QDir temp(QDir::tempPath());
    const QString orphan = QStringLiteral("lockscope-redis-%1-Abc123").arg(child);
    const QString alive = QStringLiteral("lockscope-redis-%1-Xyz789").arg(::getppid()); // our parent lives
    const QString foreign = QStringLiteral("lockscope-redis-keepme"); // not our naming: left alone
    for (const QString &name : {orphan, alive, foreign}) {
        QVERIFY(temp.mkpath(name));
        QFile file(temp.filePath(name + QStringLiteral("/dump.rdb")));
        QVERIFY(file.open(QIODevice::WriteOnly));
    }
    auto server = LocalRedisServer::start();
    QVERIFY2(server.has_value(), server ? "" : qPrintable(server.error().toString()));
    QVERIFY(!temp.exists(orphan));
    QVERIFY(temp.exists(alive));
    QVERIFY(temp.exists(foreign));
    QVERIFY((*server)->workDir().contains(QStringLiteral("lockscope-redis-%1-").arg(::getpid())));
    QDir(temp.filePath(alive)).removeRecursively();
    QDir(temp.filePath(foreign)).removeRecursively();
}

QTEST_GUILESS_MAIN(TestLocalServer)
#include "tst_localserver.moc"
