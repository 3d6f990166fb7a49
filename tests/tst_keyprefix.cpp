// LockerOptions::keyPrefix covers every key and channel the lock library writes: the companion
// names (fence counter, release channel, writer intent, fair queue) start with the prefix and
// share the lock key's cluster slot; every kind, on 1 and 3 real servers, leaves only keys and
// channels under the prefix; a user whose ACL allows the prefix alone never meets NOPERM; and a
// fence counter an older LockScope kept under the unprefixed name carries on.

#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockfixture.h"
#include "redis/clusterslots.h"

#include <QTest>
#include <algorithm>
#include <optional>
#include <ranges>
#include <thread>

using namespace lockscope::lock;
using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;

namespace {

const QByteArray kPrefix = QByteArrayLiteral("myapp:");
constexpr char kAppUser[] = "myapp";
constexpr char kAppPassword[] = "myapp-pw";

void addNodeCounts()
{
    QTest::addColumn<int>("nodes");
    QTest::addRow("1 node") << 1;
    QTest::addRow("3 nodes") << 3;
}

LockerOptions prefixed()
{
    LockerOptions options;
    options.keyPrefix = kPrefix;
    options.fencing = true;
    options.publishOnRelease = true;
    options.wakeOnRelease = true;
    return options;
}

AcquireOptions kindOptions(LockKind kind, int permits = 0)
{
    AcquireOptions options = withTtl(10s);
    options.kind = kind;
    options.permits = permits;
    return options;
}

/// A blocking acquire that waits long enough for the test to look at its marks.
AcquireOptions waiting(LockKind kind)
{
    AcquireOptions options = kindOptions(kind);
    options.retry = RetryStrategy::linear(20ms);
    options.wait = 10s;
    return options;
}

/// Every key on node i: SCAN 0 MATCH * COUNT 1000 until the cursor is back at 0.
QList<QByteArray> allKeys(ServerSet &servers, int i)
{
    QList<QByteArray> keys;
    QByteArray cursor = "0";
    do {
        auto reply = servers.admin(i).command({"SCAN", cursor, "MATCH", "*", "COUNT", "1000"});
        if (!reply || !reply->isArray() || reply->elements().size() != 2) {
            keys << QByteArrayLiteral("<SCAN failed>");
            return keys;
        }
        cursor = reply->elements()[0].bytes();
        for (const RedisReply &key : reply->elements()[1].elements())
            keys << key.bytes();
    } while (cursor != "0");
    return keys;
}

/// The channels with subscribers on node i (PUBSUB CHANNELS *).
QList<QByteArray> allChannels(ServerSet &servers, int i)
{
    QList<QByteArray> channels;
    auto reply = servers.admin(i).command({"PUBSUB", "CHANNELS", "*"});
    if (!reply || !reply->isArray())
        return {QByteArrayLiteral("<PUBSUB failed>")};
    for (const RedisReply &channel : reply->elements())
        channels << channel.bytes();
    return channels;
}

/// "node<i>: <name>" for every name in `names` of node i that does not start with the prefix.
QStringList outside(int i, const QList<QByteArray> &names)
{
    QStringList found;
    for (const QByteArray &name : names) {
        if (!name.startsWith(kPrefix))
            found << QStringLiteral("node%1: %2").arg(i).arg(QString::fromUtf8(name));
    }
    return found;
}

QStringList keysOutside(ServerSet &servers)
{
    QStringList found;
    for (int i = 0; i < servers.size(); ++i)
        found << outside(i, allKeys(servers, i));
    return found;
}

QStringList channelsOutside(ServerSet &servers)
{
    QStringList found;
    for (int i = 0; i < servers.size(); ++i)
        found << outside(i, allChannels(servers, i));
    return found;
}

int channelCount(ServerSet &servers)
{
    int count = 0;
    for (int i = 0; i < servers.size(); ++i)
        count += int(allChannels(servers, i).size());
    return count;
}

/// Whether `key` exists on every node.
bool onEveryNode(ServerSet &servers, const QByteArray &key)
{
    for (int i = 0; i < servers.size(); ++i) {
        auto reply = servers.admin(i).command({"EXISTS", key});
        if (!reply || reply->integer() != 1)
            return false;
    }
    return true;
}

/// A connection of its own on node 0, PSUBSCRIBEd to every channel: it sees every PUBLISH.
std::unique_ptr<Connection> publishWatcher(ServerSet &servers)
{
    return subscribedConnection(servers, 0, "PSUBSCRIBE", "*");
}

/// The channels of the messages the watcher received within `wait` (until a quiet spell).
QList<QByteArray> published(Connection &watcher, std::chrono::milliseconds wait)
{
    QList<QByteArray> channels;
    for (;;) {
        auto push = watcher.readPush(channels.isEmpty() ? wait : 100ms);
        if (!push || !*push)
            return channels;
        const auto &e = (*push)->elements();
        if (e.size() == 4 && e[0].bytes() == "pmessage")
            channels << e[2].bytes();
    }
}

/// The node configurations logged in as the user whose ACL allows the prefix alone.
std::vector<NodeConfig> aclConfigs(ServerSet &servers)
{
    std::vector<NodeConfig> configs = servers.configs();
    for (NodeConfig &config : configs) {
        config.username = QString::fromLatin1(kAppUser);
        config.password = QString::fromLatin1(kAppPassword);
    }
    return configs;
}

} // namespace

class TestKeyPrefix : public QObject
{
    Q_OBJECT

private slots:
    void names_data();
    void names();
    void everyKeyAndChannelUnderThePrefix_data() { addNodeCounts(); }
    void everyKeyAndChannelUnderThePrefix();
    void aclLimitedToThePrefix_data() { addNodeCounts(); }
    void aclLimitedToThePrefix();
    void legacyFenceCounterCarriesOn_data();
    void legacyFenceCounterCarriesOn();
    void legacyCountersThatDifferAreRaised();
};

void TestKeyPrefix::names_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("prefix");
    QTest::addColumn<QByteArray>("fence");
    QTest::addColumn<bool>("underPrefix");
    QTest::addColumn<bool>("sameSlot");
    const auto row = [](const char *name, const QByteArray &key, const QByteArray &prefix, const char *fence,
                        bool underPrefix, bool sameSlot) {
        QTest::newRow(name) << key << prefix << QByteArray(fence) << underPrefix << sameSlot;
    };
    // No prefix, or a key with a hash tag: the names as before prefixes applied.
    row("no prefix", "jobs", {}, "{jobs}.fence", true, true);
    row("no prefix, tagged", "{app}:jobs", {}, "{app}:jobs.fence", true, true);
    row("tagged key", "myapp:{orders}:doc", kPrefix, "myapp:{orders}:doc.fence", true, true);
    row("prefix with a tag", "{myapp}:jobs", "{myapp}:", "{myapp}:jobs.fence", true, true);
    // An untagged key under a prefix: the prefix, then the whole key as the tag.
    row("prefix", "myapp:jobs", kPrefix, "myapp:{myapp:jobs}.fence", true, true);
    row("open brace in the key", "myapp:a{b", kPrefix, "myapp:{myapp:a{b}.fence", true, true);
    row("prefix is the key", "myapp:", kPrefix, "myapp:{myapp:}.fence", true, true);
    // A brace that would move the tag: the name without the prefix (whose slot is the key's
    // unless the key has a '}': then it never was).
    row("open brace in the prefix", "my{app:jobs", "my{app:", "{my{app:jobs}.fence", false, true);
    row("close brace in the prefix", "my}app:jobs", "my}app:", "{my}app:jobs}.fence", false, false);
    row("empty braces in the key", "myapp:x{}y", kPrefix, "{myapp:x{}y}.fence", false, false);
    row("key without the prefix", "jobs", kPrefix, "{jobs}.fence", false, true);
}

void TestKeyPrefix::names()
{
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, prefix);
    QFETCH(QByteArray, fence);
    QFETCH(bool, underPrefix);
    QFETCH(bool, sameSlot);

    QCOMPARE(fenceKeyFor(key, prefix), fence);
    const QByteArray base = fence.chopped(6);
    QCOMPARE(releaseChannelFor(key, prefix), QByteArray(base + ".released"));
    QCOMPARE(writerIntentKeyFor(key, prefix), QByteArray(base + ".wwait"));
    QCOMPARE(fairQueueKeysFor(key, prefix).first, QByteArray(base + ".queue"));
    QCOMPARE(fairQueueKeysFor(key, prefix).second, QByteArray(base + ".qexp"));
    // The default (no prefix) is the name before prefixes applied.
    QCOMPARE(fenceKeyFor(key), fenceKeyFor(key, {}));
    QCOMPARE(fenceKeyFor(key, prefix).startsWith(prefix), underPrefix);
    QCOMPARE(keyHashSlot(fenceKeyFor(key, prefix)) == keyHashSlot(key), sameSlot);
}

void TestKeyPrefix::everyKeyAndChannelUnderThePrefix()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs(), prefixed());
    auto watcher = publishWatcher(*servers);
    QVERIFY(watcher);
    const auto check = [&](const char *step) {
        const QStringList keys = keysOutside(*servers);
        QVERIFY2(
            keys.isEmpty(),
            qPrintable(
                QStringLiteral("after %1: %2").arg(QLatin1String(step), keys.join(QStringLiteral(", ")))));
    };

    // Mutex: acquire, extend, release (published on the prefixed channel).
    auto mutex = locker.tryAcquire("job", kindOptions(LockKind::Mutex));
    LS_VERIFY_OK(mutex);
    QCOMPARE(mutex->key, QByteArray("myapp:job"));
    QCOMPARE(mutex->fence, qint64(1));
    QVERIFY(onEveryNode(*servers, "myapp:{myapp:job}.fence"));
    check("mutex acquire");
    LS_VERIFY_OK(locker.extend(*mutex, 20s));
    check("mutex extend");
    LS_VERIFY_OK(locker.release(*mutex));
    QCOMPARE(published(*watcher, 2s), QList<QByteArray>{"myapp:{myapp:job}.released"});
    check("mutex release");

    // Multi-key.
    auto many = locker.tryAcquire(std::vector<QByteArray>{"a", "b"}, kindOptions(LockKind::Mutex));
    LS_VERIFY_OK(many);
    QVERIFY(onEveryNode(*servers, "myapp:{myapp:b}.fence"));
    check("multi-key acquire");
    LS_VERIFY_OK(locker.extend(*many, 20s));
    LS_VERIFY_OK(locker.release(*many));
    QCOMPARE(published(*watcher, 2s),
             (QList<QByteArray>{"myapp:{myapp:a}.released", "myapp:{myapp:b}.released"}));
    check("multi-key release");

    // Read, and a writer that waits for the reader: its intent, its subscription.
    auto reader = locker.tryAcquire("doc", kindOptions(LockKind::Read));
    LS_VERIFY_OK(reader);
    check("read acquire");
    std::optional<LockResult<Lock>> writer;
    std::jthread writing([&] { writer = locker.acquire("doc", waiting(LockKind::Write)); });
    QTRY_VERIFY_WITH_TIMEOUT(onEveryNode(*servers, writerIntentKeyFor("myapp:doc", kPrefix)), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(channelCount(*servers) > 0, 5000);
    check("a writer waits");
    const QStringList waitChannels = channelsOutside(*servers);
    QVERIFY2(waitChannels.isEmpty(), qPrintable(waitChannels.join(QStringLiteral(", "))));
    LS_VERIFY_OK(locker.extend(*reader, 20s));
    LS_VERIFY_OK(locker.release(*reader));
    writing.join();
    QVERIFY(writer && *writer);
    check("write acquire");
    LS_VERIFY_OK(locker.extend(**writer, 20s));
    LS_VERIFY_OK(locker.release(**writer));
    // The reader's release named the waiting writer: on its Locker's own channel
    // ("<channel>.<Locker id>"), under the prefix all the same.
    for (const QByteArray &channel : published(*watcher, 2s))
        QVERIFY2(channel.startsWith("myapp:{myapp:doc}.released"), channel.constData());
    check("write release");

    // Semaphore.
    auto permit1 = locker.tryAcquire("pool", kindOptions(LockKind::Semaphore, 2));
    auto permit2 = locker.tryAcquire("pool", kindOptions(LockKind::Semaphore, 2));
    LS_VERIFY_OK(permit1);
    LS_VERIFY_OK(permit2);
    check("semaphore acquire");
    LS_VERIFY_OK(locker.extend(*permit1, 20s));
    LS_VERIFY_OK(locker.release(*permit1));
    LS_VERIFY_OK(locker.release(*permit2));
    for (const QByteArray &channel : published(*watcher, 2s))
        QCOMPARE(channel, QByteArray("myapp:{myapp:pool}.released"));
    check("semaphore release");

    // Reentrant.
    auto hold1 = locker.tryAcquire("again", kindOptions(LockKind::Reentrant));
    auto hold2 = locker.tryAcquire("again", kindOptions(LockKind::Reentrant));
    LS_VERIFY_OK(hold1);
    LS_VERIFY_OK(hold2);
    QCOMPARE(hold2->holds, 2);
    check("reentrant acquire");
    LS_VERIFY_OK(locker.extend(*hold2, 20s));
    LS_VERIFY_OK(locker.release(*hold2));
    LS_VERIFY_OK(locker.release(*hold1));
    QCOMPARE(published(*watcher, 2s), QList<QByteArray>{"myapp:{myapp:again}.released"}); // the last hold
    check("reentrant release");

    // Fair, with a queued waiter.
    auto first = locker.tryAcquire("fair", kindOptions(LockKind::Fair));
    LS_VERIFY_OK(first);
    std::optional<LockResult<Lock>> second;
    std::jthread queueing([&] { second = locker.acquire("fair", waiting(LockKind::Fair)); });
    QTRY_VERIFY_WITH_TIMEOUT(onEveryNode(*servers, fairQueueKeysFor("myapp:fair", kPrefix).first), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(channelCount(*servers) > 0, 5000);
    check("a fair waiter queues");
    const QStringList queueChannels = channelsOutside(*servers);
    QVERIFY2(queueChannels.isEmpty(), qPrintable(queueChannels.join(QStringLiteral(", "))));
    LS_VERIFY_OK(locker.release(*first));
    queueing.join();
    QVERIFY(second && *second);
    check("fair acquire");
    LS_VERIFY_OK(locker.extend(**second, 20s));
    LS_VERIFY_OK(locker.release(**second));
    for (const QByteArray &channel : published(*watcher, 2s))
        QVERIFY2(channel.startsWith("myapp:{myapp:fair}.released"), channel.constData());
    check("fair release");
    // What stays are the fence counters, each under the prefix.
    for (int i = 0; i < nodes; ++i) {
        for (const QByteArray &key : allKeys(*servers, i))
            QVERIFY2(key.endsWith(".fence"), key.constData());
    }
}

void TestKeyPrefix::aclLimitedToThePrefix()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    for (int i = 0; i < nodes; ++i) {
        LS_VERIFY_OK(
            servers->admin(i).command({"ACL", "SETUSER", kAppUser, "on", QByteArray(">") + kAppPassword,
                                       "~myapp:*", "&myapp:*", "+@all"}));
        // A counter an older LockScope left under the unprefixed name, which this user may not
        // read: the acquire goes on without it (see legacyFenceCounterCarriesOn).
        QVERIFY(servers->set(i, "{myapp:old}.fence", "7"));
    }
    Locker locker(aclConfigs(*servers), prefixed());
    const auto cycle = [&](const QByteArray &key, const AcquireOptions &options) {
        auto lock = locker.acquire(key, options);
        LS_VERIFY_OK(lock);
        QVERIFY(lock->fence > 0);
        LS_VERIFY_OK(locker.extend(*lock, 20s));
        LS_VERIFY_OK(locker.ttl(*lock));
        LS_VERIFY_OK(locker.release(*lock));
    };
    cycle("job", kindOptions(LockKind::Mutex));
    cycle("old", kindOptions(LockKind::Mutex));
    cycle("doc", kindOptions(LockKind::Read));
    cycle("doc", kindOptions(LockKind::Write));
    cycle("pool", kindOptions(LockKind::Semaphore, 2));
    cycle("again", kindOptions(LockKind::Reentrant));
    cycle("fair", kindOptions(LockKind::Fair));
    auto many = locker.acquire(std::vector<QByteArray>{"a", "b"}, kindOptions(LockKind::Mutex));
    LS_VERIFY_OK(many);
    LS_VERIFY_OK(locker.extend(*many, 20s));
    LS_VERIFY_OK(locker.release(*many));

    // The waits: a writer behind a reader (intent, subscription), a fair waiter behind a holder
    // (queue, subscription), each woken by the release it subscribed to.
    auto reader = locker.tryAcquire("doc", kindOptions(LockKind::Read));
    LS_VERIFY_OK(reader);
    std::optional<LockResult<Lock>> writer;
    std::jthread writing([&] { writer = locker.acquire("doc", waiting(LockKind::Write)); });
    QTRY_VERIFY_WITH_TIMEOUT(onEveryNode(*servers, writerIntentKeyFor("myapp:doc", kPrefix)), 5000);
    LS_VERIFY_OK(locker.release(*reader));
    writing.join();
    QVERIFY(writer.has_value());
    LS_VERIFY_OK(*writer);
    LS_VERIFY_OK(locker.release(**writer));

    auto holder = locker.tryAcquire("fair", kindOptions(LockKind::Fair));
    LS_VERIFY_OK(holder);
    std::optional<LockResult<Lock>> next;
    std::jthread queueing([&] { next = locker.acquire("fair", waiting(LockKind::Fair)); });
    QTRY_VERIFY_WITH_TIMEOUT(onEveryNode(*servers, fairQueueKeysFor("myapp:fair", kPrefix).first), 5000);
    LS_VERIFY_OK(locker.release(*holder));
    queueing.join();
    QVERIFY(next.has_value());
    LS_VERIFY_OK(*next);
    LS_VERIFY_OK(locker.release(**next));

    // The user was refused nothing, anywhere: not even the look at the old counter (asked with
    // redis.acl_check_cmd, which leaves no ACL LOG entry).
    for (int i = 0; i < nodes; ++i) {
        auto log = servers->admin(i).command({"ACL", "LOG"});
        LS_VERIFY_OK(log);
        QVERIFY2(log->elements().empty(), qPrintable(log->toDisplayString()));
        QCOMPARE(servers->get(i, "{myapp:old}.fence"), QByteArray("7"));
    }
}

void TestKeyPrefix::legacyFenceCounterCarriesOn_data()
{
    QTest::addColumn<int>("nodes");
    QTest::addColumn<int>("kind");
    for (const int nodes : {1, 3}) {
        const std::pair<const char *, LockKind> kinds[] = {
            {"mutex", LockKind::Mutex},         {"read", LockKind::Read},
            {"write", LockKind::Write},         {"semaphore", LockKind::Semaphore},
            {"reentrant", LockKind::Reentrant}, {"fair", LockKind::Fair}};
        for (const auto &[name, kind] : kinds)
            QTest::addRow("%s, %d node(s)", name, nodes) << nodes << int(kind);
    }
    QTest::addRow("multi-key, 1 node") << 1 << -1;
    QTest::addRow("multi-key, 3 nodes") << 3 << -1;
}

void TestKeyPrefix::legacyFenceCounterCarriesOn()
{
    QFETCH(int, nodes);
    QFETCH(int, kind);
    LS_START_SERVERS(servers, nodes);
    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->set(i, "{myapp:jobs}.fence", "41"));
    Locker locker(servers->configs(), prefixed());
    auto lock =
        kind < 0 ? locker.tryAcquire(std::vector<QByteArray>{"jobs", "other"}, kindOptions(LockKind::Mutex))
                 : locker.tryAcquire("jobs",
                                     kindOptions(LockKind(kind), kind == int(LockKind::Semaphore) ? 2 : 0));
    LS_VERIFY_OK(lock);
    if (kind < 0) {
        QCOMPARE(lock->keys, (std::vector<QByteArray>{"myapp:jobs", "myapp:other"}));
        QCOMPARE(lock->fences, (std::vector<qint64>{42, 1}));
    } else {
        QCOMPARE(lock->fence, qint64(42));
    }
    for (int i = 0; i < nodes; ++i) {
        QCOMPARE(servers->get(i, "myapp:{myapp:jobs}.fence"), QByteArray("42"));
        QCOMPARE(servers->get(i, "{myapp:jobs}.fence"), QByteArray("41")); // an older client's, kept
    }
    LS_VERIFY_OK(locker.release(*lock));
    // From now on the new counter alone.
    auto again =
        kind < 0 ? locker.tryAcquire(std::vector<QByteArray>{"jobs", "other"}, kindOptions(LockKind::Mutex))
                 : locker.tryAcquire("jobs",
                                     kindOptions(LockKind(kind), kind == int(LockKind::Semaphore) ? 2 : 0));
    LS_VERIFY_OK(again);
    QCOMPARE(again->fence, qint64(43));
    LS_VERIFY_OK(locker.release(*again));
}

void TestKeyPrefix::legacyCountersThatDifferAreRaised()
{
    // A Redlock set whose old counters disagree: the lock's fence is above the highest, and the
    // raise (Locker::Private::raiseFences) brings every granting node's new counter up to it.
    LS_START_SERVERS(servers, 3);
    QVERIFY(servers->set(0, "{myapp:jobs}.fence", "41"));
    QVERIFY(servers->set(1, "{myapp:jobs}.fence", "10"));
    Locker locker(servers->configs(), prefixed());
    auto lock = locker.tryAcquire("jobs", kindOptions(LockKind::Mutex));
    LS_VERIFY_OK(lock);
    QCOMPARE(lock->fence, qint64(42));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(servers->get(i, "myapp:{myapp:jobs}.fence"), QByteArray("42"));
    LS_VERIFY_OK(locker.release(*lock));
}

QTEST_GUILESS_MAIN(TestKeyPrefix)
#include "tst_keyprefix.moc"
