// Degraded mode (LockerOptions::degradedMode): in-process locks when the Redis nodes are down,
// against real servers that are killed (and restarted).
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockfixture.h"

#include <QLoggingCategory>
#include <QTest>
#include <atomic>
#include <thread>

using namespace lockscope::lock;
using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;

namespace {

LockerOptions degraded(bool on = true)
{
    LockerOptions options;
    options.degradedMode = on;
    options.breaker.coolDown = 300ms;
    return options;
}

AcquireOptions ofKind(LockKind kind, std::chrono::milliseconds ttl = 10s, int permits = 0)
{
    AcquireOptions options = withTtl(ttl);
    options.kind = kind;
    options.permits = permits;
    return options;
}

/// For QTRY_*, which evaluates its expression once more after it held: tries only until taken.
template <typename Acquire>
bool tryUntilTaken(LockResult<Lock> &result, Acquire acquire)
{
    if (!result)
        result = acquire();
    return result.has_value();
}

void killAll(ServerSet &servers)
{
    for (int i = 0; i < servers.size(); ++i)
        servers.server(i).kill();
}

} // namespace

class TestDegraded : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void threadsExcludeEachOther();
    void readersShare();
    void semaphorePermits();
    void reentrantReenters();
    void expiresAfterTtl();
    void extendAndTtl();
    void multiKeyAllOrNone();
    void offFailsTyped_data();
    void offFailsTyped();
    void heldLocallyRefusesRedis();
    void holdersDoNotDegrade();
    void holderOnTheLastNodeDoesNotDegrade();
    void openBreakersStillSeeTheHolder();
};

void TestDegraded::initTestCase()
{
    // Every degraded acquire warns; dozens of them would drown the test's own output.
    QLoggingCategory::setFilterRules(QStringLiteral(
        "lockscope.lock.warning=false\nlockscope.redis.warning=false\nlockscope.breaker.warning=false"));
}

void TestDegraded::threadsExcludeEachOther()
{
    LS_START_SERVERS(servers, 3);
    killAll(*servers);
    Locker first(servers->configs(), degraded());
    Locker second(servers->configs(), degraded());
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::atomic<int> failures{0};
    std::atomic<int> notDegraded{0};
    constexpr int kRounds = 25;
    auto worker = [&](Locker &locker) {
        AcquireOptions options = withTtl(10s);
        options.retry = RetryStrategy::linear(2ms);
        options.wait = 30s;
        for (int round = 0; round < kRounds; ++round) {
            auto lock = locker.acquire("shared", options);
            if (!lock) {
                ++failures;
                qWarning() << lock.error().toString();
                continue;
            }
            if (!lock->degraded)
                ++notDegraded;
            if (inside.fetch_add(1) != 0)
                ++overlaps;
            std::this_thread::sleep_for(1ms);
            inside.fetch_sub(1);
            if (!locker.release(*lock))
                ++failures;
        }
    };
    {
        std::jthread a([&] { worker(first); });
        std::jthread b([&] { worker(second); });
    }
    QCOMPARE(failures.load(), 0);
    QCOMPARE(notDegraded.load(), 0);
    QCOMPARE(overlaps.load(), 0);
    QCOMPARE(first.stats().degradedAcquisitions, quint64(kRounds));
    QCOMPARE(second.stats().degradedAcquisitions, quint64(kRounds));
    QCOMPARE(first.stats().degradedHeld, quint64(0));
    // The nodes failed every time until their breakers opened.
    QCOMPARE(first.stats().breakerOpens, quint64(3));
}

void TestDegraded::readersShare()
{
    LS_START_SERVERS(servers, 3);
    killAll(*servers);
    Locker locker(servers->configs(), degraded());
    const auto reader1 = locker.tryAcquire("rw", ofKind(LockKind::Read));
    LS_VERIFY_OK(reader1);
    const auto reader2 = locker.tryAcquire("rw", ofKind(LockKind::Read));
    LS_VERIFY_OK(reader2);
    QVERIFY(reader1->degraded && reader2->degraded);
    QCOMPARE(locker.stats().degradedHeld, quint64(2));
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("rw", ofKind(LockKind::Write)), LockErrorKind::NotObtained);
    // Another kind on the same key: refused as Redis refuses it.
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("rw", ofKind(LockKind::Semaphore, 10s, 2)),
                         LockErrorKind::KindMismatch);
    LS_VERIFY_OK(locker.release(*reader1));
    LS_VERIFY_OK(locker.release(*reader2));
    LS_VERIFY_LOCK_ERROR(locker.release(*reader2), LockErrorKind::NotHeld);
    const auto writer = locker.tryAcquire("rw", ofKind(LockKind::Write));
    LS_VERIFY_OK(writer);
    QVERIFY(writer->degraded);
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("rw", ofKind(LockKind::Read)), LockErrorKind::WriteLockHeld);
    LS_VERIFY_OK(locker.release(*writer));
}

void TestDegraded::semaphorePermits()
{
    LS_START_SERVERS(servers, 3);
    killAll(*servers);
    Locker locker(servers->configs(), degraded());
    const auto one = locker.tryAcquire("sem", ofKind(LockKind::Semaphore, 10s, 2));
    LS_VERIFY_OK(one);
    const auto two = locker.tryAcquire("sem", ofKind(LockKind::Semaphore, 10s, 2));
    LS_VERIFY_OK(two);
    QVERIFY(one->degraded && two->degraded);
    QCOMPARE(one->permits, 2);
    const auto three = locker.tryAcquire("sem", ofKind(LockKind::Semaphore, 10s, 2));
    LS_VERIFY_LOCK_ERROR(three, LockErrorKind::NotObtained);
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("sem", ofKind(LockKind::Semaphore, 10s, 3)),
                         LockErrorKind::KindMismatch);
    LS_VERIFY_OK(locker.release(*one));
    const auto again = locker.tryAcquire("sem", ofKind(LockKind::Semaphore, 10s, 2));
    LS_VERIFY_OK(again);
    LS_VERIFY_OK(locker.release(*two));
    LS_VERIFY_OK(locker.release(*again));
    QCOMPARE(locker.stats().degradedHeld, quint64(0));
}

void TestDegraded::reentrantReenters()
{
    LS_START_SERVERS(servers, 1);
    killAll(*servers);
    Locker locker(servers->configs(), degraded());
    AcquireOptions options = ofKind(LockKind::Reentrant);
    options.token = "owner-a";
    const auto first = locker.tryAcquire("re", options);
    LS_VERIFY_OK(first);
    QVERIFY(first->degraded);
    QCOMPARE(first->holds, 1);
    const auto second = locker.tryAcquire("re", options);
    LS_VERIFY_OK(second);
    QCOMPARE(second->holds, 2);
    AcquireOptions other = options;
    other.token = "owner-b";
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("re", other), LockErrorKind::NotObtained);
    LS_VERIFY_OK(locker.release(*second));
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("re", other), LockErrorKind::NotObtained); // one hold left
    LS_VERIFY_OK(locker.release(*first));
    const auto taken = locker.tryAcquire("re", other);
    LS_VERIFY_OK(taken);
    LS_VERIFY_OK(locker.release(*taken));
}

void TestDegraded::expiresAfterTtl()
{
    LS_START_SERVERS(servers, 3);
    killAll(*servers);
    Locker locker(servers->configs(), degraded());
    const auto lock = locker.tryAcquire("short", withTtl(300ms));
    LS_VERIFY_OK(lock);
    QVERIFY(lock->degraded);
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("short", withTtl(10s)), LockErrorKind::NotObtained);
    LockResult<Lock> next = std::unexpected(LockError{});
    QTRY_VERIFY_WITH_TIMEOUT(tryUntilTaken(next, [&] { return locker.tryAcquire("short", withTtl(10s)); }),
                             10000);
    QVERIFY(next->degraded);
    LS_VERIFY_LOCK_ERROR(locker.ttl(*lock), LockErrorKind::NotHeld);
    LS_VERIFY_LOCK_ERROR(locker.extend(*lock, 10s), LockErrorKind::NotHeld);
    LS_VERIFY_LOCK_ERROR(locker.release(*lock), LockErrorKind::NotHeld);
    QCOMPARE(locker.stats().degradedHeld, quint64(1));
    LS_VERIFY_OK(locker.release(*next));
}

void TestDegraded::extendAndTtl()
{
    LS_START_SERVERS(servers, 1);
    killAll(*servers);
    Locker locker(servers->configs(), degraded());
    const auto lock = locker.tryAcquire("ext", withTtl(2s));
    LS_VERIFY_OK(lock);
    QVERIFY(lock->degraded);
    const auto left = locker.ttl(*lock);
    LS_VERIFY_OK(left);
    QVERIFY(*left <= 2s && *left > 0ms);
    const auto extended = locker.extend(*lock, 60s);
    LS_VERIFY_OK(extended);
    QVERIFY(extended->degraded);
    const auto after = locker.ttl(*extended);
    LS_VERIFY_OK(after);
    QVERIFY2(*after > 30s, qPrintable(QString::number(after->count())));
    LS_VERIFY_OK(locker.release(*extended));
}

void TestDegraded::multiKeyAllOrNone()
{
    LS_START_SERVERS(servers, 3);
    killAll(*servers);
    Locker locker(servers->configs(), degraded());
    const auto ab = locker.tryAcquire(std::vector<QByteArray>{"mk-a", "mk-b"}, withTtl(10s));
    LS_VERIFY_OK(ab);
    QVERIFY(ab->degraded);
    QCOMPARE(ab->keys.size(), size_t(2));
    QCOMPARE(locker.stats().degradedHeld, quint64(1));
    // b is taken: none of b, c is taken.
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire(std::vector<QByteArray>{"mk-b", "mk-c"}, withTtl(10s)),
                         LockErrorKind::NotObtained);
    const auto c = locker.tryAcquire("mk-c", withTtl(10s));
    LS_VERIFY_OK(c);
    LS_VERIFY_OK(locker.release(*ab));
    LS_VERIFY_OK(locker.release(*c));
    const auto b = locker.tryAcquire("mk-b", withTtl(10s));
    LS_VERIFY_OK(b);
    LS_VERIFY_OK(locker.release(*b));
}

void TestDegraded::offFailsTyped_data()
{
    QTest::addColumn<int>("nodes");
    QTest::addColumn<int>("before");
    QTest::addRow("1 node") << 1 << int(LockErrorKind::Connection);
    QTest::addRow("3 nodes") << 3 << int(LockErrorKind::QuorumNotReached);
}

void TestDegraded::offFailsTyped()
{
    QFETCH(int, nodes);
    QFETCH(int, before);
    LS_START_SERVERS(servers, nodes);
    killAll(*servers);
    Locker locker(servers->configs(), degraded(false));
    const auto first = locker.tryAcquire("off", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(first, LockErrorKind(before));
    QVERIFY(!first.error().votes.empty());
    LockResult<Lock> result = std::unexpected(LockError{});
    for (int i = 0; i < 10; ++i) {
        result = locker.tryAcquire("off", withTtl(10s));
        QVERIFY(!result);
        if (result.error().kind == LockErrorKind::BreakerOpen)
            break;
        QCOMPARE(int(result.error().kind), before);
    }
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::BreakerOpen);
    QCOMPARE(locker.stats().degradedAcquisitions, quint64(0));
    QCOMPARE(locker.stats().degradedHeld, quint64(0));
}

void TestDegraded::heldLocallyRefusesRedis()
{
    LS_START_SERVERS(servers, 3);
    killAll(*servers);
    Locker locker(servers->configs(), degraded());
    const auto local = locker.tryAcquire("back", withTtl(30s));
    LS_VERIFY_OK(local);
    QVERIFY(local->degraded);

    for (int i = 0; i < servers->size(); ++i) {
        LS_VERIFY_OK(servers->server(i).restart());
        LS_VERIFY_OK(servers->reconnect(i));
    }
    // Redis is back; this process still holds "back" in degraded mode: no Locker of this process
    // takes it on Redis, with degraded mode or without.
    Locker plain(servers->configs());
    const auto refused = plain.tryAcquire("back", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(refused, LockErrorKind::NotObtained);
    QVERIFY2(refused.error().message.contains(QStringLiteral("degraded mode by this process")),
             qPrintable(refused.error().toString()));
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("back", withTtl(10s)), LockErrorKind::NotObtained);
    for (int i = 0; i < servers->size(); ++i)
        QVERIFY(servers->get(i, "back").isNull());

    LS_VERIFY_OK(locker.release(*local));
    const auto onRedis = plain.tryAcquire("back", withTtl(10s));
    LS_VERIFY_OK(onRedis);
    QVERIFY(!onRedis->degraded);
    QCOMPARE(servers->nodesWithToken("back", onRedis->token), 3);
    LS_VERIFY_OK(plain.release(*onRedis));

    // The degraded Locker itself goes back to Redis once its breakers let it.
    LockResult<Lock> again = std::unexpected(LockError{});
    QTRY_VERIFY_WITH_TIMEOUT(tryUntilTaken(again, [&] { return locker.tryAcquire("back2", withTtl(10s)); }),
                             10000);
    QVERIFY(!again->degraded);
    QCOMPARE(servers->nodesWithToken("back2", again->token), 3);
    LS_VERIFY_OK(locker.release(*again));
}

void TestDegraded::holdersDoNotDegrade()
{
    // A lock held by another owner on Redis is NotObtained, never an in-process lock.
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs(), degraded());
    const auto holder = locker.tryAcquire("busy", withTtl(10s));
    LS_VERIFY_OK(holder);
    QVERIFY(!holder->degraded);
    servers->server(2).kill();
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("busy", withTtl(10s)), LockErrorKind::NotObtained);
    QCOMPARE(locker.stats().degradedAcquisitions, quint64(0));
    LS_VERIFY_OK(locker.release(*holder));
}

void TestDegraded::holderOnTheLastNodeDoesNotDegrade()
{
    // Two of three nodes down, and the one left shows another owner's lock (taken before the
    // outage): too few nodes for a quorum, yet the lock is known to be held, so it is not taken
    // in-process beside that holder.
    LS_START_SERVERS(servers, 3);
    QVERIFY(servers->set(0, "taken", "someone else's", 30000));
    servers->server(1).kill();
    servers->server(2).kill();
    Locker locker(servers->configs(), degraded());
    const auto refused = locker.tryAcquire("taken", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(refused, LockErrorKind::QuorumNotReached);
    QVERIFY2(refused.error().message.contains(QStringLiteral("another holder")),
             qPrintable(refused.error().message));
    QCOMPARE(locker.stats().degradedAcquisitions, quint64(0));
    QCOMPARE(servers->get(0, "taken"), QByteArray("someone else's"));
}

void TestDegraded::openBreakersStillSeeTheHolder()
{
    // The same, once the breakers of the two dead nodes are open: the acquire is refused before
    // anything is sent (BreakerOpen), and before going local it asks the node that is left,
    // which shows the holder. When that holder is gone, the key is taken in-process.
    LS_START_SERVERS(servers, 3);
    QVERIFY(servers->set(0, "taken", "someone else's", 30000));
    servers->server(1).kill();
    servers->server(2).kill();
    LockerOptions options = degraded();
    options.breaker.coolDown = 60s; // open for the rest of the test
    Locker locker(servers->configs(), options);
    LockResult<Lock> refused = std::unexpected(LockError{});
    for (int i = 0; i < 10 && (refused || refused.error().kind != LockErrorKind::BreakerOpen); ++i)
        refused = locker.tryAcquire("taken", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(refused, LockErrorKind::BreakerOpen);
    QVERIFY2(refused.error().message.contains(QStringLiteral("still reachable, shows the key held")),
             qPrintable(refused.error().message));
    QCOMPARE(locker.stats().degradedAcquisitions, quint64(0));
    QCOMPARE(servers->get(0, "taken"), QByteArray("someone else's"));
    QCOMPARE(servers->pttl(0, "taken") > 0, true);

    QVERIFY(servers->del(0, "taken"));
    const auto local = locker.tryAcquire("taken", withTtl(10s));
    LS_VERIFY_OK(local);
    QVERIFY(local->degraded);
    QCOMPARE(servers->nodesWithToken("taken", local->token), 0);
    LS_VERIFY_OK(locker.release(*local));
}

QTEST_GUILESS_MAIN(TestDegraded)
#include "tst_degraded.moc"
