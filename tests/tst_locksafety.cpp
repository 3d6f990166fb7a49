// Failure paths of the lock library against real redis-servers: a failed or timed-out call
// undoes only what it created, never frees a lock the caller held before, and never leaves a
// grant behind that nobody can release. Every test asserts on the Redis state afterwards.

#include "lock/locker.h"
#include "lock/lockscripts.h"
#include "lock/lockvalue.h"
#include "lock/watchdog.h"
#include "lockctlrunner.h"
#include "lockfixture.h"

#include <QTest>
#include <atomic>
#include <thread>

using namespace lockscope::lock;
using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;
using Outcome = NodeVote::Outcome;

namespace {

LockerOptions shortNodeTimeout(milliseconds nodeTimeout = 300ms)
{
    LockerOptions options;
    options.nodeTimeout = nodeTimeout;
    return options;
}

bool holds(ServerSet &servers, int i, const QByteArray &key, const QByteArray &token)
{
    return servers.get(i, key).startsWith(LockValue::ownerPrefix(token)) && servers.pttl(i, key) > 0;
}

} // namespace

class TestLockSafety : public QObject
{
    Q_OBJECT

private slots:
    void failedAcquireOrExtendOnAStalledNodeKeepsTheHeldLock();
    void failedAcquireWithCallerTokenKeepsTheHeldLock();
    void failedHealUndoesOnlyTheHealedNodes();
    void raiseFenceNeverMakesAKeyPermanent();
    void cleanupOfAFailedAttemptDoesNotPublish();
    void deadIdleConnectionReconnectsWithinTheNodeBudget();
    void lateGrantOfATimedOutAcquireIsUndone();
    void watchdogRidesOutAShortStall();
    void lateExtendCannotReviveALostLock();
    void extendOfAShortenedKeyStillWorks();
    void guardReleasedFromLostCallbackWhileOwnerDestroysIt();
    void duplicateNodesAreRejected();
    void reusedSubscriberConnectionClosedByServerIsReconnected();
    void sharedFenceCounterKeepsFencesIncreasing();
    void redlockWaiterWokenAheadOfTheReleaseRetriesSoon();
    void lockctlAcquireWithTokenOnPausedNodeKeepsTheLock();
    void failedRefreshPutsBackTheExpiry();
    void failedMultiKeyRefreshPutsBackTheExpiry();
    void restoreTouchesOnlyWhatTheCallSet();
};

// Defect 1, as reported: the node is stopped (SIGSTOP) while acquireOrExtend runs and wakes
// up soon after the call gave up, while the call cleans up after itself.
void TestLockSafety::failedAcquireOrExtendOnAStalledNodeKeepsTheHeldLock()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs(), shortNodeTimeout());
    const auto lock = locker.tryAcquire("stalled", withTtl(30s));
    LS_VERIFY_OK(lock);

    const qint64 before = servers->scriptCalls(0);
    QVERIFY(servers->server(0).pause());
    ResumeOnExit resumeOnFailure(servers->server(0));
    std::jthread wakeUp([&servers] {
        std::this_thread::sleep_for(450ms); // after the call's 300 ms, during its cleanup
        servers->server(0).resume();
    });
    const auto refreshed = locker.acquireOrExtend(*lock, 30s);
    wakeUp.join();
    if (refreshed) {
        qInfo("the node woke up before the call gave up (a slow machine): the failure path was not taken");
    } else {
        LS_VERIFY_LOCK_ERROR(refreshed, LockErrorKind::Connection);
        QCOMPARE(refreshed.error().token, lock->token);
    }
    // The late refresh has run, and with it the undo queued behind it on the same connection
    // (one connection's input is run in one go), which leaves the key alone: this call did not
    // create it.
    QTRY_VERIFY_WITH_TIMEOUT(servers->scriptCalls(0) > before, 5000);
    QVERIFY2(holds(*servers, 0, "stalled", lock->token), servers->get(0, "stalled").constData());
    Locker other(servers->configs());
    LS_VERIFY_LOCK_ERROR(other.tryAcquire("stalled", withTtl(10s)), LockErrorKind::NotObtained);
    LS_VERIFY_OK(locker.release(*lock));
}

// Defect 1, Redlock: an acquire with the caller's token that fails (other owners on a
// majority) undoes the key it created and keeps the one the token held before the call.
void TestLockSafety::failedAcquireWithCallerTokenKeepsTheHeldLock()
{
    LS_START_SERVERS(servers, 5);
    Locker locker(servers->configs(), shortNodeTimeout());
    const auto lock = locker.tryAcquire("handoff", withTtl(30s));
    LS_VERIFY_OK(lock);
    QVERIFY(servers->del(1, "handoff")); // free: the call will create it there
    for (const int i : {2, 3, 4})
        QVERIFY(servers->set(i, "handoff", "someone else's", 30000));

    const auto again = locker.tryAcquire("handoff", withTtl(30s, lock->token));
    LS_VERIFY_LOCK_ERROR(again, LockErrorKind::NotObtained);
    const auto &votes = again.error().votes;
    QVERIFY2(votes[0].outcome == Outcome::Granted && votes[1].outcome == Outcome::Released,
             qPrintable(outcomes(votes)));
    QVERIFY2(holds(*servers, 0, "handoff", lock->token), servers->get(0, "handoff").constData());
    QVERIFY2(servers->get(1, "handoff").isNull(), servers->get(1, "handoff").constData());

    // The blocking form, and acquireOrExtend, take the same path.
    AcquireOptions blocking = withTtl(30s, lock->token);
    blocking.retry = RetryStrategy::linear(10ms, 3);
    LS_VERIFY_LOCK_ERROR(locker.acquire("handoff", blocking), LockErrorKind::NotObtained);
    LS_VERIFY_LOCK_ERROR(locker.acquireOrExtend(*lock, 30s), LockErrorKind::NotObtained);
    QVERIFY2(holds(*servers, 0, "handoff", lock->token), servers->get(0, "handoff").constData());
    QVERIFY2(servers->get(1, "handoff").isNull(), servers->get(1, "handoff").constData());
    for (const int i : {2, 3, 4})
        QCOMPARE(servers->get(i, "handoff"), QByteArray("someone else's"));
}

// Defect 1, heal: the undo of a failed heal removes only the keys the heal re-created.
void TestLockSafety::failedHealUndoesOnlyTheHealedNodes()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs(), shortNodeTimeout());
    const auto lock = locker.tryAcquire("heal", withTtl(30s));
    LS_VERIFY_OK(lock);
    QVERIFY(servers->del(2, "heal")); // node 2 restarted without persistence

    QVERIFY(servers->server(1).pause());
    ResumeOnExit resume(servers->server(1));
    const auto extended = locker.extend(*lock, 30s, ExtendMode::Replace, true);
    LS_VERIFY_LOCK_ERROR(extended, LockErrorKind::QuorumNotReached);
    const auto &votes = extended.error().votes;
    QVERIFY2(votes[0].outcome == Outcome::Granted && votes[1].outcome == Outcome::Error &&
                 votes[2].outcome == Outcome::Released,
             qPrintable(outcomes(votes)));
    QVERIFY2(holds(*servers, 0, "heal", lock->token), servers->get(0, "heal").constData());
    QVERIFY2(servers->get(2, "heal").isNull(), servers->get(2, "heal").constData());
}

// Defect 2: in a key's last millisecond GET still finds it while PTTL says 0; the fence raise
// must not rewrite it without an expiry. Many keys, each raised as it expires.
void TestLockSafety::raiseFenceNeverMakesAKeyPermanent()
{
    LS_START_SERVERS(servers, 1);
    Connection &admin = servers->admin(0);
    const QByteArray prefix = LockValue::ownerPrefix("tok");
    constexpr int kKeys = 2000;
    std::vector<std::vector<QByteArray>> commands;
    for (int i = 0; i < kKeys; ++i) {
        const QByteArray key = "expiring:" + QByteArray::number(i);
        commands.push_back({"SET", key, prefix + "fence=1 host=h", "PX", QByteArray::number(1 + i % 3)});
        commands.push_back({"EVAL", scripts::raiseFence().source(), "2", key, fenceKeyFor(key), prefix, "5"});
    }
    // In batches: each SET is followed at once by the raise, some land in the last millisecond.
    for (size_t from = 0; from < commands.size(); from += 200) {
        const auto batch = std::span(commands).subspan(from, std::min<size_t>(200, commands.size() - from));
        LS_VERIFY_OK(admin.pipeline(batch));
    }
    int permanent = 0;
    for (int i = 0; i < kKeys; ++i)
        permanent += servers->pttl(0, "expiring:" + QByteArray::number(i)) == -1;
    QCOMPARE(permanent, 0);
    // All expire: only the fence counters (one per key, no TTL by design) are left.
    QTRY_COMPARE_WITH_TIMEOUT(admin.command({"DBSIZE"})->integer(), qint64(kKeys), 5000);
}

// Defect 3: the cleanup of a failed Redlock attempt is not a release and publishes nothing
// (it used to wake every waiter, the failing one included, which then spun).
void TestLockSafety::cleanupOfAFailedAttemptDoesNotPublish()
{
    LS_START_SERVERS(servers, 3);
    LockerOptions options = shortNodeTimeout();
    options.publishOnRelease = true;
    options.wakeOnRelease = true;
    Locker locker(servers->configs(), options);
    for (const int i : {1, 2})
        QVERIFY(servers->set(i, "busy", "someone else's", 30000));

    const QByteArray channel = releaseChannelFor("busy");
    Connection listener(servers->configs().front());
    listener.append({QByteArrayView("SUBSCRIBE"), QByteArrayView(channel)});
    auto subscribed = listener.readReply();
    LS_VERIFY_OK(subscribed);

    const auto attempt = locker.tryAcquire("busy", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(attempt, LockErrorKind::NotObtained);
    QVERIFY2(attempt.error().votes[0].outcome == Outcome::Released,
             qPrintable(outcomes(attempt.error().votes)));
    QVERIFY(servers->get(0, "busy").isNull());

    // A marker published after the attempt returned: it must be the first message.
    LS_VERIFY_OK(servers->admin(0).command({"PUBLISH", channel, "marker"}));
    auto message = listener.readPush(5000ms);
    LS_VERIFY_OK(message);
    QVERIFY(message->has_value());
    QCOMPARE((*message)->elements().at(2).bytes(), QByteArray("marker"));
}

// Defect 4: an idle pooled connection that the server closed is reconnected within the
// node timeout, and the healthy nodes' commands do not wait behind it.
void TestLockSafety::deadIdleConnectionReconnectsWithinTheNodeBudget()
{
    LS_START_SERVERS(servers, 3);
    std::vector<NodeConfig> configs = servers->configs();
    for (NodeConfig &config : configs)
        config.connectTimeout = 5s;
    Locker locker(configs, shortNodeTimeout(500ms));
    const auto warm = locker.tryAcquire("warm", withTtl(3s));
    LS_VERIFY_OK(warm);
    LS_VERIFY_OK(locker.release(*warm));

    // The server drops the idle connection (its timeout, CLIENT KILL, a proxy), then stalls.
    LS_VERIFY_OK(servers->admin(1).command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}));
    QTRY_COMPARE(servers->clientsNamed(1, "lockscope-test"), 0);
    QTest::qWait(50); // past the quiet spell after which an idle connection is checked
    QVERIFY(servers->server(1).pause());
    ResumeOnExit resume(servers->server(1));

    const auto lock = locker.tryAcquire("reconnect", withTtl(3s));
    LS_VERIFY_OK(lock);
    QVERIFY2(lock->votes[0].outcome == Outcome::Granted && lock->votes[1].outcome == Outcome::Error &&
                 lock->votes[2].outcome == Outcome::Granted,
             qPrintable(outcomes(lock->votes)));
    QVERIFY(holds(*servers, 0, "reconnect", lock->token));
    QVERIFY(holds(*servers, 2, "reconnect", lock->token));
}

// Defect 5: a single-node acquire times out on a stalled server that runs it later; the grant
// must not stay behind, and the error carries the token.
void TestLockSafety::lateGrantOfATimedOutAcquireIsUndone()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs(), shortNodeTimeout());
    const auto warm = locker.tryAcquire("warm", withTtl(20s));
    LS_VERIFY_OK(warm);
    LS_VERIFY_OK(locker.release(*warm));

    const qint64 before = servers->scriptCalls(0);
    QVERIFY(servers->server(0).pause());
    QByteArray token;
    {
        ResumeOnExit resume(servers->server(0));
        const auto late = locker.tryAcquire("late", withTtl(20s));
        LS_VERIFY_LOCK_ERROR(late, LockErrorKind::Connection);
        token = late.error().token;
        QVERIFY(!token.isEmpty());
    }
    QTRY_VERIFY_WITH_TIMEOUT(servers->scriptCalls(0) >= before + 2, 5000); // the grant, then its undo
    QVERIFY2(servers->get(0, "late").isNull(), servers->get(0, "late").constData());
    Locker other(servers->configs());
    const auto next = other.tryAcquire("late", withTtl(10s));
    LS_VERIFY_OK(next);
}

// Design risk: the watchdog keeps retrying while the lock is valid, so a node stalled for
// much less than the TTL costs nothing.
void TestLockSafety::watchdogRidesOutAShortStall()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs(), shortNodeTimeout(200ms));
    const auto lock = locker.tryAcquire("ride", withTtl(8s));
    LS_VERIFY_OK(lock);
    std::atomic<bool> lostCalled{false};
    Watchdog watchdog(
        locker, *lock, [&lostCalled](const LockError &) { lostCalled = true; }, 500ms);
    QTRY_VERIFY(watchdog.refreshCount() >= 1);

    QVERIFY(servers->server(0).pause());
    {
        ResumeOnExit resume(servers->server(0));
        QTest::qWait(2500); // the stall: five intervals, a third of the TTL
    }
    const int refreshes = watchdog.refreshCount();
    QTRY_VERIFY_WITH_TIMEOUT(watchdog.refreshCount() > refreshes, 5000);
    QVERIFY(!lostCalled);
    QVERIFY(!watchdog.lost());
    QVERIFY(holds(*servers, 0, "ride", lock->token));
    watchdog.stop();
    LS_VERIFY_OK(locker.release(watchdog.current()));
}

// Design risk: once the watchdog has said "lost", an extend of it that the stalled node runs
// on resuming must not refresh the key.
void TestLockSafety::lateExtendCannotReviveALostLock()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs(), shortNodeTimeout(300ms));
    const auto lock = locker.tryAcquire("revive", withTtl(4s));
    LS_VERIFY_OK(lock);
    std::atomic<bool> lostCalled{false};
    Watchdog watchdog(
        locker, *lock, [&lostCalled](const LockError &) { lostCalled = true; }, 1000ms);
    QTRY_VERIFY(watchdog.refreshCount() >= 1);

    const qint64 before = servers->scriptCalls(0);
    QVERIFY(servers->server(0).pause());
    {
        ResumeOnExit resume(servers->server(0));
        QTRY_VERIFY_WITH_TIMEOUT(lostCalled.load(), 8000);
    }
    // The extends that reached the stalled node have now run (at least the first one did: it
    // went out on an open connection).
    QTRY_VERIFY_WITH_TIMEOUT(servers->scriptCalls(0) > before, 5000);
    const qint64 left = servers->pttl(0, "revive");
    QVERIFY2(left < 1500, qPrintable(QStringLiteral("the lost lock's key has %1 ms left").arg(left)));
    QTRY_VERIFY_WITH_TIMEOUT(servers->get(0, "revive").isNull(), 5000);
}

// The late-extend check must not refuse an extend that runs on time: a key whose TTL someone
// shortened (or a server whose clock stepped) still gets extended.
void TestLockSafety::extendOfAShortenedKeyStillWorks()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs(), shortNodeTimeout());
    const auto lock = locker.tryAcquire("shortened", withTtl(30s));
    LS_VERIFY_OK(lock);
    LS_VERIFY_OK(servers->admin(1).command({"PEXPIRE", "shortened", "2000"}));
    const auto extended = locker.extend(*lock, 30s);
    LS_VERIFY_OK(extended);
    QVERIFY2(extended->votes[1].outcome == Outcome::Granted, qPrintable(outcomes(extended->votes)));
    for (int i = 0; i < 3; ++i)
        QVERIFY2(servers->pttl(i, "shortened") > 20000, QByteArray::number(servers->pttl(i, "shortened")));
}

// Design risk: guard.release() from the lost callback while the owner destroys the guard.
void TestLockSafety::guardReleasedFromLostCallbackWhileOwnerDestroysIt()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs(), shortNodeTimeout());
    for (int round = 0; round < 10; ++round) {
        const QByteArray key = "guard:" + QByteArray::number(round);
        auto lock = locker.tryAcquire(key, withTtl(900ms));
        LS_VERIFY_OK(lock);
        std::atomic<LockGuard *> slot{nullptr};
        std::atomic<bool> inCallback{false};
        std::atomic<bool> callbackDone{false};
        // The guard's own watchdog (interval TTL/3); its lost callback releases the guard, as an
        // owner aborting its work would.
        auto guard = std::make_unique<LockGuard>(locker, *lock, true, [&](const LockError &) {
            inCallback = true;
            slot.load()->release();
            callbackDone = true;
        });
        slot = guard.get();
        QVERIFY(servers->del(0, key)); // lost: the watchdog's next extend says so
        QTRY_VERIFY(inCallback.load());
        guard.reset(); // the owner, at the same moment
        QTRY_VERIFY(callbackDone.load());
        QVERIFY(servers->get(0, key).isNull());
    }
}

// Defect 6: a node listed twice would count as two votes.
void TestLockSafety::duplicateNodesAreRejected()
{
    LS_START_SERVERS(servers, 2);
    std::vector<NodeConfig> configs = servers->configs();
    configs.insert(configs.begin() + 1, configs.front());
    configs[1].name = QStringLiteral("node0-again");
    Locker locker(configs);
    const auto lock = locker.tryAcquire("dup", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(lock, LockErrorKind::InvalidArgument);
    QVERIFY2(lock.error().message.contains(QStringLiteral("node0")), qPrintable(lock.error().toString()));
    QVERIFY(servers->get(0, "dup").isNull());
    QVERIFY(servers->get(1, "dup").isNull());
}

// Design risk: the Locker's subscriber connection closed by the server (its idle timeout,
// CLIENT KILL, a restart) is reconnected and subscribed again by itself; it used to be written
// to unchecked, and the next waiter then slept out its retry delays.
void TestLockSafety::reusedSubscriberConnectionClosedByServerIsReconnected()
{
    LS_START_SERVERS(servers, 1);
    LockerOptions options = shortNodeTimeout();
    options.publishOnRelease = true;
    options.wakeOnRelease = true;
    Locker holder(servers->configs(), options);
    Locker waiter(servers->configs(), options);
    const QByteArray channel = releaseChannelFor("wake");
    auto subscribers = [&servers, &channel] {
        auto reply = servers->admin(0).command({"PUBSUB", "NUMSUB", channel});
        return reply && reply->elements().size() == 2 ? reply->elements()[1].integer() : qint64(-1);
    };
    for (int round = 0; round < 2; ++round) {
        const auto held = holder.tryAcquire("wake", withTtl(30s));
        LS_VERIFY_OK(held);
        AcquireOptions blocking = withTtl(30s);
        blocking.retry = RetryStrategy::exponential(10s, 10s); // only a message can wake it in time
        blocking.wait = 20s;
        LockResult<Lock> woken = std::unexpected(LockError{});
        std::jthread waiting([&] { woken = waiter.acquire("wake", blocking); });
        QTRY_COMPARE_WITH_TIMEOUT(subscribers(), qint64(1), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(waiter.wakeStats().waiting, 1, 5000);
        LS_VERIFY_OK(holder.release(*held));
        waiting.join();
        LS_VERIFY_OK(woken);
        QVERIFY2(woken->wakeups >= 1, "the waiter slept instead of being woken");
        LS_VERIFY_OK(waiter.release(*woken));
        // Every other client's connection goes, the waiter's subscriber connection included.
        LS_VERIFY_OK(servers->admin(0).command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}));
        LS_VERIFY_OK(servers->admin(0).command({"CLIENT", "KILL", "TYPE", "pubsub"}));
        QTRY_VERIFY_WITH_TIMEOUT(waiter.wakeStats().resubscribes >= quint64(round + 1), 5000);
        QTest::qWait(50); // past the quiet spell after which an idle connection is checked
    }
}

// The bounded alternative to one counter per lock key: LockerOptions::fenceKey maps many
// keys to one counter, and each lock's fences still only increase.
void TestLockSafety::sharedFenceCounterKeepsFencesIncreasing()
{
    LS_START_SERVERS(servers, 3);
    LockerOptions options = shortNodeTimeout();
    options.fenceKey = [](const QByteArray &key) {
        return "{" + key.left(key.indexOf(':') + 1) + "}fence"; // one per namespace
    };
    Locker locker(servers->configs(), options);
    qint64 last = 0;
    for (int i = 0; i < 6; ++i) {
        const QByteArray key = "orders:" + QByteArray::number(i % 3);
        const auto lock = locker.tryAcquire(key, withTtl(10s));
        LS_VERIFY_OK(lock);
        QVERIFY2(lock->fence > last,
                 qPrintable(QStringLiteral("fence %1 after %2").arg(lock->fence).arg(last)));
        last = lock->fence;
        LS_VERIFY_OK(locker.release(*lock));
    }
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(servers->get(i, "{orders:}fence"), QByteArray::number(last));
        QVERIFY(servers->get(i, fenceKeyFor("orders:0")).isNull());
    }
}

// Design risk: a Redlock waiter is woken once a quorum of nodes announced a release, and may
// still try before the release reached a node it needs; it must then look again after the
// base delay, not sleep out the largest one.
void TestLockSafety::redlockWaiterWokenAheadOfTheReleaseRetriesSoon()
{
    LS_START_SERVERS(servers, 3);
    LockerOptions options = shortNodeTimeout();
    options.wakeOnRelease = true;
    Locker waiter(servers->configs(), options);
    for (int i = 0; i < 3; ++i)
        QVERIFY(servers->set(i, "ahead", "someone else's", 30000));
    const QByteArray channel = releaseChannelFor("ahead");

    AcquireOptions blocking = withTtl(30s);
    blocking.retry = RetryStrategy::exponential(500ms, 20s);
    blocking.wait = 30s;
    // A waiter that sleeps out the largest delay (20 s) is still asleep when this fires.
    blocking.cancel = std::make_shared<CancellationToken>();
    std::jthread canceller([cancel = blocking.cancel](std::stop_token stop) {
        for (int i = 0; i < 80 && !stop.stop_requested(); ++i)
            std::this_thread::sleep_for(50ms);
        cancel->cancel();
    });
    LockResult<Lock> woken = std::unexpected(LockError{});
    std::jthread waiting([&] { woken = waiter.acquire("ahead", blocking); });
    QTRY_COMPARE_WITH_TIMEOUT(
        servers->admin(0).command({"PUBSUB", "NUMSUB", channel})->elements().at(1).integer(), qint64(1),
        5000);
    QTRY_COMPARE_WITH_TIMEOUT(waiter.wakeStats().waiting, 1, 5000);
    // The release is announced by nodes 0 and 1 (a quorum: the waiter wakes) while only node 0
    // has dropped the key yet; nodes 1 and 2 follow a little later.
    QVERIFY(servers->del(0, "ahead"));
    LS_VERIFY_OK(servers->admin(0).command({"PUBLISH", channel, "other-token"}));
    LS_VERIFY_OK(servers->admin(1).command({"PUBLISH", channel, "other-token"}));
    QTest::qWait(50);
    QVERIFY(servers->del(1, "ahead"));
    QVERIFY(servers->del(2, "ahead"));
    waiting.join();
    canceller.request_stop();
    LS_VERIFY_OK(woken);
    QVERIFY(woken->wakeups >= 1);
    QCOMPARE(servers->nodesWithToken("ahead", woken->token), 3);
}

// lockctl: `acquire KEY --token T` failing on a stopped node (it wakes up while the command
// cleans up) leaves the existing lock in place.
void TestLockSafety::lockctlAcquireWithTokenOnPausedNodeKeepsTheLock()
{
    LS_START_SERVERS(servers, 1);
    const QString url = QStringLiteral("redis://127.0.0.1:%1").arg(servers->server(0).port());
    const RunResult first =
        runLockctl({"acquire", "cli:held", "--nodes", url, "--ttl", "30s", "--token", "cli-token"});
    QVERIFY2(first.exitCode == 0, describe(first).constData());
    QVERIFY(holds(*servers, 0, "cli:held", "cli-token"));

    QVERIFY(servers->server(0).pause());
    ResumeOnExit resumeOnFailure(servers->server(0));
    std::jthread wakeUp([&servers] {
        std::this_thread::sleep_for(450ms);
        servers->server(0).resume();
    });
    const RunResult again = runLockctl({"acquire", "cli:held", "--nodes", url, "--ttl", "30s", "--token",
                                        "cli-token", "--timeout", "300ms"});
    wakeUp.join();
    if (again.exitCode == 0)
        qInfo("the node woke up before lockctl gave up (a slow machine): the failure path was not taken");
    else
        QVERIFY2(again.exitCode == 1, describe(again).constData());
    // Nothing to wait for: whatever lockctl's cleanup sent was answered before it exited.
    QVERIFY2(holds(*servers, 0, "cli:held", "cli-token"), servers->get(0, "cli:held").constData());
}

// A failed call leaves the world as it found it: an acquire with the caller's token of a lock
// the token holds (a refresh) that fails on the quorum must not leave the granting node with
// the call's longer TTL, or the lock outlives what its owner believes. A refresh that succeeds
// gets the new TTL.
void TestLockSafety::failedRefreshPutsBackTheExpiry()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs(), shortNodeTimeout());
    const auto lock = locker.tryAcquire("refresh", withTtl(5s));
    LS_VERIFY_OK(lock);
    const QByteArray value = servers->get(0, "refresh");
    for (const int i : {1, 2})
        QVERIFY(servers->set(i, "refresh", "someone else's", 30000));

    auto expectUnchanged = [&] {
        QCOMPARE(servers->get(0, "refresh"), value);
        const qint64 left = servers->pttl(0, "refresh");
        QVERIFY2(left > 0 && left <= 5000, QByteArray::number(left));
        for (const int i : {1, 2})
            QCOMPARE(servers->get(i, "refresh"), QByteArray("someone else's"));
    };
    const auto again = locker.tryAcquire("refresh", withTtl(60s, lock->token));
    LS_VERIFY_LOCK_ERROR(again, LockErrorKind::NotObtained);
    QVERIFY2(again.error().votes[0].outcome == Outcome::Granted, qPrintable(outcomes(again.error().votes)));
    expectUnchanged();
    if (QTest::currentTestFailed())
        return;
    // The blocking form and acquireOrExtend take the same path.
    AcquireOptions blocking = withTtl(60s, lock->token);
    blocking.retry = RetryStrategy::linear(10ms, 3);
    LS_VERIFY_LOCK_ERROR(locker.acquire("refresh", blocking), LockErrorKind::NotObtained);
    expectUnchanged();
    if (QTest::currentTestFailed())
        return;
    LS_VERIFY_LOCK_ERROR(locker.acquireOrExtend(*lock, 60s), LockErrorKind::NotObtained);
    expectUnchanged();
    if (QTest::currentTestFailed())
        return;

    for (const int i : {1, 2})
        QVERIFY(servers->del(i, "refresh"));
    const auto refreshed = locker.tryAcquire("refresh", withTtl(60s, lock->token));
    LS_VERIFY_OK(refreshed);
    for (int i = 0; i < 3; ++i) {
        QVERIFY(holds(*servers, i, "refresh", lock->token));
        QVERIFY2(servers->pttl(i, "refresh") > 50000, QByteArray::number(servers->pttl(i, "refresh")));
    }
}

// A multi-key acquire with the caller's token that fails: the key it created goes, the key the
// token held before keeps the expiry it had.
void TestLockSafety::failedMultiKeyRefreshPutsBackTheExpiry()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs(), shortNodeTimeout());
    const auto lock = locker.tryAcquire("mk:a", withTtl(5s));
    LS_VERIFY_OK(lock);
    for (const int i : {1, 2})
        QVERIFY(servers->set(i, "mk:b", "someone else's", 30000));
    const auto both = locker.tryAcquire(std::vector<QByteArray>{"mk:a", "mk:b"}, withTtl(60s, lock->token));
    LS_VERIFY_LOCK_ERROR(both, LockErrorKind::NotObtained);
    for (int i = 0; i < 3; ++i) {
        QVERIFY2(holds(*servers, i, "mk:a", lock->token), servers->get(i, "mk:a").constData());
        QVERIFY2(servers->pttl(i, "mk:a") <= 5000, QByteArray::number(servers->pttl(i, "mk:a")));
    }
    QVERIFY2(servers->get(0, "mk:b").isNull(), servers->get(0, "mk:b").constData());
}

// The restore after a failed refresh is a compare-and-set: it puts back the expiry only where
// the key (or member) is still ours with exactly the expiry the failed call set. Another owner's
// key, and our own key extended since, are left alone.
void TestLockSafety::restoreTouchesOnlyWhatTheCallSet()
{
    LS_START_SERVERS(servers, 1);
    Connection &admin = servers->admin(0);
    const QByteArray prefix = LockValue::ownerPrefix("tok");
    auto integer = [&admin](const std::vector<QByteArray> &command) {
        auto reply = admin.command(command);
        return reply && reply->isInteger() ? reply->integer() : qint64(-100);
    };
    auto time = admin.command({"TIME"});
    LS_VERIFY_OK(time);
    const qint64 now = time->elements().at(0).bytes().toLongLong() * 1000 +
                       time->elements().at(1).bytes().toLongLong() / 1000;
    const QByteArray before = QByteArray::number(now + 5000);
    const QByteArray at = QByteArray::number(now + 60000);
    const QByteArray later = QByteArray::number(now + 90000);
    auto restore = [&](const QByteArray &key) {
        return integer({"EVAL", scripts::restoreAcquire().source(), "1", key, prefix, before + ':' + at});
    };

    // Ours, with the expiry the call set: put back.
    LS_VERIFY_OK(admin.command({"SET", "ours", prefix + "fence=0 host=h", "PXAT", at}));
    QCOMPARE(restore("ours"), qint64(1));
    QCOMPARE(integer({"PEXPIRETIME", "ours"}), now + 5000);
    // Another owner's key (ours expired, someone took it between the grant and the restore).
    LS_VERIFY_OK(admin.command({"SET", "taken", "ls1 tok=other fence=0 host=h", "PXAT", at}));
    QCOMPARE(restore("taken"), qint64(0));
    QCOMPARE(integer({"PEXPIRETIME", "taken"}), now + 60000);
    QCOMPARE(servers->get(0, "taken"), QByteArray("ls1 tok=other fence=0 host=h"));
    // Ours, extended since (a watchdog): its expiry is no longer the call's.
    LS_VERIFY_OK(admin.command({"SET", "extended", prefix + "fence=0 host=h", "PXAT", later}));
    QCOMPARE(restore("extended"), qint64(0));
    QCOMPARE(integer({"PEXPIRETIME", "extended"}), now + 90000);

    // A sorted set: another holder only, then ours with a deadline the call did not set.
    const QByteArray foreign = "ls1 tok=other fence=0 rw=r host=h";
    const QByteArray mine = prefix + "fence=0 rw=r host=h";
    LS_VERIFY_OK(admin.command({"ZADD", "set", at, foreign}));
    LS_VERIFY_OK(admin.command({"PEXPIREAT", "set", at}));
    QCOMPARE(restore("set"), qint64(0));
    QCOMPARE(admin.command({"ZSCORE", "set", foreign})->bytes(), at);
    LS_VERIFY_OK(admin.command({"ZADD", "set", later, mine}));
    QCOMPARE(restore("set"), qint64(0));
    QCOMPARE(admin.command({"ZSCORE", "set", mine})->bytes(), later);
    // Ours with the call's deadline: back to the old one; the key still lives as long as the
    // other holder needs.
    LS_VERIFY_OK(admin.command({"ZADD", "set", "XX", at, mine}));
    QCOMPARE(restore("set"), qint64(1));
    QCOMPARE(admin.command({"ZSCORE", "set", mine})->bytes(), before);
    QCOMPARE(admin.command({"ZSCORE", "set", foreign})->bytes(), at);
    QVERIFY2(servers->pttl(0, "set") > 50000, QByteArray::number(servers->pttl(0, "set")));
}

QTEST_GUILESS_MAIN(TestLockSafety)
#include "tst_locksafety.moc"
