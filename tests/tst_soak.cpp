// The soak scenario, short (the long run is scripts/soak.sh): local nodes paused, killed and
// restarted at random (a fixed seed) while 8 workers contend. Asserts on state, never on
// timings (CI machines are noisy): no violation, the faults really happened, and nothing is
// left behind: no key, no connection, no thread, no redis-server process, no directory.
#include "lockfixture.h"
#include "redis/localserver.h"
#include "sim/simconfig.h"
#include "sim/simulation.h"

#include <QDir>
#include <QFileInfo>
#include <QTest>
#include <csignal>
#include <unistd.h>

using namespace lockscope;
using namespace lockscope::sim;
using namespace lockscope::test;
using namespace std::chrono_literals;

namespace {

/// Processes whose parent is this one (/proc/<pid>/stat), zombies included.
int childProcesses()
{
    int children = 0;
    const QByteArray self = QByteArray::number(::getpid());
    for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        bool numeric = false;
        entry.toInt(&numeric);
        if (!numeric)
            continue;
        QFile stat(QStringLiteral("/proc/%1/stat").arg(entry));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        // "pid (comm) state ppid ...": comm may hold spaces, so count from the last ')'.
        const QByteArray line = stat.readAll();
        const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
        if (fields.size() > 1 && fields[1] == self)
            ++children;
    }
    return children;
}

/// Temporary directories of local servers started by this process.
QStringList ownServerDirectories()
{
    return QDir(QDir::tempPath())
        .entryList({QStringLiteral("lockscope-redis-%1-*").arg(::getpid())},
                   QDir::Dirs | QDir::NoDotAndDotDot);
}

SimConfig soakConfig(int nodes, milliseconds duration)
{
    SimConfig config;
    config.nodes.resize(static_cast<size_t>(nodes));
    if (!applyScenario(QStringLiteral("soak"), config))
        qFatal("no soak scenario");
    config.duration = duration;
    config.seed = 20'240'611;
    return config;
}

/// Keys on node i whose name contains `prefix`, inside a hash tag too (SCAN, never KEYS).
int keysWithPrefix(ServerSet &servers, int i, const QByteArray &prefix)
{
    int found = 0;
    QByteArray cursor = "0";
    do {
        auto reply = servers.admin(i).command({"SCAN", cursor, "MATCH", '*' + prefix + '*', "COUNT", "1000"});
        if (!reply || reply->elements().size() != 2)
            return -1;
        cursor = reply->elements()[0].bytes();
        found += static_cast<int>(reply->elements()[1].elements().size());
    } while (cursor != "0");
    return found;
}

/// Connections on node i other than the fixture's admin connection; -1 on failure.
int otherClients(ServerSet &servers, int i)
{
    auto list = servers.admin(i).command({"CLIENT", "LIST"});
    if (!list)
        return -1;
    int others = 0;
    for (const QByteArray &line : list->bytes().split('\n')) {
        if (!line.trimmed().isEmpty() && !line.contains(" name=lockscope-admin "))
            ++others;
    }
    return others;
}

bool sameSchedule(const std::vector<SimFault> &a, const std::vector<SimFault> &b)
{
    return std::ranges::equal(a, b, [](const SimFault &x, const SimFault &y) {
        return x.kind == y.kind && x.target == y.target && x.at == y.at && x.length == y.length;
    });
}

} // namespace

class TestSoak : public QObject
{
    Q_OBJECT

private slots:
    void scheduleIsSeededAndSafe_data();
    void scheduleIsSeededAndSafe();
    void scheduleNeedsLocalNodes();
    void shortSoakLeavesNothing_data();
    void shortSoakLeavesNothing();
};

void TestSoak::scheduleIsSeededAndSafe_data()
{
    QTest::addColumn<int>("nodes");
    QTest::addColumn<int>("durationMs");
    QTest::addRow("3 nodes, 5 min") << 3 << 300'000;
    QTest::addRow("3 nodes, 25 s") << 3 << 25'000;
    QTest::addRow("1 node, 15 s") << 1 << 15'000;
    QTest::addRow("3 nodes, no duration (horizon)") << 3 << 0;
}

void TestSoak::scheduleIsSeededAndSafe()
{
    QFETCH(int, nodes);
    QFETCH(int, durationMs);
    const SimConfig config = soakConfig(nodes, milliseconds(durationMs));
    QVERIFY(config.randomFaults);
    QVERIFY(findScenario(QStringLiteral("soak"))->needsLocal);
    QVERIFY2(config.validate(std::vector<bool>(static_cast<size_t>(nodes), true)).isEmpty(),
             qPrintable(config.validate(std::vector<bool>(static_cast<size_t>(nodes), true)).join('\n')));
    const std::vector<SimFault> schedule = randomFaultSchedule(config);
    QVERIFY(schedule.size() >= 2);
    QVERIFY(sameSchedule(schedule, randomFaultSchedule(config))); // the seed decides
    SimConfig other = config;
    other.seed += 1;
    QVERIFY(!sameSchedule(schedule, randomFaultSchedule(other)));

    // The first two faults are a pause and a kill; then the kind is drawn.
    QCOMPARE(schedule[0].kind, SimFault::Kind::PauseNode);
    QCOMPARE(schedule[1].kind, SimFault::Kind::KillNode);
    const RandomFaults &r = *config.randomFaults;
    const milliseconds span = durationMs > 0 ? milliseconds(durationMs) : r.horizon;
    // The safety arithmetic: the longest critical section (uniform holds: up to 2 x hold)
    // plus the longest pause stays below the TTL; a killed node stays down longer than it.
    const auto longestHold = std::chrono::duration_cast<milliseconds>(2 * config.hold);
    for (size_t i = 0; i < schedule.size(); ++i) {
        const SimFault &f = schedule[i];
        QVERIFY(f.target >= 0 && f.target < nodes);
        QVERIFY(f.length.count() > 0);
        QVERIFY(f.afterAcquisitions == 0);
        if (f.kind == SimFault::Kind::KillNode)
            QVERIFY2(f.length > config.ttl, qPrintable(f.describe()));
        else
            QVERIFY2(longestHold + f.length < config.ttl, qPrintable(f.describe()));
        // One at a time, with quiet time between, all over before the end of the run.
        if (i + 1 < schedule.size())
            QVERIFY2(f.at + f.length < schedule[i + 1].at, qPrintable(f.describe()));
        QVERIFY(f.at + f.length <= span - r.endMargin);
    }
}

void TestSoak::scheduleNeedsLocalNodes()
{
    SimConfig config = soakConfig(3, 25s);
    const QStringList problems = config.validate({true, false, true});
    QVERIFY2(problems.size() == 1 && problems.front().contains(QStringLiteral("random faults")),
             qPrintable(problems.join('\n')));
    config.randomFaults->killShare = 0; // pauses alone work anywhere (CLIENT PAUSE)
    QVERIFY(config.validate({true, false, true}).isEmpty());
    config.randomFaults->gapMin = 0;
    QVERIFY(!config.validate({true, true, true}).isEmpty());
}

void TestSoak::shortSoakLeavesNothing_data()
{
    // Long enough for the first pause and the first kill whatever the draw: at most
    // 3 s quiet + 1.5 s pause + 3 s quiet + 4 s down, and 1 s to spare before the end.
    QTest::addColumn<int>("nodes");
    QTest::addColumn<int>("durationMs");
    QTest::addRow("3 nodes (Redlock)") << 3 << 25'000;
    QTest::addRow("1 node") << 1 << 15'000;
}

void TestSoak::shortSoakLeavesNothing()
{
    QFETCH(int, nodes);
    QFETCH(int, durationMs);
    QCOMPARE(childProcesses(), 0);
    std::vector<qint64> pids;
    QStringList directories;
    {
        LS_START_SERVERS(servers, nodes);
        for (int i = 0; i < nodes; ++i) {
            pids.push_back(servers->server(i).pid());
            directories << servers->server(i).workDir();
        }
        const int threadsBefore = threadCount();
        SimConfig config = soakConfig(nodes, milliseconds(durationMs));
        config.nodes = servers->configs();
        {
            Simulation simulation(config, servers->servers());
            auto started = simulation.start();
            QVERIFY2(started, qPrintable(started ? QString() : started.error()));
            // The drawn schedule is the one the seed gives, and it is in the run's config.
            QVERIFY(!simulation.config().randomFaults);
            QVERIFY(sameSchedule(simulation.config().faults, randomFaultSchedule(config)));
            // A bound against a hang, not a timing: the run itself takes durationMs.
            QVERIFY(simulation.waitFinished(milliseconds(durationMs) + 120s));
            QCOMPARE(simulation.liveWorkerThreads(), 0);

            const SimStats stats = simulation.stats();
            QVERIFY(stats.acquisitions > 0);
            QCOMPARE(stats.violations, 0u);
            QCOMPARE(stats.keysLeft, 0u);
            QCOMPARE(stats.nodePaused, std::vector<bool>(static_cast<size_t>(nodes), false));
            QCOMPARE(stats.nodeDown, std::vector<bool>(static_cast<size_t>(nodes), false));

            // Every fault was applied and reverted by the schedule, none refused.
            QMap<SimFault::Kind, int> applied;
            for (const FaultRecord &record : simulation.faultLog()) {
                QVERIFY2(record.ok,
                         qPrintable(record.fault.describe() + QStringLiteral(": ") + record.message));
                ++applied[record.fault.kind];
            }
            QVERIFY(applied.value(SimFault::Kind::PauseNode) >= 1);
            QCOMPARE(applied.value(SimFault::Kind::ResumeNode), applied.value(SimFault::Kind::PauseNode));
            QVERIFY(applied.value(SimFault::Kind::KillNode) >= 1);
            QCOMPARE(applied.value(SimFault::Kind::RestartNode), applied.value(SimFault::Kind::KillNode));

            // The nodes, while the Simulation still lives (a node it restarted is a child of
            // its fault thread and ends with it): no key of the run, no key at all, and no
            // connection but the fixture's own. A closed connection leaves the server's list
            // on its next turn: wait for the state, not for a time.
            const QByteArray prefix = simulation.report().keyPrefix;
            for (int i = 0; i < nodes; ++i) {
                LS_VERIFY_OK(servers->reconnect(i)); // the admin connection of a restarted node broke
                QCOMPARE(keysWithPrefix(*servers, i, prefix), 0);
                auto size = servers->admin(i).command({"DBSIZE"});
                LS_VERIFY_OK(size);
                QCOMPARE(size->integer(), 0);
                QTRY_COMPARE_WITH_TIMEOUT(otherClients(*servers, i), 0, 10000);
                pids.push_back(servers->server(i).pid()); // restarted: a new process
            }
        }
        // Its last thread (the fault thread) joined with the Simulation.
        QTRY_COMPARE_WITH_TIMEOUT(threadCount(), threadsBefore, 5000);
    }
    // The servers stopped and reaped, their directories removed.
    QCOMPARE(childProcesses(), 0);
    for (const qint64 pid : pids)
        QVERIFY2(::kill(static_cast<pid_t>(pid), 0) != 0, qPrintable(QString::number(pid)));
    for (const QString &directory : directories)
        QVERIFY2(!QFileInfo::exists(directory), qPrintable(directory));
    QVERIFY2(ownServerDirectories().isEmpty(), qPrintable(ownServerDirectories().join(' ')));
}

QTEST_GUILESS_MAIN(TestSoak)
#include "tst_soak.moc"
