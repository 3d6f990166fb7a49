// Pub/sub wake-up: a release announced on the key's channel (publishOnRelease) and blocking
// acquires that wait for it (wakeOnRelease), against real servers.
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockfixture.h"

#include <QTest>
#include <algorithm>
#include <future>
#include <mutex>
#include <numeric>

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
    return subscribedConnection(servers, i, "SUBSCRIBE", channel);
}

/// Subscribers of `channel` on node `i` (PUBSUB NUMSUB); -1 on failure.
qint64 subscribers(ServerSet &servers, int i, const QByteArray &channel)
{
    auto reply = servers.admin(i).command({"PUBSUB", "NUMSUB", channel});
    if (!reply || !reply->isArray() || reply->elements().size() < 2)
        return -1;
    return reply->elements()[1].integer();
}

/// Places in the wake-up queue of `key` on node `i` (ZCARD of its waiters); -1 on failure.
qint64 queueSize(ServerSet &servers, int i, const QByteArray &key)
{
    auto reply = servers.admin(i).command({"ZCARD", waitQueueKeysFor(key).first});
    return reply && reply->isInteger() ? reply->integer() : -1;
}

/// Whether node `i` has neither of the wake-up queue keys of `key` (they went with their last place).
bool queueGone(ServerSet &servers, int i, const QByteArray &key)
{
    const auto [waiters, deadlines] = waitQueueKeysFor(key);
    auto reply = servers.admin(i).command({"EXISTS", waiters, deadlines});
    return reply && reply->isInteger() && reply->integer() == 0;
}

/// Writes a place of a waiter with no process behind it into the wake-up queue of `key` on
/// node 0, by hand: arrived `arrivedMsAgo` ago, its deadline `deadlineInMs` from now (both
/// relative to the server's clock). Returns the server's time in ms, or -1 on failure.
qint64 placeWaiterByHand(ServerSet &servers, const QByteArray &key, const QByteArray &id, qint64 arrivedMsAgo,
                         qint64 deadlineInMs)
{
    const auto [waiters, deadlines] = waitQueueKeysFor(key);
    auto now = servers.admin(0).command({"TIME"});
    if (!now || now->elements().size() != 2)
        return -1;
    const qint64 nowMs =
        now->elements().at(0).bytes().toLongLong() * 1000 + now->elements().at(1).bytes().toLongLong() / 1000;
    if (!servers.admin(0).command({"ZADD", waiters, QByteArray::number((nowMs - arrivedMsAgo) * 1000), id}) ||
        !servers.admin(0).command({"ZADD", deadlines, QByteArray::number(nowMs + deadlineInMs), id}))
        return -1;
    return nowMs;
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
    void releaseWakesOneWaiterLongestFirst_data() { addNodeCounts(); }
    void releaseWakesOneWaiterLongestFirst();
    void readersAreWokenTogether();
    void killedSubscriberCostsAtMostOneDelay();
    void releaseWakesTheLongestWaiterOfAllLockers_data() { addNodeCounts(); }
    void releaseWakesTheLongestWaiterOfAllLockers();
    void messageNamesTheFirstWaiter();
    void newcomerBargesOnlyWhileTheFirstWaiterIsFresh();
    void endedWaitsLeaveTheQueue();
    void crashedWaiterDropsOutAtItsDeadline();
    void passedOverCountsFromTheFirstNamingRelease();
    void releaseHandsTheLockToAWaiterOfTheSameLocker_data() { addNodeCounts(); }
    void releaseHandsTheLockToAWaiterOfTheSameLocker();
    void cancelledWaiterIsNotHandedTheLock();
    void lateHandOverIsUndone();
    void partialGrantKeepsTheWaitersPlaceEverywhere();
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
    QCOMPARE(queueSize(*servers, 0, "job"), qint64(1));
    options.cancel->cancel();
    QVERIFY2(pending.wait_for(30s) == std::future_status::ready, "cancel did not end the subscribed wait");
    LS_VERIFY_LOCK_ERROR(pending.get(), LockErrorKind::Cancelled);
    // The cancelled call took its place in the queue away with it.
    QVERIFY(queueGone(*servers, 0, "job"));
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
        auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", patientWaiter()); });
        QTRY_VERIFY_WITH_TIMEOUT(waiter.wakeStats().waiting == 1, 10000);
        LS_VERIFY_OK(holder.release(*held));
        QVERIFY(pending.wait_for(30s) == std::future_status::ready);
        auto obtained = pending.get();
        LS_VERIFY_OK(obtained);
        QVERIFY2(obtained->wakeups >= 1,
                 qPrintable(QStringLiteral("round %1: wakeups %2").arg(round).arg(obtained->wakeups)));
        QCOMPARE(servers->get(0, "job"), obtained->value);
        LS_VERIFY_OK(waiter.release(*obtained));
        QVERIFY(servers->get(0, "job").isNull());
        // One subscriber connection per node, whatever the number of waits.
        QVERIFY(subscribers(*servers, 0, releaseChannelFor("job")) <= 1);
    }
    // The holder's pool, the waiter's command pool and its one subscriber connection.
    QVERIFY(servers->clientsNamed(0, "lockscope-test") <= 3);
    QCOMPARE(waiter.wakeStats().resubscribes, 0u);
    // The channel is unsubscribed once no waiter needed it for a while (the linger).
    QTRY_COMPARE_WITH_TIMEOUT(subscribers(*servers, 0, releaseChannelFor("job")), 0, 10000);
    QCOMPARE(waiter.wakeStats().channels, 0);
}

void TestLockWakeup::releaseWakesOneWaiterLongestFirst()
{
    // 16 threads of one Locker wait for one key, registered one after the other. Every release
    // wakes exactly one of them, the one that has waited longest: the lock passes from thread
    // to thread in the order they came, and no thread is woken in vain.
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker holder(servers->configs(), publishing(true, false));
    Locker waiters(servers->configs(), publishing(true, true));
    auto held = holder.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    constexpr int kWaiters = 16;
    std::mutex orderMutex;
    std::vector<int> order;
    std::vector<std::future<LockResult<Lock>>> pending;
    std::promise<void> proceed;
    std::shared_future<void> proceeding = proceed.get_future().share();
    for (int i = 0; i < kWaiters; ++i) {
        pending.push_back(std::async(std::launch::async, [&, i] {
            auto obtained = waiters.acquire("job", patientWaiter());
            if (obtained) {
                {
                    std::lock_guard lock(orderMutex);
                    order.push_back(i);
                }
                proceeding.wait();
                // Hand on: the next waiter is woken by this release.
                if (auto released = waiters.release(*obtained); !released)
                    qWarning("release: %s", qPrintable(released.error().toString()));
            }
            return obtained;
        }));
        QTRY_VERIFY_WITH_TIMEOUT(waiters.wakeStats().waiting == i + 1, 10000);
    }
    QCOMPARE(waiters.wakeStats().messages, 0u);
    // Each has its place in the lock's wake-up queue in Redis.
    for (int i = 0; i < nodes; ++i)
        QTRY_COMPARE_WITH_TIMEOUT(queueSize(*servers, i, "job"), qint64(kWaiters), 10000);
    // Every node's listener has subscribed (a waiter waits for the first confirmation only), so
    // that every announcement below is heard and can be counted.
    for (int i = 0; i < nodes; ++i)
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(*servers, i, releaseChannelFor("job")), qint64(1), 10000);
    // The announcements the servers make from here on (every PUBLISH is a release of "job").
    auto publishes = [&] {
        qint64 total = 0;
        for (int i = 0; i < nodes; ++i)
            total += servers->commandCalls(i, {"publish"});
        return total;
    };
    const qint64 publishedBefore = publishes();
    QVERIFY(publishedBefore >= 0);
    LS_VERIFY_OK(holder.release(*held));
    // One release: one waiter has the lock, the 15 others still wait, and nobody else was woken.
    auto taken = [&] {
        std::lock_guard lock(orderMutex);
        return order;
    };
    QTRY_VERIFY_WITH_TIMEOUT(taken().size() == 1u, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(waiters.wakeStats().waiting, kWaiters - 1, 10000);
    WakeStats stats = waiters.wakeStats();
    QCOMPARE(stats.messages, 1u);
    QCOMPARE(stats.wakeups, 1u);
    QCOMPARE(taken().front(), 0);
    // A newcomer of the same Locker does not barge in ahead of the 15: it queues behind them.
    pending.push_back(std::async(std::launch::async, [&] {
        auto obtained = waiters.acquire("job", patientWaiter());
        if (obtained) {
            std::lock_guard lock(orderMutex);
            order.push_back(kWaiters);
        }
        if (obtained && !waiters.release(*obtained))
            qWarning("the newcomer's release failed");
        return obtained;
    }));
    QTRY_COMPARE_WITH_TIMEOUT(waiters.wakeStats().waiting, kWaiters, 10000);
    // Its refused attempt put it at the end of the queue, behind waiters 1 to 15.
    for (int i = 0; i < nodes; ++i)
        QTRY_COMPARE_WITH_TIMEOUT(queueSize(*servers, i, "job"), qint64(kWaiters), 10000);
    proceed.set_value();
    std::vector<Lock> obtained;
    for (auto &p : pending) {
        QVERIFY(p.wait_for(60s) == std::future_status::ready);
        auto lock = p.get();
        LS_VERIFY_OK(lock);
        QCOMPARE(lock->wakeups, 1);
        obtained.push_back(*lock);
    }
    std::vector<int> expected(kWaiters + 1);
    std::iota(expected.begin(), expected.end(), 0);
    QCOMPARE(order, expected);
    // 18 releases. The holder's (another Locker) is heard as a message (on 3 nodes when a
    // quorum announced it). Each of the 16 waiters' releases hands the lock directly to the
    // next waiter of this Locker, the first in the queue and waiting: the release script takes
    // it in that waiter's name and publishes nothing. The newcomer's, the last, finds nobody
    // waiting and announces. On 3 nodes a release is announced by the nodes it deleted the
    // lock from: a waiter woken by a quorum of messages may take the lock on 2 nodes while
    // the third still held the previous token (a Redlock holds on a quorum).
    const qint64 announced = publishes() - publishedBefore;
    QVERIFY2(announced >= qint64(2) * (nodes / 2 + 1), qPrintable(QString::number(announced)));
    QVERIFY2(announced <= qint64(2) * nodes, qPrintable(QString::number(announced)));
    QTRY_COMPARE_WITH_TIMEOUT(waiters.wakeStats().messages + waiters.wakeStats().duplicates,
                              quint64(announced), 10000);
    // Each release woke once: by its message, handed on by the releasing thread, or granted.
    QCOMPARE(waiters.wakeStats().granted, quint64(kWaiters));
    QCOMPARE(waiters.wakeStats().messages + waiters.wakeStats().handedOn, quint64(kWaiters + 2));
    QCOMPARE(waiters.wakeStats().wakeups, quint64(kWaiters + 1));
    // Every hand-over took a new fence: they rise one by one from the first waiter's.
    for (size_t i = 1; i < obtained.size(); ++i)
        QCOMPARE(obtained[i].fence, obtained[i - 1].fence + 1);
    for (int i = 0; i < nodes; ++i) {
        QVERIFY(servers->get(i, "job").isNull());
        QVERIFY(queueGone(*servers, i, "job"));
    }
}

void TestLockWakeup::readersAreWokenTogether()
{
    // A writer holds; three readers of one Locker wait. The writer's release wakes them all
    // (they may share the lock), not one at a time.
    LS_START_SERVERS(servers, 1);
    Locker holder(servers->configs(), publishing(true, false));
    Locker readers(servers->configs(), publishing(true, true));
    AcquireOptions write = withTtl(30s);
    write.kind = LockKind::Write;
    auto writer = holder.tryAcquire("doc", write);
    LS_VERIFY_OK(writer);
    AcquireOptions read = patientWaiter();
    read.kind = LockKind::Read;
    std::vector<std::future<LockResult<Lock>>> pending;
    for (int i = 0; i < 3; ++i) {
        pending.push_back(std::async(std::launch::async, [&] { return readers.acquire("doc", read); }));
        QTRY_VERIFY_WITH_TIMEOUT(readers.wakeStats().waiting == i + 1, 10000);
    }
    LS_VERIFY_OK(holder.release(*writer));
    for (auto &p : pending) {
        QVERIFY(p.wait_for(25s) == std::future_status::ready);
        auto lock = p.get();
        LS_VERIFY_OK(lock);
        QCOMPARE(lock->wakeups, 1);
    }
    QCOMPARE(readers.wakeStats().messages, 1u);
    QCOMPARE(readers.wakeStats().wakeups, 3u);
    QCOMPARE(servers->admin(0).command({"ZCARD", "doc"})->integer(), 3);
}

void TestLockWakeup::killedSubscriberCostsAtMostOneDelay()
{
    // The server closes the subscriber connection while a thread waits: the wait falls back to
    // the retry delay (no wake-up is lost for longer than one delay), the listener connects and
    // subscribes again, and the next wait is woken by a message again.
    LS_START_SERVERS(servers, 1);
    Locker holder(servers->configs(), publishing(true, false));
    Locker waiter(servers->configs(), publishing(false, true));
    // Round 1: the subscriber connection is killed while the thread waits.
    AcquireOptions quick = withTtl(30s);
    quick.retry = RetryStrategy::linear(300ms);
    quick.wait = 60s;
    auto held = holder.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", quick); });
    QTRY_VERIFY_WITH_TIMEOUT(waiter.wakeStats().waiting == 1, 10000);
    QVERIFY(servers->admin(0).command({"CLIENT", "KILL", "TYPE", "pubsub"}));
    // Released while nobody listens: the waiter finds it free after its retry delay.
    LS_VERIFY_OK(holder.release(*held));
    QVERIFY(pending.wait_for(20s) == std::future_status::ready);
    auto obtained = pending.get();
    LS_VERIFY_OK(obtained);
    QCOMPARE(servers->get(0, "job"), obtained->value);
    LS_VERIFY_OK(waiter.release(*obtained));
    // The listener connected and subscribed again by itself.
    QTRY_VERIFY_WITH_TIMEOUT(subscribers(*servers, 0, releaseChannelFor("job")) == 1, 10000);
    QVERIFY(waiter.wakeStats().resubscribes >= 1);

    // Round 2: a wait that only a message can end (minute-long delay) is woken again.
    held = holder.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    pending = std::async(std::launch::async, [&] { return waiter.acquire("job", patientWaiter()); });
    QTRY_VERIFY_WITH_TIMEOUT(waiter.wakeStats().waiting == 1, 10000);
    LS_VERIFY_OK(holder.release(*held));
    QVERIFY2(pending.wait_for(25s) == std::future_status::ready, "waiter still sleeping");
    obtained = pending.get();
    LS_VERIFY_OK(obtained);
    QCOMPARE(obtained->wakeups, 1);
    QCOMPARE(servers->get(0, "job"), obtained->value);
    QVERIFY(servers->pttl(0, "job") > 0);
}

void TestLockWakeup::releaseWakesTheLongestWaiterOfAllLockers()
{
    // Four Lockers (four processes, as far as Redis can tell), two waiting threads each, joined
    // the queue in a known order, Lockers interleaved. Every release wakes exactly one thread
    // of all eight, the one that has waited longest, in whichever Locker it is: no Locker
    // wakes a thread for a release that named another's.
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker holder(servers->configs(), publishing(true, false));
    constexpr int kLockers = 4;
    constexpr int kWaiters = 8;
    std::vector<std::unique_ptr<Locker>> lockers;
    for (int i = 0; i < kLockers; ++i)
        lockers.push_back(std::make_unique<Locker>(servers->configs(), publishing(true, true)));
    auto held = holder.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    std::mutex orderMutex;
    std::vector<int> order;
    std::vector<std::future<LockResult<Lock>>> pending;
    for (int w = 0; w < kWaiters; ++w) {
        Locker &locker = *lockers[size_t(w % kLockers)];
        pending.push_back(std::async(std::launch::async, [&, w] {
            auto obtained = locker.acquire("job", patientWaiter());
            if (obtained) {
                {
                    std::lock_guard lock(orderMutex);
                    order.push_back(w);
                }
                if (auto released = locker.release(*obtained); !released)
                    qWarning("release: %s", qPrintable(released.error().toString()));
            }
            return obtained;
        }));
        for (int i = 0; i < nodes; ++i)
            QTRY_COMPARE_WITH_TIMEOUT(queueSize(*servers, i, "job"), qint64(w + 1), 10000);
    }
    for (int l = 0; l < kLockers; ++l) {
        QTRY_COMPARE_WITH_TIMEOUT(lockers[size_t(l)]->wakeStats().waiting, kWaiters / kLockers, 10000);
        for (int i = 0; i < nodes; ++i)
            QTRY_COMPARE_WITH_TIMEOUT(subscribers(*servers, i, releaseChannelFor("job")), qint64(kLockers),
                                      10000);
    }
    auto publishes = [&] {
        qint64 total = 0;
        for (int i = 0; i < nodes; ++i)
            total += servers->commandCalls(i, {"publish"});
        return total;
    };
    auto heard = [&] {
        quint64 total = 0;
        for (const auto &locker : lockers)
            total += locker->wakeStats().messages + locker->wakeStats().duplicates;
        return total;
    };
    const qint64 publishedBefore = publishes();
    LS_VERIFY_OK(holder.release(*held));
    for (auto &p : pending) {
        QVERIFY2(p.wait_for(60s) == std::future_status::ready, "a waiter is still sleeping");
        auto lock = p.get();
        LS_VERIFY_OK(lock);
        QCOMPARE(lock->wakeups, 1);
    }
    std::vector<int> expected(kWaiters);
    std::iota(expected.begin(), expected.end(), 0);
    QCOMPARE(order, expected);
    // Eight releases woke eight threads: one each, in all Lockers together.
    quint64 wakeups = 0;
    for (const auto &locker : lockers)
        wakeups += locker->wakeStats().wakeups;
    QCOMPARE(wakeups, quint64(kWaiters));
    // Each announcement reached the one Locker whose waiter it named, not all four: only the
    // last release, with nobody left to name, went to every Locker.
    const qint64 announced = publishes() - publishedBefore;
    QTRY_VERIFY_WITH_TIMEOUT(heard() >= quint64(announced), 10000);
    QVERIFY2(heard() <= quint64(announced + (kLockers - 1) * nodes),
             qPrintable(QStringLiteral("%1 announcements heard %2 times").arg(announced).arg(heard())));
    for (int i = 0; i < nodes; ++i) {
        QVERIFY(servers->get(i, "job").isNull());
        QVERIFY(queueGone(*servers, i, "job"));
    }
}

void TestLockWakeup::messageNamesTheFirstWaiter()
{
    // The release message is the token, and the id of the queue's first waiter when there is
    // one, on the channel of that waiter's Locker.
    LS_START_SERVERS(servers, 1);
    Locker holder(servers->configs(), publishing(true, false));
    Locker waiter(servers->configs(), publishing(false, true));
    auto listener = subscribedConnection(*servers, 0, "PSUBSCRIBE", releaseChannelFor("job") + '*');
    QVERIFY(listener);
    auto held = holder.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    const std::vector<qint64> before = scriptRunsPerNode(*servers);
    auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", patientWaiter()); });
    // Released before the waiter listens, its attempt after the SUBSCRIBE would simply take
    // the lock, woken by nothing.
    QTRY_VERIFY_WITH_TIMEOUT(waiterIsListening(*servers, before), 10000);
    QCOMPARE(queueSize(*servers, 0, "job"), qint64(1));
    auto first = servers->admin(0).command({"ZRANGE", waitQueueKeysFor("job").first, "0", "0"});
    LS_VERIFY_OK(first);
    const QByteArray id = first->elements().at(0).bytes();
    QVERIFY2(id.endsWith(".x"), id.constData());
    LS_VERIFY_OK(holder.release(*held));
    auto push = listener->readPush(5s);
    LS_VERIFY_OK(push);
    QVERIFY2(push->has_value(), "no release message");
    const auto &message = (*push)->elements();
    QCOMPARE(message.size(), size_t(4)); // pmessage, pattern, channel, payload
    QCOMPARE(message.at(2).bytes(), releaseChannelFor("job") + '.' + id.left(id.indexOf('.')));
    QCOMPARE(message.at(3).bytes(), held->token + ' ' + id);
    QVERIFY(pending.wait_for(25s) == std::future_status::ready);
    auto obtained = pending.get();
    LS_VERIFY_OK(obtained);
    QCOMPARE(obtained->wakeups, 1);
    // Granted: it left the queue in the same script.
    QVERIFY(queueGone(*servers, 0, "job"));
}

void TestLockWakeup::newcomerBargesOnlyWhileTheFirstWaiterIsFresh()
{
    // The lock comes free without a release message (here: deleted by hand) while a waiter is
    // in the queue. A caller not in the queue may take it while the first waiter has waited
    // less than handOffAfter; after that, the lock is kept for the waiter.
    LS_START_SERVERS(servers, 1);
    Locker holder(servers->configs());
    LockerOptions patientOptions = publishing(true, true);
    patientOptions.handOffAfter = 1h;
    Locker barging(servers->configs(), patientOptions);
    LockerOptions strictOptions = publishing(true, true);
    strictOptions.handOffAfter = 0ms;
    Locker strict(servers->configs(), strictOptions);
    Locker waiter(servers->configs(), publishing(true, true));

    for (Locker *newcomer : {&barging, &strict}) {
        auto held = holder.tryAcquire("job", withTtl(30s));
        LS_VERIFY_OK(held);
        AcquireOptions options = withTtl(30s);
        options.retry = RetryStrategy::linear(200ms);
        options.wait = 30s;
        auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", options); });
        QTRY_COMPARE_WITH_TIMEOUT(queueSize(*servers, 0, "job"), qint64(1), 10000);
        // Free now, and nobody told.
        QVERIFY(servers->del(0, "job"));
        auto taken = newcomer->tryAcquire("job", withTtl(30s));
        if (newcomer == &barging) {
            // The first waiter has waited less than an hour: the newcomer barges in.
            LS_VERIFY_OK(taken);
            QCOMPARE(servers->get(0, "job"), taken->value);
            QCOMPARE(queueSize(*servers, 0, "job"), qint64(1));
            LS_VERIFY_OK(barging.release(*taken));
        } else {
            // handOffAfter 0: kept for the waiter, and the refusal says why; nothing written.
            LS_VERIFY_LOCK_ERROR(taken, LockErrorKind::NotObtained);
            QVERIFY2(taken.error().message.contains("earlier waiter"), qPrintable(taken.error().message));
            QVERIFY(servers->get(0, "job").isNull());
            QCOMPARE(queueSize(*servers, 0, "job"), qint64(1));
        }
        QVERIFY(pending.wait_for(25s) == std::future_status::ready);
        auto obtained = pending.get();
        LS_VERIFY_OK(obtained);
        QCOMPARE(servers->get(0, "job"), obtained->value);
        QVERIFY(queueGone(*servers, 0, "job"));
        LS_VERIFY_OK(waiter.release(*obtained));
    }
}

void TestLockWakeup::endedWaitsLeaveTheQueue()
{
    // A waiter that gives up, and a Redlock waiter granted on a quorum while one node refused
    // it: neither leaves a place behind in any node's queue.
    LS_START_SERVERS(servers, 3);
    Locker holder(servers->configs(), publishing(true, false));
    Locker waiter(servers->configs(), publishing(false, true));
    auto held = holder.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    AcquireOptions brief = withTtl(10s);
    brief.retry = RetryStrategy::linear(100ms);
    brief.wait = 500ms;
    LS_VERIFY_LOCK_ERROR(waiter.acquire("job", brief), LockErrorKind::Timeout);
    for (int i = 0; i < 3; ++i)
        QVERIFY(queueGone(*servers, i, "job"));
    LS_VERIFY_OK(holder.release(*held));

    // Node 2 keeps another owner's key: the waiter gets nodes 0 and 1 (a quorum), after its
    // place was taken on all three.
    QVERIFY(servers->set(2, "job", "ls1 tok=someoneelse pid=1", 60000));
    held = holder.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    auto pending = std::async(std::launch::async, [&] { return waiter.acquire("job", patientWaiter()); });
    for (int i = 0; i < 3; ++i)
        QTRY_COMPARE_WITH_TIMEOUT(queueSize(*servers, i, "job"), qint64(1), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(waiter.wakeStats().waiting, 1, 10000);
    for (int i = 0; i < 3; ++i)
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(*servers, i, releaseChannelFor("job")), qint64(1), 10000);
    LS_VERIFY_OK(holder.release(*held));
    QVERIFY(pending.wait_for(25s) == std::future_status::ready);
    auto obtained = pending.get();
    LS_VERIFY_OK(obtained);
    QCOMPARE(servers->nodesWithToken("job", obtained->token), 2);
    for (int i = 0; i < 3; ++i)
        QVERIFY2(queueGone(*servers, i, "job"), qPrintable(QStringLiteral("node %1").arg(i)));
    QCOMPARE(servers->get(2, "job"), QByteArray("ls1 tok=someoneelse pid=1"));
}

void TestLockWakeup::crashedWaiterDropsOutAtItsDeadline()
{
    // A waiter whose process died keeps its place only until its deadline: the lock is kept
    // for it until then (handOffAfter 0), and a newcomer gets it after.
    LS_START_SERVERS(servers, 1);
    LockerOptions strictOptions = publishing(true, true);
    strictOptions.handOffAfter = 0ms;
    Locker strict(servers->configs(), strictOptions);
    QVERIFY(placeWaiterByHand(*servers, "job", "gone.1.x", 0, 400) > 0);
    LS_VERIFY_LOCK_ERROR(strict.tryAcquire("job", withTtl(10s)), LockErrorKind::NotObtained);
    QVERIFY(servers->get(0, "job").isNull());
    QTest::qWait(600);
    auto taken = strict.tryAcquire("job", withTtl(10s));
    LS_VERIFY_OK(taken);
    QCOMPARE(servers->get(0, "job"), taken->value);
    // The expired place was dropped by that attempt.
    QVERIFY(queueGone(*servers, 0, "job"));
}

void TestLockWakeup::passedOverCountsFromTheFirstNamingRelease()
{
    // The first waiter's time counts from the first release that named it, not from its
    // arrival: a thread that releases and comes straight back keeps the lock for up to
    // handOffAfter, then the lock is kept for the waiter. The waiter is a place written by
    // hand (arrived a minute ago, no process behind it), so that nothing takes the lock for it.
    LS_START_SERVERS(servers, 1);
    LockerOptions options = publishing(true, true);
    options.handOffAfter = 1500ms;
    Locker worker(servers->configs(), options);
    const QByteArray deadlines = waitQueueKeysFor("job").second;
    const qint64 nowMs = placeWaiterByHand(*servers, "job", "far.1.x", 60000, 60000);
    QVERIFY(nowMs > 0);
    // Not named yet: it has waited a minute, longer than handOffAfter, so the lock is kept.
    LS_VERIFY_LOCK_ERROR(worker.tryAcquire("job", withTtl(10s)), LockErrorKind::NotObtained);
    QVERIFY(servers->get(0, "job").isNull());

    // The place's Locker ("far") would hear of it on <channel>.far.
    auto listener = subscribedConnection(*servers, 0, "SUBSCRIBE", releaseChannelFor("job") + ".far");
    QVERIFY(listener);
    // A holder from before the waiter's time (set by hand) releases: the release names it.
    Locker holder(servers->configs(), publishing(true, false));
    auto held = holder.tryAcquire("other", withTtl(10s)); // a token of this Locker's form
    LS_VERIFY_OK(held);
    QVERIFY(servers->set(0, "job", held->value, 10000));
    Lock onJob = *held;
    onJob.key = "job";
    LS_VERIFY_OK(holder.release(onJob));
    auto marker = servers->admin(0).command({"ZSCORE", deadlines, "^far.1.x"});
    LS_VERIFY_OK(marker);
    QVERIFY2(marker->bytes().toDouble() < 0, marker->bytes().constData());
    auto named = listener->readPush(5s);
    LS_VERIFY_OK(named);
    QVERIFY2(named->has_value(), "the first naming announced nothing");
    QCOMPARE((*named)->elements().at(2).bytes(), held->token + " far.1.x");
    // Named just now: passed over for less than handOffAfter, a thread may take the lock (and
    // release it, naming the same waiter, whose time still counts from the first naming).
    auto again = worker.tryAcquire("job", withTtl(10s));
    LS_VERIFY_OK(again);
    QCOMPARE(servers->get(0, "job"), again->value);
    LS_VERIFY_OK(worker.release(*again));
    auto same = servers->admin(0).command({"ZSCORE", deadlines, "^far.1.x"});
    LS_VERIFY_OK(same);
    QCOMPARE(same->bytes(), marker->bytes());
    QCOMPARE(queueSize(*servers, 0, "job"), qint64(1));
    // That release came within the waiter's window: it was quiet (the waiter, woken by the
    // first, looks again when the window closes), so nothing more was published.
    auto quiet = listener->readPush(300ms);
    LS_VERIFY_OK(quiet);
    QVERIFY2(!quiet->has_value(), "a release within the hand-off window was announced");
    // Passed over for longer than handOffAfter: kept for the waiter; nothing written.
    QTest::qWait(1700);
    auto refused = worker.tryAcquire("job", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(refused, LockErrorKind::NotObtained);
    QVERIFY2(refused.error().message.contains("earlier waiter"), qPrintable(refused.error().message));
    QVERIFY(servers->get(0, "job").isNull());

    // After the window, a release announces again (set by hand for a holder of ours).
    QVERIFY(servers->set(0, "job", held->value, 10000));
    LS_VERIFY_OK(holder.release(onJob));
    auto loud = listener->readPush(5s);
    LS_VERIFY_OK(loud);
    QVERIFY2(loud->has_value(), "a release after the hand-off window announced nothing");
    QCOMPARE((*loud)->elements().at(2).bytes(), held->token + " far.1.x");

    // The place ends (here: its process left the queue, as leaveQueue does): its marker goes
    // with it, and the queue keys are gone.
    LS_VERIFY_OK(servers->admin(0).command({"ZADD", deadlines, QByteArray::number(nowMs), "far.1.x"}));
    auto taken = worker.tryAcquire("job", withTtl(10s));
    LS_VERIFY_OK(taken);
    QVERIFY(queueGone(*servers, 0, "job"));
    LS_VERIFY_OK(worker.release(*taken));
}

namespace {
/// PUBLISH calls all nodes have run since they started.
qint64 publishesOnAll(ServerSet &servers)
{
    qint64 total = 0;
    for (int i = 0; i < servers.size(); ++i)
        total += servers.commandCalls(i, {"publish"});
    return total;
}
} // namespace

void TestLockWakeup::releaseHandsTheLockToAWaiterOfTheSameLocker()
{
    // The first waiter of the queue is a thread of the releasing Locker, waiting: the release
    // script takes the lock in its name (a new fence, its owner details, its TTL) and publishes
    // nothing, and the releasing thread hands the lock over. The waiter runs no attempt.
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs(), publishing(true, true));
    auto held = locker.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    AcquireOptions waitOptions = patientWaiter();
    waitOptions.label = QStringLiteral("the waiter");
    auto waiter = std::async(std::launch::async, [&] { return locker.acquire("job", waitOptions); });
    QTRY_COMPARE_WITH_TIMEOUT(locker.wakeStats().waiting, 1, 10000);
    for (int i = 0; i < nodes; ++i)
        QTRY_COMPARE_WITH_TIMEOUT(queueSize(*servers, i, "job"), qint64(1), 10000);
    const qint64 publishedBefore = publishesOnAll(*servers);
    const std::vector<qint64> scriptsBefore = scriptRunsPerNode(*servers);

    LS_VERIFY_OK(locker.release(*held));
    QVERIFY(waiter.wait_for(20s) == std::future_status::ready);
    auto lock = waiter.get();
    LS_VERIFY_OK(lock);
    QCOMPARE(lock->wakeups, 1);
    QVERIFY(lock->handedOver);
    QCOMPARE(lock->fence, held->fence + 1);
    QVERIFY(lock->token != held->token);
    QVERIFY(lock->validityLeft(SteadyClock::now()) > 20s);
    const WakeStats stats = locker.wakeStats();
    QCOMPARE(stats.granted, 1u);
    QCOMPARE(stats.messages, 0u);
    QCOMPARE(stats.waiting, 0);
    // In Redis: the waiter's value exactly as its handle has it, with the waiter's TTL, and its
    // place out of the queue; one script per node (the release), no PUBLISH.
    for (int i = 0; i < nodes; ++i) {
        QCOMPARE(servers->get(i, "job"), lock->value);
        const qint64 pttl = servers->pttl(i, "job");
        QVERIFY2(pttl > 20000 && pttl <= 30000, QByteArray::number(pttl));
        QVERIFY(queueGone(*servers, i, "job"));
        QCOMPARE(servers->scriptCalls(i, true), scriptsBefore[size_t(i)] + 1);
    }
    QVERIFY(lock->value.contains(" label=the%20waiter") || lock->value.contains(" label=the waiter"));
    QCOMPARE(publishesOnAll(*servers), publishedBefore);
    LS_VERIFY_OK(locker.release(*lock));
    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->get(i, "job").isNull());
}

void TestLockWakeup::cancelledWaiterIsNotHandedTheLock()
{
    // The release has claimed the waiter (it is taking the lock in its name) when the waiter is
    // cancelled: the waiter gets nothing, and what the release took for it is released again.
    LS_START_SERVERS(servers, 1);
    LockerOptions options = publishing(true, true);
    options.nodeTimeout = 10s;
    Locker locker(servers->configs(), options);
    auto held = locker.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    auto cancel = std::make_shared<CancellationToken>();
    AcquireOptions waitOptions = patientWaiter();
    waitOptions.cancel = cancel;
    auto waiter = std::async(std::launch::async, [&] { return locker.acquire("job", waitOptions); });
    QTRY_COMPARE_WITH_TIMEOUT(locker.wakeStats().waiting, 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(queueSize(*servers, 0, "job"), qint64(1), 10000);

    QVERIFY(servers->server(0).pause());
    ResumeOnExit resume(servers->server(0));
    auto releasing = std::async(std::launch::async, [&] { return locker.release(*held); });
    QTRY_COMPARE_WITH_TIMEOUT(locker.wakeStats().handing, 1, 10000);
    cancel->cancel();
    // The cancelled wait withdraws from the hand-over at once (its call still has to leave the
    // queue, which waits for the paused server).
    QTRY_COMPARE_WITH_TIMEOUT(locker.wakeStats().handing, 0, 10000);
    QVERIFY(servers->server(0).resume());
    QVERIFY(releasing.wait_for(20s) == std::future_status::ready);
    LS_VERIFY_OK(releasing.get());
    QVERIFY(waiter.wait_for(20s) == std::future_status::ready);
    LS_VERIFY_LOCK_ERROR(waiter.get(), LockErrorKind::Cancelled);
    QCOMPARE(locker.wakeStats().granted, 0u);
    QTRY_VERIFY_WITH_TIMEOUT(servers->get(0, "job").isNull(), 10000);
    QVERIFY(queueGone(*servers, 0, "job"));
    // The lock is free for anyone.
    auto next = locker.tryAcquire("job", withTtl(10s));
    LS_VERIFY_OK(next);
    LS_VERIFY_OK(locker.release(*next));
}

void TestLockWakeup::lateHandOverIsUndone()
{
    // The release that would hand the lock over times out (the server is paused) and runs when
    // the server resumes: the lock it takes in the waiter's name is deleted right behind it (the
    // undo follows it on the same connection), and the waiter, never told, takes the lock with
    // an attempt of its own.
    LS_START_SERVERS(servers, 1);
    LockerOptions options = publishing(true, true);
    options.nodeTimeout = 1s;
    Locker locker(servers->configs(), options);
    // The release script is known to the server (a late EVALSHA must not meet NOSCRIPT, whose
    // EVAL fallback would never be sent).
    auto warm = locker.tryAcquire("warm", withTtl(30s));
    LS_VERIFY_OK(warm);
    LS_VERIFY_OK(locker.release(*warm));
    auto held = locker.tryAcquire("job", withTtl(30s));
    LS_VERIFY_OK(held);
    AcquireOptions waitOptions;
    waitOptions.ttl = 30s;
    waitOptions.retry = RetryStrategy::linear(2s);
    waitOptions.wait = 20s; // less than the TTL a grant nobody undid would live
    auto waiter = std::async(std::launch::async, [&] { return locker.acquire("job", waitOptions); });
    QTRY_COMPARE_WITH_TIMEOUT(locker.wakeStats().waiting, 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(queueSize(*servers, 0, "job"), qint64(1), 10000);

    QVERIFY(servers->server(0).pause());
    ResumeOnExit resume(servers->server(0));
    auto releasing = std::async(std::launch::async, [&] { return locker.release(*held); });
    QTRY_COMPARE_WITH_TIMEOUT(locker.wakeStats().handing, 1, 10000);
    QVERIFY(releasing.wait_for(20s) == std::future_status::ready);
    const auto released = releasing.get();
    QVERIFY2(!released, "the release cannot have succeeded on a paused server");
    QCOMPARE(locker.wakeStats().handing, 0);
    QVERIFY(servers->server(0).resume());
    // The late release ran: the holder's key went.
    QTRY_VERIFY_WITH_TIMEOUT(!servers->get(0, "job").startsWith(LockValue::ownerPrefix(held->token)), 10000);
    QVERIFY(waiter.wait_for(30s) == std::future_status::ready);
    auto lock = waiter.get();
    LS_VERIFY_OK(lock);
    QVERIFY(!lock->handedOver);
    QCOMPARE(locker.wakeStats().granted, 0u);
    QCOMPARE(servers->get(0, "job"), lock->value);
    QVERIFY(servers->pttl(0, "job") > 0);
    LS_VERIFY_OK(locker.release(*lock));
    QVERIFY(servers->get(0, "job").isNull());
}

void TestLockWakeup::partialGrantKeepsTheWaitersPlaceEverywhere()
{
    // Another owner holds the key on nodes 1 and 2: the waiter's attempt is granted on node 0
    // and refused on the others, and the grant is undone. Its place in the wake-up queue must
    // be on all three nodes (the undo puts back the place the grant took out): otherwise node
    // 0's queue names another first waiter than nodes 1 and 2, and a release that names each
    // on fewer nodes than a quorum wakes nobody.
    LS_START_SERVERS(servers, 3);
    for (const int i : {1, 2})
        QVERIFY(servers->set(i, "job", "ls1 tok=other-owner host=elsewhere", 30000));
    Locker locker(servers->configs(), publishing(true, true));
    auto cancel = std::make_shared<CancellationToken>();
    AcquireOptions waitOptions = patientWaiter();
    waitOptions.cancel = cancel;
    auto waiter = std::async(std::launch::async, [&] { return locker.acquire("job", waitOptions); });
    QTRY_COMPARE_WITH_TIMEOUT(locker.wakeStats().waiting, 1, 10000);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(queueSize(*servers, i, "job"), qint64(1));
    QVERIFY(servers->get(0, "job").isNull()); // the grant on node 0 was undone
    cancel->cancel();
    QVERIFY(waiter.wait_for(20s) == std::future_status::ready);
    LS_VERIFY_LOCK_ERROR(waiter.get(), LockErrorKind::Cancelled);
    // The call left the queue everywhere, and the other owner's keys are untouched.
    for (int i = 0; i < 3; ++i)
        QVERIFY(queueGone(*servers, i, "job"));
    for (const int i : {1, 2}) {
        QCOMPARE(servers->get(i, "job"), QByteArray("ls1 tok=other-owner host=elsewhere"));
        QVERIFY(servers->pttl(i, "job") > 0);
    }
    QVERIFY(servers->get(0, "job").isNull());
}

QTEST_GUILESS_MAIN(TestLockWakeup)
#include "tst_lockwakeup.moc"
