// The contention simulator against real redis-server processes: the safety checker, the
// engine's limits and shutdown, fault injection and export.
#include "lockfixture.h"
#include "redis/connection.h"
#include "redis/localserver.h"
#include "sim/protectedresource.h"
#include "sim/simreport.h"
#include "sim/simulation.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>
#include <algorithm>
#include <numeric>
#include <optional>
#include <thread>

using namespace lockscope;
using namespace lockscope::sim;
using namespace lockscope::test;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(lockscope::sim::SimLockKind)

namespace {

SimConfig baseConfig(ServerSet &servers)
{
    SimConfig config;
    config.nodes = servers.configs();
    config.workers = 8;
    config.hold = 0us;
    config.ttl = 5s;
    config.seed = 42;
    return config;
}

/// Runs to the end (generous bound: it must not hang).
bool runToEnd(Simulation &simulation)
{
    auto started = simulation.start();
    if (!started) {
        qWarning() << started.error();
        return false;
    }
    return simulation.waitFinished(120s);
}

/// Keys on node i whose name starts with `prefix` (SCAN, never KEYS).
int keysWithPrefix(ServerSet &servers, int i, const QByteArray &prefix)
{
    int found = 0;
    QByteArray cursor = "0";
    do {
        auto reply = servers.admin(i).command({"SCAN", cursor, "MATCH", prefix + '*', "COUNT", "1000"});
        if (!reply || reply->elements().size() != 2)
            return -1;
        cursor = reply->elements()[0].bytes();
        found += static_cast<int>(reply->elements()[1].elements().size());
    } while (cursor != "0");
    return found;
}

bool answers(redis::LocalRedisServer &server)
{
    redis::NodeConfig config = server.nodeConfig();
    config.connectTimeout = 500ms;
    config.commandTimeout = 500ms;
    redis::Connection connection(config);
    auto pong = connection.command({"PING"});
    return pong && pong->bytes() == "PONG";
}

quint64 sumOfWorkers(const SimStats &stats)
{
    return std::accumulate(stats.workers.begin(), stats.workers.end(), quint64(0),
                           [](quint64 sum, const WorkerStats &w) { return sum + w.acquisitions; });
}

} // namespace

class TestSimulation : public QObject
{
    Q_OBJECT

private slots:
    void registerAcceptsSequentialWrites();
    void registerReportsLostUpdate();
    void registerRejectsStaleFence();
    void registerReadersShareWritersExclude();
    void registerPermitsAllowUpToN();
    void registerCountsOrderViolations();
    void scenariosFillTheConfig();
    void invalidConfigRefused();
    void lockKindParametersValidated();
    void lockKindRunIsSafe_data();
    void lockKindRunIsSafe();
    void healthyRunHasNoViolations_data();
    void healthyRunHasNoViolations();
    void stalledHolder_data();
    void stalledHolder();
    void pauseAndKillAreAppliedAndReverted();
    void remotePauseIsClientPause();
    void scheduledFaultsRunAndRevert();
    void dropConnectionAndDrift();
    void stopMidRunLeavesNothing();
    void pubsubWakeup();
    void pubsubHandsOverInOneProcess();
    void workersOfOneProcessSleepOnTheirOwnSlots();
    void starvedWorkersShowTheirWait();
    void exportJsonAndCsv();
    void quorumLossBreakersAndDegraded_data();
    void quorumLossBreakersAndDegraded();
    void degradedWritesAreNotFencingRejections();
};

void TestSimulation::registerAcceptsSequentialWrites()
{
    ProtectedResource resource(2, false, ProtectedResource::Clock::now());
    for (int i = 0; i < 5; ++i) {
        auto ticket = resource.begin(0, i, 0);
        QCOMPARE(ticket.readValue, i);
        QCOMPARE(resource.commit(ticket), ProtectedResource::WriteOutcome::Accepted);
        QVERIFY(!ticket.overlapped);
    }
    QCOMPARE(resource.state(0).value, 5);
    QCOMPARE(resource.state(0).acceptedWrites, 5u);
    QCOMPARE(resource.state(1).value, 0);
    QCOMPARE(resource.total().violations, 0u);
}

void TestSimulation::registerReportsLostUpdate()
{
    ProtectedResource resource(1, false, ProtectedResource::Clock::now());
    auto a = resource.begin(0, 0, 0);
    auto b = resource.begin(0, 1, 0); // overlaps a
    QVERIFY(b.overlapped);
    QCOMPARE(resource.commit(b), ProtectedResource::WriteOutcome::Accepted);
    QCOMPARE(resource.commit(a), ProtectedResource::WriteOutcome::Violation); // a read 0, b wrote 1
    QVERIFY(a.overlapped);
    const auto state = resource.state(0);
    QCOMPARE(state.value, 1); // b's update is lost
    QCOMPARE(state.acceptedWrites, 2u);
    QCOMPARE(state.violations, 1u);
    QCOMPARE(state.overlaps, 1u);
    const auto overlaps = resource.overlaps();
    QCOMPARE(overlaps.size(), size_t(1));
    QCOMPARE(overlaps[0].firstWorker, 0);
    QCOMPARE(overlaps[0].secondWorker, 1);
    QVERIFY(overlaps[0].secondStartUs >= overlaps[0].firstStartUs);
}

void TestSimulation::registerRejectsStaleFence()
{
    ProtectedResource resource(1, true, ProtectedResource::Clock::now());
    auto stale = resource.begin(0, 0, 5);
    auto fresh = resource.begin(0, 1, 6);
    // Either order of the writes: the token-5 write is refused, nothing is lost.
    QCOMPARE(resource.commit(stale), ProtectedResource::WriteOutcome::FencingRejected);
    QCOMPARE(resource.commit(fresh), ProtectedResource::WriteOutcome::Accepted);
    auto later = resource.begin(0, 0, 7);
    QCOMPARE(resource.commit(later), ProtectedResource::WriteOutcome::Accepted);
    const auto state = resource.state(0);
    QCOMPARE(state.value, 2);
    QCOMPARE(state.violations, 0u);
    QCOMPARE(state.fencingRejections, 1u);
    QCOMPARE(state.highestFence, 7);
}

void TestSimulation::registerReadersShareWritersExclude()
{
    using Access = ProtectedResource::Access;
    ProtectedResource resource(1, true, ProtectedResource::Clock::now());
    auto r1 = resource.begin(0, 0, 1, Access::Read);
    auto r2 = resource.begin(0, 1, 2, Access::Read);
    QVERIFY(!r2.overlapped);
    QCOMPARE(resource.commit(r1),
             ProtectedResource::WriteOutcome::Accepted); // fence 1 < 2: a reader is not fenced
    QCOMPARE(resource.commit(r2), ProtectedResource::WriteOutcome::Accepted);
    auto state = resource.state(0);
    QCOMPARE(state.readerOverlaps, 1u);
    QCOMPARE(state.overlaps, 0u);
    QCOMPARE(state.reads, 2u);
    QCOMPARE(state.value, 0); // readers write nothing
    QCOMPARE(state.maxHolders, 2);

    // A writer among readers is an overlap; the read during which it wrote is a violation.
    auto reader = resource.begin(0, 0, 3, Access::Read);
    auto writer = resource.begin(0, 1, 4, Access::Exclusive);
    QVERIFY(writer.overlapped);
    QCOMPARE(resource.commit(writer), ProtectedResource::WriteOutcome::Accepted);
    QCOMPARE(resource.commit(reader), ProtectedResource::WriteOutcome::Violation);
    QVERIFY(reader.overlapped);
    // A writer whose fence is below a reader's is stale.
    auto late = resource.begin(0, 2, 2, Access::Exclusive);
    QCOMPARE(resource.commit(late), ProtectedResource::WriteOutcome::FencingRejected);
    state = resource.state(0);
    QCOMPARE(state.overlaps, 1u);
    QCOMPARE(state.readerOverlaps, 1u);
    QCOMPARE(state.violations, 1u);
    QCOMPARE(state.fencingRejections, 1u);
    QCOMPARE(state.value, 1);
}

void TestSimulation::registerPermitsAllowUpToN()
{
    using Access = ProtectedResource::Access;
    ProtectedResource resource(1, true, ProtectedResource::Clock::now(), 2);
    auto a = resource.begin(0, 0, 7, Access::Permit);
    auto b = resource.begin(0, 1, 6, Access::Permit);
    QVERIFY(!a.overlapped && !b.overlapped);
    auto c = resource.begin(0, 2, 8, Access::Permit); // the third of two permits
    QVERIFY(c.excess);
    QVERIFY(c.overlapped);
    QCOMPARE(resource.commit(b), ProtectedResource::WriteOutcome::Accepted); // fence 6 < 7: no fence check
    QCOMPARE(resource.commit(a), ProtectedResource::WriteOutcome::Accepted);
    QCOMPARE(resource.commit(c), ProtectedResource::WriteOutcome::Violation);
    QVERIFY(a.overlapped && b.overlapped);
    auto d = resource.begin(0, 0, 9, Access::Permit); // alone again
    QVERIFY(!d.excess);
    QCOMPARE(resource.commit(d), ProtectedResource::WriteOutcome::Accepted);
    const auto state = resource.state(0);
    QCOMPARE(state.maxHolders, 3);
    QCOMPARE(state.overlaps, 1u); // one per excess holder
    QCOMPARE(state.violations, 1u);
    QCOMPARE(state.fencingRejections, 0u);
    QCOMPARE(state.value, 4); // concurrent permit writes lose nothing
    QCOMPARE(state.acceptedWrites, 4u);
}

void TestSimulation::registerCountsOrderViolations()
{
    const auto t0 = ProtectedResource::Clock::now();
    ProtectedResource resource(1, false, t0);
    const auto at = [&](int us) {
        return t0 + std::chrono::microseconds(us);
    };
    // Worker 0 waits from 10 µs, its first attempt refused by 20 µs; worker 1 starts at 30 µs
    // and gets the lock first: it overtook worker 0.
    resource.waitStarted(0, 0, at(10));
    resource.waitConfirmed(0, 0, at(20));
    resource.waitStarted(0, 1, at(30));
    auto first = resource.begin(0, 1, 0);
    QVERIFY(first.overtook);
    QCOMPARE(resource.commit(first), ProtectedResource::WriteOutcome::Accepted);
    auto second = resource.begin(0, 0, 0);
    QVERIFY(!second.overtook);
    QCOMPARE(resource.commit(second), ProtectedResource::WriteOutcome::Accepted);
    QCOMPARE(resource.state(0).orderViolations, 1u);

    // Started earlier but not yet refused when the other began: the server may have seen
    // either first, so no violation. Nor for a waiter that gave up.
    resource.waitStarted(0, 0, at(100));
    resource.waitStarted(0, 1, at(110));
    resource.waitConfirmed(0, 0, at(120));
    resource.waitStarted(0, 2, at(130));
    resource.waitConfirmed(0, 2, at(140));
    resource.waitEnded(0, 2);
    auto early = resource.begin(0, 1, 0);
    QVERIFY(!early.overtook);
    resource.abandon(early);
    QCOMPARE(resource.state(0).orderViolations, 1u);
    QCOMPARE(resource.state(0).violations, 0u);
}

void TestSimulation::scenariosFillTheConfig()
{
    for (const Scenario &scenario : scenarios()) {
        SimConfig config;
        config.nodes.resize(3);
        QVERIFY(applyScenario(scenario.name, config));
        QCOMPARE(config.scenario, scenario.name);
        QCOMPARE(config.nodes.size(), size_t(3)); // nodes are left alone
        QVERIFY2(config.validate({true, true, true}).isEmpty(), qPrintable(scenario.name));
    }
    SimConfig config;
    QVERIFY(applyScenario(QStringLiteral("ttl-short"), config));
    QVERIFY(!config.fencing);
    QVERIFY(config.stall > config.ttl);
    QVERIFY(applyScenario(QStringLiteral("ttl-short-fenced"), config));
    QVERIFY(config.fencing);
    QVERIFY(applyScenario(QStringLiteral("herd-pubsub"), config));
    QCOMPARE(config.wakeup, Wakeup::PubSub);
    QVERIFY(!applyScenario(QStringLiteral("nope"), config));
    QVERIFY(findScenario(QStringLiteral("redlock-restart"))->needsLocal);
}

void TestSimulation::invalidConfigRefused()
{
    LS_START_SERVERS(servers, 1);
    SimConfig config = baseConfig(*servers);
    config.workers = 0;
    SimFault kill;
    kill.kind = SimFault::Kind::KillNode;
    kill.target = 0;
    config.faults.push_back(kill);
    Simulation simulation(config); // no local servers: node0 cannot be killed
    auto started = simulation.start();
    QVERIFY(!started);
    QVERIFY2(started.error().contains(QStringLiteral("workers")), qPrintable(started.error()));
    QVERIFY2(started.error().contains(QStringLiteral("node0")), qPrintable(started.error()));
    QCOMPARE(simulation.state(), SimState::Idle);
}

void TestSimulation::lockKindParametersValidated()
{
    SimConfig config;
    config.nodes.resize(1);
    QVERIFY(config.validate().isEmpty());
    QCOMPARE(config.effectiveReadRatio(), 0.0);
    const auto problems = [](SimLockKind kind, int permits, std::optional<double> readRatio) {
        SimConfig c;
        c.nodes.resize(1);
        c.lockKind = kind;
        c.permits = permits;
        c.readRatio = readRatio;
        return c.validate().join(QLatin1Char('\n'));
    };
    QVERIFY(problems(SimLockKind::Semaphore, 3, std::nullopt).isEmpty());
    QVERIFY(problems(SimLockKind::ReadWrite, 0, 0.0).isEmpty());
    QVERIFY(problems(SimLockKind::ReadWrite, 0, 1.0).isEmpty());
    const QString noPermits = problems(SimLockKind::Semaphore, 0, std::nullopt);
    QVERIFY2(noPermits.startsWith(QStringLiteral("permits: 0")), qPrintable(noPermits));
    const QString permitsOnMutex = problems(SimLockKind::Mutex, 2, std::nullopt);
    QVERIFY2(permitsOnMutex.startsWith(QStringLiteral("permits: 2 given for a mutex")),
             qPrintable(permitsOnMutex));
    const QString ratioTooHigh = problems(SimLockKind::ReadWrite, 0, 1.5);
    QVERIFY2(ratioTooHigh.startsWith(QStringLiteral("read ratio: 1.5")), qPrintable(ratioTooHigh));
    QVERIFY(problems(SimLockKind::ReadWrite, 0, -0.1).startsWith(QStringLiteral("read ratio:")));
    const QString ratioOnSemaphore = problems(SimLockKind::Semaphore, 2, 0.5);
    QVERIFY2(ratioOnSemaphore.startsWith(QStringLiteral("read ratio: given for a semaphore")),
             qPrintable(ratioOnSemaphore));

    SimConfig rw;
    rw.lockKind = SimLockKind::ReadWrite;
    QCOMPARE(rw.effectiveReadRatio(), SimConfig::kDefaultReadRatio);
    for (const SimLockKind kind : {SimLockKind::Mutex, SimLockKind::ReadWrite, SimLockKind::Semaphore,
                                   SimLockKind::Fair, SimLockKind::Reentrant})
        QCOMPARE(simLockKindFromName(simLockKindName(kind)), std::optional<SimLockKind>(kind));
    QVERIFY(!simLockKindFromName(QStringLiteral("read")));
}

void TestSimulation::lockKindRunIsSafe_data()
{
    QTest::addColumn<int>("nodes");
    QTest::addColumn<SimLockKind>("kind");
    for (const int nodes : {1, 3}) {
        for (const SimLockKind kind : {SimLockKind::Mutex, SimLockKind::ReadWrite, SimLockKind::Semaphore,
                                       SimLockKind::Fair, SimLockKind::Reentrant})
            QTest::addRow("%s, %d node(s)", qPrintable(simLockKindName(kind)), nodes) << nodes << kind;
    }
}

void TestSimulation::lockKindRunIsSafe()
{
    QFETCH(int, nodes);
    QFETCH(SimLockKind, kind);
    constexpr int kPermits = 3;
    LS_START_SERVERS(servers, nodes);
    SimConfig config = baseConfig(*servers);
    config.hold = 500us;
    config.holdDistribution = HoldDistribution::Uniform; // 0 to 1 ms
    config.maxAcquisitions = 200;
    config.lockKind = kind;
    if (kind == SimLockKind::ReadWrite)
        config.readRatio = 0.8;
    if (kind == SimLockKind::Semaphore)
        config.permits = kPermits;
    Simulation simulation(config);
    QVERIFY(runToEnd(simulation));
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.acquisitions, 200u);
    QCOMPARE(sumOfWorkers(stats), 200u);
    QCOMPARE(stats.violations, 0u);
    QCOMPARE(stats.overlaps, 0u);
    QCOMPARE(stats.fencingRejections, 0u);
    QCOMPARE(stats.abandonedWrites, 0u);
    QCOMPARE(stats.acceptedWrites + stats.reads, stats.acquisitions);
    QCOMPARE(stats.releases, stats.acquisitions);
    QCOMPARE(stats.keysLeft, 0u);
    switch (kind) {
    case SimLockKind::ReadWrite:
        QVERIFY(stats.reads > 0 && stats.reads < stats.acquisitions);
        QVERIFY2(stats.readerOverlaps > 0, "readers never held the lock together");
        QVERIFY(stats.maxHolders >= 2);
        break;
    case SimLockKind::Semaphore:
        QVERIFY2(stats.maxHolders >= 2 && stats.maxHolders <= kPermits,
                 qPrintable(QString::number(stats.maxHolders)));
        QCOMPARE(stats.readerOverlaps, 0u);
        break;
    case SimLockKind::Fair:
        // Strict FIFO on a Redlock set too: the waiters' arrival times come from the clients (the
        // same order on every node) and a grant keeps the waiter's place until its acquire ends.
        QCOMPARE(stats.orderViolations, 0u);
        QCOMPARE(stats.maxHolders, 1);
        break;
    case SimLockKind::Reentrant:
        QCOMPARE(stats.reentries, stats.acquisitions);
        QCOMPARE(stats.maxHolders, 1);
        break;
    case SimLockKind::Mutex:
        QCOMPARE(stats.maxHolders, 1);
        QCOMPARE(stats.reads, 0u);
        break;
    }
    const QJsonObject json = reportToJson(simulation.report());
    QCOMPARE(json.value(QStringLiteral("kind")).toString(), simLockKindName(kind));
    const QJsonObject jsonConfig = json.value(QStringLiteral("config")).toObject();
    QCOMPARE(jsonConfig.value(QStringLiteral("kind")).toString(), simLockKindName(kind));
    QCOMPARE(jsonConfig.contains(QStringLiteral("permits")), kind == SimLockKind::Semaphore);
    QCOMPARE(jsonConfig.contains(QStringLiteral("read_ratio")), kind == SimLockKind::ReadWrite);
    QCOMPARE(json.value(QStringLiteral("max_holders")).toInt(), stats.maxHolders);
    QCOMPARE(json.value(QStringLiteral("order_violations")).toInteger(), qint64(stats.orderViolations));
    // Lock keys, fence counters and every auxiliary key (hash-tagged: "{<prefix>k0}.fence").
    const QByteArray prefix = simulation.report().keyPrefix;
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(keysWithPrefix(*servers, i, '*' + prefix), 0);
}

void TestSimulation::healthyRunHasNoViolations_data()
{
    QTest::addColumn<int>("nodes");
    QTest::addColumn<bool>("fencing");
    QTest::addRow("1 node") << 1 << false;
    QTest::addRow("3 nodes") << 3 << false;
    // With fencing the register also rejects a write whose fence is lower than one it saw: on
    // a Redlock set, the fences of successive holders whose quorums differ must only go up
    // (failed partial attempts leave the nodes' counters apart; the Locker evens them out).
    QTest::addRow("1 node, fencing") << 1 << true;
    QTest::addRow("3 nodes, fencing") << 3 << true;
}

void TestSimulation::healthyRunHasNoViolations()
{
    QFETCH(int, nodes);
    QFETCH(bool, fencing);
    LS_START_SERVERS(servers, nodes);
    SimConfig config = baseConfig(*servers);
    config.fencing = fencing; // without: the register alone must see no lost update
    config.keys = 2;
    config.maxAcquisitions = 10'000;
    Simulation simulation(config);
    QVERIFY(runToEnd(simulation));
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.state, SimState::Finished);
    QCOMPARE(stats.acquisitions, 10'000u);
    QCOMPARE(sumOfWorkers(stats), stats.acquisitions);
    QCOMPARE(stats.workers.size(), size_t(8));
    QCOMPARE(stats.violations, 0u);
    QCOMPARE(stats.overlaps, 0u);
    QCOMPARE(stats.fencingRejections, 0u);
    QCOMPARE(stats.acceptedWrites, stats.acquisitions);
    QCOMPARE(stats.releases, stats.acquisitions);
    QCOMPARE(stats.keysLeft, 0u);
    QVERIFY(stats.fairness > 0.0 && stats.fairness <= 1.0);
    QVERIFY(stats.waitP50Us <= stats.waitP99Us);
    QVERIFY(stats.waitP99Us <= stats.waitMaxUs);
    const SimReport report = simulation.report();
    QCOMPARE(report.registers.size(), size_t(2));
    QCOMPARE(report.registers[0].value + report.registers[1].value, 10'000);
    QCOMPARE(simulation.liveWorkerThreads(), 0);
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(keysWithPrefix(*servers, i, report.keyPrefix), 0);
}

void TestSimulation::stalledHolder_data()
{
    QTest::addColumn<bool>("fencing");
    QTest::addRow("no fencing") << false;
    QTest::addRow("fencing") << true;
}

void TestSimulation::stalledHolder()
{
    // TTL 200 ms; every 10th section stalls 800 ms after its validity check: the lock expires
    // under it, a waiter (retrying every 5-50 ms) takes it and writes, then the stalled holder
    // writes on the value it read before.
    QFETCH(bool, fencing);
    LS_START_SERVERS(servers, 1);
    SimConfig config = baseConfig(*servers);
    config.workers = 3;
    config.hold = 1ms;
    config.ttl = 200ms;
    config.stall = 800ms;
    config.stallEvery = 10;
    config.fencing = fencing;
    config.retry = lock::RetryStrategy::exponential(5ms, 50ms, 0, 0.5);
    config.maxAcquisitions = 40;
    Simulation simulation(config);
    QVERIFY(runToEnd(simulation));
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.acquisitions, 40u);
    QCOMPARE(sumOfWorkers(stats), 40u);
    QVERIFY(stats.stalls >= 3);
    QVERIFY(stats.overlaps >= 1);
    QVERIFY(stats.expiredBeforeRelease >= 1); // the stalled holder's release finds it gone
    if (fencing) {
        QCOMPARE(stats.violations, 0u);
        QVERIFY2(stats.fencingRejections >= 1, qPrintable(QString::number(stats.fencingRejections)));
    } else {
        QVERIFY2(stats.violations >= 1, "no lost update although the TTL ran out under a stalled holder");
        QCOMPARE(stats.fencingRejections, 0u);
    }
    // The event stream marks them.
    int marked = 0;
    for (const SectionEvent &e : simulation.events()) {
        if (e.outcome ==
            (fencing ? SectionEvent::Outcome::FencingRejected : SectionEvent::Outcome::Violation)) {
            ++marked;
            QVERIFY(e.stalled);
            QVERIFY(e.overlapped);
        }
    }
    QCOMPARE(quint64(marked), fencing ? stats.fencingRejections : stats.violations);
    QCOMPARE(stats.keysLeft, 0u);
}

void TestSimulation::pauseAndKillAreAppliedAndReverted()
{
    LS_START_SERVERS(servers, 3);
    SimConfig config = baseConfig(*servers);
    config.workers = 2;
    config.hold = 1ms;
    config.ttl = 1s;
    Simulation simulation(config, servers->servers());
    QVERIFY(simulation.start());

    SimFault pause;
    pause.kind = SimFault::Kind::PauseNode;
    pause.target = 1;
    FaultRecord paused = simulation.apply(pause);
    QVERIFY2(paused.ok, qPrintable(paused.message));
    QVERIFY(servers->server(1).isPaused());
    QVERIFY(!answers(servers->server(1)));
    QVERIFY(simulation.stats().nodePaused.at(1));
    SimFault resume = pause;
    resume.kind = SimFault::Kind::ResumeNode;
    QVERIFY(simulation.apply(resume).ok);
    QVERIFY(!servers->server(1).isPaused());
    QVERIFY(answers(servers->server(1)));

    SimFault kill;
    kill.kind = SimFault::Kind::KillNode;
    kill.target = 2;
    FaultRecord killed = simulation.apply(kill);
    QVERIFY2(killed.ok, qPrintable(killed.message));
    QVERIFY(!servers->server(2).isRunning());
    QVERIFY(simulation.stats().nodeDown.at(2));
    SimFault restart = kill;
    restart.kind = SimFault::Kind::RestartNode;
    FaultRecord restarted = simulation.apply(restart);
    QVERIFY2(restarted.ok, qPrintable(restarted.message));
    QVERIFY(answers(servers->server(2)));

    // Left paused and killed: stop() reverts both before releasing.
    QVERIFY(simulation.apply(pause).ok);
    QVERIFY(simulation.apply(kill).ok);
    simulation.stop();
    QVERIFY(answers(servers->server(1)));
    QVERIFY(answers(servers->server(2)));
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.violations, 0u);
    QCOMPARE(stats.nodePaused, std::vector<bool>(3, false));
    QCOMPARE(stats.nodeDown, std::vector<bool>(3, false));
    QCOMPARE(stats.keysLeft, 0u);
    QVERIFY(stats.acquisitions > 0);
}

void TestSimulation::remotePauseIsClientPause()
{
    // A node the simulator did not start: CLIENT PAUSE WRITE, lifted by CLIENT UNPAUSE; kill refused.
    LS_START_SERVERS(servers, 1);
    SimConfig config = baseConfig(*servers);
    config.workers = 1;
    config.hold = 1ms;
    Simulation simulation(config);
    QVERIFY(simulation.start());
    SimFault pause;
    pause.kind = SimFault::Kind::PauseNode;
    pause.length = 20s;
    FaultRecord paused = simulation.apply(pause);
    QVERIFY2(paused.ok, qPrintable(paused.message));
    QVERIFY(paused.message.contains(QStringLiteral("CLIENT PAUSE")));
    {
        redis::NodeConfig probe = servers->configs()[0];
        probe.commandTimeout = 300ms;
        redis::Connection writer(probe);
        QVERIFY(!writer.command({"SET", "lockscope:sim:probe", "1"})); // writes wait
    }
    SimFault resume = pause;
    resume.kind = SimFault::Kind::ResumeNode;
    QVERIFY(simulation.apply(resume).ok);
    auto written = servers->admin(0).command({"SET", "lockscope:sim:probe", "1"});
    LS_VERIFY_OK(written);
    QVERIFY(servers->del(0, "lockscope:sim:probe"));

    SimFault kill;
    kill.kind = SimFault::Kind::KillNode;
    FaultRecord refused = simulation.apply(kill);
    QVERIFY(!refused.ok);
    QVERIFY2(refused.message.contains(QStringLiteral("node0")), qPrintable(refused.message));
    QVERIFY(servers->server(0).isRunning());
    simulation.stop();
    QCOMPARE(simulation.stats().keysLeft, 0u);
}

void TestSimulation::scheduledFaultsRunAndRevert()
{
    LS_START_SERVERS(servers, 3);
    SimConfig config = baseConfig(*servers);
    config.workers = 4;
    config.hold = 1ms;
    config.ttl = 2s;
    config.maxAcquisitions = 400;
    SimFault pause;
    pause.kind = SimFault::Kind::PauseNode;
    pause.target = 0;
    pause.afterAcquisitions = 50;
    pause.length = 300ms;
    SimFault kill;
    kill.kind = SimFault::Kind::KillNode;
    kill.target = 2;
    kill.afterAcquisitions = 100;
    kill.length = 200ms;
    config.faults = {pause, kill};
    Simulation simulation(config, servers->servers());
    QVERIFY(runToEnd(simulation));
    const auto log = simulation.faultLog();
    QStringList kinds;
    for (const FaultRecord &r : log) {
        QVERIFY2(r.ok, qPrintable(r.fault.describe() + QStringLiteral(": ") + r.message));
        kinds << SimFault::kindName(r.fault.kind);
    }
    for (const char *kind : {"pause", "resume", "kill", "restart"})
        QVERIFY2(kinds.contains(QLatin1String(kind)), qPrintable(kinds.join(QLatin1Char(','))));
    for (int i = 0; i < 3; ++i)
        QVERIFY(answers(servers->server(i)));
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.acquisitions, 400u);
    QCOMPARE(sumOfWorkers(stats), 400u);
    QCOMPARE(stats.violations, 0u); // one node of three at a time: the quorum holds
    QCOMPARE(stats.keysLeft, 0u);
}

void TestSimulation::dropConnectionAndDrift()
{
    LS_START_SERVERS(servers, 1);
    SimConfig config = baseConfig(*servers);
    config.workers = 2;
    config.hold = 1ms;
    Simulation simulation(config);
    QVERIFY(simulation.start());
    QTRY_VERIFY_WITH_TIMEOUT(simulation.stats().workers.at(0).acquisitions > 5, 20000);
    SimFault drop;
    drop.kind = SimFault::Kind::DropConnection;
    drop.target = 0;
    FaultRecord dropped = simulation.apply(drop);
    QVERIFY2(dropped.ok, qPrintable(dropped.message));
    QVERIFY2(!dropped.message.startsWith(QStringLiteral("closed 0 ")), qPrintable(dropped.message));
    const quint64 before = simulation.stats().workers.at(0).acquisitions;
    QTRY_VERIFY_WITH_TIMEOUT(simulation.stats().workers.at(0).acquisitions > before + 5,
                             20000); // reconnected

    SimFault drift;
    drift.kind = SimFault::Kind::ClockDrift;
    drift.target = 1;
    drift.rate = 0.5;
    QVERIFY(simulation.apply(drift).ok);
    QCOMPARE(simulation.stats().workers.at(1).clockRate, 0.5);
    QCOMPARE(simulation.stats().workers.at(0).clockRate, 1.0);
    simulation.stop();
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.violations, 0u);
    QCOMPARE(stats.keysLeft, 0u);
}

void TestSimulation::stopMidRunLeavesNothing()
{
    LS_START_SERVERS(servers, 3);
    const int threadsBefore = threadCount();
    QByteArray prefix;
    {
        SimConfig config = baseConfig(*servers);
        config.hold = 20ms; // most of the time someone holds the lock
        config.watchdog = true;
        config.ttl = 30s; // a lock left behind would still be there when we look
        Simulation simulation(config, servers->servers());
        QVERIFY(simulation.start());
        QTRY_VERIFY_WITH_TIMEOUT(simulation.stats().acquisitions > 10, 20000);
        simulation.pause();
        QCOMPARE(simulation.state(), SimState::Paused);
        simulation.resume();
        QCOMPARE(simulation.state(), SimState::Running);
        simulation.requestStop();
        QVERIFY(simulation.waitFinished(60s));
        QCOMPARE(simulation.state(), SimState::Finished);
        QCOMPARE(simulation.liveWorkerThreads(), 0);
        const SimStats stats = simulation.stats();
        QCOMPARE(stats.keysLeft, 0u);
        QCOMPARE(stats.violations, 0u);
        QCOMPARE(sumOfWorkers(stats), stats.acquisitions);
        for (const WorkerStats &w : stats.workers)
            QVERIFY(!w.holding);
        prefix = simulation.report().keyPrefix;
    }
    QCOMPARE(threadCount(), threadsBefore);
    // Lock keys released, the run's fence counters deleted.
    for (int i = 0; i < 3; ++i)
        QCOMPARE(keysWithPrefix(*servers, i, prefix), 0);
}

void TestSimulation::pubsubWakeup()
{
    LS_START_SERVERS(servers, 1);
    SimConfig config = baseConfig(*servers);
    config.workers = 4;
    config.hold = 2ms;
    config.wakeup = Wakeup::PubSub;
    config.retry = lock::RetryStrategy::linear(10s); // only a message can wake a waiter early
    config.maxAcquisitions = 300;
    Simulation simulation(config);
    QVERIFY(runToEnd(simulation));
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.acquisitions, 300u);
    QVERIFY2(stats.wakeups > 0, "no waiter was woken by a release message");
    QCOMPARE(stats.violations, 0u);
    QCOMPARE(stats.keysLeft, 0u);
    // Nobody slept out a 10 s delay: every wait ended well before the TTL.
    QVERIFY2(stats.waitMaxUs < 5'000'000u, qPrintable(QString::number(stats.waitMaxUs)));
}

void TestSimulation::pubsubHandsOverInOneProcess()
{
    // Workers that are threads of one process share its Locker: a release hands the lock to
    // the waiter of that Locker first in the queue (the direct hand-over), in the release
    // script; the run stays safe and every fence is new.
    LS_START_SERVERS(servers, 1);
    SimConfig config = baseConfig(*servers);
    config.workers = 4;
    config.processes = 1;
    config.hold = 2ms;
    config.wakeup = Wakeup::PubSub;
    config.retry = lock::RetryStrategy::linear(10s); // only a release can end a wait early
    config.maxAcquisitions = 300;
    Simulation simulation(config);
    QVERIFY(runToEnd(simulation));
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.acquisitions, 300u);
    QVERIFY2(stats.handovers > 0, "no acquisition was handed over by a release");
    QVERIFY(stats.handovers <= stats.wakeups);
    QCOMPARE(stats.violations, 0u);
    QCOMPARE(stats.overlaps, 0u);
    QCOMPARE(stats.fencingRejections, 0u);
    QCOMPARE(stats.keysLeft, 0u);
    QVERIFY2(stats.waitMaxUs < 5'000'000u, qPrintable(QString::number(stats.waitMaxUs)));
}

void TestSimulation::workersOfOneProcessSleepOnTheirOwnSlots()
{
    // Threads of one process share its Locker and so its clock: a retry sleep on any of their
    // threads must confirm that thread's own wait, not the wait of the worker whose clock it
    // is (a data race on that worker's state: it once crashed a polling run with an index of
    // -1). Under ThreadSanitizer this run is the check.
    LS_START_SERVERS(servers, 1);
    SimConfig config = baseConfig(*servers);
    config.workers = 4;
    config.processes = 1;
    config.hold = 1ms;
    config.wakeup = Wakeup::Poll;
    config.retry = lock::RetryStrategy::linear(1ms); // many sleeps, on every thread
    config.maxAcquisitions = 300;
    Simulation simulation(config);
    QVERIFY(runToEnd(simulation));
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.acquisitions, 300u);
    QVERIFY(stats.failedAttempts > 0);
    QCOMPARE(stats.violations, 0u);
    QCOMPARE(stats.overlaps, 0u);
    QCOMPARE(stats.keysLeft, 0u);
}

void TestSimulation::starvedWorkersShowTheirWait()
{
    // Issue 10, defect 7: the first holder keeps the lock past the end of the run, so the
    // other workers wait the whole run and their acquires are cancelled by the shutdown. Their
    // failed attempts and their (censored) waits must show, not vanish with the cancellation.
    LS_START_SERVERS(servers, 1);
    SimConfig config = baseConfig(*servers);
    config.workers = 3;
    config.hold = 30s;
    config.ttl = 60s; // no expiry, no wait deadline (0 = the TTL) within the run
    config.retry = lock::RetryStrategy::linear(20ms);
    config.duration = 1500ms;
    Simulation simulation(config);
    QVERIFY(runToEnd(simulation));
    const SimStats stats = simulation.stats();
    QCOMPARE(stats.acquisitions, 1u);
    QCOMPARE(stats.acquireFailures, 0u); // cancelled is not given up
    QCOMPARE(stats.censoredWaits, 2u);
    QCOMPARE(stats.keysLeft, 0u);
    // Machines are noisy: a large part of the run, not the run to the millisecond.
    const auto longWait = static_cast<quint64>(config.duration.count()) * 1000 * 3 / 4;
    int starved = 0;
    for (const WorkerStats &w : stats.workers) {
        if (w.acquisitions > 0) {
            QCOMPARE(w.censoredWaits, 0u);
            continue;
        }
        ++starved;
        QVERIFY2(w.failedAttempts > 0, qPrintable(QStringLiteral("worker %1").arg(w.worker)));
        QCOMPARE(w.censoredWaits, 1u);
        QVERIFY2(w.waitMaxUs >= longWait, qPrintable(QString::number(w.waitMaxUs)));
    }
    QCOMPARE(starved, 2);
    QVERIFY(stats.failedAttempts >= 2);
    // 3 waits, 2 of them the whole run: the percentiles say so.
    QVERIFY2(stats.waitP99Us >= longWait, qPrintable(QString::number(stats.waitP99Us)));
    QVERIFY2(stats.waitMaxUs >= longWait, qPrintable(QString::number(stats.waitMaxUs)));

    const QJsonObject json = reportToJson(simulation.report());
    QCOMPARE(json.value(QStringLiteral("censored_waits")).toInteger(), 2);
    QVERIFY(json.value(QStringLiteral("failed_attempts")).toInteger() >= 2);
    QVERIFY(json.value(QStringLiteral("wait_p99_us")).toInteger() >= qint64(longWait));
    int starvedInJson = 0;
    for (const auto &value : json.value(QStringLiteral("workers")).toArray()) {
        const QJsonObject w = value.toObject();
        if (w.value(QStringLiteral("acquisitions")).toInteger() > 0)
            continue;
        ++starvedInJson;
        QVERIFY(w.value(QStringLiteral("failed_attempts")).toInteger() > 0);
        QCOMPARE(w.value(QStringLiteral("censored_waits")).toInteger(), 1);
        QVERIFY(w.value(QStringLiteral("wait_max_us")).toInteger() >= qint64(longWait));
    }
    QCOMPARE(starvedInJson, 2);
}

void TestSimulation::exportJsonAndCsv()
{
    LS_START_SERVERS(servers, 1);
    SimConfig config = baseConfig(*servers);
    config.workers = 3;
    config.maxAcquisitions = 200;
    config.eventCapacity = 150;
    Simulation simulation(config);
    QVERIFY(runToEnd(simulation));
    const auto events = simulation.events();
    QCOMPARE(events.size(), size_t(150)); // the most recent ones
    QCOMPARE(events.back().seq, 200u);
    QCOMPARE(events.front().seq, 51u);
    QCOMPARE(simulation.events(190).size(), size_t(10));
    for (const SectionEvent &e : events)
        QVERIFY(e.requestUs <= e.startUs && e.startUs <= e.endUs);

    const QJsonObject json = reportToJson(simulation.report());
    for (const char *key :
         {"acquisitions", "violations", "fencing_rejections", "failed_attempts", "wait_p50_us", "wait_p99_us",
          "overlaps", "lost_locks", "fairness", "workers", "config"})
        QVERIFY2(json.contains(QLatin1String(key)), key);
    QCOMPARE(json.value(QStringLiteral("acquisitions")).toInteger(), 200);
    QCOMPARE(json.value(QStringLiteral("events_dropped")).toInteger(), 50);
    const QJsonArray workers = json.value(QStringLiteral("workers")).toArray();
    QCOMPARE(workers.size(), 3);
    qint64 sum = 0;
    for (const auto &w : workers)
        sum += w.toObject().value(QStringLiteral("acquisitions")).toInteger();
    QCOMPARE(sum, 200);

    const QList<QByteArray> lines = eventsToCsv(events).trimmed().split('\n');
    QCOMPARE(lines.size(), 151);
    QVERIFY(lines[0].startsWith("seq,worker,key,"));
    QCOMPARE(lines[1].split(',').size(), lines[0].split(',').size());
    QCOMPARE(workersToCsv(simulation.stats()).trimmed().split('\n').size(), 4);
}

void TestSimulation::quorumLossBreakersAndDegraded_data()
{
    QTest::addColumn<bool>("degraded");
    QTest::newRow("degraded mode") << true;
    QTest::newRow("no degraded mode") << false;
}

void TestSimulation::quorumLossBreakersAndDegraded()
{
    // Two of three nodes killed mid-run: no quorum. The breakers open; with degraded mode the
    // workers take in-process locks (all in this process: they still exclude each other),
    // without it their acquires are refused by the open breakers.
    QFETCH(bool, degraded);
    LS_START_SERVERS(servers, 3);
    SimConfig config = baseConfig(*servers);
    config.workers = 4;
    config.hold = 1ms;
    config.ttl = 2s;
    config.fencing = true;
    config.degraded = degraded;
    QVERIFY(config.breaker); // the default
    Simulation simulation(config, servers->servers());
    QVERIFY(simulation.start());
    QTRY_VERIFY_WITH_TIMEOUT(simulation.stats().acquisitions >= 50, 20000);

    // Kill only once no Redis lock is held: a holder that took its lock before the kill would
    // otherwise overlap with a degraded holder (the in-process table does not know it), which
    // the checker would rightly count. Paused, the workers finish what they began and stop.
    simulation.pause();
    quint64 settled = simulation.stats().acquisitions;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            const SimStats now = simulation.stats();
            const bool quiet =
                now.acquisitions == settled &&
                std::ranges::none_of(now.workers, [](const WorkerStats &w) { return w.holding; });
            settled = now.acquisitions;
            return quiet;
        }(),
        20000);
    for (int node : {1, 2}) {
        SimFault kill;
        kill.kind = SimFault::Kind::KillNode;
        kill.target = node;
        const FaultRecord killed = simulation.apply(kill);
        QVERIFY2(killed.ok, qPrintable(killed.message));
    }
    const quint64 beforeOutage = simulation.stats().acquisitions;
    simulation.resume();
    if (degraded)
        QTRY_VERIFY_WITH_TIMEOUT(simulation.stats().degradedAcquisitions >= 20, 30000);
    else
        QTRY_VERIFY_WITH_TIMEOUT(simulation.stats().breakerRefusals >= 4, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(simulation.stats().breakerOpens > 0, 30000);
    simulation.stop(); // restarts the killed nodes first

    const SimStats stats = simulation.stats();
    QCOMPARE(stats.violations, 0u);
    QCOMPARE(stats.overlaps, 0u);
    QCOMPARE(stats.maxHolders, 1);
    QCOMPARE(stats.fencingRejections, 0u); // degraded writes have no token: counted apart
    QVERIFY(stats.breakerOpens > 0);
    quint64 degradedSum = 0, refusalSum = 0, opensSum = 0;
    for (const WorkerStats &w : stats.workers) {
        degradedSum += w.degradedAcquisitions;
        refusalSum += w.breakerRefusals;
        opensSum += w.breakerOpens;
    }
    QCOMPARE(degradedSum, stats.degradedAcquisitions);
    QCOMPARE(refusalSum, stats.breakerRefusals);
    QCOMPARE(opensSum, stats.breakerOpens);
    if (degraded) {
        QVERIFY(stats.degradedAcquisitions > 0);
        QVERIFY(stats.acquisitions > beforeOutage);
        QVERIFY(stats.degradedWrites > 0);
        QVERIFY(stats.degradedWrites <= stats.degradedAcquisitions);
    } else {
        QCOMPARE(stats.degradedAcquisitions, 0u);
        QCOMPARE(stats.degradedWrites, 0u);
        QVERIFY(stats.breakerRefusals > 0);
        QVERIFY(stats.acquireFailures >= stats.breakerRefusals);
    }

    // The transitions are in the run's log with their time, node and cause.
    const auto log = simulation.breakerLog();
    const auto opened = std::ranges::count_if(
        log, [](const BreakerRecord &r) { return r.event.to == redis::BreakerState::Open; });
    QCOMPARE(static_cast<quint64>(opened), stats.breakerOpens);
    QVERIFY(std::ranges::all_of(log, [](const BreakerRecord &r) { return r.node == 1 || r.node == 2; }));
    const auto first = std::ranges::find_if(
        log, [](const BreakerRecord &r) { return r.event.to == redis::BreakerState::Open; });
    QVERIFY(first != log.end());
    QVERIFY2(first->describe().startsWith(QStringLiteral("breaker open on node ")),
             qPrintable(first->describe()));
    QVERIFY2(first->describe().contains(QStringLiteral("3 failures: ")), qPrintable(first->describe()));
    QVERIFY(first->atUs > 0);
    const QJsonObject json = reportToJson(simulation.report());
    QCOMPARE(json.value(QStringLiteral("degraded_mode")).toBool(), degraded);
    QCOMPARE(json.value(QStringLiteral("breaker")).toBool(), true);
    QCOMPARE(json.value(QStringLiteral("degraded_acquisitions")).toInteger(),
             static_cast<qint64>(stats.degradedAcquisitions));
    QCOMPARE(json.value(QStringLiteral("breaker_opens")).toInteger(),
             static_cast<qint64>(stats.breakerOpens));
    QCOMPARE(json.value(QStringLiteral("breaker_transitions")).toArray().size(),
             static_cast<qsizetype>(log.size()));
    for (int i = 0; i < 3; ++i)
        QVERIFY(answers(servers->server(i)));
    QCOMPARE(stats.keysLeft, 0u);
}

void TestSimulation::degradedWritesAreNotFencingRejections()
{
    // A degraded holder writes with no token (fence 0) after fenced holders: not a rejection,
    // not a violation when nothing else wrote meanwhile; a real stale write still is one.
    ProtectedResource resource(1, true, ProtectedResource::Clock::now());
    auto fenced = resource.begin(0, 0, 7);
    QCOMPARE(resource.commit(fenced), ProtectedResource::WriteOutcome::Accepted);
    auto degraded = resource.begin(0, 1, 0, ProtectedResource::Access::Exclusive, true);
    QCOMPARE(resource.commit(degraded), ProtectedResource::WriteOutcome::Accepted);
    auto stale = resource.begin(0, 2, 0, ProtectedResource::Access::Exclusive, true);
    auto other = resource.begin(0, 3, 8);
    QCOMPARE(resource.commit(other), ProtectedResource::WriteOutcome::Accepted);
    QCOMPARE(resource.commit(stale), ProtectedResource::WriteOutcome::Violation);
    const auto state = resource.state(0);
    QCOMPARE(state.fencingRejections, 0u);
    QCOMPARE(state.degradedWrites, 2u);
    QCOMPARE(state.violations, 1u);
    QCOMPARE(state.overlaps, 1u);
}

QTEST_GUILESS_MAIN(TestSimulation)
#include "tst_simulation.moc"
