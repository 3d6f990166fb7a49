#include "inspect/lockschema.h"
#include "lock/lockvalue.h"

#include <QDateTime>
#include <QTest>
#include <QThread>
#include <atomic>

using namespace lockscope::inspect;
using lockscope::lock::LockValue;

Q_DECLARE_METATYPE(RawEntry)

namespace {

RawEntry stringEntry(const QByteArray &value, qint64 pttlMs = 10000)
{
    RawEntry e;
    e.type = RawEntry::Type::String;
    e.typeName = QStringLiteral("string");
    e.value = value;
    e.pttlMs = pttlMs;
    return e;
}

RawEntry hashEntry(std::vector<std::pair<QByteArray, QByteArray>> fields, qint64 pttlMs = 30000)
{
    RawEntry e;
    e.type = RawEntry::Type::Hash;
    e.typeName = QStringLiteral("hash");
    e.fields = std::move(fields);
    e.pttlMs = pttlMs;
    return e;
}

RawEntry otherEntry(const QString &typeName)
{
    RawEntry e;
    e.type = RawEntry::Type::Other;
    e.typeName = typeName;
    e.pttlMs = -1;
    return e;
}

// Re-creations of what each library writes, byte for byte.
constexpr char kRedissonClient[] = "8743c9c0-0795-4907-87fd-6c719a6b4586";
constexpr char kRedissonClient2[] = "1f0e7a52-9b3c-4d8e-a1f2-3b4c5d6e7f80";
// uuid.uuid1().hex made on 2024-03-01 by a host with MAC 02:42:ac:11:00:02.
constexpr char kRedisPyToken[] = "5b8f3a2ed7a611eeb1e80242ac110002";
// crypto.randomBytes(16).toString("hex"): index 12 is '7', so not a uuid1.
constexpr char kNodeRedlockToken[] = "e3b0c44298fc1c149afbf4c8996fb924";
// base64.StdEncoding of 16 random bytes (note '+' and '/').
constexpr char kRedsyncToken[] = "q1+Xa9/ZLm0cRtE4vN2bYw==";
// base64.RawURLEncoding of 16 random bytes.
constexpr char kBsmToken[] = "Zz9_kQ3-xL0pWmN7aB4cdg";
// b64encode(urandom(18)) in python-redis-lock.
constexpr char kPrlId[] = "pR7+aZ0/Kq3LmN8xTyUvWb2c";

constexpr qint64 kHourMs = 60 * 60 * 1000;

/// "guess", "likely", "certain", or empty when nothing decodes.
QString confidenceOf(const std::optional<DecodedLock> &lock)
{
    return lock ? confidenceText(lock->confidence) : QString();
}

} // namespace

class TestLockSchema : public QObject
{
    Q_OBJECT

private slots:
    void builtinOrder();
    void findById();

    void lockscopeFullValue();
    void lockscopeWithoutFence();

    void redissonRLock();
    void redissonRLockChannelWithHashTag();
    void redissonRLockRejectsWrongShapes_data();
    void redissonRLockRejectsWrongShapes();
    void redissonRwWrite();
    void redissonRwRead();
    void redissonRwRejectsWrongShapes_data();
    void redissonRwRejectsWrongShapes();

    void shedLock_data();
    void shedLock();
    void shedLockRejects_data();
    void shedLockRejects();

    void pythonRedisLockDefaultId();
    void pythonRedisLockCustomId();
    void pythonRedisLockLeavesOtherFormats_data();
    void pythonRedisLockLeavesOtherFormats();

    void redsync();
    void redisPy();
    void redisPyRandomNode();
    void nodeRedlock();
    void uuid1VersusRandomHex_data();
    void uuid1VersusRandomHex();
    void bsmPlain();
    void bsmWithMetadata();

    void unknownValues_data();
    void unknownValues();
    void nonStringTypes();

    void confidenceOfRealShapes_data();
    void confidenceOfRealShapes();
    void falsePositives_data();
    void falsePositives();
    void keyNamesLock_data();
    void keyNamesLock();
    void ttlNotReadNeitherRaisesNorDrops();
    void confidenceTextIsStable();

    void customSchemaErrors_data();
    void customSchemaErrors();
    void customSchemaDecodes();
    void customSchemaOrderAndGlob_data();
    void customSchemaOrderAndGlob();
    void customSchemaWinsOverGenericFormats();
    void customSchemaIsLikely();

    void decodeFromManyThreads();

    void singleHolderKindsHaveOneHolder();
    void redissonReadLockHasEveryReader();
};

void TestLockSchema::builtinOrder()
{
    const SchemaRegistry registry = SchemaRegistry::builtins();
    QStringList ids;
    for (const auto &schema : registry.schemas())
        ids << schema->id();
    QCOMPARE(ids, (QStringList{"lockscope-kinds", "lockscope", "redisson-rwlock", "redisson-fairlock",
                               "redisson-rlock", "redisson-fairqueue", "redisson-semaphore",
                               "redisson-permits", "redis-semaphore", "shedlock", "redis-semaphore-mutex",
                               "python-redis-lock", "redsync", "redis-py", "node-redlock", "bsm-redislock"}));
    QCOMPARE(registry.find("shedlock")->keyPatterns(), QStringList{"job-lock:*"});
    QCOMPARE(registry.find("python-redis-lock")->keyPatterns(), QStringList{"lock:*"});
    for (const QString id : {"lockscope", "redisson-rwlock", "redisson-rlock", "redsync", "redis-py",
                             "node-redlock", "bsm-redislock"})
        QCOMPARE(registry.find(id)->keyPatterns(), QStringList{"*"});
    for (const auto &schema : registry.schemas())
        QVERIFY2(!schema->displayName().isEmpty(), qPrintable(schema->id()));
}

void TestLockSchema::findById()
{
    const SchemaRegistry registry = SchemaRegistry::builtins();
    QVERIFY(registry.find("redis-py"));
    QCOMPARE(registry.find("redis-py")->id(), QStringLiteral("redis-py"));
    QVERIFY(!registry.find("nope"));
}

void TestLockSchema::lockscopeFullValue()
{
    LockValue v;
    v.token = "3q2-7wEVQm6dVY4bhv1ZBg";
    v.fence = 42;
    v.host = QStringLiteral("web-1");
    v.pid = 4711;
    v.thread = QStringLiteral("worker-3");
    v.acquiredAt = QDateTime(QDate(2026, 11, 23), QTime(6, 0, 0, 123), Qt::UTC);
    v.label = QStringLiteral("nightly report");
    v.metadata.insert(QStringLiteral("job"), QStringLiteral("17"));

    const auto lock = SchemaRegistry::builtins().decode("reports:nightly", stringEntry(v.encode()));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("lockscope"));
    QCOMPARE(lock->owner, QStringLiteral("web-1 pid 4711 worker-3"));
    QCOMPARE(lock->token, QByteArray("3q2-7wEVQm6dVY4bhv1ZBg"));
    QCOMPARE(lock->fence, 42);
    QCOMPARE(lock->holdCount, -1);
    QCOMPARE(lock->acquiredAt, v.acquiredAt);
    QCOMPARE(lock->label, QStringLiteral("nightly report"));
    QCOMPARE(lock->details.value("host"), QStringLiteral("web-1"));
    QCOMPARE(lock->details.value("pid"), QStringLiteral("4711"));
    QCOMPARE(lock->details.value("thread"), QStringLiteral("worker-3"));
    QCOMPARE(lock->details.value("m.job"), QStringLiteral("17"));
    QVERIFY(SchemaRegistry::builtins().find("lockscope")->afterRelease("k").empty());
}

void TestLockSchema::lockscopeWithoutFence()
{
    // Fencing off: no fence field, which the schema reports as "none" (-1).
    const auto lock =
        SchemaRegistry::builtins().decode("k", stringEntry("ls1 tok=Zz9_kQ3-xL0pWmN7aB4cdg host=h"));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("lockscope"));
    QCOMPARE(lock->fence, -1);
    QCOMPARE(lock->owner, QStringLiteral("h"));
    QCOMPARE(lock->token, QByteArray("Zz9_kQ3-xL0pWmN7aB4cdg"));
}

void TestLockSchema::redissonRLock()
{
    // HINCRBY name "<uuid>:<threadId>" 1, twice (reentrant), then PEXPIRE name 30000.
    const QByteArray field = QByteArray(kRedissonClient) + ":57";
    const auto lock = SchemaRegistry::builtins().decode("orders:lock", hashEntry({{field, "2"}}));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("redisson-rlock"));
    QCOMPARE(lock->owner, QStringLiteral("%1 thread 57").arg(kRedissonClient));
    QCOMPARE(lock->token, field);
    QCOMPARE(lock->holdCount, 2);
    QCOMPARE(lock->mode, QString());
    QCOMPARE(lock->fence, -1);
    QCOMPARE(lock->details.value("client"), QString(kRedissonClient));
    QCOMPARE(lock->details.value("thread"), QStringLiteral("57"));
    QCOMPARE(lock->details.value("channel"), QStringLiteral("redisson_lock__channel:{orders:lock}"));

    const auto commands = SchemaRegistry::builtins().find("redisson-rlock")->afterRelease("orders:lock");
    QCOMPARE(commands.size(), 1u);
    QCOMPARE(commands[0], (std::vector<QByteArray>{"PUBLISH", "redisson_lock__channel:{orders:lock}", "0"}));
}

void TestLockSchema::redissonRLockChannelWithHashTag()
{
    // RedissonObject.prefixName: no extra braces when the name already has a hash tag.
    const auto commands = SchemaRegistry::builtins().find("redisson-rlock")->afterRelease("{orders}:lock");
    QCOMPARE(commands[0], (std::vector<QByteArray>{"PUBLISH", "redisson_lock__channel:{orders}:lock", "0"}));
}

void TestLockSchema::redissonRLockRejectsWrongShapes_data()
{
    QTest::addColumn<RawEntry>("entry");
    const QByteArray holder = QByteArray(kRedissonClient) + ":1";
    QTest::newRow("empty hash") << hashEntry({});
    QTest::newRow("app hash") << hashEntry({{"name", "alice"}, {"age", "30"}});
    QTest::newRow("count not a number") << hashEntry({{holder, "x"}});
    QTest::newRow("count zero") << hashEntry({{holder, "0"}});
    QTest::newRow("count negative") << hashEntry({{holder, "-1"}});
    QTest::newRow("thread not a number") << hashEntry({{QByteArray(kRedissonClient) + ":main", "1"}});
    QTest::newRow("no thread") << hashEntry({{QByteArray(kRedissonClient) + ":", "1"}});
    QTest::newRow("not a uuid") << hashEntry({{"client-1:1", "1"}});
    QTest::newRow("uuid without dashes") << hashEntry({{"8743c9c00795490787fd6c719a6b4586xxxx:1", "1"}});
    QTest::newRow("two holders, no mode")
        << hashEntry({{holder, "1"}, {QByteArray(kRedissonClient2) + ":2", "1"}});
    QTest::newRow("holder and app field") << hashEntry({{holder, "1"}, {"x", "1"}});
    QTest::newRow("writer field without mode") << hashEntry({{holder + ":write", "1"}});
}

void TestLockSchema::redissonRLockRejectsWrongShapes()
{
    QFETCH(RawEntry, entry);
    const auto lock = SchemaRegistry::builtins().decode("k", entry);
    QVERIFY2(!lock, lock ? qPrintable(lock->schema) : "");
}

void TestLockSchema::redissonRwWrite()
{
    // RedissonWriteLock: HSET name mode write; HSET name "<uuid>:<tid>:write" 1; the same
    // thread then takes a read lock too (HINCRBY name "<uuid>:<tid>" 1).
    const QByteArray holder = QByteArray(kRedissonClient) + ":88";
    const RawEntry entry = hashEntry({{"mode", "write"}, {holder + ":write", "2"}, {holder, "1"}});
    const auto lock = SchemaRegistry::builtins().decode("inventory", entry);
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("redisson-rwlock"));
    QCOMPARE(lock->mode, QStringLiteral("write"));
    QCOMPARE(lock->owner, QStringLiteral("%1 thread 88 (write)").arg(kRedissonClient));
    QCOMPARE(lock->token, holder + ":write");
    QCOMPARE(lock->holdCount, 2);
    QCOMPARE(lock->details.value("readHolds"), QStringLiteral("1"));
    QCOMPARE(lock->details.value("channel"), QStringLiteral("redisson_rwlock:{inventory}"));

    // RedissonReadLock / RedissonWriteLock wait on redisson_rwlock:{name}; READ_UNLOCK_MESSAGE
    // (1) wakes every waiter.
    const auto commands = SchemaRegistry::builtins().find("redisson-rwlock")->afterRelease("inventory");
    QCOMPARE(commands.size(), 1u);
    QCOMPARE(commands[0], (std::vector<QByteArray>{"PUBLISH", "redisson_rwlock:{inventory}", "1"}));
}

void TestLockSchema::redissonRwRead()
{
    // Two readers on two clients; field order as HGETALL returns it (mode first).
    const QByteArray r1 = QByteArray(kRedissonClient2) + ":3";
    const QByteArray r2 = QByteArray(kRedissonClient) + ":12";
    const RawEntry entry = hashEntry({{"mode", "read"}, {r1, "2"}, {r2, "1"}});
    const auto lock = SchemaRegistry::builtins().decode("inventory", entry);
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("redisson-rwlock"));
    QCOMPARE(lock->mode, QStringLiteral("read"));
    QCOMPARE(lock->holdCount, 3);
    // Sorted by field, so that the same holders give the same token in any field order.
    QCOMPARE(lock->owner, QStringLiteral("%1 thread 3, %2 thread 12").arg(kRedissonClient2, kRedissonClient));
    QCOMPARE(lock->token, r1 + ',' + r2);
    QCOMPARE(lock->details.value("readers"), QStringLiteral("2"));

    const RawEntry reordered = hashEntry({{r2, "1"}, {"mode", "read"}, {r1, "2"}});
    QCOMPARE(SchemaRegistry::builtins().decode("inventory", reordered)->token, lock->token);
}

void TestLockSchema::redissonRwRejectsWrongShapes_data()
{
    QTest::addColumn<RawEntry>("entry");
    const QByteArray holder = QByteArray(kRedissonClient) + ":1";
    QTest::newRow("mode only") << hashEntry({{"mode", "read"}});
    QTest::newRow("unknown mode") << hashEntry({{"mode", "exclusive"}, {holder, "1"}});
    QTest::newRow("write without writer") << hashEntry({{"mode", "write"}, {holder, "1"}});
    QTest::newRow("read with writer") << hashEntry({{"mode", "read"}, {holder + ":write", "1"}});
    QTest::newRow("two writers") << hashEntry(
        {{"mode", "write"}, {holder + ":write", "1"}, {QByteArray(kRedissonClient2) + ":2:write", "1"}});
    QTest::newRow("mode and app field") << hashEntry({{"mode", "read"}, {holder, "1"}, {"owner", "bob"}});
    QTest::newRow("app hash with mode") << hashEntry({{"mode", "dark"}, {"font", "mono"}});
}

void TestLockSchema::redissonRwRejectsWrongShapes()
{
    QFETCH(RawEntry, entry);
    const auto lock = SchemaRegistry::builtins().decode("k", entry);
    QVERIFY2(!lock, lock ? qPrintable(lock->schema) : "");
}

void TestLockSchema::shedLock_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QString>("host");
    QTest::addColumn<QDateTime>("added");
    QTest::addColumn<QString>("uuid");
    QTest::addColumn<QString>("expires");
    QTest::addColumn<QString>("env");
    QTest::addColumn<QString>("name");

    const QDateTime added(QDate(2021, 5, 12), QTime(13, 31, 45, 6), Qt::UTC);
    // RedisLockProvider (spring) / JedisLockProvider: "ADDED:%s@%s" with toIsoString(now).
    QTest::newRow("spring") << QByteArray("job-lock:default:reportJob")
                            << QByteArray("ADDED:2021-05-12T13:31:45.006Z@app-7.example.com")
                            << "app-7.example.com" << added << QString() << QString() << "default"
                            << "reportJob";
    // InternalRedisLockProvider: "ADDED:%s@%s:%s" with a random UUID (safe updates).
    QTest::newRow("with uuid")
        << QByteArray("job-lock:prod:cleanup")
        << QByteArray("ADDED:2021-05-12T13:31:45.006Z@app-7:0f8fad5b-d9cb-469f-a165-70867728950e") << "app-7"
        << added << "0f8fad5b-d9cb-469f-a165-70867728950e" << QString() << "prod"
        << "cleanup";
    // Instant.toString() writes no fraction when it is zero, and up to 9 digits otherwise.
    QTest::newRow("no fraction") << QByteArray("job-lock:default:a")
                                 << QByteArray("ADDED:2021-05-12T13:31:45Z@h") << "h"
                                 << QDateTime(QDate(2021, 5, 12), QTime(13, 31, 45), Qt::UTC) << QString()
                                 << QString() << "default"
                                 << "a";
    QTest::newRow("nanoseconds") << QByteArray("job-lock:default:a")
                                 << QByteArray("ADDED:2021-05-12T13:31:45.006123456Z@h") << "h" << added
                                 << QString() << QString() << "default"
                                 << "a";
    // Providers that keep lockAtMostUntil in the value: "ADDED:%s@%s EXP:%s".
    QTest::newRow("with expiry")
        << QByteArray("job-lock:default:a")
        << QByteArray("ADDED:2021-05-12T13:31:45.006Z@unknown host EXP:2021-05-12T13:41:45.006Z")
        << "unknown host" << added << QString() << "2021-05-12T13:41:45.006Z"
        << "default"
        << "a";
    // A configured key prefix: still ShedLock by its value, without env / name.
    QTest::newRow("other prefix") << QByteArray("scheduler:a")
                                  << QByteArray("ADDED:2021-05-12T13:31:45.006Z@h") << "h" << added
                                  << QString() << QString() << QString() << QString();
}

void TestLockSchema::shedLock()
{
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, value);
    QFETCH(QString, host);
    QFETCH(QDateTime, added);
    QFETCH(QString, uuid);
    QFETCH(QString, expires);
    QFETCH(QString, env);
    QFETCH(QString, name);

    const auto lock = SchemaRegistry::builtins().decode(key, stringEntry(value));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("shedlock"));
    QCOMPARE(lock->owner, host);
    QCOMPARE(lock->details.value("host"), host);
    QCOMPARE(lock->acquiredAt, added);
    QCOMPARE(lock->token, value);
    QCOMPARE(lock->details.value("uuid"), uuid);
    QCOMPARE(lock->details.value("expires"), expires);
    QCOMPARE(lock->details.value("env"), env);
    QCOMPARE(lock->details.value("name"), name);
    QVERIFY(SchemaRegistry::builtins().find("shedlock")->afterRelease(key).empty());
}

void TestLockSchema::shedLockRejects_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::newRow("no host") << QByteArray("ADDED:2021-05-12T13:31:45.006Z@");
    QTest::newRow("no at") << QByteArray("ADDED:2021-05-12T13:31:45.006Z");
    QTest::newRow("bad time") << QByteArray("ADDED:yesterday@h");
    QTest::newRow("local time") << QByteArray("ADDED:2021-05-12T13:31:45.006@h");
    QTest::newRow("bad expiry") << QByteArray("ADDED:2021-05-12T13:31:45.006Z@h EXP:soon");
    QTest::newRow("lower case") << QByteArray("added:2021-05-12T13:31:45.006Z@h");
}

void TestLockSchema::shedLockRejects()
{
    QFETCH(QByteArray, value);
    QVERIFY(!SchemaRegistry::builtins().find("shedlock")->decode("job-lock:default:a", stringEntry(value)));
    QVERIFY(!SchemaRegistry::builtins().decode("job-lock:default:a", stringEntry(value)));
}

void TestLockSchema::pythonRedisLockDefaultId()
{
    // Lock(conn, "report", expire=60): SET lock:report <b64encode(urandom(18))> NX EX 60.
    const auto lock = SchemaRegistry::builtins().decode("lock:report", stringEntry(kPrlId));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("python-redis-lock"));
    QCOMPARE(lock->token, QByteArray(kPrlId));
    QCOMPARE(lock->owner, QString()); // a random id names nobody
    QCOMPARE(lock->details.value("signal"), QStringLiteral("lock-signal:report"));

    const auto commands = SchemaRegistry::builtins().find("python-redis-lock")->afterRelease("lock:report");
    QCOMPARE(commands.size(), 3u);
    QCOMPARE(commands[0], (std::vector<QByteArray>{"DEL", "lock-signal:report"}));
    QCOMPARE(commands[1], (std::vector<QByteArray>{"LPUSH", "lock-signal:report", "1"}));
    QCOMPARE(commands[2], (std::vector<QByteArray>{"PEXPIRE", "lock-signal:report", "1000"}));

    // Outside "lock:" the same value is nobody's (the library always adds the prefix).
    QVERIFY(!SchemaRegistry::builtins().decode("report", stringEntry(kPrlId)));
    QVERIFY(!SchemaRegistry::builtins().decode("lock:", stringEntry(kPrlId)));
}

void TestLockSchema::pythonRedisLockCustomId()
{
    // Lock(conn, "report", id="worker-7@host-a").
    const auto lock = SchemaRegistry::builtins().decode("lock:report", stringEntry("worker-7@host-a"));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("python-redis-lock"));
    QCOMPARE(lock->owner, QStringLiteral("worker-7@host-a"));
    QCOMPARE(lock->token, QByteArray("worker-7@host-a"));
}

void TestLockSchema::pythonRedisLockLeavesOtherFormats_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QString>("schema"); // empty: nobody's

    QTest::newRow("redis-py") << QByteArray(kRedisPyToken) << "redis-py";
    QTest::newRow("node-redlock") << QByteArray(kNodeRedlockToken) << "node-redlock";
    QTest::newRow("redsync") << QByteArray(kRedsyncToken) << "redsync";
    QTest::newRow("bsm") << QByteArray(kBsmToken) << "bsm-redislock";
    QTest::newRow("lockscope") << QByteArray("ls1 tok=abc host=h") << "lockscope";
    QTest::newRow("shedlock") << QByteArray("ADDED:2021-05-12T13:31:45.006Z@h") << "shedlock";
    QTest::newRow("number") << QByteArray("1") << QString();
    QTest::newRow("json") << QByteArray(R"({"owner":"a"})") << QString();
    QTest::newRow("json array") << QByteArray("[1,2]") << QString();
    QTest::newRow("quoted") << QByteArray("\"x\"") << QString();
    QTest::newRow("spaces around") << QByteArray(" x ") << QString();
    QTest::newRow("newline") << QByteArray("a\nb") << QString();
    QTest::newRow("binary") << QByteArray("\x01\x02\xff", 3) << QString();
    QTest::newRow("empty") << QByteArray() << QString();
}

void TestLockSchema::pythonRedisLockLeavesOtherFormats()
{
    QFETCH(QByteArray, value);
    QFETCH(QString, schema);
    const auto lock = SchemaRegistry::builtins().decode("lock:report", stringEntry(value));
    QCOMPARE(lock ? lock->schema : QString(), schema);
}

void TestLockSchema::redsync()
{
    const auto lock = SchemaRegistry::builtins().decode("my-global-mutex", stringEntry(kRedsyncToken, 8000));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("redsync"));
    QCOMPARE(lock->token, QByteArray(kRedsyncToken));
    QCOMPARE(lock->owner, QString());

    // Without '+' or '/' the first 22 characters are also base64url: still redsync, not bsm
    // with metadata "==".
    const auto urlSafe = SchemaRegistry::builtins().decode("m", stringEntry("q1aXa9bZLm0cRtE4vN2bYw=="));
    QVERIFY(urlSafe);
    QCOMPARE(urlSafe->schema, QStringLiteral("redsync"));

    // 16 bytes end in A, Q, g or w before the padding; anything else is not 16 bytes.
    QVERIFY(!SchemaRegistry::builtins().decode("m", stringEntry("q1+Xa9/ZLm0cRtE4vN2bYx==")));
    QVERIFY(!SchemaRegistry::builtins().decode("m", stringEntry("q1+Xa9/ZLm0cRtE4vN2bYw=")));
}

void TestLockSchema::redisPy()
{
    const auto lock = SchemaRegistry::builtins().decode("resource", stringEntry(kRedisPyToken));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("redis-py"));
    QCOMPARE(lock->token, QByteArray(kRedisPyToken));
    QCOMPARE(lock->details.value("node"), QStringLiteral("02:42:ac:11:00:02"));
    // No owner is recorded; the host's MAC is a detail, not an owner's name.
    QCOMPARE(lock->owner, QString());
    QCOMPARE(lock->details.value("host MAC (from the uuid1 token)"), QStringLiteral("02:42:ac:11:00:02"));
    // time_hi 1ee, time_mid d7a6, time_low 5b8f3a2e -> 2024-03-01.
    QVERIFY(lock->acquiredAt.isValid());
    QCOMPARE(lock->acquiredAt.timeSpec(), Qt::UTC);
    QCOMPARE(lock->acquiredAt.date().year(), 2024);
    QCOMPARE(lock->acquiredAt.date().month(), 3);
    QCOMPARE(lock->acquiredAt.date().day(), 1);
}

void TestLockSchema::redisPyRandomNode()
{
    // Python falls back to a random node id with the multicast bit set: no MAC to show.
    const auto lock =
        SchemaRegistry::builtins().decode("resource", stringEntry("5b8f3a2ed7a611eeb1e80342ac110002"));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("redis-py"));
    QCOMPARE(lock->owner, QString());
    QVERIFY(!lock->details.contains("host MAC (from the uuid1 token)"));
    QCOMPARE(lock->details.value("node"), QStringLiteral("03:42:ac:11:00:02"));
}

void TestLockSchema::nodeRedlock()
{
    const auto lock = SchemaRegistry::builtins().decode("locks:account:123", stringEntry(kNodeRedlockToken));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("node-redlock"));
    QCOMPARE(lock->token, QByteArray(kNodeRedlockToken));
    QCOMPARE(lock->owner, QString());
    QVERIFY(!lock->acquiredAt.isValid());
    // node-redlock alone also leaves a uuid1 to redis-py.
    QVERIFY(!SchemaRegistry::builtins().find("node-redlock")->decode("k", stringEntry(kRedisPyToken)));
}

void TestLockSchema::uuid1VersusRandomHex_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QString>("schema");
    QTest::newRow("uuid1") << QByteArray(kRedisPyToken) << "redis-py";
    QTest::newRow("variant 9") << QByteArray("5b8f3a2ed7a611ee91e80242ac110002") << "redis-py";
    QTest::newRow("variant a") << QByteArray("5b8f3a2ed7a611eea1e80242ac110002") << "redis-py";
    QTest::newRow("uuid4 hex") << QByteArray("9f1c2e3d4b5a46f7a8b9c0d1e2f30415") << "node-redlock";
    QTest::newRow("version 1, NCS variant")
        << QByteArray("5b8f3a2ed7a611ee71e80242ac110002") << "node-redlock";
    QTest::newRow("version 1, year 1600") << QByteArray("000000000000100080000242ac110002") << "node-redlock";
    QTest::newRow("version 1, year 4000") << QByteArray("ffffffffffff1fff80000242ac110002") << "node-redlock";
    QTest::newRow("upper case hex") << QByteArray("5B8F3A2ED7A611EEB1E80242AC110002") << QString();
    QTest::newRow("31 chars") << QByteArray(kRedisPyToken).chopped(1) << QString();
    QTest::newRow("33 chars") << QByteArray(kNodeRedlockToken) + "0" << QString();
    QTest::newRow("32 digits") << QByteArray("12345678901234567890123456789012") << QString();
}

void TestLockSchema::uuid1VersusRandomHex()
{
    QFETCH(QByteArray, value);
    QFETCH(QString, schema);
    const auto lock = SchemaRegistry::builtins().decode("k", stringEntry(value));
    QCOMPARE(lock ? lock->schema : QString(), schema);
}

void TestLockSchema::bsmPlain()
{
    const auto lock = SchemaRegistry::builtins().decode("bsm-key", stringEntry(kBsmToken));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("bsm-redislock"));
    QCOMPARE(lock->token, QByteArray(kBsmToken));
    QCOMPARE(lock->label, QString());
    QVERIFY(!lock->details.contains("metadata"));
    // LockScope's random tokens have the same shape; bare, they read as bsm (the most likely
    // writer of a bare token), inside "ls1 tok=" as LockScope.
    const QByteArray lsToken = LockValue::escape(lockscope::lock::randomToken());
    QCOMPARE(SchemaRegistry::builtins().decode("k", stringEntry(lsToken))->schema,
             QStringLiteral("bsm-redislock"));
}

void TestLockSchema::bsmWithMetadata()
{
    // Obtain(ctx, key, ttl, &Options{Metadata: "worker=7"}): the value is token + metadata.
    const QByteArray value = QByteArray(kBsmToken) + "worker=7";
    const auto lock = SchemaRegistry::builtins().decode("bsm-key", stringEntry(value));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("bsm-redislock"));
    QCOMPARE(lock->token, QByteArray(kBsmToken));
    QCOMPARE(lock->label, QStringLiteral("worker=7"));
    QCOMPARE(lock->details.value("metadata"), QStringLiteral("worker=7"));

    // The 22nd character of 16 bytes is A, Q, g or w: a word with a 22nd letter elsewhere is not one.
    QVERIFY(!SchemaRegistry::builtins().decode("k", stringEntry("abcdefghijklmnopqrstuvwxyz")));
    QVERIFY(!SchemaRegistry::builtins().decode("k", stringEntry(QByteArray(kBsmToken) + "\xff\xfe")));
}

void TestLockSchema::unknownValues_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("value");
    QTest::newRow("empty") << QByteArray("k") << QByteArray();
    QTest::newRow("number") << QByteArray("counter") << QByteArray("42");
    QTest::newRow("long number") << QByteArray("counter") << QByteArray("12345678901234567890123456");
    QTest::newRow("float") << QByteArray("price") << QByteArray("3.14159");
    QTest::newRow("json") << QByteArray("user:1") << QByteArray(R"({"name":"alice","token":"abc"})");
    QTest::newRow("json array") << QByteArray("list") << QByteArray("[1,2,3]");
    QTest::newRow("word") << QByteArray("greeting") << QByteArray("hello");
    QTest::newRow("sentence") << QByteArray("motd")
                              << QByteArray("Welcome to the Redis server of the company");
    QTest::newRow("session id (uuid4 text)")
        << QByteArray("session:x") << QByteArray("0f8fad5b-d9cb-469f-a165-70867728950e");
    QTest::newRow("sha1 hex") << QByteArray("etag") << QByteArray("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    QTest::newRow("binary") << QByteArray("blob") << QByteArray("\x00\x01\x02\x03", 4);
    QTest::newRow("ls1 without token") << QByteArray("k") << QByteArray("ls1 host=h");
    QTest::newRow("ls1 empty token") << QByteArray("k") << QByteArray("ls1 tok= host=h");
    QTest::newRow("lock: number") << QByteArray("lock:x") << QByteArray("1");
    QTest::newRow("lock: json") << QByteArray("lock:x") << QByteArray(R"({"a":1})");
    QTest::newRow("job-lock: app value") << QByteArray("job-lock:default:a") << QByteArray("running");
}

void TestLockSchema::unknownValues()
{
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, value);
    const auto lock = SchemaRegistry::builtins().decode(key, stringEntry(value));
    QVERIFY2(!lock, lock ? qPrintable(lock->schema) : "");
}

void TestLockSchema::nonStringTypes()
{
    const SchemaRegistry registry = SchemaRegistry::builtins();
    // A lock value stored in the wrong type is nobody's.
    for (const QString type : {"list", "set", "zset", "stream"})
        QVERIFY(!registry.decode("lock:x", otherEntry(type)));
    RawEntry missing;
    QVERIFY(!registry.decode("k", missing));
    // A Missing / Other entry that still carries bytes is not read either.
    RawEntry stale = stringEntry(kRedisPyToken);
    stale.type = RawEntry::Type::Missing;
    QVERIFY(!registry.decode("k", stale));
    // A string value never reads as a hash schema and a hash never as a string schema.
    RawEntry hashWithValue = hashEntry({});
    hashWithValue.value = kRedisPyToken;
    QVERIFY(!registry.decode("k", hashWithValue));
    RawEntry stringWithFields = stringEntry("x");
    stringWithFields.fields = {{QByteArray(kRedissonClient) + ":1", "1"}};
    QVERIFY(!registry.decode("k", stringWithFields));
}

void TestLockSchema::confidenceOfRealShapes_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<RawEntry>("entry");
    QTest::addColumn<QString>("schema");     // empty: not decoded
    QTest::addColumn<QString>("confidence"); // empty: not decoded

    const QByteArray holder = QByteArray(kRedissonClient) + ":57";
    const QByteArray lockscope = "ls1 tok=Zz9_kQ3-xL0pWmN7aB4cdg host=h";
    const QByteArray shedlock = "ADDED:2021-05-12T13:31:45.006Z@app-7";

    // The library's own structure: Certain under any key, with any TTL or none.
    QTest::newRow("lockscope") << QByteArray("reports:nightly") << stringEntry(lockscope) << "lockscope"
                               << "certain";
    QTest::newRow("lockscope, no TTL") << QByteArray("x") << stringEntry(lockscope, -1) << "lockscope"
                                       << "certain";
    QTest::newRow("redisson rlock") << QByteArray("inventory:sku:1") << hashEntry({{holder, "2"}})
                                    << "redisson-rlock"
                                    << "certain";
    QTest::newRow("redisson rwlock") << QByteArray("catalog")
                                     << hashEntry({{"mode", "write"}, {holder + ":write", "1"}}, 25000)
                                     << "redisson-rwlock"
                                     << "certain";
    QTest::newRow("shedlock, 9 h lockAtMostFor")
        << QByteArray("job-lock:default:report") << stringEntry(shedlock, 9 * kHourMs) << "shedlock"
        << "certain";

    // python-redis-lock: a default id under its own "lock:" prefix is Likely, TTL or not (the
    // library's default expire=None writes none); a custom id is a Guess.
    QTest::newRow("prl default id") << QByteArray("lock:report") << stringEntry(kPrlId, 60000)
                                    << "python-redis-lock"
                                    << "likely";
    QTest::newRow("prl default id, no TTL")
        << QByteArray("lock:report") << stringEntry(kPrlId, -1) << "python-redis-lock"
        << "likely";
    QTest::newRow("prl default id, 2 h")
        << QByteArray("lock:report") << stringEntry(kPrlId, 2 * kHourMs) << "python-redis-lock"
        << "guess";
    QTest::newRow("prl custom id") << QByteArray("lock:report") << stringEntry("worker-7@host-a")
                                   << "python-redis-lock"
                                   << "guess";
    QTest::newRow("prl custom id, no TTL")
        << QByteArray("lock:migrations") << stringEntry("deploy-7f3a on ci-runner-4", -1)
        << "python-redis-lock"
        << "guess";
    QTest::newRow("prl custom id, 2 h")
        << QByteArray("lock:report") << stringEntry("worker-7@host-a", 2 * kHourMs) << QString() << QString();

    // go-redsync (always PX, 8 s by default): the key decides between Likely and Guess.
    QTest::newRow("redsync, mutex key")
        << QByteArray("my-global-mutex") << stringEntry(kRedsyncToken, 8000) << "redsync"
        << "likely";
    QTest::newRow("redsync, plain key")
        << QByteArray("payments:settle:eu") << stringEntry(kRedsyncToken, 8000) << "redsync"
        << "guess";
    QTest::newRow("redsync, mutex key, no TTL")
        << QByteArray("my-global-mutex") << stringEntry(kRedsyncToken, -1) << "redsync"
        << "guess";
    QTest::newRow("redsync, plain key, no TTL")
        << QByteArray("payments:settle:eu") << stringEntry(kRedsyncToken, -1) << QString() << QString();

    // redis-py: a uuid1 is structured; with a lock's TTL or a lock's key it is Likely. Without a
    // TTL (timeout=None, redis-py's default) on a plain key it is what a stored id looks like.
    QTest::newRow("redis-py, timeout=10")
        << QByteArray("orders") << stringEntry(kRedisPyToken, 10000) << "redis-py"
        << "likely";
    QTest::newRow("redis-py, lock key, no TTL")
        << QByteArray("orders:lock") << stringEntry(kRedisPyToken, -1) << "redis-py"
        << "likely";
    QTest::newRow("redis-py, plain key, no TTL")
        << QByteArray("forever") << stringEntry(kRedisPyToken, -1) << "redis-py"
        << "guess";
    QTest::newRow("redis-py, lock key, 2 h")
        << QByteArray("orders:lock") << stringEntry(kRedisPyToken, 2 * kHourMs) << "redis-py"
        << "guess";
    QTest::newRow("redis-py, plain key, 2 h")
        << QByteArray("orders") << stringEntry(kRedisPyToken, 2 * kHourMs) << QString() << QString();
    // A uuid1 made in the future is random hex, not a token made at acquire.
    QTest::newRow("uuid1 from 2090") << QByteArray("locks:a")
                                     << stringEntry("ad7000001e3d1239aa110242ac110002") << "node-redlock"
                                     << "likely";

    // node-redlock (always PX).
    QTest::newRow("node-redlock, locks: key")
        << QByteArray("locks:account:123") << stringEntry(kNodeRedlockToken) << "node-redlock"
        << "likely";
    QTest::newRow("node-redlock, {redlock} tag")
        << QByteArray("{redlock}:invoice:7") << stringEntry(kNodeRedlockToken) << "node-redlock"
        << "likely";
    QTest::newRow("node-redlock, plain key")
        << QByteArray("account:123") << stringEntry(kNodeRedlockToken) << "node-redlock"
        << "guess";

    // bsm/redislock (always PX), with and without metadata.
    QTest::newRow("bsm, lock key") << QByteArray("jobs:lock:a") << stringEntry(kBsmToken) << "bsm-redislock"
                                   << "likely";
    QTest::newRow("bsm+meta, lock key")
        << QByteArray("mailer:lock:digest") << stringEntry(QByteArray(kBsmToken) + "host=mailer-2")
        << "bsm-redislock"
        << "likely";
    QTest::newRow("bsm, plain key") << QByteArray("bsm-key") << stringEntry(kBsmToken) << "bsm-redislock"
                                    << "guess";
    QTest::newRow("bsm, lock key, 2 h")
        << QByteArray("jobs:lock:a") << stringEntry(kBsmToken, 2 * kHourMs) << "bsm-redislock"
        << "guess";
    QTest::newRow("bsm, plain key, no TTL")
        << QByteArray("bsm-key") << stringEntry(kBsmToken, -1) << QString() << QString();
}

void TestLockSchema::confidenceOfRealShapes()
{
    QFETCH(QByteArray, key);
    QFETCH(RawEntry, entry);
    QFETCH(QString, schema);
    QFETCH(QString, confidence);
    const auto lock = SchemaRegistry::builtins().decode(key, entry);
    QCOMPARE(lock ? lock->schema : QString(), schema);
    QCOMPARE(confidenceOf(lock), confidence);
    if (lock)
        QVERIFY2(!lock->confidenceReason.isEmpty(), qPrintable(lock->schema));
}

void TestLockSchema::falsePositives_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<RawEntry>("entry");
    QTest::addColumn<QString>("schema");     // empty: not decoded
    QTest::addColumn<QString>("confidence"); // at most this

    // Issue 11: an md5-hex cache entry with a 1 h TTL was a node-redlock lock, Force Release on.
    // md5("avatar:42"): the shape is node-redlock's, nothing else is, so only a guess...
    const QByteArray md5 = "06b124eacac543bf03cf321ed661380b";
    QTest::newRow("etag md5, 1 h TTL")
        << QByteArray("etag:avatar:42") << stringEntry(md5, kHourMs) << "node-redlock"
        << "guess";
    QTest::newRow("etag md5, 59 min left")
        << QByteArray("etag:avatar:42") << stringEntry(md5, kHourMs - 60000) << "node-redlock"
        << "guess";
    // ...and not even that when it is kept longer than a lock, or forever.
    QTest::newRow("etag md5, 1 day TTL")
        << QByteArray("etag:avatar:42") << stringEntry(md5, 24 * kHourMs) << QString() << QString();
    QTest::newRow("etag md5, no TTL")
        << QByteArray("etag:avatar:42") << stringEntry(md5, -1) << QString() << QString();
    // Issue 11: `lock:with spaces` = `hello world` was a python-redis-lock lock owned by "hello world".
    QTest::newRow("lock: hello world")
        << QByteArray("lock:with spaces") << stringEntry("hello world") << QString() << QString();
    QTest::newRow("lock: hello world, no TTL")
        << QByteArray("lock:with spaces") << stringEntry("hello world", -1) << QString() << QString();
    // Plain words, under a lock key or not.
    QTest::newRow("word") << QByteArray("greeting") << stringEntry("hello") << QString() << QString();
    QTest::newRow("lock: word") << QByteArray("lock:job") << stringEntry("running") << QString() << QString();
    QTest::newRow("lock: true") << QByteArray("lock:job") << stringEntry("true") << QString() << QString();
    QTest::newRow("lock: 24 letters")
        << QByteArray("lock:job") << stringEntry("abcdefghijklmnopqrstuvwx") << QString() << QString();
    QTest::newRow("lock: 24 digits") << QByteArray("lock:job") << stringEntry("123456789012345678901234")
                                     << QString() << QString();
    // UUID cache values: lower case; upper case with an 'A' where a bsm token's last character
    // goes (read as a bsm token with metadata before).
    QTest::newRow("uuid4 text") << QByteArray("cache:user:42:session")
                                << stringEntry("0f8fad5b-d9cb-469f-a165-70867728950e", 300000) << QString()
                                << QString();
    QTest::newRow("uuid text, upper case")
        << QByteArray("cache:user:42:session") << stringEntry("0F8FAD5B-D9CB-469F-A1A5-70867728950E", 300000)
        << QString() << QString();
    // md5 in upper case: hex, not base64 (an 'A' at index 21 made it a bsm token before).
    QTest::newRow("md5 upper case") << QByteArray("file:18:md5")
                                    << stringEntry("6F4922F45568161A8CDF4AD2299F6D23") << QString()
                                    << QString();
    // A JWT: base64url JSON, never a token of 16 bytes (its 22nd character encodes two JSON
    // bytes and is never A, Q, g or w).
    QTest::newRow("jwt") << QByteArray("auth:session:42")
                         << stringEntry(
                                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZ"
                                "SI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6"
                                "yJV_adQssw5c",
                                900000)
                         << QString() << QString();
    // Content-MD5 (base64 of 16 bytes, go-redsync's shape) kept with the file, no TTL.
    QTest::newRow("content-md5, no TTL")
        << QByteArray("file:18:content-md5") << stringEntry("XUFAKrxLKna5cZ2REBfFkg==", -1) << QString()
        << QString();
    // The same with a short TTL: the shape is go-redsync's and nothing else says so.
    QTest::newRow("content-md5, 10 min")
        << QByteArray("file:18:content-md5") << stringEntry("XUFAKrxLKna5cZ2REBfFkg==", 600000) << "redsync"
        << "guess";
}

void TestLockSchema::falsePositives()
{
    QFETCH(QByteArray, key);
    QFETCH(RawEntry, entry);
    QFETCH(QString, schema);
    QFETCH(QString, confidence);
    const auto lock = SchemaRegistry::builtins().decode(key, entry);
    QCOMPARE(lock ? lock->schema : QString(), schema);
    QCOMPARE(confidenceOf(lock), confidence);
    if (lock)
        QVERIFY2(lock->confidenceReason.contains(QLatin1String("does not name a lock")),
                 qPrintable(lock->confidenceReason));
}

void TestLockSchema::keyNamesLock_data()
{
    // A 32-hex value without a TTL: kept (as a guess) only when the key names a lock.
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<bool>("namesLock");
    QTest::newRow("lock:") << QByteArray("lock:x") << true;
    QTest::newRow("locks:") << QByteArray("locks:account:1") << true;
    QTest::newRow(":lock") << QByteArray("orders:lock") << true;
    QTest::newRow("camelCase") << QByteArray("orderLock:7") << true;
    QTest::newRow("upper case") << QByteArray("JOB_LOCK_7") << true;
    QTest::newRow("redlock tag") << QByteArray("{redlock}:a") << true;
    QTest::newRow("job-locks") << QByteArray("job-locks/a") << true;
    QTest::newRow("locked") << QByteArray("locked:a") << true;
    QTest::newRow("mutex") << QByteArray("app_mutex_1") << true;
    QTest::newRow("block") << QByteArray("block:7") << false;
    QTest::newRow("blocks") << QByteArray("chain:blocks:7") << false;
    QTest::newRow("clock") << QByteArray("clock:skew") << false;
    QTest::newRow("locale") << QByteArray("locale:en") << false;
    QTest::newRow("plain") << QByteArray("etag:avatar:42") << false;
}

void TestLockSchema::keyNamesLock()
{
    QFETCH(QByteArray, key);
    QFETCH(bool, namesLock);
    const auto lock = SchemaRegistry::builtins().decode(key, stringEntry(kNodeRedlockToken, -1));
    QCOMPARE(lock.has_value(), namesLock);
    if (lock) {
        QCOMPARE(lock->schema, QStringLiteral("node-redlock"));
        QCOMPARE(lock->confidence, Confidence::Guess); // no TTL, which node-redlock always sets
        QVERIFY2(lock->confidenceReason.contains(QLatin1String("no TTL")),
                 qPrintable(lock->confidenceReason));
    }
}

void TestLockSchema::ttlNotReadNeitherRaisesNorDrops()
{
    // The scanner asks mayDecode before it reads the PTTL: a value that a TTL would make a
    // lock must not be skipped there.
    const SchemaRegistry registry = SchemaRegistry::builtins();
    for (const char *value : {kNodeRedlockToken, kRedsyncToken, kBsmToken, kRedisPyToken}) {
        const RawEntry entry = stringEntry(value, RawEntry::PttlNotRead);
        QVERIFY2(registry.mayDecode("etag:avatar:42", entry), value);
        QCOMPARE(registry.decode("etag:avatar:42", entry)->confidence, Confidence::Guess);
    }
    QVERIFY(registry.mayDecode("lock:report", stringEntry("worker-7@host-a", RawEntry::PttlNotRead)));
    QVERIFY(!registry.mayDecode("lock:with spaces", stringEntry("hello world", RawEntry::PttlNotRead)));
}

void TestLockSchema::confidenceTextIsStable()
{
    // Used in `lockctl list --json`: stable identifiers, ordered weakest first.
    QCOMPARE(confidenceText(Confidence::Guess), QStringLiteral("guess"));
    QCOMPARE(confidenceText(Confidence::Likely), QStringLiteral("likely"));
    QCOMPARE(confidenceText(Confidence::Certain), QStringLiteral("certain"));
    QVERIFY(Confidence::Guess < Confidence::Likely && Confidence::Likely < Confidence::Certain);
}

void TestLockSchema::customSchemaErrors_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("glob");
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("errorContains");
    QTest::newRow("no id") << ""
                           << "jobs:*"
                           << "(?<owner>.+)"
                           << "id";
    QTest::newRow("built-in id") << "redis-py"
                                 << "jobs:*"
                                 << "(?<owner>.+)"
                                 << "already exists";
    QTest::newRow("empty glob") << "c"
                                << ""
                                << "(?<owner>.+)"
                                << "glob";
    QTest::newRow("unclosed bracket") << "c"
                                      << "jobs:[ab"
                                      << "(?<owner>.+)"
                                      << "'['";
    QTest::newRow("lone backslash") << "c"
                                    << "jobs:\\"
                                    << "(?<owner>.+)"
                                    << "backslash";
    QTest::newRow("empty pattern") << "c"
                                   << "jobs:*"
                                   << ""
                                   << "empty";
    QTest::newRow("bad regex") << "c"
                               << "jobs:*"
                               << "(?<owner>[a-"
                               << "not a valid regular expression";
    QTest::newRow("no named group") << "c"
                                    << "jobs:*"
                                    << "^([^/]+)/([0-9a-f]+)$"
                                    << "named groups";
    QTest::newRow("other names only") << "c"
                                      << "jobs:*"
                                      << "^(?<who>[^/]+)/(?<tok>[0-9a-f]+)$"
                                      << "named groups";
}

void TestLockSchema::customSchemaErrors()
{
    QFETCH(QString, id);
    QFETCH(QString, glob);
    QFETCH(QString, pattern);
    QFETCH(QString, errorContains);
    SchemaRegistry registry = SchemaRegistry::builtins();
    const auto before = registry.schemas();
    const auto error = registry.addCustom({id, QStringLiteral("Custom"), glob, pattern});
    QVERIFY(error);
    QVERIFY2(error->contains(errorContains), qPrintable(*error));
    QCOMPARE(registry.schemas(), before); // nothing changed
}

void TestLockSchema::customSchemaDecodes()
{
    SchemaRegistry registry = SchemaRegistry::builtins();
    const auto error = registry.addCustom(
        {QStringLiteral("jobs"), QStringLiteral("Job runner"), QStringLiteral("jobs:lock:*"),
         QStringLiteral("^(?<owner>[^/]+)/(?<token>[0-9a-f]+)/(?<fence>\\d+)(?:/(?<queue>\\w+))?$")});
    QVERIFY2(!error, error ? qPrintable(*error) : "");
    QVERIFY(registry.find("jobs"));
    QCOMPARE(registry.find("jobs")->displayName(), QStringLiteral("Job runner"));
    QCOMPARE(registry.find("jobs")->keyPatterns(), QStringList{"jobs:lock:*"});
    QVERIFY(registry.find("jobs")->afterRelease("jobs:lock:a").empty());

    auto lock = registry.decode("jobs:lock:nightly", stringEntry("worker-3/deadbeef/17/fast"));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("jobs"));
    QCOMPARE(lock->owner, QStringLiteral("worker-3"));
    QCOMPARE(lock->token, QByteArray("deadbeef"));
    QCOMPARE(lock->fence, 17);
    QCOMPARE(lock->details.value("queue"), QStringLiteral("fast"));

    // An optional group that did not take part leaves no detail.
    lock = registry.decode("jobs:lock:nightly", stringEntry("worker-3/deadbeef/17"));
    QVERIFY(lock);
    QVERIFY(!lock->details.contains("queue"));

    // Other keys, non-matching values and non-string types are not this schema's.
    QVERIFY(!registry.decode("jobs:other", stringEntry("worker-3/deadbeef/17")));
    QVERIFY(!registry.decode("jobs:lock:nightly", stringEntry("no slashes")));
    QVERIFY(!registry.decode("jobs:lock:nightly", otherEntry("list")));

    // Only an owner group: the token is the whole value.
    QVERIFY(!registry.addCustom({QStringLiteral("owners"), QString(), QStringLiteral("owned:*"),
                                 QStringLiteral("^owner=(?<owner>.+)$")}));
    lock = registry.decode("owned:1", stringEntry("owner=bob"));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("owners"));
    QCOMPARE(registry.find("owners")->displayName(), QStringLiteral("owners"));
    QCOMPARE(lock->token, QByteArray("owner=bob"));
    QCOMPARE(lock->fence, -1);

    // A fence group that captures something other than a number is not a match.
    QVERIFY(!registry.addCustom(
        {QStringLiteral("loose"), QString(), QStringLiteral("loose:*"), QStringLiteral("^(?<fence>\\w+)$")}));
    QVERIFY(registry.decode("loose:1", stringEntry("12")));
    QCOMPARE(registry.decode("loose:1", stringEntry("12"))->fence, 12);
    QVERIFY(!registry.decode("loose:1", stringEntry("twelve")));
}

void TestLockSchema::customSchemaOrderAndGlob_data()
{
    QTest::addColumn<QString>("glob");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<bool>("matches");
    QTest::newRow("star") << "*" << QByteArray("any/key:with/slashes") << true;
    QTest::newRow("prefix") << "jobs:*" << QByteArray("jobs:a/b") << true;
    QTest::newRow("prefix miss") << "jobs:*" << QByteArray("job:a") << false;
    QTest::newRow("question") << "lock?" << QByteArray("lockA") << true;
    QTest::newRow("question empty") << "lock?" << QByteArray("lock") << false;
    QTest::newRow("set") << "l[ao]ck" << QByteArray("lock") << true;
    QTest::newRow("set miss") << "l[ao]ck" << QByteArray("luck") << false;
    QTest::newRow("negated set") << "l[^ao]ck" << QByteArray("luck") << true;
    QTest::newRow("negated set miss") << "l[^ao]ck" << QByteArray("lock") << false;
    QTest::newRow("range") << "node[0-9]" << QByteArray("node7") << true;
    QTest::newRow("escaped star") << "a\\*" << QByteArray("a*") << true;
    QTest::newRow("escaped star miss") << "a\\*" << QByteArray("ab") << false;
    QTest::newRow("inner star") << "a*z" << QByteArray("abcz") << true;
    QTest::newRow("inner star miss") << "a*z" << QByteArray("abcza") << false;
}

void TestLockSchema::customSchemaOrderAndGlob()
{
    QFETCH(QString, glob);
    QFETCH(QByteArray, key);
    QFETCH(bool, matches);
    SchemaRegistry registry = SchemaRegistry::builtins();
    QVERIFY(!registry.addCustom({QStringLiteral("c"), QString(), glob, QStringLiteral("^(?<owner>.*)$")}));
    const auto lock = registry.find("c")->decode(key, stringEntry("x"));
    QCOMPARE(lock.has_value(), matches);
}

void TestLockSchema::customSchemaWinsOverGenericFormats()
{
    // redis-py with a caller-chosen token looks like nothing in particular: a user schema for
    // its keys names it, and goes before the built-ins that read any key.
    SchemaRegistry registry = SchemaRegistry::builtins();
    QVERIFY(!registry.decode("billing:lock", stringEntry("billing-worker-2")));
    QVERIFY(!registry.addCustom({QStringLiteral("billing"), QStringLiteral("Billing"),
                                 QStringLiteral("billing:*"),
                                 QStringLiteral("^(?<owner>[a-z-]+)-(?<token>\\d+)$")}));
    QVERIFY(!registry.addCustom({QStringLiteral("hex"), QString(), QStringLiteral("hex:*"),
                                 QStringLiteral("^(?<token>[0-9a-f]{32})$")}));
    QStringList ids;
    for (const auto &schema : registry.schemas())
        ids << schema->id();
    QCOMPARE(ids,
             (QStringList{"billing", "hex", "lockscope-kinds", "lockscope", "redisson-rwlock",
                          "redisson-fairlock", "redisson-rlock", "redisson-fairqueue", "redisson-semaphore",
                          "redisson-permits", "redis-semaphore", "shedlock", "redis-semaphore-mutex",
                          "python-redis-lock", "redsync", "redis-py", "node-redlock", "bsm-redislock"}));
    const auto lock = registry.decode("billing:lock", stringEntry("billing-worker-2"));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("billing"));
    QCOMPARE(lock->owner, QStringLiteral("billing-worker"));
    QCOMPARE(lock->token, QByteArray("2"));
    // The user's own hex schema takes its keys' 32-hex values from node-redlock...
    QCOMPARE(registry.decode("hex:1", stringEntry(kNodeRedlockToken))->schema, QStringLiteral("hex"));
    // ...and only those keys.
    QCOMPARE(registry.decode("other", stringEntry(kNodeRedlockToken))->schema,
             QStringLiteral("node-redlock"));
    QCOMPARE(registry.decode("other", stringEntry(kRedisPyToken))->schema, QStringLiteral("redis-py"));
}

void TestLockSchema::customSchemaIsLikely()
{
    // The user vouches for the pattern; LockScope cannot check it.
    SchemaRegistry registry = SchemaRegistry::builtins();
    QVERIFY(!registry.addCustom({QStringLiteral("hex"), QString(), QStringLiteral("hex:*"),
                                 QStringLiteral("^(?<token>[0-9a-f]{32})$")}));
    const auto lock = registry.decode("hex:1", stringEntry(kNodeRedlockToken, -1));
    QVERIFY(lock);
    QCOMPARE(lock->schema, QStringLiteral("hex"));
    QCOMPARE(lock->confidence, Confidence::Likely);
    QVERIFY2(lock->confidenceReason.contains(QLatin1String("\"hex\"")), qPrintable(lock->confidenceReason));
}

void TestLockSchema::decodeFromManyThreads()
{
    // The scanner decodes from worker threads: one registry, with a user schema, shared by all.
    SchemaRegistry registry = SchemaRegistry::builtins();
    QVERIFY(!registry.addCustom({QStringLiteral("jobs"), QString(), QStringLiteral("jobs:*"),
                                 QStringLiteral("^(?<owner>[^/]+)/(?<fence>\\d+)$")}));
    const std::vector<std::pair<QByteArray, RawEntry>> samples = {
        {"jobs:1", stringEntry("w/5")},        {"r", stringEntry(kRedisPyToken)},
        {"n", stringEntry(kNodeRedlockToken)}, {"s", stringEntry(kRedsyncToken)},
        {"lock:p", stringEntry(kPrlId)},       {"h", hashEntry({{QByteArray(kRedissonClient) + ":1", "1"}})},
        {"x", stringEntry("hello")},
    };
    std::vector<std::optional<DecodedLock>> expected;
    for (const auto &[key, entry] : samples)
        expected.push_back(registry.decode(key, entry));

    std::atomic<int> mismatches = 0;
    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back(QThread::create([&] {
            for (int round = 0; round < 2000; ++round) {
                for (size_t i = 0; i < samples.size(); ++i) {
                    if (registry.decode(samples[i].first, samples[i].second) != expected[i])
                        ++mismatches;
                }
            }
        }));
        threads.back()->start();
    }
    for (auto &thread : threads)
        QVERIFY(thread->wait(60000));
    QCOMPARE(mismatches.load(), 0);
}

// Every reading through the registry has a kind, and a held single-holder lock its one holder:
// what a compare-and-delete of that holder alone matches (the whole value, the hash field).
void TestLockSchema::singleHolderKindsHaveOneHolder()
{
    const SchemaRegistry registry = SchemaRegistry::builtins();
    const QByteArray value = "ls1 tok=Zz9_kQ3-xL0pWmN7aB4cdg fence=4 host=h pid=9";
    const auto lockscope = registry.decode("k", stringEntry(value, 5000));
    QVERIFY(lockscope);
    QCOMPARE(lockscope->kind, QStringLiteral("mutex"));
    QCOMPARE(lockscope->holders.size(), std::size_t(1));
    QCOMPARE(lockscope->holders[0].raw, value);
    QCOMPARE(lockscope->holders[0].token, QByteArray("Zz9_kQ3-xL0pWmN7aB4cdg"));
    QCOMPARE(lockscope->holders[0].owner, QStringLiteral("h pid 9"));
    QCOMPARE(lockscope->holders[0].fence, 4);
    QCOMPARE(lockscope->holders[0].pttlMs, 5000);

    const auto redlock = registry.decode("orders:lock", stringEntry(kNodeRedlockToken, -1));
    QVERIFY(redlock);
    QCOMPARE(redlock->kind, QStringLiteral("mutex"));
    QCOMPARE(redlock->holders.size(), std::size_t(1));
    QCOMPARE(redlock->holders[0].raw, QByteArray(kNodeRedlockToken));
    QCOMPARE(redlock->holders[0].pttlMs, -1);

    const QByteArray field = QByteArray(kRedissonClient) + ":57";
    const auto rlock = registry.decode("orders:lock", hashEntry({{field, "2"}}));
    QVERIFY(rlock);
    QCOMPARE(rlock->kind, QStringLiteral("reentrant"));
    QCOMPARE(rlock->holders.size(), std::size_t(1));
    QCOMPARE(rlock->holders[0].raw, field);
    QCOMPARE(rlock->holders[0].count, 2);
    QCOMPARE(rlock->holders[0].pttlMs, 30000);
}

void TestLockSchema::redissonReadLockHasEveryReader()
{
    // RedissonReadLock: HSET name mode read, HINCRBY name "<uuid>:<threadId>" 1 per reader.
    const QByteArray a = QByteArray(kRedissonClient) + ":1";
    const QByteArray b = QByteArray(kRedissonClient2) + ":2";
    const auto read =
        SchemaRegistry::builtins().decode("doc", hashEntry({{"mode", "read"}, {a, "1"}, {b, "3"}}));
    QVERIFY(read);
    QCOMPARE(read->kind, QStringLiteral("read"));
    QCOMPARE(read->holders.size(), std::size_t(2)); // in field order
    QCOMPARE(read->holders[0].raw, b);
    QCOMPARE(read->holders[0].count, 3);
    QCOMPARE(read->holders[0].mode, QStringLiteral("read"));
    QCOMPARE(read->holders[1].raw, a);

    const QByteArray w = QByteArray(kRedissonClient) + ":1:write";
    const auto write = SchemaRegistry::builtins().decode("doc", hashEntry({{"mode", "write"}, {w, "1"}}));
    QVERIFY(write);
    QCOMPARE(write->kind, QStringLiteral("write"));
    QCOMPARE(write->holders.size(), std::size_t(1));
    QCOMPARE(write->holders[0].raw, w);
    QCOMPARE(write->holders[0].mode, QStringLiteral("write"));
}

QTEST_GUILESS_MAIN(TestLockSchema)
#include "tst_lockschema.moc"
