// Reading one key now (core/inspect/keyread): against real servers, asserting on what each node
// holds. The one reader behind lockctl show / ttl / extend --heal and the admin layer.

#include "inspect/keyread.h"
#include "lock/lockvalue.h"
#include "support/lockfixture.h"

#include <QTest>
#include <cmath>
#include <span>

using namespace lockscope;
using inspect::KeyRead;
using inspect::RawEntry;
using inspect::SchemaRegistry;
using test::ServerSet;

namespace {

QByteArray lockValue(const QByteArray &token)
{
    lock::LockValue value;
    value.token = token;
    value.fence = 7;
    value.host = QStringLiteral("host-a");
    value.pid = 42;
    return value.encode();
}

/// An ACL user on node 0 with the read commands of keyread except `without`.
redis::NodeConfig userWithout(ServerSet &set, const QByteArray &user, const QByteArray &without)
{
    QList<QByteArray> args{"ACL", "SETUSER", user, "on", ">pw", "~*", "+ping", "+hello", "+client|setname"};
    for (const QByteArray command : {"+type", "+pttl", "+get", "+hgetall"}) {
        if (command.mid(1) != without)
            args << command;
    }
    const auto reply = set.admin(0).command(std::span<const QByteArray>(args.cbegin(), args.cend()));
    if (!reply || reply->isError())
        qWarning() << "ACL SETUSER failed";
    redis::NodeConfig config = set.configs()[0];
    config.username = QString::fromUtf8(user);
    config.password = QStringLiteral("pw");
    return config;
}

} // namespace

class TestKeyRead : public QObject
{
    Q_OBJECT

private slots:
    void readsEachTypeWithItsTtl()
    {
        LS_START_SERVERS(set, 1);
        QVERIFY(set->set(0, "lock:a", lockValue("tokaaaaaaaaaaaaaaaaaaa"), 60'000));
        LS_VERIFY_OK(set->admin(0).command({"HSET", "lock:h", "uuid-1:7", "2"}));
        LS_VERIFY_OK(set->admin(0).command({"RPUSH", "lock:list", "x"}));
        // Keys and values are bytes: a key that is not UTF-8 is read as it is.
        const QByteArray binaryKey("lock:\xff\x00z", 8);
        QVERIFY(set->set(0, binaryKey, QByteArray("\x01\x02", 2)));
        redis::Connection connection(set->configs()[0]);

        const KeyRead string = inspect::readKey(connection, "lock:a");
        QVERIFY(!string.error);
        QVERIFY(string.exists());
        QCOMPARE(string.raw.type, RawEntry::Type::String);
        QCOMPARE(string.raw.value, lockValue("tokaaaaaaaaaaaaaaaaaaa"));
        QVERIFY(string.raw.pttlMs > 0 && string.raw.pttlMs <= 60'000);
        QVERIFY(!string.fenceCounter); // not asked for

        const KeyRead hash = inspect::readKey(connection, "lock:h");
        QCOMPARE(hash.raw.type, RawEntry::Type::Hash);
        QCOMPARE(hash.raw.pttlMs, -1);
        QCOMPARE(hash.raw.fields.size(), std::size_t(1));
        QCOMPARE(hash.raw.fields[0].first, QByteArray("uuid-1:7"));

        const KeyRead list = inspect::readKey(connection, "lock:list");
        QCOMPARE(list.raw.type, RawEntry::Type::Other);
        QCOMPARE(list.raw.typeName, QStringLiteral("list"));
        QVERIFY(list.valueError.isEmpty());

        const KeyRead missing = inspect::readKey(connection, "lock:none");
        QVERIFY(!missing.error);
        QVERIFY(!missing.exists());
        QCOMPARE(missing.raw, RawEntry{});

        const KeyRead binary = inspect::readKey(connection, binaryKey);
        QCOMPARE(binary.raw.type, RawEntry::Type::String);
        QCOMPARE(binary.raw.value, QByteArray("\x01\x02", 2));
        // Nothing was written: the four keys are all the node holds.
        const auto size = set->admin(0).command({"DBSIZE"});
        LS_VERIFY_OK(size);
        QCOMPARE(size->integer(), 4);
    }

    void readsSortedSetsAndListsBounded()
    {
        LS_START_SERVERS(set, 1);
        redis::Connection &admin = set->admin(0);
        LS_VERIFY_OK(admin.command({"ZADD", "sem", "2", QByteArray("b\xff", 2), "1", "a", "+inf", "c"}));
        LS_VERIFY_OK(admin.command({"PEXPIRE", "sem", "60000"}));
        // One element more than read: the entry says it was cut.
        std::vector<QByteArray> rpush{"RPUSH", "big"};
        for (int i = 0; i <= RawEntry::MaxElements; ++i)
            rpush.push_back(QByteArray::number(i));
        LS_VERIFY_OK(admin.command(std::span<const QByteArray>(rpush)));
        redis::Connection connection(set->configs()[0]);

        const KeyRead zset = inspect::readKey(connection, "sem");
        QVERIFY(!zset.error);
        QVERIFY(zset.raw.isSortedSet());
        QCOMPARE(zset.raw.members.size(), std::size_t(3));
        QCOMPARE(zset.raw.members[0], std::make_pair(QByteArray("a"), 1.0));
        QCOMPARE(zset.raw.members[1], std::make_pair(QByteArray("b\xff", 2), 2.0));
        QCOMPARE(zset.raw.members[2].first, QByteArray("c"));
        QVERIFY(std::isinf(zset.raw.members[2].second));
        QVERIFY(!zset.raw.truncated);
        QVERIFY(zset.raw.pttlMs > 0 && zset.raw.pttlMs <= 60000);
        QVERIFY(zset.raw.serverTimeMs > 1'600'000'000'000);

        const KeyRead list = inspect::readKey(connection, "big");
        QVERIFY(list.raw.isList());
        QCOMPARE(list.raw.elements.size(), std::size_t(RawEntry::MaxElements));
        QCOMPARE(list.raw.elements.front(), QByteArray("0"));
        QVERIFY(list.raw.truncated);
    }

    void readsCompanionKeysWhenAsked()
    {
        LS_START_SERVERS(set, 1);
        lock::LockValue reader;
        reader.token = "readerAAAAAAAAAAAAAAAAA";
        lock::LockValue writer;
        writer.token = "writerBBBBBBBBBBBBBBBBB";
        LS_VERIFY_OK(set->admin(0).command({"ZADD", "docs:rw", "+inf", reader.encode() + " rw=r"}));
        QVERIFY(set->set(0, "{docs:rw}.wwait", writer.encode() + " rw=w", 60000));
        redis::Connection connection(set->configs()[0]);
        const SchemaRegistry registry = SchemaRegistry::builtins();

        QVERIFY(inspect::readKey(connection, "docs:rw").raw.companions.empty()); // not asked for
        const KeyRead read = inspect::readKey(connection, "docs:rw", {.companionsOf = &registry});
        QVERIFY(!read.error);
        // The names a prefixed Locker would use ("docs:{docs:rw}.wwait") are looked at too: absent.
        QVERIFY(!read.raw.companions.empty());
        QCOMPARE(read.raw.companions[0].first, QByteArray("{docs:rw}.wwait"));
        for (size_t i = 1; i < read.raw.companions.size(); ++i)
            QCOMPARE(read.raw.companions[i].second.type, RawEntry::Type::Missing);
        QCOMPARE(read.raw.companions[0].second.type, RawEntry::Type::String);
        QCOMPARE(read.raw.companions[0].second.value, writer.encode() + " rw=w");
        QVERIFY(read.raw.companions[0].second.pttlMs > 0);
        const auto decoded = registry.decode("docs:rw", read.raw);
        QVERIFY(decoded);
        QCOMPARE(decoded->kind, QStringLiteral("read"));
        QCOMPARE(decoded->queue.size(), std::size_t(1));
    }

    void readsTheFenceCounterWhenAsked()
    {
        LS_START_SERVERS(set, 1);
        QVERIFY(set->set(0, "lock:f", lockValue("tokffffffffffffffffffff"), 60'000));
        QVERIFY(set->set(0, lock::fenceKeyFor("lock:f"), "41"));
        redis::Connection connection(set->configs()[0]);
        const KeyRead read = inspect::readKey(connection, "lock:f", {.fenceCounter = true});
        QCOMPARE(read.fenceCounter, std::optional<qint64>(41));
        QVERIFY(!inspect::readKey(connection, "lock:nofence", {.fenceCounter = true}).fenceCounter);
    }

    // A least-privilege user without +type still reads the value: the type is told from GET and
    // HGETALL. One without +get is told why the value is missing; the error bytes never pass
    // for a value.
    void aclUsersWithoutTypeOrGet()
    {
        LS_START_SERVERS(set, 1);
        QVERIFY(set->set(0, "lock:a", lockValue("tokaaaaaaaaaaaaaaaaaaa"), 60'000));
        LS_VERIFY_OK(set->admin(0).command({"HSET", "lock:h", "uuid-1:7", "2"}));
        LS_VERIFY_OK(set->admin(0).command({"SADD", "lock:set", "x"}));

        redis::Connection noType(userWithout(*set, "notype", "type"));
        QVERIFY(!noType.command({"TYPE", "lock:a"})); // refused: the case under test
        const KeyRead string = inspect::readKey(noType, "lock:a");
        QVERIFY2(!string.error, qPrintable(string.error ? string.error->toString() : QString()));
        QCOMPARE(string.raw.type, RawEntry::Type::String);
        QCOMPARE(string.raw.value, lockValue("tokaaaaaaaaaaaaaaaaaaa"));
        QCOMPARE(inspect::readKey(noType, "lock:h").raw.type, RawEntry::Type::Hash);
        QCOMPARE(inspect::readKey(noType, "lock:set").raw.type, RawEntry::Type::Other);
        QVERIFY(!inspect::readKey(noType, "lock:none").exists());

        redis::Connection noGet(userWithout(*set, "noget", "get"));
        QVERIFY(!noGet.command({"GET", "lock:a"}));
        const KeyRead unreadable = inspect::readKey(noGet, "lock:a");
        QVERIFY(!unreadable.error);
        QVERIFY(unreadable.exists());
        QCOMPARE(unreadable.raw.type, RawEntry::Type::Other);
        QVERIFY(unreadable.raw.value.isEmpty());
        QVERIFY2(unreadable.valueError.contains(QLatin1String("NOPERM")) ||
                     unreadable.valueError.contains(QLatin1String("permission")),
                 qPrintable(unreadable.valueError));
    }

    // Every node at once, each answer in its node's place; a node that is down is an error of
    // its own kind, and the record read across the nodes says it is unreachable.
    void acrossNodesWithOneDown()
    {
        LS_START_SERVERS(set, 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(set->set(i, "lock:r", lockValue("tokrrrrrrrrrrrrrrrrrrr"), 60'000));
        set->server(2).kill();
        const std::vector<KeyRead> reads = inspect::readKeyOnNodes(set->configs(), "lock:r");
        QCOMPARE(reads.size(), std::size_t(3));
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(reads[size_t(i)].node, ServerSet::nodeName(i));
            QCOMPARE(reads[size_t(i)].raw.type, RawEntry::Type::String);
        }
        QCOMPARE(reads[2].node, ServerSet::nodeName(2));
        QVERIFY(reads[2].error);
        QCOMPARE(reads[2].error->kind, redis::ErrorKind::Refused);
        QVERIFY(!reads[2].exists());

        const inspect::LockRecord record =
            inspect::readRecord(set->configs(), "lock:r", SchemaRegistry::builtins());
        QCOMPARE(record.schema, QStringLiteral("lockscope"));
        QCOMPARE(record.held, 2);
        QCOMPARE(record.of, 3);
        QVERIFY(record.quorum);
        QVERIFY(!record.nodes[2].reachable);
        QVERIFY(record.anomalies.contains(QLatin1String(inspect::anomaly::NodeUnreachable)));
        QVERIFY(record.readAt.isValid());
        // Still there, untouched, on the nodes that answered.
        QCOMPARE(set->get(0, "lock:r"), lockValue("tokrrrrrrrrrrrrrrrrrrr"));
        QVERIFY(set->pttl(1, "lock:r") > 0);
    }
};

QTEST_GUILESS_MAIN(TestKeyRead)
#include "tst_keyread.moc"
