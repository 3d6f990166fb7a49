// Read-only nodes get no write from any path of core (the Locker, the simulator, the lock
// benchmark) nor from lockctl; production nodes get none without --yes. Asserted on the
// servers: the commands they ran (INFO commandstats) and the keys they hold.

#include "bench/lockbench.h"
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockctlrunner.h"
#include "lockfixture.h"
#include "sim/simulation.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace lockscope;
using namespace lockscope::lock;
using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;

namespace {

/// Calls of every command that changes data or other clients on node i.
qint64 writeCalls(ServerSet &servers, int i)
{
    return servers.commandCalls(
        i, {"set", "eval", "evalsha", "incr", "del", "pexpire", "publish", "client|pause", "client|kill"});
}

} // namespace

class TestReadOnly : public QObject
{
    Q_OBJECT

private slots:
    void lockerRefusesEveryWrite();
    void simulationRefusesReadOnlyNodes();
    void benchmarkRefusesReadOnlyNodes();
    void lockctlWritesToReadOnlyGroupAreRefused();
    void lockctlWritesToProductionGroupNeedYes();

private:
    /// A groups file with "ro" (node 0 read-only) and "prod" (node 0 production), both on
    /// server 0 of `servers`; returns its path.
    QString writeGroups(QTemporaryDir &dir, ServerSet &servers);
};

QString TestReadOnly::writeGroups(QTemporaryDir &dir, ServerSet &servers)
{
    const QString url = QStringLiteral("redis://127.0.0.1:%1").arg(servers.server(0).port());
    const QString path = dir.filePath(QStringLiteral("groups.json"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(QStringLiteral(R"({"version": 1, "groups": [
        {"name": "ro", "nodes": [{"url": "%1", "read_only": true}]},
        {"name": "prod", "nodes": [{"url": "%1", "production": true}]}]})")
                   .arg(url)
                   .toUtf8());
    return path;
}

void TestReadOnly::lockerRefusesEveryWrite()
{
    LS_START_SERVERS(servers, 3);
    // A lock someone holds, to extend, release and read.
    Locker writable(servers->configs());
    const auto held = writable.tryAcquire("ro:key", withTtl(30s));
    LS_VERIFY_OK(held);

    std::vector<NodeConfig> configs = servers->configs();
    configs[1].readOnly = true;
    Locker locker(configs);
    // Reading is not writing (and the read runs a script: measured before the baseline).
    const auto left = locker.ttl(*held);
    LS_VERIFY_OK(left);
    QVERIFY(left->count() > 20000);
    qint64 before[3];
    for (int i = 0; i < 3; ++i)
        before[i] = writeCalls(*servers, i);

    const auto acquired = locker.tryAcquire("ro:other", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(acquired, LockErrorKind::ReadOnly);
    QVERIFY2(acquired.error().message.contains(QStringLiteral("node1")),
             qPrintable(acquired.error().toString()));
    AcquireOptions blocking = withTtl(10s);
    blocking.retry = RetryStrategy::linear(10ms, 5);
    LS_VERIFY_LOCK_ERROR(locker.acquire("ro:other", blocking), LockErrorKind::ReadOnly);
    LS_VERIFY_LOCK_ERROR(locker.extend(*held, 30s), LockErrorKind::ReadOnly);
    LS_VERIFY_LOCK_ERROR(locker.extend(*held, 30s, ExtendMode::Add, true), LockErrorKind::ReadOnly);
    LS_VERIFY_LOCK_ERROR(locker.acquireOrExtend(*held, 30s), LockErrorKind::ReadOnly);
    LS_VERIFY_LOCK_ERROR(locker.release(*held), LockErrorKind::ReadOnly);

    for (int i = 0; i < 3; ++i) {
        QCOMPARE(writeCalls(*servers, i), before[i]);
        QVERIFY(servers->get(i, "ro:other").isNull());
        QCOMPARE(servers->get(i, "ro:key"), held->value);
    }
}

void TestReadOnly::simulationRefusesReadOnlyNodes()
{
    LS_START_SERVERS(servers, 1);
    const qint64 before = writeCalls(*servers, 0);
    sim::SimConfig config;
    config.nodes = servers->configs();
    config.nodes[0].readOnly = true;
    config.workers = 2;
    config.duration = 500ms;
    sim::Simulation simulation(config);
    const auto started = simulation.start();
    QVERIFY(!started);
    QVERIFY2(started.error().contains(QStringLiteral("read-only")), qPrintable(started.error()));
    QCOMPARE(writeCalls(*servers, 0), before);
    QCOMPARE(servers->admin(0).command({"DBSIZE"})->integer(), qint64(0));
}

void TestReadOnly::benchmarkRefusesReadOnlyNodes()
{
    LS_START_SERVERS(servers, 1);
    const qint64 before = writeCalls(*servers, 0);
    bench::LockBenchOptions options;
    options.nodes = servers->configs();
    options.nodes[0].readOnly = true;
    options.duration = 200ms;
    for (const auto &result : {bench::runLockScope(options), bench::runBareHiredis(options)}) {
        QVERIFY2(result.error.contains(QStringLiteral("read-only")), qPrintable(result.error));
        QCOMPARE(result.cycles, quint64(0));
    }
    QCOMPARE(writeCalls(*servers, 0), before);
    QCOMPARE(servers->admin(0).command({"DBSIZE"})->integer(), qint64(0));
}

void TestReadOnly::lockctlWritesToReadOnlyGroupAreRefused()
{
    LS_START_SERVERS(servers, 1);
    QTemporaryDir dir;
    const QString groups = writeGroups(dir, *servers);
    QVERIFY(!groups.isEmpty());
    const QList<std::pair<QString, QString>> env{{QStringLiteral("LOCKSCOPE_CONFIG"), groups}};
    Locker writable(servers->configs());
    const auto held = writable.tryAcquire("cli:ro", withTtl(30s));
    LS_VERIFY_OK(held);
    const QString token = QString::fromUtf8(held->token);
    // ttl only reads (it runs a script: measured before the baseline).
    const RunResult ttl = runLockctl({"ttl", "cli:ro", "--group", "ro", "--token", token}, env);
    QVERIFY2(ttl.exitCode == 0, describe(ttl).constData());
    const qint64 before = writeCalls(*servers, 0);

    const QList<QStringList> commands{
        {"acquire", "cli:new", "--group", "ro", "--ttl", "10s"},
        {"extend", "cli:ro", "--group", "ro", "--token", token, "--ttl", "30s"},
        {"release", "cli:ro", "--group", "ro", "--token", token},
        {"simulate", "--group", "ro", "--workers", "2", "--duration", "300ms", "--quiet"},
        {"bench", "lock", "--group", "ro", "--duration", "200ms", "--rounds", "1"},
    };
    for (const QStringList &command : commands) {
        const RunResult result = runLockctl(command, env);
        QVERIFY2(result.exitCode == 2, describe(result).constData());
        QVERIFY2(result.err.contains(QLatin1String("read-only")), describe(result).constData());
    }
    QCOMPARE(writeCalls(*servers, 0), before);
    QCOMPARE(servers->get(0, "cli:ro"), held->value);
    QVERIFY(servers->get(0, "cli:new").isNull());
}

void TestReadOnly::lockctlWritesToProductionGroupNeedYes()
{
    LS_START_SERVERS(servers, 1);
    QTemporaryDir dir;
    const QString groups = writeGroups(dir, *servers);
    QVERIFY(!groups.isEmpty());
    const QList<std::pair<QString, QString>> env{{QStringLiteral("LOCKSCOPE_CONFIG"), groups}};
    const qint64 before = writeCalls(*servers, 0);

    const QList<QStringList> commands{
        {"acquire", "cli:prod", "--group", "prod", "--ttl", "10s"},
        {"simulate", "--group", "prod", "--workers", "2", "--duration", "300ms", "--quiet", "--fault",
         "pause:0@100ms+100ms"},
        {"bench", "lock", "--group", "prod", "--duration", "200ms", "--rounds", "1"},
    };
    for (const QStringList &command : commands) {
        const RunResult result = runLockctl(command, env);
        QVERIFY2(result.exitCode == 2, describe(result).constData());
        QVERIFY2(result.err.contains(QLatin1String("production")) &&
                     result.err.contains(QLatin1String("--yes")),
                 describe(result).constData());
    }
    QCOMPARE(writeCalls(*servers, 0), before);
    QCOMPARE(servers->admin(0).command({"DBSIZE"})->integer(), qint64(0));

    // Confirmed, the same write goes through.
    const RunResult confirmed =
        runLockctl({"acquire", "cli:prod", "--group", "prod", "--ttl", "10s", "--yes", "--json"}, env);
    QVERIFY2(confirmed.exitCode == 0, describe(confirmed).constData());
    QVERIFY(servers->get(0, "cli:prod").startsWith("ls1 tok="));
}

QTEST_GUILESS_MAIN(TestReadOnly)
#include "tst_readonly.moc"
