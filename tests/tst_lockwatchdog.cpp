#include "lock/lockvalue.h"
#include "lock/watchdog.h"
#include "lockfixture.h"

#include <QTest>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

using namespace lockscope::lock;
using namespace lockscope::test;
using namespace std::chrono_literals;

namespace {

void addNodeCounts(std::initializer_list<int> counts)
{
    QTest::addColumn<int>("nodes");
    for (const int n : counts)
        QTest::addRow("%d node%s", n, n == 1 ? "" : "s") << n;
}

/// True when every node holds `key` with `lock`'s value and a TTL the watchdog pushed forward:
/// longer than what the initial grant has left. An extend replaces the TTL with the lock's full
/// TTL, so after any refresh a node's PTTL exceeds the grant's remaining validity by at least
/// the time between the acquire and that refresh, however slow the machine is.
bool refreshedOnEveryNode(ServerSet &servers, const QByteArray &key, const Lock &initial)
{
    for (int i = 0; i < servers.size(); ++i) {
        if (servers.get(i, key) != initial.value)
            return false;
        const qint64 pttl = servers.pttl(i, key);
        if (pttl <= 0 || pttl <= initial.validityLeft(SteadyClock::now()).count())
            return false;
    }
    return true;
}

/// Collects lock-lost callbacks: counts them and hands the first error to a waiting test.
class LostProbe
{
public:
    Watchdog::LostCallback callback()
    {
        return [this](const LockError &error) {
            if (m_calls.fetch_add(1) == 0)
                m_promise.set_value(error);
        };
    }
    /// Waits up to `timeout` for the first call.
    std::optional<LockError> wait(milliseconds timeout)
    {
        if (m_future.wait_for(timeout) != std::future_status::ready)
            return std::nullopt;
        return m_future.get();
    }
    int calls() const { return m_calls.load(); }

private:
    std::atomic<int> m_calls{0};
    std::promise<LockError> m_promise;
    std::future<LockError> m_future = m_promise.get_future();
};

} // namespace

class TestLockWatchdog : public QObject
{
    Q_OBJECT

private slots:
    void keepsShortLockAlive_data() { addNodeCounts({1, 3}); }
    void keepsShortLockAlive();
    void lostAfterDeleteBehindItsBack_data() { addNodeCounts({1, 3}); }
    void lostAfterDeleteBehindItsBack();
    void lostWhenTokenChanged();
    void lostWhenQuorumGone();
    void survivesOneNodeOfThree();
    void stopStopsRefreshing();
    void destructorStopsRefreshing();
    void guardReleasesOnScopeExit();
    void guardWithWatchdogRelease();
    void guardMove();
    void guardReportsLoss();
};

void TestLockWatchdog::keepsShortLockAlive()
{
    // A TTL of seconds refreshed every 50 ms: many refreshes, yet a stalled one (a loaded machine,
    // ASan) is harmless, because the assertions look at the servers, not at the clock.
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("alive", withTtl(5s));
    LS_VERIFY_OK(lock);
    LostProbe probe;
    Watchdog watchdog(locker, *lock, probe.callback(), 50ms);
    QCOMPARE(watchdog.interval(), 50ms);
    QVERIFY(watchdog.isRunning());

    QTRY_VERIFY_WITH_TIMEOUT(watchdog.refreshCount() >= 5, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(refreshedOnEveryNode(*servers, "alive", *lock), 10000);
    QCOMPARE(servers->nodesWithToken("alive", lock->token), nodes);
    QVERIFY(!watchdog.lost());
    QVERIFY(watchdog.isRunning());
    QCOMPARE(probe.calls(), 0);
    const Lock current = watchdog.current();
    QCOMPARE(current.token, lock->token);
    QCOMPARE(current.value, lock->value);
    QVERIFY(current.validUntil > lock->validUntil);

    watchdog.stop();
    QVERIFY(!watchdog.isRunning());
    LS_VERIFY_OK(locker.release(watchdog.current()));
    QCOMPARE(servers->nodesWithToken("alive", lock->token), 0);
    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->get(i, "alive").isNull());
    QCOMPARE(probe.calls(), 0);
}

void TestLockWatchdog::lostAfterDeleteBehindItsBack()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("deleted", withTtl(900ms));
    LS_VERIFY_OK(lock);
    LostProbe probe;
    Watchdog watchdog(locker, *lock, probe.callback());
    QCOMPARE(watchdog.interval(), 300ms);
    QTRY_VERIFY_WITH_TIMEOUT(watchdog.refreshCount() >= 1, 5000);

    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->del(i, "deleted"));
    const auto deletedAt = SteadyClock::now();
    // One interval (300 ms) plus generous slack.
    const auto error = probe.wait(2s);
    QVERIFY2(error.has_value(), "the lock-lost callback did not fire within 2 s");
    qInfo("lock-lost callback %lld ms after the DEL", static_cast<long long>(elapsedMs(deletedAt)));
    QVERIFY2(error->kind == LockErrorKind::NotHeld, qPrintable(error->toString()));
    QVERIFY(watchdog.lost());
    QTRY_VERIFY_WITH_TIMEOUT(!watchdog.isRunning(), 2000);
    // Never re-taken silently, and called once only.
    QThread::msleep(700);
    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->get(i, "deleted").isNull());
    QCOMPARE(probe.calls(), 1);
}

void TestLockWatchdog::lostWhenTokenChanged()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("stolen", withTtl(900ms));
    LS_VERIFY_OK(lock);
    LostProbe probe;
    Watchdog watchdog(locker, *lock, probe.callback());
    QVERIFY(servers->set(0, "stolen", "ABCD", 60'000));
    const auto error = probe.wait(2s);
    QVERIFY2(error.has_value(), "the lock-lost callback did not fire within 2 s");
    QVERIFY2(error->kind == LockErrorKind::NotHeld, qPrintable(error->toString()));
    QThread::msleep(700);
    QCOMPARE(servers->get(0, "stolen"), QByteArray("ABCD"));
    QVERIFY(servers->pttl(0, "stolen") > 50'000);
    QCOMPARE(probe.calls(), 1);
}

void TestLockWatchdog::lostWhenQuorumGone()
{
    LS_START_SERVERS(servers, 3);
    // The votes of the failed refresh are the point here; with the breaker on, a refresh after
    // three failures is refused at once (BreakerOpen, no votes: tst_breaker covers that).
    LockerOptions options;
    options.breaker.enabled = false;
    Locker locker(servers->configs(), options);
    const auto lock = locker.tryAcquire("fragile", withTtl(900ms));
    LS_VERIFY_OK(lock);
    LostProbe probe;
    Watchdog watchdog(locker, *lock, probe.callback());
    QTRY_VERIFY_WITH_TIMEOUT(watchdog.refreshCount() >= 1, 5000);
    servers->server(1).kill();
    servers->server(2).kill();
    // One interval, one quick retry, generous slack.
    const auto error = probe.wait(3s);
    QVERIFY2(error.has_value(), "the lock-lost callback did not fire within 3 s");
    QVERIFY2(error->kind == LockErrorKind::QuorumNotReached, qPrintable(error->toString()));
    QCOMPARE(error->votes.size(), size_t(3));
    QVERIFY(error->votes[1].error.has_value());
    QVERIFY(error->votes[2].error.has_value());
    QVERIFY(watchdog.lost());
    QCOMPARE(probe.calls(), 1);
}

void TestLockWatchdog::survivesOneNodeOfThree()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("sturdy", withTtl(600ms));
    LS_VERIFY_OK(lock);
    LostProbe probe;
    Watchdog watchdog(locker, *lock, probe.callback());
    servers->server(2).kill();
    QThread::msleep(1500);
    QVERIFY(!watchdog.lost());
    QCOMPARE(probe.calls(), 0);
    QCOMPARE(servers->get(0, "sturdy"), lock->value);
    QCOMPARE(servers->get(1, "sturdy"), lock->value);
    const int refreshes = watchdog.refreshCount();
    QVERIFY2(refreshes > 0, QByteArray::number(refreshes));
    watchdog.stop();
    LS_VERIFY_OK(locker.release(watchdog.current()));
}

void TestLockWatchdog::stopStopsRefreshing()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("stopped", withTtl(600ms));
    LS_VERIFY_OK(lock);
    LostProbe probe;
    Watchdog watchdog(locker, *lock, probe.callback());
    QTRY_VERIFY_WITH_TIMEOUT(watchdog.refreshCount() >= 1, 5000);
    watchdog.stop();
    QVERIFY(!watchdog.isRunning());
    const int refreshes = watchdog.refreshCount();
    // stop() does not release: the key is still ours right after, and then expires by itself.
    QCOMPARE(servers->get(0, "stopped"), lock->value);
    QTRY_VERIFY_WITH_TIMEOUT(servers->get(0, "stopped").isNull(), 5000);
    QThread::msleep(300);
    QCOMPARE(watchdog.refreshCount(), refreshes);
    QVERIFY(!watchdog.lost());
    QCOMPARE(probe.calls(), 0);
    watchdog.stop(); // twice is fine
}

void TestLockWatchdog::destructorStopsRefreshing()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("scoped-dog", withTtl(600ms));
    LS_VERIFY_OK(lock);
    LostProbe probe;
    {
        Watchdog watchdog(locker, *lock, probe.callback());
        QTRY_VERIFY_WITH_TIMEOUT(watchdog.refreshCount() >= 1, 5000);
    }
    QTRY_VERIFY_WITH_TIMEOUT(servers->get(0, "scoped-dog").isNull(), 5000);
    QCOMPARE(probe.calls(), 0);
}

void TestLockWatchdog::guardReleasesOnScopeExit()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    QByteArray token;
    {
        auto guard = LockGuard::acquire(locker, "scoped", withTtl(10s));
        LS_VERIFY_OK(guard);
        QVERIFY(guard->ownsLock());
        token = guard->lock().token;
        QCOMPARE(servers->nodesWithToken("scoped", token), 3);
        QVERIFY(!guard->lost());
    }
    QCOMPARE(servers->nodesWithToken("scoped", token), 0);
    for (int i = 0; i < 3; ++i)
        QVERIFY(servers->get(i, "scoped").isNull());

    // A guard around a lock acquired separately.
    const auto lock = locker.tryAcquire("wrapped", withTtl(10s));
    LS_VERIFY_OK(lock);
    {
        LockGuard guard(locker, *lock);
        QCOMPARE(servers->nodesWithToken("wrapped", lock->token), 3);
    }
    QCOMPARE(servers->nodesWithToken("wrapped", lock->token), 0);

    // A failed acquire gives an error, not a guard.
    QVERIFY(servers->set(0, "taken", "ABCD", 60'000));
    QVERIFY(servers->set(1, "taken", "ABCD", 60'000));
    auto denied = LockGuard::acquire(locker, "taken", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(denied, LockErrorKind::NotObtained);
}

void TestLockWatchdog::guardWithWatchdogRelease()
{
    // LockGuard's watchdog refreshes every TTL/3 (2 s here); nothing below waits for a deadline.
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    auto guard = LockGuard::acquire(locker, "guarded", withTtl(6s), true);
    LS_VERIFY_OK(guard);
    const Lock initial = guard->lock();
    QTRY_VERIFY_WITH_TIMEOUT(guard->lock().validUntil > initial.validUntil, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(refreshedOnEveryNode(*servers, "guarded", initial), 10000);
    QVERIFY(!guard->lost());

    const auto released = guard->release();
    LS_VERIFY_OK(released);
    QVERIFY(!guard->ownsLock());
    // release() joined the watchdog before deleting the key: no refresh can follow.
    QVERIFY(servers->get(0, "guarded").isNull());
    LS_VERIFY_OK(guard->release()); // a second release is a no-op
    // Someone else can take it now, and keeps it untouched.
    const auto next = locker.tryAcquire("guarded", withTtl(10s));
    LS_VERIFY_OK(next);
    QCOMPARE(servers->get(0, "guarded"), next->value);
    QVERIFY(servers->pttl(0, "guarded") > 0);
    LS_VERIFY_OK(locker.release(*next));
    QVERIFY(servers->get(0, "guarded").isNull());
}

void TestLockWatchdog::guardMove()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    auto a = LockGuard::acquire(locker, "moved", withTtl(6s), true);
    LS_VERIFY_OK(a);
    const Lock initial = a->lock();
    const QByteArray token = initial.token;
    {
        LockGuard b(std::move(*a));
        QVERIFY(!a->ownsLock());
        QVERIFY(b.ownsLock());
        LS_VERIFY_OK(a->release()); // the moved-from guard does nothing
        QCOMPARE(servers->get(0, "moved"), initial.value);
        // b's watchdog (moved along) keeps refreshing it.
        QTRY_VERIFY_WITH_TIMEOUT(b.lock().validUntil > initial.validUntil, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(refreshedOnEveryNode(*servers, "moved", initial), 10000);
        QCOMPARE(servers->nodesWithToken("moved", token), 1);

        // Move-assigning over a guard that holds another lock releases that lock first.
        auto c = LockGuard::acquire(locker, "other", withTtl(10s));
        LS_VERIFY_OK(c);
        const QByteArray otherToken = c->lock().token;
        *c = std::move(b);
        QCOMPARE(servers->nodesWithToken("other", otherToken), 0);
        QCOMPARE(servers->nodesWithToken("moved", token), 1);
        QVERIFY(servers->pttl(0, "moved") > 0);
        QVERIFY(c->ownsLock());
        QVERIFY(!b.ownsLock());
    }
    QVERIFY(servers->get(0, "moved").isNull());
}

void TestLockWatchdog::guardReportsLoss()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    LostProbe probe;
    auto guard = LockGuard::acquire(locker, "lossy", withTtl(900ms), true, probe.callback());
    LS_VERIFY_OK(guard);
    QVERIFY(servers->del(0, "lossy"));
    const auto error = probe.wait(2s);
    QVERIFY2(error.has_value(), "the lock-lost callback did not fire within 2 s");
    QCOMPARE(error->kind, LockErrorKind::NotHeld);
    QVERIFY(guard->lost());
    LS_VERIFY_LOCK_ERROR(guard->release(), LockErrorKind::NotHeld);
}

QTEST_GUILESS_MAIN(TestLockWatchdog)
#include "tst_lockwatchdog.moc"
