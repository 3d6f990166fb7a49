// Circuit breakers: the state machine on its own (a fake clock), and one breaker per node inside
// a Locker against real servers that are killed and restarted.
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockfixture.h"
#include "redis/circuitbreaker.h"

#include <QTest>
#include <mutex>

using namespace lockscope::lock;
using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;
using Outcome = NodeVote::Outcome;

namespace {

/// Breaker events as a Locker reports them (from any thread).
class EventLog
{
public:
    std::function<void(const BreakerEvent &)> callback()
    {
        return [this](const BreakerEvent &event) {
            std::lock_guard lock(m_mutex);
            m_events.push_back(event);
        };
    }
    bool contains(const QString &node, BreakerState from, BreakerState to)
    {
        std::lock_guard lock(m_mutex);
        return std::ranges::any_of(
            m_events, [&](const BreakerEvent &e) { return e.node == node && e.from == from && e.to == to; });
    }
    QString causeOf(const QString &node, BreakerState to)
    {
        std::lock_guard lock(m_mutex);
        for (const BreakerEvent &e : m_events)
            if (e.node == node && e.to == to)
                return e.cause;
        return {};
    }

private:
    std::mutex m_mutex;
    std::vector<BreakerEvent> m_events;
};

LockerOptions breakerOptions(EventLog &log, std::chrono::milliseconds coolDown)
{
    LockerOptions options;
    options.breaker.failureThreshold = 3;
    options.breaker.coolDown = coolDown;
    options.onBreakerChange = log.callback();
    return options;
}

RedisError failure(ErrorKind kind, const QString &message = QStringLiteral("connection refused"))
{
    return RedisError{kind, QStringLiteral("n1"), message};
}

/// BreakerStatus::lastCause after one failure of this kind and message.
QString failureCause(ErrorKind kind, const char *message)
{
    CircuitBreaker breaker(QStringLiteral("n1"), BreakerOptions{true, 5, 1s});
    breaker.recordFailure(RedisError{kind, QStringLiteral("n1"), QString::fromLatin1(message)});
    return breaker.status().lastCause;
}

/// Tries `key` until node `i`'s breaker is open; false if it never opens within `tries`.
bool failUntilOpen(Locker &locker, size_t i, const QByteArray &key, int tries = 12)
{
    for (int t = 0; t < tries; ++t) {
        if (locker.breakerStates().at(i).state == BreakerState::Open)
            return true;
        auto result = locker.tryAcquire(key + QByteArray::number(t), withTtl(10s));
        if (result)
            (void)locker.release(*result);
    }
    return locker.breakerStates().at(i).state == BreakerState::Open;
}

/// For QTRY_*, which evaluates its expression once more after it held: tries only until taken.
template <typename Acquire>
bool tryUntilTaken(LockResult<Lock> &result, Acquire acquire)
{
    if (!result)
        result = acquire();
    return result.has_value();
}

/// Calls that write a lock, as node i counts them (INFO commandstats).
qint64 lockWrites(ServerSet &servers, int i)
{
    return servers.commandCalls(i, {"set", "eval", "evalsha"});
}

} // namespace

class TestBreaker : public QObject
{
    Q_OBJECT

private slots:
    void stateNames();
    void failureKinds();
    void stateMachine();
    void halfOpenProbeIsExclusive();
    void lostProbeIsGivenUp();
    void disabled();
    void callbackMayReadStatus();

    void opensOnKilledNode();
    void redlockSkipsOpenNode();
    void twoOfThreeOpenFailAtOnce();
};

void TestBreaker::stateNames()
{
    QCOMPARE(breakerStateName(BreakerState::Closed), QStringLiteral("closed"));
    QCOMPARE(breakerStateName(BreakerState::Open), QStringLiteral("open"));
    QCOMPARE(breakerStateName(BreakerState::HalfOpen), QStringLiteral("half-open"));
    QCOMPARE(LockError::kindName(LockErrorKind::BreakerOpen), QStringLiteral("breaker-open"));
}

void TestBreaker::failureKinds()
{
    for (ErrorKind kind :
         {ErrorKind::Resolve, ErrorKind::Refused, ErrorKind::Unreachable, ErrorKind::Timeout,
          ErrorKind::ConnectionClosed, ErrorKind::Io, ErrorKind::Tls, ErrorKind::NotTls, ErrorKind::Protocol})
        QVERIFY2(CircuitBreaker::countsAsFailure(kind), qPrintable(RedisError::kindName(kind)));
    for (ErrorKind kind :
         {ErrorKind::NoPerm, ErrorKind::ReadOnlyReplica, ErrorKind::OutOfMemory, ErrorKind::WrongType,
          ErrorKind::Server, ErrorKind::AuthFailed, ErrorKind::PoolExhausted, ErrorKind::ClusterRedirect,
          ErrorKind::NoScript, ErrorKind::InvalidConfig})
        QVERIFY2(!CircuitBreaker::countsAsFailure(kind), qPrintable(RedisError::kindName(kind)));
}

void TestBreaker::stateMachine()
{
    CircuitBreaker::Clock::time_point now{};
    std::vector<BreakerEvent> events;
    CircuitBreaker breaker(
        QStringLiteral("n1"), BreakerOptions{true, 3, 1000ms},
        [&](const BreakerEvent &e) { events.push_back(e); }, [&] { return now; });
    QVERIFY(breaker.allow());
    breaker.recordFailure(failure(ErrorKind::Refused));
    breaker.recordFailure(failure(ErrorKind::Refused));
    QCOMPARE(breaker.status().consecutiveFailures, 2);
    // An answer, even an error one, proves the node is up: the count starts again.
    breaker.recordFailure(failure(ErrorKind::NoPerm, QStringLiteral("NOPERM")));
    QCOMPARE(breaker.status().consecutiveFailures, 0);
    // A busy local pool says nothing about the node: neither counted nor a reset.
    breaker.recordFailure(failure(ErrorKind::Refused));
    breaker.recordFailure(failure(ErrorKind::PoolExhausted, QStringLiteral("pool busy")));
    QCOMPARE(breaker.status().consecutiveFailures, 1);
    QCOMPARE(breaker.status().state, BreakerState::Closed);
    QVERIFY(events.empty());

    breaker.recordFailure(failure(ErrorKind::Refused));
    breaker.recordFailure(
        failure(ErrorKind::ConnectionClosed, QStringLiteral("connection closed by the server")));
    BreakerStatus status = breaker.status();
    QCOMPARE(status.state, BreakerState::Open);
    QCOMPARE(status.consecutiveFailures, 3);
    QCOMPARE(status.opens, quint64(1));
    QCOMPARE(status.lastCause, QStringLiteral("connection closed by the server"));
    QCOMPARE(failureCause(ErrorKind::Refused, "nothing is listening"),
             QStringLiteral("connection refused: nothing is listening"));
    QVERIFY(status.lastFailureAt.isValid());
    QVERIFY(status.openUntil > QDateTime::currentDateTime());
    QVERIFY2(status.describe().startsWith(QStringLiteral("open until ")), qPrintable(status.describe()));
    QCOMPARE(events.size(), size_t(1));
    QCOMPARE(events[0].from, BreakerState::Closed);
    QCOMPARE(events[0].to, BreakerState::Open);
    QCOMPARE(events[0].cause, QStringLiteral("connection closed by the server"));

    QVERIFY(!breaker.wouldAllow());
    QVERIFY(!breaker.allow());
    QCOMPARE(breaker.status().rejected, quint64(1));
    now += 999ms;
    QVERIFY(!breaker.allow());
    now += 1ms;
    // Due for a probe: asking does not take the slot.
    QVERIFY(breaker.wouldAllow());
    QVERIFY(breaker.wouldAllow());
    QCOMPARE(breaker.status().state, BreakerState::Open);
    QVERIFY(breaker.allow());
    QCOMPARE(breaker.status().state, BreakerState::HalfOpen);
    QCOMPARE(events.back().to, BreakerState::HalfOpen);
    // The probe fails: open again, a fresh cool-down from now.
    breaker.recordFailure(failure(ErrorKind::Timeout, QStringLiteral("timed out")));
    QCOMPARE(breaker.status().state, BreakerState::Open);
    QCOMPARE(breaker.status().opens, quint64(2));
    QCOMPARE(events.back().from, BreakerState::HalfOpen);
    QCOMPARE(events.back().to, BreakerState::Open);
    now += 999ms;
    QVERIFY(!breaker.allow());
    now += 1ms;
    QVERIFY(breaker.allow());
    breaker.recordSuccess();
    status = breaker.status();
    QCOMPARE(status.state, BreakerState::Closed);
    QCOMPARE(status.consecutiveFailures, 0);
    QVERIFY(status.openUntil.isNull());
    QCOMPARE(events.back().from, BreakerState::HalfOpen);
    QCOMPARE(events.back().to, BreakerState::Closed);
    QCOMPARE(events.size(), size_t(5));
}

void TestBreaker::halfOpenProbeIsExclusive()
{
    CircuitBreaker::Clock::time_point now{};
    CircuitBreaker breaker(QStringLiteral("n1"), BreakerOptions{true, 1, 100ms}, {}, [&] { return now; });
    breaker.recordFailure(failure(ErrorKind::Refused));
    QCOMPARE(breaker.status().state, BreakerState::Open);
    now += 100ms;
    QVERIFY(breaker.allow());  // the probe
    QVERIFY(!breaker.allow()); // everyone else until it reports
    QVERIFY(!breaker.wouldAllow());
    QCOMPARE(breaker.status().rejected, quint64(1));
    // A probe that ended in a neutral error (a busy pool) frees the slot for the next caller.
    breaker.recordFailure(failure(ErrorKind::PoolExhausted, QStringLiteral("pool busy")));
    QCOMPARE(breaker.status().state, BreakerState::HalfOpen);
    QVERIFY(breaker.allow());
    QVERIFY(!breaker.allow());
    breaker.recordSuccess();
    QVERIFY(breaker.allow());
    QVERIFY(breaker.allow());
}

void TestBreaker::lostProbeIsGivenUp()
{
    CircuitBreaker::Clock::time_point now{};
    CircuitBreaker breaker(QStringLiteral("n1"), BreakerOptions{true, 1, 100ms}, {}, [&] { return now; });
    breaker.recordFailure(failure(ErrorKind::Refused));
    now += 100ms;
    QVERIFY(breaker.allow()); // a probe whose caller never reports
    now += 99ms;
    QVERIFY(!breaker.allow());
    now += 1ms;
    QVERIFY(breaker.allow());
}

void TestBreaker::disabled()
{
    std::vector<BreakerEvent> events;
    CircuitBreaker breaker(QStringLiteral("n1"), BreakerOptions{false, 1, 10s},
                           [&](const BreakerEvent &e) { events.push_back(e); });
    for (int i = 0; i < 5; ++i) {
        breaker.recordFailure(failure(ErrorKind::Refused));
        QVERIFY(breaker.allow());
        QVERIFY(breaker.wouldAllow());
    }
    const BreakerStatus status = breaker.status();
    QCOMPARE(status.state, BreakerState::Closed);
    QCOMPARE(status.consecutiveFailures, 0);
    QCOMPARE(status.rejected, quint64(0));
    QVERIFY(events.empty());
}

void TestBreaker::callbackMayReadStatus()
{
    // onChange runs outside the breaker's mutex: reading the status from it must not deadlock.
    std::unique_ptr<CircuitBreaker> breaker;
    BreakerState seen = BreakerState::Closed;
    breaker = std::make_unique<CircuitBreaker>(QStringLiteral("n1"), BreakerOptions{true, 1, 10s},
                                               [&](const BreakerEvent &) { seen = breaker->status().state; });
    breaker->recordFailure(failure(ErrorKind::Refused));
    QCOMPARE(seen, BreakerState::Open);
}

void TestBreaker::opensOnKilledNode()
{
    LS_START_SERVERS(servers, 1);
    EventLog log;
    Locker locker(servers->configs(), breakerOptions(log, 2s));
    const QString node = ServerSet::nodeName(0);
    auto warm = locker.tryAcquire("warm", withTtl(10s));
    LS_VERIFY_OK(warm);
    LS_VERIFY_OK(locker.release(*warm));

    servers->server(0).kill();
    auto failed = locker.tryAcquire("down", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(failed, LockErrorKind::Connection);
    QVERIFY(failUntilOpen(locker, 0, "down"));
    BreakerStatus status = locker.breakerStates().at(0);
    QCOMPARE(status.node, node);
    QCOMPARE(status.opens, quint64(1));
    QVERIFY2(status.lastCause.contains(QStringLiteral("refused"), Qt::CaseInsensitive) ||
                 status.lastCause.contains(QStringLiteral("closed"), Qt::CaseInsensitive),
             qPrintable(status.lastCause));
    QVERIFY(log.contains(node, BreakerState::Closed, BreakerState::Open));
    QCOMPARE(log.causeOf(node, BreakerState::Open), status.lastCause);

    // Open: refused at once, nothing sent, the node and the time named.
    const auto refused = locker.tryAcquire("while-open", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(refused, LockErrorKind::BreakerOpen);
    QVERIFY2(refused.error().message.contains(node), qPrintable(refused.error().toString()));
    QVERIFY2(refused.error().message.contains(QStringLiteral("0 of 1 nodes usable, quorum 1")),
             qPrintable(refused.error().toString()));
    QVERIFY(refused.error().votes.empty());
    QVERIFY(locker.stats().breakerRejections >= 1);
    QCOMPARE(locker.stats().breakerOpens, quint64(1));

    // After the cool-down one probe goes out; the node is still down: open again.
    QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTime() > locker.breakerStates().at(0).openUntil, 10000);
    const auto probe = locker.tryAcquire("probe", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(probe, LockErrorKind::Connection);
    QVERIFY(log.contains(node, BreakerState::Open, BreakerState::HalfOpen));
    QVERIFY(log.contains(node, BreakerState::HalfOpen, BreakerState::Open));
    QCOMPARE(locker.breakerStates().at(0).state, BreakerState::Open);
    QCOMPARE(locker.breakerStates().at(0).opens, quint64(2));

    // The server comes back on the same port while the breaker is still open: nothing reaches it.
    LS_VERIFY_OK(servers->server(0).restart());
    LS_VERIFY_OK(servers->reconnect(0));
    if (QDateTime::currentDateTime().msecsTo(locker.breakerStates().at(0).openUntil) > 200) {
        LS_VERIFY_LOCK_ERROR(locker.tryAcquire("still-open", withTtl(10s)), LockErrorKind::BreakerOpen);
        auto keys = servers->admin(0).command({"DBSIZE"});
        LS_VERIFY_OK(keys);
        QCOMPARE(keys->integer(), qint64(0));
        QCOMPARE(lockWrites(*servers, 0), qint64(0));
    } else {
        qWarning("the restart outlasted the cool-down: the check that nothing was sent is skipped");
    }

    // After the cool-down the probe reaches the node, which answers: closed.
    LockResult<Lock> back = std::unexpected(LockError{});
    QTRY_VERIFY_WITH_TIMEOUT(tryUntilTaken(back, [&] { return locker.tryAcquire("back", withTtl(10s)); }),
                             10000);
    QVERIFY(log.contains(node, BreakerState::HalfOpen, BreakerState::Closed));
    status = locker.breakerStates().at(0);
    QCOMPARE(status.state, BreakerState::Closed);
    QCOMPARE(status.consecutiveFailures, 0);
    QVERIFY(servers->get(0, "back").startsWith(LockValue::ownerPrefix(back->token)));
    LS_VERIFY_OK(locker.release(*back));
}

void TestBreaker::redlockSkipsOpenNode()
{
    LS_START_SERVERS(servers, 3);
    EventLog log;
    Locker locker(servers->configs(), breakerOptions(log, 30s));
    servers->server(2).kill();
    QVERIFY(failUntilOpen(locker, 2, "warmup"));
    QVERIFY(log.contains(ServerSet::nodeName(2), BreakerState::Closed, BreakerState::Open));
    QCOMPARE(locker.breakerStates().at(0).state, BreakerState::Closed);
    QCOMPARE(locker.breakerStates().at(1).state, BreakerState::Closed);

    const quint64 rejectedBefore = locker.stats().breakerRejections;
    const auto lock = locker.tryAcquire("job", withTtl(10s));
    LS_VERIFY_OK(lock);
    QVERIFY(!lock->degraded);
    QCOMPARE(lock->votes.size(), size_t(3));
    QVERIFY2(lock->votes[0].outcome == Outcome::Granted && lock->votes[1].outcome == Outcome::Granted &&
                 lock->votes[2].outcome == Outcome::Error,
             qPrintable(outcomes(lock->votes)));
    QVERIFY(lock->votes[2].error);
    QCOMPARE(lock->votes[2].error->kind, ErrorKind::Unreachable);
    QVERIFY2(lock->votes[2].error->message.contains(QStringLiteral("circuit breaker open")),
             qPrintable(lock->votes[2].error->message));
    QVERIFY(locker.stats().breakerRejections > rejectedBefore);
    const QByteArray prefix = LockValue::ownerPrefix(lock->token);
    QVERIFY(servers->get(0, "job").startsWith(prefix));
    QVERIFY(servers->get(1, "job").startsWith(prefix));

    LS_VERIFY_OK(locker.ttl(*lock));
    LS_VERIFY_OK(locker.extend(*lock, 10s));
    LS_VERIFY_OK(locker.release(*lock));
    QVERIFY(servers->get(0, "job").isNull());
    QVERIFY(servers->get(1, "job").isNull());
    QCOMPARE(locker.stats().breakerOpens, quint64(1));
}

void TestBreaker::twoOfThreeOpenFailAtOnce()
{
    LS_START_SERVERS(servers, 3);
    EventLog log;
    Locker locker(servers->configs(), breakerOptions(log, 30s));
    const auto held = locker.tryAcquire("held", withTtl(30s));
    LS_VERIFY_OK(held);
    servers->server(1).kill();
    servers->server(2).kill();
    // Before the breakers open, the nodes' failures deny the quorum.
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("first", withTtl(10s)), LockErrorKind::QuorumNotReached);
    QVERIFY(failUntilOpen(locker, 1, "more"));
    QVERIFY(failUntilOpen(locker, 2, "more"));

    const qint64 writesBefore = lockWrites(*servers, 0);
    QVERIFY(writesBefore > 0);
    AcquireOptions blocking;
    blocking.ttl = 10s;
    blocking.wait = 60s;
    blocking.retry = RetryStrategy::linear(1s);
    const auto refused = locker.acquire("job", blocking);
    LS_VERIFY_LOCK_ERROR(refused, LockErrorKind::BreakerOpen);
    const QString message = refused.error().message;
    QVERIFY2(message.contains(ServerSet::nodeName(1)) && message.contains(ServerSet::nodeName(2)) &&
                 !message.contains(ServerSet::nodeName(0)),
             qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("1 of 3 nodes usable, quorum 2")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("until ")), qPrintable(message));
    // Nothing was sent to the node that is up.
    QCOMPARE(lockWrites(*servers, 0), writesBefore);
    QVERIFY(servers->get(0, "job").isNull());

    // A lock taken before: release, extend and ttl fail at once too, and leave it on node 0.
    LS_VERIFY_LOCK_ERROR(locker.ttl(*held), LockErrorKind::BreakerOpen);
    LS_VERIFY_LOCK_ERROR(locker.extend(*held, 10s), LockErrorKind::BreakerOpen);
    LS_VERIFY_LOCK_ERROR(locker.release(*held), LockErrorKind::BreakerOpen);
    QVERIFY(servers->get(0, "held").startsWith(LockValue::ownerPrefix(held->token)));
    QCOMPARE(lockWrites(*servers, 0), writesBefore);
    QCOMPARE(locker.stats().breakerOpens, quint64(2));
}

QTEST_GUILESS_MAIN(TestBreaker)
#include "tst_breaker.moc"
