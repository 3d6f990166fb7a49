// Pub/sub wake-up: a release announced on the key's channel (publishOnRelease) and blocking
// acquires that wait for it (wakeOnRelease), against real servers.
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockfixture.h"

#include <QTest>
#include <algorithm>
#include <future>

using namespace lockscope::lock;
using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;

namespace {

/// A blocking acquire that, without a wake-up, would sleep a whole minute between attempts.
AcquireOptions patientWaiter()
{
    AcquireOptions options;
    options.ttl = 30s;
    options.retry = RetryStrategy::linear(60s);
    options.wait = 90s;
    return options;
}

LockerOptions publishing(bool publish, bool wake)
{
    LockerOptions options;
    options.publishOnRelease = publish;
    options.wakeOnRelease = wake;
    return options;
}

void addNodeCounts()
{
    QTest::addColumn<int>("nodes");
    QTest::addRow("1 node") << 1;
    QTest::addRow("3 nodes") << 3;
}

/// A connection of its own, subscribed to `channel` on node `i`.
std::unique_ptr<Connection> subscriber(ServerSet &servers, int i, const QByteArray &channel)
{
    auto connection = std::make_unique<Connection>(servers.configs().at(static_cast<size_t>(i)));
    connection->append({QByteArrayView("SUBSCRIBE"), QByteArrayView(channel)});
    if (!connection->flush())
        return nullptr;
    auto confirmed = connection->readReply();
    if (!confirmed || !confirmed->isArray())
        return nullptr;
    return connection;
}

/// Subscribers of `channel` on node `i` (PUBSUB NUMSUB); -1 on failure.
qint64 subscribers(ServerSet &servers, int i, const QByteArray &channel)
{
    auto reply = servers.admin(i).command({"PUBSUB", "NUMSUB", channel});
    if (!reply || !reply->isArray() || reply->elements().size() < 2)
        return -1;
    return reply->elements()[1].integer();
}

/// ServerSet::scriptCalls(i, true) of every node: lock scripts run to completion.
std::vector<qint64> scriptRunsPerNode(ServerSet &servers)
{
    std::vector<qint64> runs;
    for (int i = 0; i < servers.size(); ++i)
        runs.push_back(servers.scriptCalls(i, true));
    return runs;
}

/// True when every node has run at least `more` lock scripts since `before`.
bool ranScriptsSince(ServerSet &servers, const std::vector<qint64> &before, qint64 more)
{
    for (int i = 0; i < servers.size(); ++i) {
        if (servers.scriptCalls(i, true) < before.at(static_cast<size_t>(i)) + more)
            return false;
    }
    return true;
}

/// Waits until a waiter on "job" (fencing on: every attempt is one script per node) is where a
/// release can only reach it through its subscription: subscribed on the first node, and its
/// attempt right after the SUBSCRIBE has run on every node (the failed attempt before it plus
/// that one: two scripts since `before`). Released earlier, that attempt would simply succeed.
bool waiterIsListening(ServerSet &servers, const std::vector<qint64> &before)
{
    return subscribers(servers, 0, releaseChannelFor("job")) == 1 && ranScriptsSince(servers, before, 2);
}

} // namespace

class TestLockWakeup : public QObject
{
    Q_OBJECT

private slots:
    void channelName();
    void releasePublishesTheToken_data() { addNodeCounts(); }
    void releasePublishesTheToken();
    void defaultReleasePublishesNothing();
    void waiterWokenByRelease_data() { addNodeCounts(); }
    void waiterWokenByRelease();
    void lostMessageCostsOnlyTheDelay();
    void expiryEndsTheWait();
    void cancelWhileSubscribed();
    void subscriptionsAreReturnedClean();
};

void TestLockWakeup::channelName()
{
    QCOMPARE(releaseChannelFor("jobs"), QByteArray("{jobs}.released"));
    QCOMPARE(releaseChannelFor("{app}:jobs"), QByteArray("{app}:jobs.released"));
    QCOMPARE(releaseChannelFor("a{}b"), QByteArray("{a{}b}.released"));
}

void TestLockWakeup::releasePublishesTheToken()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs(), publishing(true, false));
    std::vector<std::unique_ptr<Connection>> listeners;
    for (int i = 0; i < nodes; ++i) {
        listeners.push_back(subscriber(*servers, i, releaseChannelFor("job")));
        QVERIFY(listeners.back());
    }
    auto lock = locker.tryAcquire("job", withTtl(10s));
    LS_VERIFY_OK(lock);
    LS_VERIFY_OK(locker.release(*lock));
    for (auto &listener : listeners) {
        auto push = listener->readPush(5s);
        LS_VERIFY_OK(push);
        QVERIFY2(push->has_value(), "no release message");
        const auto &e = (*push)->elements();
        QCOMPARE(e.size(), size_t(3));
        QCOMPARE(e[0].bytes(), QByteArray("message"));
        QCOMPARE(e[1].bytes(), releaseChannelFor("job"));
        QCOMPARE(e[2].bytes(), lock->token);
    }
    // A release that deletes nothing (not held any more) announces nothing.
    QVERIFY(!locker.release(*lock));
    auto none = listeners.front()->readPush(300ms);
    LS_VERIFY_OK(none);
    QVERIFY(!none->has_value());
}

void TestLockWakeup::defaultReleasePublishesNothing()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    auto listener = subscriber(*servers, 0, releaseChannelFor("job"));
    QVERIFY(listener);
    auto lock = locker.tryAcquire("job", withTtl(10s));
    LS_VERIFY_OK(lock);
    LS_VERIFY_OK(locker.release(*lock));
    auto push = listener->readPush(300ms);
    LS_VERIFY_OK(push);
    QVERIFY(!push->has_value());
}

void TestLockWakeup::waiterWokenByRelease()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    // The holder lists the nodes last to first, so that its release reaches node 0, where the
    // waiter listens, last (the release is written to every node in order, and a node that
    // needs the script's source gets it in turn). In node order the woken retry could reach
    // node 1 before the release does, fail, and wait out the holder's TTL: the later releases
    // are announced on nodes the waiter does not listen on.
    std::vector<NodeConfig> lastToFirst = servers->configs();
    std::ranges::reverse(lastToFirst);
    Locker holder(lastToFirst, publishing(true, false));
    Locker waiter(servers->configs(), publishing(false, true));
    auto held = holder.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    const std::vector<qint64> before = scriptRunsPerNode(*servers);

    auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", patientWaiter()); });
    QTRY_VERIFY_WITH_TIMEOUT(waiterIsListening(*servers, before), 10000);
    LS_VERIFY_OK(holder.release(*held));
    // The holder's TTL is 30 s away and the retry delay a minute: only the message can end the wait.
    QVERIFY2(pending.wait_for(25s) == std::future_status::ready, "waiter still sleeping");
    auto obtained = pending.get();
    LS_VERIFY_OK(obtained);
    QVERIFY2(obtained->wakeups >= 1, qPrintable(QStringLiteral("wakeups %1").arg(obtained->wakeups)));
    QVERIFY(obtained->attempts >= 3);
    // A quorum at least: woken by the first node's message, the retry can reach another node
    // a moment before the holder's release does.
    QVERIFY(servers->nodesWithToken("job", obtained->token) >= nodes / 2 + 1);
    for (int i = 0; i < nodes; ++i) {
        if (servers->get(i, "job").isNull())
            continue;
        QCOMPARE(servers->get(i, "job"), obtained->value);
        QVERIFY(servers->pttl(i, "job") > 0);
    }
}

void TestLockWakeup::lostMessageCostsOnlyTheDelay()
{
    // The holder does not publish: the waiter retries after its (short) delay, woken by nobody.
    LS_START_SERVERS(servers, 1);
    Locker holder(servers->configs());
    Locker waiter(servers->configs(), publishing(false, true));
    auto held = holder.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    const std::vector<qint64> before = scriptRunsPerNode(*servers);
    AcquireOptions options = withTtl(10s);
    options.retry = RetryStrategy::linear(100ms);
    options.wait = 60s;
    auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", options); });
    // Subscribed, and a third attempt made: one that followed a wait no message ended.
    QTRY_VERIFY_WITH_TIMEOUT(subscribers(*servers, 0, releaseChannelFor("job")) == 1 &&
                                 ranScriptsSince(*servers, before, 3),
                             10000);
    LS_VERIFY_OK(holder.release(*held));
    QVERIFY(pending.wait_for(30s) == std::future_status::ready);
    auto obtained = pending.get();
    LS_VERIFY_OK(obtained);
    QCOMPARE(obtained->wakeups, 0);
    QVERIFY2(obtained->attempts >= 4, qPrintable(QStringLiteral("attempts %1").arg(obtained->attempts)));
    QCOMPARE(servers->get(0, "job"), obtained->value);
    QVERIFY(servers->pttl(0, "job") > 0);
}

void TestLockWakeup::expiryEndsTheWait()
{
    // An expiry is announced by nobody: the wait is bounded by the holder's remaining TTL, not
    // by the minute-long retry delay.
    LS_START_SERVERS(servers, 1);
    Locker holder(servers->configs(), publishing(true, false));
    Locker waiter(servers->configs(), publishing(false, true));
    LS_VERIFY_OK(holder.tryAcquire("job", withTtl(400ms)));
    auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", patientWaiter()); });
    QVERIFY2(pending.wait_for(30s) == std::future_status::ready, "waiter slept past the holder's expiry");
    auto obtained = pending.get();
    LS_VERIFY_OK(obtained);
    QCOMPARE(obtained->wakeups, 0);
}

void TestLockWakeup::cancelWhileSubscribed()
{
    LS_START_SERVERS(servers, 1);
    Locker holder(servers->configs(), publishing(true, false));
    Locker waiter(servers->configs(), publishing(false, true));
    LS_VERIFY_OK(holder.tryAcquire("job", withTtl(60s)));
    AcquireOptions options = patientWaiter();
    options.cancel = std::make_shared<CancellationToken>();
    auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", options); });
    QTRY_VERIFY_WITH_TIMEOUT(subscribers(*servers, 0, releaseChannelFor("job")) == 1, 10000);
    options.cancel->cancel();
    QVERIFY2(pending.wait_for(30s) == std::future_status::ready, "cancel did not end the subscribed wait");
    LS_VERIFY_LOCK_ERROR(pending.get(), LockErrorKind::Cancelled);
}

void TestLockWakeup::subscriptionsAreReturnedClean()
{
    // Many waits in a row on one Locker: its subscriber connections are unsubscribed and reused,
    // not leaked, and each wait still hears its own release.
    LS_START_SERVERS(servers, 1);
    Locker holder(servers->configs(), publishing(true, false));
    LockerOptions waiterOptions = publishing(false, true);
    waiterOptions.poolSize = 1;
    Locker waiter(servers->configs(), waiterOptions);
    for (int round = 0; round < 5; ++round) {
        auto held = holder.tryAcquire("job", withTtl(30s));
        LS_VERIFY_OK(held);
        const std::vector<qint64> before = scriptRunsPerNode(*servers);
        auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", patientWaiter()); });
        QTRY_VERIFY_WITH_TIMEOUT(waiterIsListening(*servers, before), 10000);
        LS_VERIFY_OK(holder.release(*held));
        QVERIFY(pending.wait_for(30s) == std::future_status::ready);
        auto obtained = pending.get();
        LS_VERIFY_OK(obtained);
        QVERIFY2(obtained->wakeups >= 1,
                 qPrintable(QStringLiteral("round %1: wakeups %2").arg(round).arg(obtained->wakeups)));
        QCOMPARE(servers->get(0, "job"), obtained->value);
        LS_VERIFY_OK(waiter.release(*obtained));
        QVERIFY(servers->get(0, "job").isNull());
        // The acquire unsubscribed before it returned (and read the confirmation).
        QCOMPARE(subscribers(*servers, 0, releaseChannelFor("job")), 0);
    }
    // The holder's pool, the waiter's command pool and its one subscriber connection.
    QVERIFY(servers->clientsNamed(0, "lockscope-test") <= 3);
    QCOMPARE(subscribers(*servers, 0, releaseChannelFor("job")), 0);
}

QTEST_GUILESS_MAIN(TestLockWakeup)
#include "tst_lockwakeup.moc"
