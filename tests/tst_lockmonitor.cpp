// LockMonitor (the app's scan worker) and DemoTraffic (the demo's simulated services), against
// real redis-server processes.
#include "demotraffic.h"
#include "lockmonitor.h"
#include "redis/connection.h"
#include "redis/localserver.h"
#include "threadowner.h"

#include <QSignalSpy>
#include <QTest>

using namespace std::chrono_literals;
using lockscope::inspect::GroupConfig;
using lockscope::inspect::GroupNode;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::SchemaRegistry;
using lockscope::redis::Connection;
using lockscope::redis::LocalRedisServer;
using lockscope::redis::LocalServerOptions;
using lockscope::redis::NodeConfig;

namespace {

std::unique_ptr<LocalRedisServer> startServer(QStringList extraArgs = {})
{
    LocalServerOptions options;
    options.extraArgs = std::move(extraArgs);
    auto server = LocalRedisServer::start(options);
    if (!server)
        qFatal("cannot start redis-server: %s", qPrintable(server.error().toString()));
    return std::move(*server);
}

NodeGroup groupOf(const QString &name, const std::vector<NodeConfig> &nodes, QStringList match = {})
{
    NodeGroup group;
    group.name = name;
    group.match = std::move(match);
    for (const NodeConfig &node : nodes)
        group.nodes.push_back(GroupNode{node, false, false, {}});
    return group;
}

/// The records per group as the window keeps them: a group's first snapshot, then deltas.
struct Latest
{
    std::map<QString, std::vector<LockRecord>> groups;
    std::map<QString, std::pair<size_t, size_t>> lastDelta; ///< group -> (upserts, removed)
    int snapshots = 0;

    void apply(const GroupSnapshot &snapshot)
    {
        ++snapshots;
        auto &records = groups[snapshot.group];
        if (!snapshot.delta)
            records.clear();
        lastDelta[snapshot.group] = {snapshot.snapshot.records.size(), snapshot.removed.size()};
        for (const QByteArray &key : snapshot.removed)
            std::erase_if(records, [&](const LockRecord &r) { return r.key == key; });
        for (const LockRecord &record : snapshot.snapshot.records) {
            std::erase_if(records, [&](const LockRecord &r) { return r.key == record.key; });
            records.push_back(record);
        }
    }

    const LockRecord *find(const QString &group, const QByteArray &key) const
    {
        auto it = groups.find(group);
        if (it == groups.end())
            return nullptr;
        for (const LockRecord &record : it->second) {
            if (record.key == key)
                return &record;
        }
        return nullptr;
    }
};

} // namespace

class TestLockMonitor : public QObject
{
    Q_OBJECT

private slots:
    void scansEveryGroupOnRequest();
    void keyspaceEventsRefreshBetweenPolls();
    void demoTrafficShowsEveryKindOfLock();
};

void TestLockMonitor::scansEveryGroupOnRequest()
{
    auto a = startServer();
    auto b = startServer();
    Connection ca(a->nodeConfig()), cb(b->nodeConfig());
    QVERIFY(ca.command({"SET", "jobs:one", "ls1 tok=abc fence=1 label=x", "PX", "60000"}));
    QVERIFY(cb.command({"SET", "jobs:one", "ls1 tok=abc fence=1 label=x", "PX", "60000"}));
    QVERIFY(ca.command({"SET", "other:two", "ls1 tok=def fence=1", "PX", "60000"}));

    GroupConfig config;
    config.groups.push_back(groupOf("pair", {a->nodeConfig(), b->nodeConfig()}, {"jobs:*"}));
    config.groups.push_back(groupOf("single", {a->nodeConfig()}));

    ThreadOwner thread(QStringLiteral("scan"));
    auto *monitor = new LockMonitor(config, SchemaRegistry::builtins());
    thread.adopt(monitor);
    Latest latest;
    // The receiver of the monitor's queued signals goes first when the test ends: with it go
    // the snapshots still queued for it, which would otherwise reach `latest` after its end.
    QObject receiver;
    connect(monitor, &LockMonitor::groupScanned, &receiver,
            [&](quint64, const std::shared_ptr<GroupSnapshot> &snapshot) { latest.apply(*snapshot); });
    QSignalSpy finished(monitor, &LockMonitor::refreshFinished);
    thread.start();
    QMetaObject::invokeMethod(monitor, [monitor] {
        monitor->setInterval(0ms); // manual refreshes only
        monitor->start();
    });
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10'000);
    QCOMPARE(latest.snapshots, 2);
    // The group's match restricts its scan; the other group lists every lock of its node.
    QCOMPARE(latest.groups["pair"].size(), size_t(1));
    const LockRecord *one = latest.find("pair", "jobs:one");
    QVERIFY(one);
    QCOMPARE(one->held, 2);
    QCOMPARE(one->of, 2);
    QCOMPARE(latest.groups["single"].size(), size_t(2));
    QVERIFY(latest.find("single", "other:two"));

    // Nothing changed: the next refresh hands over nothing.
    QMetaObject::invokeMethod(monitor, [monitor] { monitor->requestRefresh(); });
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 10'000);
    QCOMPARE(latest.lastDelta["pair"], (std::pair<size_t, size_t>{0, 0}));
    QCOMPARE(latest.lastDelta["single"], (std::pair<size_t, size_t>{0, 0}));
    QCOMPARE(latest.groups["single"].size(), size_t(2));

    // One key changed on one node, one gone, one extended: only those travel.
    QVERIFY(cb.command({"DEL", "jobs:one"}));
    QVERIFY(ca.command({"DEL", "other:two"}));
    QVERIFY(ca.command({"SET", "other:three", "ls1 tok=ghi fence=1", "PX", "60000"}));
    QMetaObject::invokeMethod(monitor, [monitor] { monitor->requestRefresh(); });
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 3, 10'000);
    QCOMPARE(latest.lastDelta["pair"], (std::pair<size_t, size_t>{1, 0}));
    // jobs:one went from node b only, which this group does not read.
    QCOMPARE(latest.lastDelta["single"], (std::pair<size_t, size_t>{1, 1})); // other:three; other:two
    QVERIFY(!latest.find("single", "other:two"));
    QVERIFY(latest.find("single", "other:three"));
    one = latest.find("pair", "jobs:one");
    QVERIFY(one);
    QCOMPARE(one->held, 1);
    QVERIFY(one->anomalies.contains(QStringLiteral("quorum-lost")));
}

void TestLockMonitor::keyspaceEventsRefreshBetweenPolls()
{
    // A node that already publishes keyspace events: a change is seen without a poll.
    auto server = startServer({"--notify-keyspace-events", "Kg$hx"});
    auto quiet = startServer(); // events off: the monitor says so and polls
    GroupConfig config;
    config.groups.push_back(groupOf("live", {server->nodeConfig()}));
    config.groups.push_back(groupOf("polled", {quiet->nodeConfig()}));

    ThreadOwner thread(QStringLiteral("scan"));
    auto *monitor = new LockMonitor(config, SchemaRegistry::builtins());
    thread.adopt(monitor);
    Latest latest;
    QStringList notices;
    // The receiver of the monitor's queued signals goes first when the test ends: with it go
    // the snapshots still queued for it, which would otherwise reach `latest` after its end.
    QObject receiver;
    connect(monitor, &LockMonitor::groupScanned, &receiver,
            [&](quint64, const std::shared_ptr<GroupSnapshot> &snapshot) { latest.apply(*snapshot); });
    connect(monitor, &LockMonitor::notice, &receiver,
            [&](const QString &, const QString &node, const QString &text, const QString &detail) {
                notices << node + QStringLiteral(": ") + text + QLatin1Char(' ') + detail;
            });
    QSignalSpy finished(monitor, &LockMonitor::refreshFinished);
    thread.start();
    QMetaObject::invokeMethod(monitor, [monitor] {
        monitor->setInterval(0ms); // no polling at all: only events can refresh
        monitor->start();
    });
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10'000);
    QVERIFY(!latest.find("live", "jobs:new"));
    QTRY_VERIFY_WITH_TIMEOUT(!notices.isEmpty(), 10'000);
    QVERIFY2(notices.join('\n').contains(quiet->nodeConfig().label()), qPrintable(notices.join('\n')));
    QVERIFY2(notices.join('\n').contains(QStringLiteral("CONFIG SET notify-keyspace-events")),
             qPrintable(notices.join('\n')));

    // The listener subscribes asynchronously; keep writing until an event-driven scan shows it.
    Connection connection(server->nodeConfig());
    QTRY_VERIFY_WITH_TIMEOUT(
        (connection.command({"SET", "jobs:new", "ls1 tok=new fence=1", "PX", "60000"}).has_value() &&
         latest.find("live", "jobs:new")),
        10'000);
    QVERIFY(finished.size() >= 2);
}

void TestLockMonitor::demoTrafficShowsEveryKindOfLock()
{
    std::vector<std::unique_ptr<LocalRedisServer>> servers;
    QList<NodeConfig> nodes;
    for (int i = 1; i <= 3; ++i) {
        servers.push_back(startServer());
        NodeConfig config = servers.back()->nodeConfig();
        config.name = QStringLiteral("demo-%1").arg(i);
        nodes << config;
    }
    const GroupConfig groups = DemoTraffic::groups(nodes);
    QCOMPARE(groups.groups.size(), size_t(2));
    QCOMPARE(groups.groups[0].nodes.size(), size_t(3));
    QCOMPARE(groups.groups[1].nodes.size(), size_t(1));

    ThreadOwner thread(QStringLiteral("scan"));
    auto *monitor = new LockMonitor(groups, SchemaRegistry::builtins());
    thread.adopt(monitor);
    Latest latest;
    // The receiver of the monitor's queued signals goes first when the test ends: with it go
    // the snapshots still queued for it, which would otherwise reach `latest` after its end.
    QObject receiver;
    connect(monitor, &LockMonitor::groupScanned, &receiver,
            [&](quint64, const std::shared_ptr<GroupSnapshot> &snapshot) { latest.apply(*snapshot); });
    thread.start();

    auto traffic = std::make_unique<DemoTraffic>(nodes);
    traffic->start();
    QMetaObject::invokeMethod(monitor, [monitor] {
        monitor->setInterval(500ms);
        monitor->start();
    });

    const QString redlock = groups.groups[0].name, single = groups.groups[1].name;
    auto hasSchema = [&](const QString &group, const QString &schema) {
        for (const LockRecord &record : latest.groups[group]) {
            if (record.schema == schema)
                return true;
        }
        return false;
    };
    auto hasAnomaly = [&](const QString &group, const QByteArray &key, const QString &anomaly) {
        const LockRecord *record = latest.find(group, key);
        return record && record->anomalies.contains(anomaly);
    };
    auto heldEverywhere = [&] {
        for (const LockRecord &record : latest.groups[redlock]) {
            if (record.key.startsWith("billing:invoice:") && record.held == 3 && record.quorum &&
                record.nodes[0].decoded && record.nodes[0].decoded->label == QStringLiteral("checkout-api"))
                return true;
        }
        return false;
    };
    // Within seconds: Redlock locks held on 3 of 3, a lock left on 1 of 3, one without TTL,
    // and other libraries' layouts decoded.
    QTRY_VERIFY_WITH_TIMEOUT(heldEverywhere(), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(hasAnomaly(redlock, "billing:ledger:rebuild", "quorum-lost"), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(hasAnomaly(single, "jobs:legacy:cleanup", "no-ttl"), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(hasSchema(single, "redisson-rlock"), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(hasSchema(single, "redis-py"), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(hasSchema(single, "redsync"), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(latest.find(single, "jobs:report:daily") != nullptr, 20'000);
    // Nothing of the demo leaks into the other group.
    for (const LockRecord &record : latest.groups[redlock])
        QVERIFY2(record.key.startsWith("billing:"), record.key.constData());

    // Stopping joins every service thread promptly (each sleeps in 100 ms slices).
    QElapsedTimer stopping;
    stopping.start();
    traffic.reset();
    qInfo("demo traffic stopped in %lld ms", stopping.elapsed());
}

QTEST_MAIN(TestLockMonitor)
#include "tst_lockmonitor.moc"
