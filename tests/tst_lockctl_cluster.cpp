#include "clusterfixture.h"
#include "lockctlrunner.h"
#include "redis/clusterslots.h"
#include "redis/connection.h"
#include "redisfixture.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTest>

using namespace lockscope;
using namespace lockscope::redis;
using lockscope::test::ClusterFixture;
using lockscope::test::RunResult;
using lockscope::test::ServerKind;

namespace {

QString urlOf(const NodeConfig &config)
{
    return QStringLiteral("redis://%1:%2").arg(config.host).arg(config.port);
}

QJsonArray parseArray(const QString &text)
{
    return QJsonDocument::fromJson(text.toUtf8()).array();
}

} // namespace

/// lockctl against a real local Redis Cluster: `show` on a node that does not serve the key, and
/// `ping` printing the cluster's topology.
class TestLockctlCluster : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void showOnWrongMasterSaysMoved();
    void showOnOwnerReadsTheKey();
    void listOnOneMasterReadsKeysOfManySlots();
    void pingPrintsTopology();
    void pingJsonHasClusterObject();
    void pingPlainNodeHasNoCluster();

private:
    /// A key, the node that serves it and one that does not.
    struct Placement
    {
        QByteArray key;
        quint16 slot = 0;
        int owner = -1;
        int wrong = -1;
        QString ownerAddress;
    };
    Placement place(const QByteArray &key);

    std::unique_ptr<ClusterFixture> m_cluster;
    ClusterTopology m_topology;
};

void TestLockctlCluster::initTestCase()
{
    QVERIFY2(QFile::exists(QStringLiteral(LOCKCTL_PATH)), LOCKCTL_PATH);
    auto started = ClusterFixture::start();
    QVERIFY2(started.has_value(), test::describe(started).constData());
    m_cluster = std::move(*started);
    auto topology = discoverTopology(m_cluster->admin(0));
    LS_VERIFY_OK(topology);
    QVERIFY(topology->isComplete());
    m_topology = *topology;
}

void TestLockctlCluster::cleanupTestCase()
{
    m_cluster.reset();
}

TestLockctlCluster::Placement TestLockctlCluster::place(const QByteArray &key)
{
    Placement placement;
    placement.key = key;
    placement.slot = keyHashSlot(key);
    const ClusterNode *owner = m_topology.masterForSlot(placement.slot);
    if (!owner)
        return placement;
    placement.ownerAddress = owner->address();
    placement.owner = m_cluster->indexOfPort(owner->port);
    for (int i = 0; i < m_cluster->size(); ++i)
        if (i != placement.owner) {
            placement.wrong = i;
            break;
        }
    return placement;
}

void TestLockctlCluster::showOnWrongMasterSaysMoved()
{
    QVERIFY(m_cluster);
    const Placement p = place("lockctl-cluster:show");
    QVERIFY(p.owner >= 0 && p.wrong >= 0);
    LS_VERIFY_OK(m_cluster->admin(p.owner).command({"SET", p.key, "someone", "PX", "60000"}));
    const QString wrongUrl = urlOf(m_cluster->config(p.wrong));
    const QString moved =
        QStringLiteral("key moved: slot %1 is served by %2").arg(p.slot).arg(p.ownerAddress);

    const RunResult table = test::runLockctl(
        {QStringLiteral("show"), QString::fromUtf8(p.key), QStringLiteral("--nodes"), wrongUrl});
    // As for a key no node holds: 4; the node itself is fine.
    QVERIFY2(table.exitCode == 4, test::describe(table).constData());
    QVERIFY2(table.out.contains(moved), test::describe(table).constData());
    QVERIFY2(table.err.contains(moved), test::describe(table).constData());
    QVERIFY2(table.out.contains(QStringLiteral("cluster-redirect")), test::describe(table).constData());
    QVERIFY2(!table.out.contains(QStringLiteral("node-unreachable")), test::describe(table).constData());
    QVERIFY2(!table.out.contains(QStringLiteral("error: ")), test::describe(table).constData());

    const RunResult json = test::runLockctl({QStringLiteral("show"), QString::fromUtf8(p.key),
                                             QStringLiteral("--nodes"), wrongUrl, QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 4, test::describe(json).constData());
    const QJsonObject record = QJsonDocument::fromJson(json.out.toUtf8()).object();
    const QJsonArray anomalies = record.value(QStringLiteral("anomalies")).toArray();
    QVERIFY2(anomalies.contains(QStringLiteral("cluster-redirect")), test::describe(json).constData());
    QVERIFY2(!anomalies.contains(QStringLiteral("node-unreachable")), test::describe(json).constData());
    const QJsonObject node = record.value(QStringLiteral("nodes")).toArray().at(0).toObject();
    QCOMPARE(node.value(QStringLiteral("reachable")).toBool(false), true);
    QCOMPARE(node.value(QStringLiteral("present")).toBool(true), false);
    QVERIFY2(node.value(QStringLiteral("error")).toString().contains(moved),
             test::describe(json).constData());

    // ttl: the same, exit 4 with the redirect on stderr (it used to say "node failure", 1).
    const RunResult ttl = test::runLockctl(
        {QStringLiteral("ttl"), QString::fromUtf8(p.key), QStringLiteral("--nodes"), wrongUrl});
    QVERIFY2(ttl.exitCode == 4, test::describe(ttl).constData());
    QVERIFY2(ttl.err.contains(moved), test::describe(ttl).constData());

    // Read-only: the key is still where it was, untouched.
    auto value = m_cluster->admin(p.owner).command({"GET", p.key});
    LS_VERIFY_OK(value);
    QCOMPARE(value->bytes(), QByteArray("someone"));
    LS_VERIFY_OK(m_cluster->admin(p.owner).command({"DEL", p.key}));
}

void TestLockctlCluster::showOnOwnerReadsTheKey()
{
    QVERIFY(m_cluster);
    const Placement p = place("lockctl-cluster:owner");
    QVERIFY(p.owner >= 0);
    LS_VERIFY_OK(m_cluster->admin(p.owner).command({"SET", p.key, "someone", "PX", "60000"}));
    const RunResult result = test::runLockctl({QStringLiteral("show"), QString::fromUtf8(p.key),
                                               QStringLiteral("--nodes"), urlOf(m_cluster->config(p.owner))});
    QVERIFY2(result.exitCode == 0, test::describe(result).constData());
    QVERIFY2(result.out.contains(QStringLiteral("someone")), test::describe(result).constData());
    QVERIFY2(!result.out.contains(QStringLiteral("cluster-redirect")), test::describe(result).constData());
    LS_VERIFY_OK(m_cluster->admin(p.owner).command({"DEL", p.key}));
}

void TestLockctlCluster::listOnOneMasterReadsKeysOfManySlots()
{
    // Pointed at one master, list used to fail with "MGET: CROSSSLOT" and an empty table as soon
    // as the node held keys of two slots. Now every key of that master is listed, values read
    // key by key, with a note that the list covers this master's slots only.
    QVERIFY(m_cluster);
    int master = -1;
    std::vector<QByteArray> keys;
    QSet<quint16> slotsUsed;
    for (int i = 0; keys.size() < 40 && i < 2000; ++i) {
        const Placement p = place("jobs:cluster-list:" + QByteArray::number(i));
        if (master < 0)
            master = p.owner;
        if (p.owner != master)
            continue;
        keys.push_back(p.key);
        slotsUsed.insert(p.slot);
    }
    QCOMPARE(keys.size(), size_t(40));
    QVERIFY(slotsUsed.size() > 1);
    for (const QByteArray &key : keys)
        LS_VERIFY_OK(m_cluster->admin(master).command(
            {"SET", key, "ls1 tok=" + key.mid(key.lastIndexOf(':') + 1) + "abcdefghijklmnopqrst", "PX",
             "60000"}));

    const RunResult result = test::runLockctl({QStringLiteral("list"), QStringLiteral("--nodes"),
                                               urlOf(m_cluster->config(master)), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, test::describe(result).constData());
    QVERIFY2(!result.err.contains(QStringLiteral("CROSSSLOT")), test::describe(result).constData());
    QVERIFY2(result.err.contains(QStringLiteral("only the keys of the hash slots this master serves")),
             test::describe(result).constData());
    const QJsonArray records = parseArray(result.out);
    QSet<QString> listed;
    for (const auto &record : records)
        listed.insert(record.toObject().value(QStringLiteral("key")).toString());
    for (const QByteArray &key : keys)
        QVERIFY2(listed.contains(QString::fromUtf8(key)), key.constData());
    QCOMPARE(listed.size(), qsizetype(keys.size()));

    // Read-only: the keys are as they were.
    for (const QByteArray &key : keys) {
        auto ttl = m_cluster->admin(master).command({"PTTL", key});
        LS_VERIFY_OK(ttl);
        QVERIFY(ttl->integer() > 0);
        LS_VERIFY_OK(m_cluster->admin(master).command({"DEL", key}));
    }
}

void TestLockctlCluster::pingPrintsTopology()
{
    QVERIFY(m_cluster);
    const RunResult result = test::runLockctl({QStringLiteral("ping"), urlOf(m_cluster->config(1))});
    QVERIFY2(result.exitCode == 0, test::describe(result).constData());
    QVERIFY2(result.out.contains(QStringLiteral("Redis Cluster, 3 masters, 0 replicas, 16384 slots covered")),
             test::describe(result).constData());
    int masters = 0;
    for (const QString &line : result.out.split(QLatin1Char('\n')))
        if (line.startsWith(QStringLiteral("  master  ")))
            ++masters;
    QCOMPARE(masters, 3);
    for (const ClusterShard &shard : m_topology.shards()) {
        QStringList ranges;
        for (const SlotRange &range : shard.slotRanges)
            ranges << QStringLiteral("%1-%2").arg(range.first).arg(range.last);
        const QString line =
            QStringLiteral("  master  %1 (%2)  slots %3")
                .arg(shard.master.address(), shard.master.id.left(8), ranges.join(QLatin1Char(',')));
        QVERIFY2(result.out.contains(line), qPrintable(line + QStringLiteral("\n") + result.out));
    }
    QVERIFY2(result.out.contains(QStringLiteral("WARNING: ")) &&
                 result.out.contains(QStringLiteral("LockScope treats this node as a standalone node")),
             test::describe(result).constData());
}

void TestLockctlCluster::pingJsonHasClusterObject()
{
    QVERIFY(m_cluster);
    const RunResult result =
        test::runLockctl({QStringLiteral("ping"), urlOf(m_cluster->config(2)), QStringLiteral("--json")});
    QVERIFY2(result.exitCode == 0, test::describe(result).constData());
    const QJsonArray nodes = parseArray(result.out);
    QCOMPARE(nodes.size(), 1);
    const QJsonObject node = nodes.at(0).toObject();
    QCOMPARE(node.value(QStringLiteral("mode")).toString(), QStringLiteral("cluster"));
    QVERIFY2(node.value(QStringLiteral("cluster")).isObject(), test::describe(result).constData());
    const QJsonObject cluster = node.value(QStringLiteral("cluster")).toObject();
    QCOMPARE(cluster.value(QStringLiteral("complete")).toBool(false), true);
    QCOMPARE(cluster.value(QStringLiteral("slots_covered")).toInt(), kClusterSlotCount);
    QVERIFY(cluster.value(QStringLiteral("warning")).toString().contains(QStringLiteral("standalone")));
    const QJsonArray masters = cluster.value(QStringLiteral("masters")).toArray();
    QCOMPARE(masters.size(), 3);
    int covered = 0;
    for (std::size_t i = 0; i < m_topology.shards().size(); ++i) {
        const ClusterShard &shard = m_topology.shards()[i];
        const QJsonObject master = masters.at(qsizetype(i)).toObject();
        QCOMPARE(master.value(QStringLiteral("id")).toString(), shard.master.id);
        QCOMPARE(master.value(QStringLiteral("address")).toString(), shard.master.address());
        QVERIFY(master.value(QStringLiteral("replicas")).toArray().isEmpty());
        const QJsonArray ranges = master.value(QStringLiteral("slots")).toArray();
        QCOMPARE(ranges.size(), qsizetype(shard.slotRanges.size()));
        for (qsizetype r = 0; r < ranges.size(); ++r) {
            const QJsonArray pair = ranges.at(r).toArray();
            QCOMPARE(pair.size(), 2);
            QCOMPARE(pair.at(0).toInt(), int(shard.slotRanges[size_t(r)].first));
            QCOMPARE(pair.at(1).toInt(), int(shard.slotRanges[size_t(r)].last));
            covered += pair.at(1).toInt() - pair.at(0).toInt() + 1;
        }
    }
    QCOMPARE(covered, kClusterSlotCount);
}

void TestLockctlCluster::pingPlainNodeHasNoCluster()
{
    LS_START_SERVER(plain, ServerKind::Plain);
    const RunResult json = test::runLockctl({QStringLiteral("ping"), plain->url(), QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 0, test::describe(json).constData());
    const QJsonObject node = parseArray(json.out).at(0).toObject();
    QCOMPARE(node.value(QStringLiteral("up")).toBool(false), true);
    QVERIFY2(!node.contains(QStringLiteral("cluster")), test::describe(json).constData());
    QVERIFY(!node.contains(QStringLiteral("cluster_error")));
    const RunResult table = test::runLockctl({QStringLiteral("ping"), plain->url()});
    QVERIFY2(table.exitCode == 0, test::describe(table).constData());
    QVERIFY(!table.out.contains(QStringLiteral("Redis Cluster")));
    QVERIFY(!table.out.contains(QStringLiteral("WARNING")));
}

QTEST_GUILESS_MAIN(TestLockctlCluster)
#include "tst_lockctl_cluster.moc"
