#include "clusterfixture.h"
#include "inspect/keyread.h"
#include "inspect/lockschema.h"
#include "redis/clusterslots.h"
#include "redis/connection.h"
#include "redisfixture.h"

#include <QRandomGenerator>
#include <QSet>
#include <QTest>
#include <cerrno>
#include <csignal>
#include <map>

using namespace lockscope::redis;
using namespace lockscope::test;

namespace {

constexpr quint32 kKeySeed = 20250611;

QByteArray randomBytes(QRandomGenerator &random, int maxLength)
{
    QByteArray bytes(random.bounded(maxLength + 1), Qt::Uninitialized);
    for (char &c : bytes)
        c = char(random.bounded(256));
    return bytes;
}

/// Keys that exercise every rule of the hash tag: random bytes (0x00 and 0xff included), tags,
/// empty tags, nested and unbalanced braces, and keys made mostly of braces.
QList<QByteArray> sampleKeys(int count)
{
    QList<QByteArray> keys = {
        QByteArray(),          QByteArray("{"),       QByteArray("}"),       QByteArray("{}"),
        QByteArray("}{"),      QByteArray("{}{}"),    QByteArray("{a"),      QByteArray("a}"),
        QByteArray("{{}}"),    QByteArray("{}}"),     QByteArray("{{}"),     QByteArray(1, '\0'),
        QByteArray(1, '\xff'), QByteArray("{\0}", 3), QByteArray("{\xff}x"), QByteArray("a\0b{c\0d}e", 9),
    };
    QRandomGenerator random(kKeySeed);
    static const char braceAlphabet[] = {'{', '}', 'a', '\0', '\xff', 'z'};
    while (keys.size() < count) {
        switch (keys.size() % 6) {
        case 0: // plain random bytes
            keys << randomBytes(random, 40);
            break;
        case 1: // a tag
            keys << randomBytes(random, 8) + '{' + randomBytes(random, 8).replace('}', 'x') + '}' +
                        randomBytes(random, 8);
            break;
        case 2: // an empty tag, then maybe a real one
            keys << randomBytes(random, 6).replace('{', 'x') + "{}" + randomBytes(random, 6) + "{tag}";
            break;
        case 3: // nested braces
            keys << randomBytes(random, 4).replace('{', 'x') + "{{" + randomBytes(random, 6) + "}}" +
                        randomBytes(random, 4);
            break;
        case 4: { // mostly braces
            QByteArray key(random.bounded(14), Qt::Uninitialized);
            for (char &c : key)
                c = braceAlphabet[random.bounded(int(sizeof braceAlphabet))];
            keys << key;
            break;
        }
        default: // text keys as lock libraries write them
            keys << "lock:{order:" + QByteArray::number(random.bounded(100000)) + "}:fence";
            break;
        }
    }
    return keys;
}

QByteArray printable(const QByteArray &key)
{
    return key.toPercentEncoding();
}

bool processGone(qint64 pid)
{
    return ::kill(pid_t(pid), 0) == -1 && errno == ESRCH;
}

/// Calls of `command` (INFO commandstats spelling, "cluster|slots") on the node; -1 on failure.
qint64 commandCalls(Connection &connection, const QByteArray &command)
{
    auto info = connection.command({"INFO", "commandstats"});
    if (!info)
        return -1;
    const QByteArray prefix = "cmdstat_" + command + ":calls=";
    for (const QByteArray &line : info->bytes().split('\n'))
        if (line.startsWith(prefix))
            return line.mid(prefix.size(), line.indexOf(',') - prefix.size()).toLongLong();
    return 0;
}

} // namespace

class TestCluster : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void crc16KnownValue();
    void hashTagExamples();
    void topologyRejectsOverlapsAndCountsCoverage();
    void redirectParser_data();
    void redirectParser();
    void redirectErrorKeepsOtherKindsAndRoundTrips();

    void slotsMatchClusterKeyslot();
    void threeMasters();
    void everyNodeSeesTheSameMap();
    void mapRoutesWritesAndOthersAnswerMoved();
    void slotsReplyAgreesWithShards();
    void replicasListedUnderTheirMasters();
    void nonClusterNodeIsReported();
    void movedFromWrongMasterIsTyped();
    void keyReadOnWrongMasterIsRedirectNotUnreachable();

private:
    std::unique_ptr<ClusterFixture> m_cluster;
};

void TestCluster::initTestCase()
{
    auto started = ClusterFixture::start();
    QVERIFY2(started.has_value(), describe(started).constData());
    m_cluster = std::move(*started);
    QCOMPARE(m_cluster->size(), 3);
}

void TestCluster::cleanupTestCase()
{
    const std::vector<qint64> pids = m_cluster ? m_cluster->pids() : std::vector<qint64>{};
    m_cluster.reset();
    for (const qint64 pid : pids)
        QVERIFY2(processGone(pid), qPrintable(QStringLiteral("redis-server %1 still runs").arg(pid)));
}

void TestCluster::crc16KnownValue()
{
    // The check value of CRC16-XMODEM, and the one the Redis Cluster spec quotes.
    QCOMPARE(crc16Xmodem("123456789"), quint16(0x31C3));
    QCOMPARE(crc16Xmodem(""), quint16(0));
    QCOMPARE(keyHashSlot("123456789"), quint16(0x31C3 % 16384));
    QCOMPARE(keyHashSlot(""), quint16(0));
}

void TestCluster::hashTagExamples()
{
    // The examples of the Redis Cluster specification.
    QCOMPARE(keyHashSlot("{user1000}.following"), keyHashSlot("user1000"));
    QCOMPARE(keyHashSlot("{user1000}.followers"), keyHashSlot("user1000"));
    QCOMPARE(keyHashSlot("foo{}{bar}"), quint16(crc16Xmodem("foo{}{bar}") % 16384));
    QCOMPARE(keyHashSlot("foo{{bar}}zap"), keyHashSlot("{bar"));
    QCOMPARE(keyHashSlot("foo{{bar}}zap"), quint16(crc16Xmodem("{bar") % 16384));
    QCOMPARE(keyHashSlot("foo{bar}{zap}"), keyHashSlot("bar"));
    // Only the first '{' opens a tag; an unclosed one hashes the whole key.
    QCOMPARE(keyHashSlot("{a"), quint16(crc16Xmodem("{a") % 16384));
    QCOMPARE(keyHashSlot("a}{b}"), keyHashSlot("b"));
    // Bytes, not text: a NUL inside the tag counts. (A leading NUL would not change the CRC: with
    // initial value 0, XMODEM maps 0x00 to 0 and stays there.)
    const QByteArray withNul("x{y\0}z", 6);
    QCOMPARE(keyHashSlot(withNul), keyHashSlot(QByteArray("y\0", 2)));
    QVERIFY(keyHashSlot(QByteArray("y\0", 2)) != keyHashSlot("y"));
    // Every auxiliary key of a lock lands in the lock key's slot.
    QCOMPARE(keyHashSlot("{orders:42}.fence"), keyHashSlot("{orders:42}"));
}

void TestCluster::topologyRejectsOverlapsAndCountsCoverage()
{
    ClusterShard a{ClusterNode{QStringLiteral("a"), QStringLiteral("10.0.0.1"), 7000, {}, {}}, {}, {{0, 99}}};
    ClusterShard b{
        ClusterNode{QStringLiteral("b"), QStringLiteral("10.0.0.2"), 7000, {}, {}}, {}, {{99, 200}}};
    const auto overlapping = ClusterTopology::fromShards({a, b});
    QVERIFY(!overlapping.has_value());
    QVERIFY2(overlapping.error().contains(QLatin1String("slot 99")), qPrintable(overlapping.error()));

    b.slotRanges = {{150, 200}, {100, 149}, {16000, 16383}};
    const auto partial = ClusterTopology::fromShards({b, a});
    QVERIFY(partial.has_value());
    QVERIFY(!partial->isComplete());
    QCOMPARE(partial->coveredSlots(), 100 + 101 + 384);
    QCOMPARE(partial->describe(), QStringLiteral("2 masters, 0 replicas, 585 of 16384 slots covered"));
    // Ranges merged and shards ordered by their first slot.
    QCOMPARE(partial->shards().at(0).master.id, QStringLiteral("a"));
    QCOMPARE(partial->shards().at(1).slotRanges, (std::vector<SlotRange>{{100, 200}, {16000, 16383}}));
    QCOMPARE(partial->masterForSlot(150)->id, QStringLiteral("b"));
    QCOMPARE(partial->masterForSlot(99)->id, QStringLiteral("a"));
    QVERIFY(partial->masterForSlot(201) == nullptr);
    QVERIFY(partial->masterForSlot(16384) == nullptr);
    QVERIFY(ClusterTopology().masterForSlot(0) == nullptr);
    QCOMPARE(ClusterTopology().describe(), QStringLiteral("0 masters, 0 replicas, 0 of 16384 slots covered"));

    const auto outOfRange = ClusterTopology::fromShards({ClusterShard{a.master, {}, {{16380, 16384}}}});
    QVERIFY(!outOfRange.has_value());
}

void TestCluster::slotsMatchClusterKeyslot()
{
    QVERIFY(m_cluster);
    const QList<QByteArray> keys = sampleKeys(2000);
    std::vector<std::vector<QByteArray>> commands;
    for (const QByteArray &key : keys)
        commands.push_back({"CLUSTER", "KEYSLOT", key});
    auto replies = m_cluster->admin(0).pipeline(commands);
    LS_VERIFY_OK(replies);
    QCOMPARE(replies->size(), size_t(keys.size()));
    QSet<quint16> distinct;
    for (qsizetype i = 0; i < keys.size(); ++i) {
        const RedisReply &reply = replies->at(size_t(i));
        QVERIFY2(reply.isInteger(), qPrintable(reply.toDisplayString()));
        const quint16 ours = keyHashSlot(keys.at(i));
        QVERIFY2(qint64(ours) == reply.integer(),
                 qPrintable(QStringLiteral("key %1 (seed %2): ours %3, server %4")
                                .arg(QString::fromLatin1(printable(keys.at(i))))
                                .arg(kKeySeed)
                                .arg(ours)
                                .arg(reply.integer())));
        distinct.insert(ours);
    }
    // The sample really spreads over the slot space (not 2000 keys hashing one tag).
    QVERIFY2(distinct.size() > 1000, qPrintable(QString::number(distinct.size())));
}

void TestCluster::threeMasters()
{
    QVERIFY(m_cluster);
    auto topology = discoverTopology(m_cluster->admin(0));
    LS_VERIFY_OK(topology);
    QCOMPARE(topology->masterCount(), 3);
    QCOMPARE(topology->replicaCount(), 0);
    QVERIFY(topology->isComplete());
    QCOMPARE(topology->describe(), QStringLiteral("3 masters, 0 replicas, 16384 slots covered"));

    // Every slot exactly once, counted from the ranges themselves.
    std::vector<int> claims(kClusterSlotCount, 0);
    QSet<int> nodes;
    for (const ClusterShard &shard : topology->shards()) {
        QVERIFY(!shard.slotRanges.empty());
        for (const SlotRange &range : shard.slotRanges)
            for (int slot = range.first; slot <= range.last; ++slot)
                ++claims[size_t(slot)];
        const int index = m_cluster->indexOfPort(shard.master.port);
        QVERIFY2(index >= 0, qPrintable(shard.master.address()));
        QCOMPARE(shard.master.host, QStringLiteral("127.0.0.1"));
        nodes.insert(index);
        // The id is the node's own.
        auto myId = m_cluster->admin(index).command({"CLUSTER", "MYID"});
        LS_VERIFY_OK(myId);
        QCOMPARE(shard.master.id, QString::fromLatin1(myId->bytes()));
        QCOMPARE(shard.master.health, QStringLiteral("online"));
        QVERIFY(shard.master.hostname.isEmpty());
    }
    QCOMPARE(nodes.size(), 3);
    for (int slot = 0; slot < kClusterSlotCount; ++slot)
        QVERIFY2(claims[size_t(slot)] == 1,
                 qPrintable(QStringLiteral("slot %1 claimed %2 times").arg(slot).arg(claims[size_t(slot)])));
}

void TestCluster::everyNodeSeesTheSameMap()
{
    QVERIFY(m_cluster);
    auto first = discoverTopology(m_cluster->admin(0));
    LS_VERIFY_OK(first);
    for (int i = 1; i < m_cluster->size(); ++i) {
        auto other = discoverTopology(m_cluster->admin(i));
        LS_VERIFY_OK(other);
        QVERIFY2(*other == *first, qPrintable(other->describe()));
    }
}

void TestCluster::mapRoutesWritesAndOthersAnswerMoved()
{
    QVERIFY(m_cluster);
    auto topology = discoverTopology(m_cluster->admin(0));
    LS_VERIFY_OK(topology);

    // One connection per master, configured from the topology itself.
    std::map<QString, std::unique_ptr<Connection>> masters;
    for (const ClusterShard &shard : topology->shards())
        masters[shard.master.address()] =
            std::make_unique<Connection>(shard.master.connectionConfig(m_cluster->config(0)));
    QCOMPARE(masters.size(), size_t(3));

    QRandomGenerator random(kKeySeed + 1);
    QSet<QString> used;
    for (int n = 0; n < 300; ++n) {
        const QByteArray key = "cluster-test:" + randomBytes(random, 12) + (n % 3 == 0 ? "{t}" : "");
        auto serverSlot = m_cluster->admin(0).command({"CLUSTER", "KEYSLOT", key});
        LS_VERIFY_OK(serverSlot);
        const quint16 slot = quint16(serverSlot->integer());
        const ClusterNode *owner = topology->masterForSlot(slot);
        QVERIFY(owner);
        QCOMPARE(topology->masterForKey(key), owner);
        used.insert(owner->address());

        const QByteArray value = "v" + QByteArray::number(n);
        auto set = masters.at(owner->address())->command({"SET", key, value});
        LS_VERIFY_OK(set);
        QVERIFY2(set->isOk(), qPrintable(set->toDisplayString()));
        const QString moved = QStringLiteral("MOVED %1 %2").arg(slot).arg(owner->address());
        for (auto &[address, connection] : masters) {
            if (address == owner->address())
                continue;
            auto refused = connection->command({"SET", key, "elsewhere"});
            QVERIFY2(!refused.has_value(),
                     qPrintable(address + QStringLiteral(" accepted a key of ") + moved));
            QCOMPARE(refused.error().kind, ErrorKind::ClusterRedirect);
            const auto redirect = refused.error().redirect();
            QVERIFY2(redirect, qPrintable(refused.error().toString()));
            QCOMPARE(redirect->type, ClusterRedirect::Type::Moved);
            QCOMPARE(redirect->slot, slot);
            QCOMPARE(redirect->address(), owner->address());
            QCOMPARE(*ClusterRedirect::parse(moved.toUtf8()), *redirect);
        }
        auto get = masters.at(owner->address())->command({"GET", key});
        LS_VERIFY_OK(get);
        QCOMPARE(get->bytes(), value);
        LS_VERIFY_OK(masters.at(owner->address())->command({"DEL", key}));
    }
    QCOMPARE(used.size(), 3);
}

void TestCluster::slotsReplyAgreesWithShards()
{
    QVERIFY(m_cluster);
    auto fromShards = discoverTopology(m_cluster->admin(1));
    LS_VERIFY_OK(fromShards);
    auto reply = m_cluster->admin(1).command({"CLUSTER", "SLOTS"});
    LS_VERIFY_OK(reply);
    auto fromSlots = parseClusterSlots(*reply, m_cluster->config(1));
    LS_VERIFY_OK(fromSlots);
    QCOMPARE(fromSlots->describe(), fromShards->describe());
    QCOMPARE(fromSlots->shards().size(), fromShards->shards().size());
    for (size_t i = 0; i < fromShards->shards().size(); ++i) {
        const ClusterShard &a = fromShards->shards()[i];
        const ClusterShard &b = fromSlots->shards()[i];
        QCOMPARE(b.master.id, a.master.id);
        QCOMPARE(b.master.address(), a.master.address());
        QCOMPARE(b.slotRanges, a.slotRanges);
        QVERIFY(b.master.health.isEmpty()); // CLUSTER SLOTS does not report it
    }
}

void TestCluster::replicasListedUnderTheirMasters()
{
    ClusterOptions options;
    options.replicasPerMaster = 1;
    // A user that may read CLUSTER SLOTS but not CLUSTER SHARDS drives the fallback.
    options.aclUsers << QStringLiteral("noshards on >noshards-pw ~* +@all -cluster|shards");
    LS_START_CLUSTER(cluster, options);
    QCOMPARE(cluster->size(), 6);

    auto topology = discoverTopology(cluster->admin(0));
    LS_VERIFY_OK(topology);
    QCOMPARE(topology->describe(), QStringLiteral("3 masters, 3 replicas, 16384 slots covered"));
    QSet<int> seen;
    for (const ClusterShard &shard : topology->shards()) {
        QCOMPARE(shard.replicas.size(), size_t(1));
        const int masterIndex = cluster->indexOfPort(shard.master.port);
        QVERIFY(masterIndex >= 0);
        seen.insert(masterIndex);
        auto masterRole = cluster->admin(masterIndex).command({"ROLE"});
        LS_VERIFY_OK(masterRole);
        QCOMPARE(masterRole->elements().at(0).bytes(), QByteArray("master"));

        const ClusterNode &replica = shard.replicas.front();
        const int replicaIndex = cluster->indexOfPort(replica.port);
        QVERIFY2(replicaIndex >= 0, qPrintable(replica.address()));
        seen.insert(replicaIndex);
        // The replica itself says whose replica it is.
        auto role = cluster->admin(replicaIndex).command({"ROLE"});
        LS_VERIFY_OK(role);
        QCOMPARE(role->elements().at(0).bytes(), QByteArray("slave"));
        QCOMPARE(role->elements().at(2).integer(), qint64(shard.master.port));
        auto myId = cluster->admin(replicaIndex).command({"CLUSTER", "MYID"});
        LS_VERIFY_OK(myId);
        QCOMPARE(replica.id, QString::fromLatin1(myId->bytes()));
        QCOMPARE(replica.health, QStringLiteral("online"));
    }
    QCOMPARE(seen.size(), 6);

    // The fallback: CLUSTER SHARDS denied, CLUSTER SLOTS read instead, same map.
    NodeConfig restricted = cluster->config(2);
    restricted.username = QStringLiteral("noshards");
    restricted.password = QStringLiteral("noshards-pw");
    Connection limited(restricted);
    LS_VERIFY_ERROR(limited.command({"CLUSTER", "SHARDS"}), ErrorKind::NoPerm);
    const qint64 slotCallsBefore = commandCalls(cluster->admin(2), "cluster|slots");
    QVERIFY(slotCallsBefore >= 0);
    auto viaSlots = discoverTopology(limited);
    LS_VERIFY_OK(viaSlots);
    QCOMPARE(commandCalls(cluster->admin(2), "cluster|slots"), slotCallsBefore + 1);
    QCOMPARE(viaSlots->describe(), topology->describe());
    auto withoutHealth = [](ClusterTopology t) {
        std::vector<ClusterShard> shards = t.shards();
        for (ClusterShard &shard : shards) {
            shard.master.health.clear();
            for (ClusterNode &node : shard.replicas)
                node.health.clear();
        }
        return *ClusterTopology::fromShards(std::move(shards));
    };
    QVERIFY(*viaSlots == withoutHealth(*topology));

    // Every process the fixture started is gone with it.
    const std::vector<qint64> pids = cluster->pids();
    QCOMPARE(pids.size(), size_t(6));
    cluster.reset();
    for (const qint64 pid : pids)
        QVERIFY2(processGone(pid), qPrintable(QStringLiteral("redis-server %1 still runs").arg(pid)));
}

void TestCluster::nonClusterNodeIsReported()
{
    LS_START_SERVER(plain, ServerKind::Plain);
    Connection connection(clientConfig(*plain, ServerKind::Plain));
    auto topology = discoverTopology(connection);
    LS_VERIFY_ERROR(topology, ErrorKind::Server);
    QCOMPARE(topology.error().node, connection.node());
    QVERIFY2(topology.error().node.contains(QString::number(plain->port())),
             qPrintable(topology.error().toString()));
    QVERIFY2(topology.error().message.contains(QLatin1String("not a cluster node")),
             qPrintable(topology.error().toString()));
    QVERIFY2(topology.error().message.contains(QLatin1String("cluster support disabled")),
             qPrintable(topology.error().toString()));
    // The connection is still good for the standalone node it is.
    auto pong = connection.command({"PING"});
    LS_VERIFY_OK(pong);
    QCOMPARE(pong->bytes(), QByteArray("PONG"));
}

void TestCluster::redirectParser_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<bool>("ask");
    QTest::addColumn<int>("slot");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("address");

    const auto valid = [](const char *name, QByteArray text, bool ask, int slot, QString host, int port,
                          QString address) {
        QTest::newRow(name) << text << true << ask << slot << host << port << address;
    };
    const auto invalid = [](const char *name, QByteArray text) {
        QTest::newRow(name) << text << false << false << 0 << QString() << 0 << QString();
    };
    valid("moved ipv4", "MOVED 1234 10.0.0.7:7001", false, 1234, "10.0.0.7", 7001, "10.0.0.7:7001");
    valid("ask", "ASK 0 127.0.0.1:30001", true, 0, "127.0.0.1", 30001, "127.0.0.1:30001");
    valid("last slot", "MOVED 16383 h:1", false, 16383, "h", 1, "h:1");
    valid("hostname", "MOVED 5 redis-2.example:6380", false, 5, "redis-2.example", 6380,
          "redis-2.example:6380");
    // Redis writes IPv6 without brackets: the port follows the last ':'.
    valid("ipv6 as redis writes it", "MOVED 1 ::1:7000", false, 1, "::1", 7000, "[::1]:7000");
    valid("ipv6 full", "ASK 42 fe80::1:2:3:6379", true, 42, "fe80::1:2:3", 6379, "[fe80::1:2:3]:6379");
    valid("ipv6 bracketed", "MOVED 1 [::1]:7000", false, 1, "::1", 7000, "[::1]:7000");
    // Redis 7 writes an empty host when it does not know the endpoint.
    valid("unknown endpoint", "MOVED 3999 :6380", false, 3999, "", 6380, ":6380");
    valid("trailing crlf", "MOVED 7 h:9\r\n", false, 7, "h", 9, "h:9");

    invalid("empty", "");
    invalid("plain error", "ERR unknown command");
    invalid("moved alone", "MOVED");
    invalid("moved no target", "MOVED 12");
    invalid("moved no port", "MOVED 12 10.0.0.7");
    invalid("empty port", "MOVED 12 10.0.0.7:");
    invalid("port zero", "MOVED 12 10.0.0.7:0");
    invalid("port too big", "MOVED 12 10.0.0.7:65536");
    invalid("signed port", "MOVED 12 10.0.0.7:+80");
    invalid("slot too big", "MOVED 16384 10.0.0.7:7001");
    invalid("negative slot", "MOVED -1 10.0.0.7:7001");
    invalid("slot not a number", "MOVED abc 10.0.0.7:7001");
    invalid("extra words", "MOVED 1 10.0.0.7:7001 extra");
    invalid("lower case", "moved 1 10.0.0.7:7001");
    invalid("prefix only", "MOVEDX 1 10.0.0.7:7001");
    invalid("askew", "ASKING 1 h:1");
    invalid("broken brackets", "MOVED 1 [::1:7000");
    invalid("double space", "MOVED  1 h:1");
}

void TestCluster::redirectParser()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, valid);
    const auto redirect = ClusterRedirect::parse(text);
    const RedisError error = RedisError::fromServerReply(QStringLiteral("n:1"), text);
    if (!valid) {
        QVERIFY2(!redirect, qPrintable(redirect ? redirect->describe() : QString()));
        // Garbage stays what it was: a plain server error with the server's own text.
        QVERIFY(error.kind != ErrorKind::ClusterRedirect);
        QCOMPARE(error.message, QString::fromUtf8(text));
        QVERIFY(!error.redirect());
        return;
    }
    QFETCH(bool, ask);
    QFETCH(int, slot);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, address);
    QVERIFY(redirect);
    QCOMPARE(redirect->type, ask ? ClusterRedirect::Type::Ask : ClusterRedirect::Type::Moved);
    QCOMPARE(int(redirect->slot), slot);
    QCOMPARE(redirect->host, host);
    QCOMPARE(int(redirect->port), port);
    QCOMPARE(redirect->address(), address);
    QCOMPARE(error.kind, ErrorKind::ClusterRedirect);
    QCOMPARE(error.node, QStringLiteral("n:1"));
    QCOMPARE(error.redirect(), redirect);
}

void TestCluster::redirectErrorKeepsOtherKindsAndRoundTrips()
{
    const RedisError moved =
        RedisError::fromServerReply(QStringLiteral("10.0.0.5:7000"), "MOVED 1234 10.0.0.7:7001");
    QCOMPARE(moved.kind, ErrorKind::ClusterRedirect);
    QCOMPARE(moved.message, QStringLiteral("key moved: slot 1234 is served by 10.0.0.7:7001 (a Redis Cluster "
                                           "node; LockScope does not follow cluster redirects yet)"));
    QCOMPARE(moved.toString(), QStringLiteral("10.0.0.5:7000: cluster redirect: ") + moved.message);
    QCOMPARE(RedisError::kindName(ErrorKind::ClusterRedirect), QStringLiteral("cluster redirect"));

    const RedisError ask = RedisError::fromServerReply(QStringLiteral("a:1"), "ASK 9 ::1:7002");
    QCOMPARE(ask.kind, ErrorKind::ClusterRedirect);
    QVERIFY2(ask.message.startsWith(QStringLiteral("key migrating: slot 9 is migrating to [::1]:7002 (")),
             qPrintable(ask.message));

    // The codes that were classified before still are.
    QCOMPARE(RedisError::fromServerReply({}, "WRONGTYPE Operation against a key").kind, ErrorKind::WrongType);
    QCOMPARE(RedisError::fromServerReply({}, "NOPERM no").kind, ErrorKind::NoPerm);
    QCOMPARE(RedisError::fromServerReply({}, "ERR MOVED 1 h:1").kind, ErrorKind::Server);
    // A Server error whose text happens to read like our message is not a redirect.
    const RedisError lookalike{ErrorKind::Server, {}, moved.message};
    QVERIFY(!lookalike.redirect());
}

/// A key and the index of a master that does not serve it, with the owner's address.
struct WrongMaster
{
    QByteArray key;
    quint16 slot = 0;
    int wrong = -1;
    QString ownerAddress;
};

WrongMaster wrongMasterFor(ClusterFixture &cluster, const QByteArray &key)
{
    WrongMaster result;
    result.key = key;
    auto topology = discoverTopology(cluster.admin(0));
    if (!topology)
        return result;
    result.slot = keyHashSlot(key);
    const ClusterNode *owner = topology->masterForSlot(result.slot);
    if (!owner)
        return result;
    result.ownerAddress = owner->address();
    for (int i = 0; i < cluster.size(); ++i)
        if (cluster.server(i).port() != owner->port) {
            result.wrong = i;
            break;
        }
    return result;
}

void TestCluster::movedFromWrongMasterIsTyped()
{
    QVERIFY(m_cluster);
    const WrongMaster target = wrongMasterFor(*m_cluster, "cluster-test:moved-typed");
    QVERIFY(target.wrong >= 0);
    Connection wrong(m_cluster->config(target.wrong));
    auto set = wrong.command({"SET", target.key, "x"});
    LS_VERIFY_ERROR(set, ErrorKind::ClusterRedirect);
    QCOMPARE(set.error().node, wrong.node());
    const auto redirect = set.error().redirect();
    QVERIFY2(redirect, qPrintable(set.error().toString()));
    QCOMPARE(redirect->type, ClusterRedirect::Type::Moved);
    QCOMPARE(redirect->slot, target.slot);
    QCOMPARE(redirect->address(), target.ownerAddress);
    QVERIFY2(
        set.error().message.startsWith(
            QStringLiteral("key moved: slot %1 is served by %2 (").arg(target.slot).arg(target.ownerAddress)),
        qPrintable(set.error().toString()));
    // Nothing was written on the node that refused; the connection stays usable.
    auto exists = wrong.command({"EXISTS", target.key});
    LS_VERIFY_ERROR(exists, ErrorKind::ClusterRedirect);
    auto pong = wrong.command({"PING"});
    LS_VERIFY_OK(pong);
}

void TestCluster::keyReadOnWrongMasterIsRedirectNotUnreachable()
{
    using namespace lockscope::inspect;
    QVERIFY(m_cluster);
    const WrongMaster target = wrongMasterFor(*m_cluster, "cluster-test:keyread");
    QVERIFY(target.wrong >= 0);
    const int owner =
        m_cluster->indexOfPort(quint16(target.ownerAddress.section(QLatin1Char(':'), -1).toUInt()));
    QVERIFY(owner >= 0);
    LS_VERIFY_OK(m_cluster->admin(owner).command({"SET", target.key, "held", "PX", "60000"}));

    Connection wrong(m_cluster->config(target.wrong));
    const KeyRead read = readKey(wrong, target.key);
    QVERIFY(read.error);
    QCOMPARE(read.error->kind, ErrorKind::ClusterRedirect);
    QVERIFY(!read.exists());
    const NodeEntry entry = read.entry();
    QVERIFY(entry.reachable);
    QVERIFY(!entry.present());
    QVERIFY2(entry.error.contains(QStringLiteral("served by ") + target.ownerAddress),
             qPrintable(entry.error));

    const SchemaRegistry registry = SchemaRegistry::builtins();
    const LockRecord record = readRecord({m_cluster->config(target.wrong)}, target.key, registry);
    QCOMPARE(record.nodes.size(), size_t(1));
    QVERIFY(record.nodes[0].reachable);
    QVERIFY(!record.anomalies.contains(QLatin1String(anomaly::NodeUnreachable)));
    QVERIFY2(record.anomalies.contains(QLatin1String(anomaly::ClusterRedirect)),
             qPrintable(record.anomalies.join(QLatin1Char(','))));
    QCOMPARE(record.held, 0);

    // On the owner the same read finds the key, without the anomaly.
    const LockRecord onOwner = readRecord({m_cluster->config(owner)}, target.key, registry);
    QCOMPARE(onOwner.nodes.size(), size_t(1));
    QVERIFY(onOwner.nodes[0].present());
    QVERIFY(onOwner.nodes[0].error.isEmpty());
    QVERIFY(!onOwner.anomalies.contains(QLatin1String(anomaly::ClusterRedirect)));
    LS_VERIFY_OK(m_cluster->admin(owner).command({"DEL", target.key}));
}

QTEST_GUILESS_MAIN(TestCluster)
#include "tst_cluster.moc"
