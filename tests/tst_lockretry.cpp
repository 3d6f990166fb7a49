#include "lock/locker.h"
#include "lock/retry.h"
#include "lockfixture.h"

#include <QTest>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

using namespace lockscope::lock;
using namespace lockscope::test;
using namespace std::chrono_literals;

namespace {

/// A clock that never sleeps: sleepUntil records the requested wake time (relative to the
/// clock's start) and jumps the fake time there. An optional hook runs at every sleep.
class FakeClock : public LockClock
{
public:
    SteadyClock::time_point now() const override
    {
        std::lock_guard lock(m_mutex);
        return m_now;
    }

    bool sleepUntil(SteadyClock::time_point until, const CancellationToken *cancel) override
    {
        std::function<void(int)> hook;
        int index = 0;
        {
            std::lock_guard lock(m_mutex);
            m_sleeps.push_back(std::chrono::duration_cast<milliseconds>(until - m_start));
            index = static_cast<int>(m_sleeps.size());
            if (until > m_now)
                m_now = until;
            hook = m_hook;
        }
        if (hook)
            hook(index);
        return !(cancel && cancel->isCancelled());
    }

    /// Wake times requested so far, in ms since the clock's start.
    std::vector<qint64> sleeps() const
    {
        std::lock_guard lock(m_mutex);
        std::vector<qint64> result;
        for (const auto &s : m_sleeps)
            result.push_back(s.count());
        return result;
    }

    qint64 elapsedMs() const
    {
        std::lock_guard lock(m_mutex);
        return std::chrono::duration_cast<milliseconds>(m_now - m_start).count();
    }

    void setHook(std::function<void(int)> hook)
    {
        std::lock_guard lock(m_mutex);
        m_hook = std::move(hook);
    }

private:
    mutable std::mutex m_mutex;
    const SteadyClock::time_point m_start = SteadyClock::now();
    SteadyClock::time_point m_now = m_start;
    std::vector<milliseconds> m_sleeps;
    std::function<void(int)> m_hook;
};

QByteArray listText(const std::vector<qint64> &values)
{
    QByteArray text;
    for (const qint64 v : values)
        text += QByteArray::number(v) + ' ';
    return text;
}

} // namespace

class TestLockRetry : public QObject
{
    Q_OBJECT

private slots:
    // RetryStrategy alone
    void noneNeverRetries();
    void linearSchedule();
    void linearJitter();
    void exponentialScheduleIsCapped();
    void exponentialJitterBounds();
    void maxTries();

    // Blocking acquire against a held key on a fake clock
    void acquireSleepsLinearScheduleThenTimesOut();
    void acquireSleepsExponentialJitterSchedule();
    void acquireWaitDefaultsToTtl();
    void acquireGivesUpAfterMaxTries();
    void acquireWithNoRetryIsOneAttempt();
    void acquireSucceedsWhenHolderLetsGo();
    void timeoutCarriesConnectionCause();

    // Real clock
    void cancelFromAnotherThread();
    void cancelledBeforeStart();
};

void TestLockRetry::noneNeverRetries()
{
    const RetryStrategy s = RetryStrategy::none();
    QCOMPARE(s.kind, RetryStrategy::Kind::None);
    QVERIFY(!s.allowsAnotherAfter(1));
    QVERIFY(!s.allowsAnotherAfter(0));
    QCOMPARE(s.delayBefore(1, 0.5), 0ms);
    QCOMPARE(s.delayBefore(5, 0.0), 0ms);
}

void TestLockRetry::linearSchedule()
{
    const RetryStrategy s = RetryStrategy::linear(100ms);
    QCOMPARE(s.kind, RetryStrategy::Kind::Linear);
    for (int retry = 1; retry <= 50; ++retry)
        QCOMPARE(s.delayBefore(retry, 0.7), 100ms); // no jitter: the random number is ignored
    QCOMPARE(s.delayBefore(0, 0.0), 0ms);
    QVERIFY(s.allowsAnotherAfter(1));
    QVERIFY(s.allowsAnotherAfter(1'000'000)); // maxTries 0: until the deadline
}

void TestLockRetry::linearJitter()
{
    const RetryStrategy s = RetryStrategy::linear(100ms, 0, 0.5);
    QCOMPARE(s.delayBefore(1, 0.0), 100ms);
    QCOMPARE(s.delayBefore(1, 0.5), 75ms);
    QCOMPARE(s.delayBefore(3, 0.5), 75ms);
    QCOMPARE(s.delayBefore(1, 0.999999), 50ms);
    for (int i = 0; i < 100; ++i) {
        const double r = i / 100.0;
        const auto d = s.delayBefore(2, r);
        QVERIFY2(d >= 50ms && d <= 100ms, QByteArray::number(d.count()));
    }
    // Out-of-range random numbers are clamped, never producing a negative or larger delay.
    QCOMPARE(s.delayBefore(1, -3.0), 100ms);
    QCOMPARE(s.delayBefore(1, 7.0), 50ms);
}

void TestLockRetry::exponentialScheduleIsCapped()
{
    const RetryStrategy s = RetryStrategy::exponential(10ms, 100ms);
    QCOMPARE(s.kind, RetryStrategy::Kind::Exponential);
    const std::vector<milliseconds> expected{10ms, 20ms, 40ms, 80ms, 100ms, 100ms, 100ms};
    for (size_t i = 0; i < expected.size(); ++i)
        QCOMPARE(s.delayBefore(static_cast<int>(i) + 1, 0.3), expected[i]);
    // Very late retries stay at the cap (no overflow).
    QCOMPARE(s.delayBefore(64, 0.0), 100ms);
    QCOMPARE(s.delayBefore(100'000, 0.0), 100ms);
    // A maximum below the minimum is raised to the minimum.
    const RetryStrategy odd = RetryStrategy::exponential(50ms, 10ms);
    QCOMPARE(odd.delayBefore(1, 0.0), 50ms);
    QCOMPARE(odd.delayBefore(4, 0.0), 50ms);
}

void TestLockRetry::exponentialJitterBounds()
{
    const RetryStrategy s = RetryStrategy::exponential(10ms, 100ms, 0, 0.5);
    // Fixed random value 0.5: three quarters of each step, never below the minimum.
    QCOMPARE(s.delayBefore(1, 0.5), 10ms); // 7.5 raised to the minimum
    QCOMPARE(s.delayBefore(2, 0.5), 15ms);
    QCOMPARE(s.delayBefore(3, 0.5), 30ms);
    QCOMPARE(s.delayBefore(4, 0.5), 60ms);
    QCOMPARE(s.delayBefore(5, 0.5), 75ms);
    QCOMPARE(s.delayBefore(9, 0.5), 75ms);
    for (int retry = 1; retry <= 8; ++retry) {
        const auto base = RetryStrategy::exponential(10ms, 100ms).delayBefore(retry, 0.0);
        for (int i = 0; i <= 100; ++i) {
            const auto d = s.delayBefore(retry, i / 101.0);
            QVERIFY2(
                d <= base,
                qPrintable(QStringLiteral("retry %1: %2 > %3").arg(retry).arg(d.count()).arg(base.count())));
            QVERIFY2(d >= std::max(10ms, base / 2),
                     qPrintable(QStringLiteral("retry %1: %2 too short").arg(retry).arg(d.count())));
        }
    }
}

void TestLockRetry::maxTries()
{
    const RetryStrategy s = RetryStrategy::linear(10ms, 3);
    QVERIFY(s.allowsAnotherAfter(1));
    QVERIFY(s.allowsAnotherAfter(2));
    QVERIFY(!s.allowsAnotherAfter(3));
    QVERIFY(!s.allowsAnotherAfter(4));
    const RetryStrategy once = RetryStrategy::exponential(10ms, 20ms, 1);
    QVERIFY(!once.allowsAnotherAfter(1));
}

namespace {

std::unique_ptr<Locker> fakeClockLocker(ServerSet &servers, const std::shared_ptr<FakeClock> &clock,
                                        std::function<double()> random = {})
{
    LockerOptions options;
    // Retry schedules against a node that is down: the breaker would end them after three
    // failures (tst_breaker covers that).
    options.breaker.enabled = false;
    options.clock = clock;
    options.random = std::move(random);
    return std::make_unique<Locker>(servers.configs(), options);
}

} // namespace

void TestLockRetry::acquireSleepsLinearScheduleThenTimesOut()
{
    LS_START_SERVERS(servers, 1);
    QVERIFY(servers->set(0, "held", "foreign-owner", 60'000));
    auto clock = std::make_shared<FakeClock>();
    auto locker = fakeClockLocker(*servers, clock);

    AcquireOptions options;
    options.ttl = 10s;
    options.wait = 350ms;
    options.retry = RetryStrategy::linear(100ms);
    const auto started = SteadyClock::now();
    const auto result = locker->acquire("held", options);
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::Timeout);
    // The last sleep is cut short by the deadline; one more attempt follows it.
    const std::vector<qint64> expected{100, 200, 300, 350};
    QVERIFY2(clock->sleeps() == expected, listText(clock->sleeps()).constData());
    QCOMPARE(result.error().attempts, 5);
    QVERIFY(result.error().lastCause.has_value());
    QCOMPARE(*result.error().lastCause, LockErrorKind::NotObtained);
    QCOMPARE(result.error().key, QStringLiteral("held"));
    QCOMPARE(result.error().votes.size(), size_t(1));
    QCOMPARE(result.error().votes[0].outcome, NodeVote::Outcome::Held);
    QVERIFY2(result.error().message.contains(QStringLiteral("not obtained")),
             qPrintable(result.error().toString()));
    // The fake clock made it instant: no real sleeping (generous bound).
    QVERIFY2(elapsedMs(started) < 5000, QByteArray::number(elapsedMs(started)));
    QCOMPARE(servers->get(0, "held"), QByteArray("foreign-owner"));
}

void TestLockRetry::acquireSleepsExponentialJitterSchedule()
{
    LS_START_SERVERS(servers, 1);
    QVERIFY(servers->set(0, "held", "foreign-owner", 60'000));
    auto clock = std::make_shared<FakeClock>();
    auto locker = fakeClockLocker(*servers, clock, [] { return 0.5; });

    AcquireOptions options;
    options.ttl = 10s;
    options.wait = 500ms;
    options.retry = RetryStrategy::exponential(10ms, 80ms, 0, 0.5);
    const auto result = locker->acquire("held", options);
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::Timeout);
    // Delays 10 (7.5 raised to the minimum), 15, 30, 60, 60, ... ; the last one cut at 500.
    const std::vector<qint64> expected{10, 25, 55, 115, 175, 235, 295, 355, 415, 475, 500};
    QVERIFY2(clock->sleeps() == expected, listText(clock->sleeps()).constData());
    QCOMPARE(result.error().attempts, 12);
    QCOMPARE(result.error().lastCause, std::optional(LockErrorKind::NotObtained));
}

void TestLockRetry::acquireWaitDefaultsToTtl()
{
    LS_START_SERVERS(servers, 1);
    QVERIFY(servers->set(0, "held", "foreign-owner", 60'000));
    auto clock = std::make_shared<FakeClock>();
    auto locker = fakeClockLocker(*servers, clock);

    AcquireOptions options;
    options.ttl = 300ms;
    options.retry = RetryStrategy::linear(100ms);
    const auto result = locker->acquire("held", options);
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::Timeout);
    const std::vector<qint64> expected{100, 200, 300};
    QVERIFY2(clock->sleeps() == expected, listText(clock->sleeps()).constData());
    QCOMPARE(result.error().attempts, 4);
    QCOMPARE(result.error().lastCause, std::optional(LockErrorKind::NotObtained));
}

void TestLockRetry::acquireGivesUpAfterMaxTries()
{
    LS_START_SERVERS(servers, 1);
    QVERIFY(servers->set(0, "held", "foreign-owner", 60'000));
    auto clock = std::make_shared<FakeClock>();
    auto locker = fakeClockLocker(*servers, clock);

    AcquireOptions options;
    options.ttl = 10s;
    options.wait = 60s;
    options.retry = RetryStrategy::linear(50ms, 3);
    const auto result = locker->acquire("held", options);
    // Out of tries before the deadline: the cause itself, with the attempt count.
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::NotObtained);
    const std::vector<qint64> expected{50, 100};
    QVERIFY2(clock->sleeps() == expected, listText(clock->sleeps()).constData());
    QCOMPARE(result.error().attempts, 3);
    QCOMPARE(clock->elapsedMs(), qint64(100));
}

void TestLockRetry::acquireWithNoRetryIsOneAttempt()
{
    LS_START_SERVERS(servers, 1);
    QVERIFY(servers->set(0, "held", "foreign-owner", 60'000));
    auto clock = std::make_shared<FakeClock>();
    auto locker = fakeClockLocker(*servers, clock);

    AcquireOptions options;
    options.ttl = 10s;
    options.wait = 5s;
    options.retry = RetryStrategy::none();
    const auto result = locker->acquire("held", options);
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::NotObtained);
    QVERIFY(clock->sleeps().empty());
    QCOMPARE(result.error().attempts, 1);
    QCOMPARE(result.error().votes.size(), size_t(1));
    QVERIFY(result.error().votes[0].pttl > 50'000);
}

void TestLockRetry::acquireSucceedsWhenHolderLetsGo()
{
    LS_START_SERVERS(servers, 1);
    QVERIFY(servers->set(0, "held", "foreign-owner", 60'000));
    auto clock = std::make_shared<FakeClock>();
    auto locker = fakeClockLocker(*servers, clock);
    // The foreign holder deletes its key during our third sleep.
    auto *set = servers.get();
    clock->setHook([set](int sleep) {
        if (sleep == 3)
            set->del(0, "held");
    });

    AcquireOptions options;
    options.ttl = 10s;
    options.wait = 10s;
    options.retry = RetryStrategy::linear(100ms);
    const auto result = locker->acquire("held", options);
    clock->setHook({});
    LS_VERIFY_OK(result);
    const std::vector<qint64> expected{100, 200, 300};
    QVERIFY2(clock->sleeps() == expected, listText(clock->sleeps()).constData());
    QCOMPARE(servers->nodesWithToken("held", result->token), 1);
    QVERIFY(result->fence >= 1);
    // Validity is computed on the locker's (fake) clock: the whole TTL minus drift.
    QCOMPARE(result->validityLeft(clock->now()), 10s - 100ms - 2ms);
    LS_VERIFY_OK(locker->release(*result));
}

void TestLockRetry::timeoutCarriesConnectionCause()
{
    LS_START_SERVERS(servers, 1);
    auto clock = std::make_shared<FakeClock>();
    auto locker = fakeClockLocker(*servers, clock);
    servers->server(0).kill();

    AcquireOptions options;
    options.ttl = 10s;
    options.wait = 250ms;
    options.retry = RetryStrategy::linear(100ms);
    const auto result = locker->acquire("any", options);
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::Timeout);
    QCOMPARE(result.error().lastCause, std::optional(LockErrorKind::Connection));
    QCOMPARE(result.error().attempts, 4);
    QCOMPARE(result.error().votes.size(), size_t(1));
    QCOMPARE(result.error().votes[0].outcome, NodeVote::Outcome::Error);
    QVERIFY(result.error().votes[0].error.has_value());
    QCOMPARE(result.error().votes[0].node, QStringLiteral("node0"));
}

void TestLockRetry::cancelFromAnotherThread()
{
    LS_START_SERVERS(servers, 1);
    QVERIFY(servers->set(0, "held", "foreign-owner", 60'000));
    Locker locker(servers->configs());

    auto cancel = std::make_shared<CancellationToken>();
    AcquireOptions options;
    options.ttl = 30s;
    options.wait = 30s;
    options.retry = RetryStrategy::linear(5s); // would sleep 5 s between attempts
    options.cancel = cancel;

    std::chrono::steady_clock::time_point cancelledAt;
    std::thread canceller([&] {
        std::this_thread::sleep_for(300ms);
        cancelledAt = std::chrono::steady_clock::now();
        cancel->cancel();
    });
    const auto result = locker.acquire("held", options);
    const auto returnedAt = std::chrono::steady_clock::now();
    canceller.join();

    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::Cancelled);
    QCOMPARE(result.error().lastCause, std::optional(LockErrorKind::NotObtained));
    QVERIFY(result.error().attempts >= 1);
    const auto reaction = std::chrono::duration_cast<milliseconds>(returnedAt - cancelledAt).count();
    QVERIFY2(reaction < 1000, qPrintable(QStringLiteral("returned %1 ms after cancel()").arg(reaction)));
    QCOMPARE(servers->get(0, "held"), QByteArray("foreign-owner"));
}

void TestLockRetry::cancelledBeforeStart()
{
    LS_START_SERVERS(servers, 1);
    QVERIFY(servers->set(0, "held", "foreign-owner", 60'000));
    Locker locker(servers->configs());

    AcquireOptions options;
    options.ttl = 30s;
    options.retry = RetryStrategy::linear(5s);
    options.cancel = std::make_shared<CancellationToken>();
    options.cancel->cancel();
    const auto started = SteadyClock::now();
    const auto result = locker.acquire("held", options);
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::Cancelled);
    QCOMPARE(result.error().attempts, 1);
    QVERIFY2(elapsedMs(started) < 4000, QByteArray::number(elapsedMs(started)));
}

QTEST_GUILESS_MAIN(TestLockRetry)
#include "tst_lockretry.moc"
