#include "lock/locker.h"
#include "lock/lockscripts.h"
#include "lock/lockvalue.h"
#include "lockfixture.h"

#include <QTest>
#include <atomic>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

using namespace lockscope::lock;
using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;
using Outcome = NodeVote::Outcome;

namespace {

bool inRange(qint64 value, qint64 low, qint64 high)
{
    return value > low && value <= high;
}

QByteArray rangeMessage(const char *what, int node, qint64 value)
{
    return QByteArray(what) + " on node" + QByteArray::number(node) + ": " + QByteArray::number(value);
}

void addNodeCounts(std::initializer_list<int> counts)
{
    QTest::addColumn<int>("nodes");
    for (const int n : counts)
        QTest::addRow("%d node%s", n, n == 1 ? "" : "s") << n;
}

} // namespace

class TestLocker : public QObject
{
    Q_OBJECT

private slots:
    void invalidArguments();
    void obtainDenyReleaseObtain_data() { addNodeCounts({1, 3, 5}); }
    void obtainDenyReleaseObtain();
    void concurrentContendersOneWinner_data() { addNodeCounts({1, 3, 5}); }
    void concurrentContendersOneWinner();
    void releaseAfterForeignOverwrite_data() { addNodeCounts({1, 3}); }
    void releaseAfterForeignOverwrite();
    void releaseWithOneNodeOverwritten();
    void releaseAndExtendAfterExpiry_data() { addNodeCounts({1, 3}); }
    void releaseAndExtendAfterExpiry();
    void extendAddVsReplace_data() { addNodeCounts({1, 3}); }
    void extendAddVsReplace();
    void wrongTokenChangesNothing();
    void quorumMatrix_data() { addNodeCounts({3, 5}); }
    void quorumMatrix();
    void killedNodes();
    void pausedNodeValidityExpired();
    void unresponsiveNodeCostsNodeTimeoutNotConnectTimeout_data();
    void unresponsiveNodeCostsNodeTimeoutNotConnectTimeout();
    void extendHealsRestartedNode();
    void healNeverTakesForeignKey();
    void healOnExpiredLockFails_data() { addNodeCounts({1, 3}); }
    void healOnExpiredLockFails();
    void fencingStrictlyIncreasing_data() { addNodeCounts({1, 3}); }
    void fencingStrictlyIncreasing();
    void fencingIsMaxAmongVoters();
    void fencingMonotonicAcrossQuorums();
    void fencingRaiseOnlyWhenCountersDiffer();
    void fencingHealAndHandleNeverLower();
    void callerSuppliedToken_data() { addNodeCounts({1, 3}); }
    void callerSuppliedToken();
    void handoffByToken();
    void acquireOrExtend_data() { addNodeCounts({1, 3}); }
    void acquireOrExtend();
    void ttlIsOwnerChecked();
    void noscriptFallback_data() { addNodeCounts({1, 3}); }
    void noscriptFallback();
    void nonStringKeyIsAnErrorVote_data() { addNodeCounts({1, 3}); }
    void nonStringKeyIsAnErrorVote();
    void keyPrefix();
    void withoutFencing_data() { addNodeCounts({1, 3}); }
    void withoutFencing();
    void poolBound();
};

void TestLocker::invalidArguments()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    auto emptyKey = locker.tryAcquire("", withTtl(1s));
    LS_VERIFY_LOCK_ERROR(emptyKey, LockErrorKind::InvalidArgument);
    QVERIFY(emptyKey.error().votes.empty());
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("k", withTtl(0ms)), LockErrorKind::InvalidArgument);
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("k", withTtl(-5ms)), LockErrorKind::InvalidArgument);
    LS_VERIFY_LOCK_ERROR(locker.acquire("", withTtl(1s)), LockErrorKind::InvalidArgument);

    auto lock = locker.tryAcquire("k", withTtl(10s));
    LS_VERIFY_OK(lock);
    LS_VERIFY_LOCK_ERROR(locker.extend(*lock, 0ms), LockErrorKind::InvalidArgument);
    QVERIFY(inRange(servers->pttl(0, "k"), 8000, 10'000));

    Locker noNodes({});
    LS_VERIFY_LOCK_ERROR(noNodes.tryAcquire("k", withTtl(1s)), LockErrorKind::InvalidArgument);
    LS_VERIFY_OK(locker.release(*lock));
}

void TestLocker::obtainDenyReleaseObtain()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    QCOMPARE(locker.nodeCount(), nodes);
    QCOMPARE(locker.quorum(), nodes / 2 + 1);

    const auto first = locker.tryAcquire("res", withTtl(10s));
    LS_VERIFY_OK(first);
    QCOMPARE(first->key, QByteArray("res"));
    QCOMPARE(first->token.size(), 22);
    QCOMPARE(first->fence, 1);
    QCOMPARE(first->ttl, 10s);
    QVERIFY(first->validityLeft(SteadyClock::now()) > 9s);
    QCOMPARE(first->votes.size(), size_t(nodes));
    for (int i = 0; i < nodes; ++i) {
        QCOMPARE(first->votes[i].node, ServerSet::nodeName(i));
        QCOMPARE(first->votes[i].outcome, Outcome::Granted);
        QCOMPARE(first->votes[i].fence, 1);
        QCOMPARE(servers->get(i, "res"), first->value);
        const qint64 pttl = servers->pttl(i, "res");
        QVERIFY2(inRange(pttl, 8000, 10'000), rangeMessage("PTTL", i, pttl));
    }
    const auto parsed = LockValue::parse(first->value);
    QVERIFY(parsed.has_value());
    QCOMPARE(parsed->token, first->token);
    QCOMPARE(parsed->fence, 1);
    QCOMPARE(parsed->pid, QCoreApplication::applicationPid());

    // Anyone else (another token, same or another Locker) is denied, with the holder's TTL.
    Locker other(servers->configs());
    for (Locker *contender : {&locker, &other}) {
        const auto second = contender->tryAcquire("res", withTtl(10s));
        LS_VERIFY_LOCK_ERROR(second, LockErrorKind::NotObtained);
        QCOMPARE(second.error().key, QStringLiteral("res"));
        QCOMPARE(second.error().votes.size(), size_t(nodes));
        for (const NodeVote &vote : second.error().votes) {
            QCOMPARE(vote.outcome, Outcome::Held);
            QVERIFY2(inRange(vote.pttl, 8000, 10'000), QByteArray::number(vote.pttl));
            QVERIFY(!vote.error.has_value());
        }
    }
    QCOMPARE(servers->nodesWithToken("res", first->token), nodes);

    LS_VERIFY_OK(locker.release(*first));
    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->get(i, "res").isNull());

    const auto third = other.tryAcquire("res", withTtl(10s));
    LS_VERIFY_OK(third);
    QVERIFY(third->token != first->token);
    QCOMPARE(third->fence, 2);
    QCOMPARE(servers->nodesWithToken("res", third->token), nodes);
    LS_VERIFY_OK(other.release(*third));
    QCOMPARE(servers->nodesWithToken("res", third->token), 0);
}

void TestLocker::concurrentContendersOneWinner()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    // Four "processes", 25 threads each, all sharing their process's Locker.
    std::vector<std::unique_ptr<Locker>> lockers;
    for (int i = 0; i < 4; ++i)
        lockers.push_back(std::make_unique<Locker>(servers->configs()));

    constexpr int contenders = 100;
    constexpr int maxRounds = 20;
    int roundsWithOneWinner = 0;
    int splitVotes = 0;
    for (int round = 0; round < maxRounds && roundsWithOneWinner == 0; ++round) {
        const QByteArray key = "contended-" + QByteArray::number(round);
        std::vector<std::optional<LockResult<Lock>>> results(contenders);
        std::latch start(contenders);
        std::vector<std::thread> threads;
        for (int t = 0; t < contenders; ++t) {
            threads.emplace_back([&, t] {
                start.arrive_and_wait();
                results[t] = lockers[t % 4]->tryAcquire(key, withTtl(10s));
            });
        }
        for (auto &thread : threads)
            thread.join();

        std::vector<int> winners;
        for (int t = 0; t < contenders; ++t) {
            const auto &r = *results[t];
            if (r) {
                winners.push_back(t);
                continue;
            }
            QVERIFY2(r.error().kind == LockErrorKind::NotObtained, qPrintable(r.error().toString()));
        }
        // Safety: never two owners.
        QVERIFY2(winners.size() <= 1, QByteArray::number(qsizetype(winners.size())) + " winners");
        if (winners.empty()) {
            // Liveness is not guaranteed for one round of Redlock: the grants may split so that
            // nobody has a quorum (the losers then release their partial grants).
            QVERIFY2(nodes > 1, "one node: somebody must win");
            ++splitVotes;
            for (int i = 0; i < nodes; ++i)
                QVERIFY2(servers->get(i, key).isNull(), servers->get(i, key).constData());
            continue;
        }
        ++roundsWithOneWinner;
        const Lock &lock = **results[winners.front()];
        QVERIFY(servers->nodesWithToken(key, lock.token) >= nodes / 2 + 1);
        // Nobody else's key is left behind: each node holds the winner's value or nothing.
        for (int i = 0; i < nodes; ++i) {
            const QByteArray value = servers->get(i, key);
            QVERIFY2(value.isNull() || value.startsWith(LockValue::ownerPrefix(lock.token)),
                     value.constData());
        }
        LS_VERIFY_OK(lockers[winners.front() % 4]->release(lock));
    }
    if (splitVotes > 0)
        qInfo("%d round(s) ended in a split vote with no winner", splitVotes);
    QCOMPARE(roundsWithOneWinner, 1);
}

void TestLocker::releaseAfterForeignOverwrite()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("overwritten", withTtl(10s));
    LS_VERIFY_OK(lock);
    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->set(i, "overwritten", "ABCD"));

    const auto released = locker.release(*lock);
    LS_VERIFY_LOCK_ERROR(released, LockErrorKind::NotHeld);
    QCOMPARE(released.error().votes.size(), size_t(nodes));
    for (const NodeVote &vote : released.error().votes)
        QCOMPARE(vote.outcome, Outcome::Held);
    for (int i = 0; i < nodes; ++i) {
        QCOMPARE(servers->get(i, "overwritten"), QByteArray("ABCD"));
        QCOMPARE(servers->pttl(i, "overwritten"), qint64(-1));
    }
    LS_VERIFY_LOCK_ERROR(locker.extend(*lock, 30s), LockErrorKind::NotHeld);
    LS_VERIFY_LOCK_ERROR(locker.extend(*lock, 30s, ExtendMode::Replace, true), LockErrorKind::NotHeld);
    for (int i = 0; i < nodes; ++i) {
        QCOMPARE(servers->get(i, "overwritten"), QByteArray("ABCD"));
        QCOMPARE(servers->pttl(i, "overwritten"), qint64(-1));
    }
}

void TestLocker::releaseWithOneNodeOverwritten()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("partly", withTtl(10s));
    LS_VERIFY_OK(lock);
    QVERIFY(servers->set(1, "partly", "ABCD"));
    // Still ours on a quorum: released there, the foreign value stays.
    const auto released = locker.release(*lock);
    LS_VERIFY_OK(released);
    QVERIFY(servers->get(0, "partly").isNull());
    QCOMPARE(servers->get(1, "partly"), QByteArray("ABCD"));
    QVERIFY(servers->get(2, "partly").isNull());
}

void TestLocker::releaseAndExtendAfterExpiry()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("short", withTtl(200ms));
    LS_VERIFY_OK(lock);
    QThread::msleep(400);
    QCOMPARE(servers->nodesWithToken("short", lock->token), 0);

    const auto released = locker.release(*lock);
    LS_VERIFY_LOCK_ERROR(released, LockErrorKind::NotHeld);
    for (const NodeVote &vote : released.error().votes)
        QCOMPARE(vote.outcome, Outcome::NotHeld);
    const auto replaced = locker.extend(*lock, 10s, ExtendMode::Replace);
    LS_VERIFY_LOCK_ERROR(replaced, LockErrorKind::NotHeld);
    for (const NodeVote &vote : replaced.error().votes)
        QCOMPARE(vote.outcome, Outcome::NotHeld);
    LS_VERIFY_LOCK_ERROR(locker.extend(*lock, 10s, ExtendMode::Add), LockErrorKind::NotHeld);
    LS_VERIFY_LOCK_ERROR(locker.ttl(*lock), LockErrorKind::NotHeld);
    // An extend without heal never re-creates the key.
    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->get(i, "short").isNull());
}

void TestLocker::extendAddVsReplace()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("ext", withTtl(10s));
    LS_VERIFY_OK(lock);

    const auto replaced = locker.extend(*lock, 20s, ExtendMode::Replace);
    LS_VERIFY_OK(replaced);
    QCOMPARE(replaced->ttl, 20s);
    QCOMPARE(replaced->token, lock->token);
    QCOMPARE(replaced->fence, lock->fence);
    QVERIFY(replaced->validUntil > lock->validUntil);
    QVERIFY(replaced->validityLeft(SteadyClock::now()) > 18s);
    for (int i = 0; i < nodes; ++i) {
        const qint64 pttl = servers->pttl(i, "ext");
        QVERIFY2(inRange(pttl, 18'000, 20'000), rangeMessage("PTTL after replace 20s", i, pttl));
        QCOMPARE(servers->get(i, "ext"), lock->value);
    }

    const auto added = locker.extend(*replaced, 5s, ExtendMode::Add);
    LS_VERIFY_OK(added);
    QVERIFY2(inRange(added->ttl.count(), 23'000, 25'000), QByteArray::number(added->ttl.count()));
    for (int i = 0; i < nodes; ++i) {
        const qint64 pttl = servers->pttl(i, "ext");
        QVERIFY2(inRange(pttl, 23'000, 25'000), rangeMessage("PTTL after add 5s", i, pttl));
    }

    // Replace also shortens.
    const auto shortened = locker.extend(*added, 3s, ExtendMode::Replace);
    LS_VERIFY_OK(shortened);
    QCOMPARE(shortened->ttl, 3s);
    for (int i = 0; i < nodes; ++i) {
        const qint64 pttl = servers->pttl(i, "ext");
        QVERIFY2(inRange(pttl, 1000, 3000), rangeMessage("PTTL after replace 3s", i, pttl));
        QCOMPARE(servers->get(i, "ext"), lock->value);
    }
    LS_VERIFY_OK(locker.release(*shortened));
}

void TestLocker::wrongTokenChangesNothing()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("mine", withTtl(10s));
    LS_VERIFY_OK(lock);
    std::vector<QByteArray> values;
    std::vector<qint64> pttls;
    for (int i = 0; i < 3; ++i) {
        values.push_back(servers->get(i, "mine"));
        pttls.push_back(servers->pttl(i, "mine"));
    }

    Lock forged = *lock; // the real value, another token
    forged.token = "forged-token";
    const std::vector<Lock> wrong{
        locker.handleFor("mine", "not-the-token"),
        locker.handleFor("mine", lock->token.left(10)), // a prefix of the real token
        locker.handleFor("mine", lock->token + "x"),    // the real token plus more
        locker.handleFor("mine", QByteArray()),
        forged,
    };
    Locker stranger(servers->configs());
    for (const Lock &w : wrong) {
        const QByteArray what = "token '" + w.token + "'";
        for (Locker *l : {&locker, &stranger}) {
            const auto released = l->release(w);
            LS_VERIFY_LOCK_ERROR(released, LockErrorKind::NotHeld);
            for (const NodeVote &vote : released.error().votes)
                QVERIFY2(vote.outcome == Outcome::Held, what.constData());
            LS_VERIFY_LOCK_ERROR(l->extend(w, 60s, ExtendMode::Replace), LockErrorKind::NotHeld);
            LS_VERIFY_LOCK_ERROR(l->extend(w, 60s, ExtendMode::Add), LockErrorKind::NotHeld);
            LS_VERIFY_LOCK_ERROR(l->extend(w, 60s, ExtendMode::Replace, true), LockErrorKind::NotHeld);
            LS_VERIFY_LOCK_ERROR(l->ttl(w), LockErrorKind::NotHeld);
            if (!w.token.isEmpty())
                LS_VERIFY_LOCK_ERROR(l->acquireOrExtend(w, 60s), LockErrorKind::NotObtained);
        }
    }
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(servers->get(i, "mine"), values[i]);
        const qint64 pttl = servers->pttl(i, "mine");
        QVERIFY2(pttl <= pttls[i] && pttl > pttls[i] - 5000, rangeMessage("PTTL", i, pttl));
    }
    LS_VERIFY_OK(locker.release(*lock));
}

void TestLocker::quorumMatrix()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    const int quorum = nodes / 2 + 1;
    for (int mask = 0; mask < (1 << nodes); ++mask) {
        const QByteArray key = "matrix-" + QByteArray::number(mask);
        const QByteArray token = "matrix-token-" + QByteArray::number(mask);
        const QByteArray foreign = "foreign-" + QByteArray::number(mask);
        int free = nodes;
        for (int i = 0; i < nodes; ++i) {
            if (mask & (1 << i)) {
                QVERIFY(servers->set(i, key, foreign, 60'000));
                --free;
            }
        }
        const QByteArray where =
            "mask " + QByteArray::number(mask, 2) + " (" + QByteArray::number(free) + " free)";
        const auto result = locker.tryAcquire(key, withTtl(10s, token));
        const bool expectSuccess = free >= quorum;
        QVERIFY2(result.has_value() == expectSuccess,
                 where + ": " + (result ? QByteArray("obtained") : result.error().toString().toUtf8()));
        const auto &votes = result ? result->votes : result.error().votes;
        QCOMPARE(votes.size(), size_t(nodes));
        for (int i = 0; i < nodes; ++i) {
            const bool masked = mask & (1 << i);
            // A failed attempt hands back what it took: those votes read Released.
            const Outcome taken = expectSuccess ? Outcome::Granted : Outcome::Released;
            QVERIFY2(votes[i].outcome == (masked ? Outcome::Held : taken),
                     where + ": " + outcomes(votes).toUtf8());
            if (masked)
                QCOMPARE(servers->get(i, key), foreign);
        }
        if (expectSuccess) {
            QCOMPARE(servers->nodesWithToken(key, token), free);
            LS_VERIFY_OK(locker.release(*result));
        } else {
            LS_VERIFY_LOCK_ERROR(result, LockErrorKind::NotObtained);
        }
        // Afterwards (released, or never obtained): nothing of ours anywhere, foreign values intact.
        QVERIFY2(servers->nodesWithToken(key, token) == 0, where.constData());
        for (int i = 0; i < nodes; ++i) {
            const QByteArray value = servers->get(i, key);
            if (mask & (1 << i))
                QVERIFY2(value == foreign, where + ": " + value);
            else
                QVERIFY2(value.isNull(), where + ": " + value);
        }
    }
}

void TestLocker::killedNodes()
{
    LS_START_SERVERS(servers, 5);
    Locker locker(servers->configs());
    // Warm the pools so that the kills break open connections too.
    auto warm = locker.tryAcquire("warm", withTtl(10s));
    LS_VERIFY_OK(warm);
    LS_VERIFY_OK(locker.release(*warm));

    servers->server(0).kill();
    servers->server(3).kill();
    const auto twoDown = locker.tryAcquire("k1", withTtl(10s));
    LS_VERIFY_OK(twoDown);
    QCOMPARE(twoDown->votes.size(), size_t(5));
    for (int i = 0; i < 5; ++i) {
        const bool killed = i == 0 || i == 3;
        QCOMPARE(twoDown->votes[i].node, ServerSet::nodeName(i));
        QVERIFY2(twoDown->votes[i].outcome == (killed ? Outcome::Error : Outcome::Granted),
                 qPrintable(outcomes(twoDown->votes)));
        QCOMPARE(twoDown->votes[i].error.has_value(), killed);
        if (!killed)
            QVERIFY(servers->get(i, "k1").startsWith(LockValue::ownerPrefix(twoDown->token)));
    }
    LS_VERIFY_OK(locker.ttl(*twoDown));
    LS_VERIFY_OK(locker.extend(*twoDown, 10s));
    LS_VERIFY_OK(locker.release(*twoDown));

    servers->server(4).kill();
    const auto threeDown = locker.tryAcquire("k2", withTtl(10s, "three-down-token"));
    LS_VERIFY_LOCK_ERROR(threeDown, LockErrorKind::QuorumNotReached);
    const auto &votes = threeDown.error().votes;
    QCOMPARE(votes.size(), size_t(5));
    for (int i = 0; i < 5; ++i) {
        const bool killed = i == 0 || i == 3 || i == 4;
        QCOMPARE(votes[i].node, ServerSet::nodeName(i));
        QVERIFY2(votes[i].outcome == (killed ? Outcome::Error : Outcome::Released),
                 qPrintable(outcomes(votes)));
        if (killed) {
            QVERIFY(votes[i].error.has_value());
            QCOMPARE(votes[i].error->node, ServerSet::nodeName(i));
        }
    }
    QVERIFY2(threeDown.error().toString().contains(QStringLiteral("node4")),
             qPrintable(threeDown.error().toString()));
    // The partial grants were released.
    for (const int i : {1, 2})
        QVERIFY(servers->get(i, "k2").isNull());
}

void TestLocker::pausedNodeValidityExpired()
{
    LS_START_SERVERS(servers, 3);
    LockerOptions options;
    options.nodeTimeout = 500ms;
    Locker locker(servers->configs(), options);
    auto warm = locker.tryAcquire("warm", withTtl(10s));
    LS_VERIFY_OK(warm);
    LS_VERIFY_OK(locker.release(*warm));

    QVERIFY(servers->server(0).pause());
    ResumeOnExit resume(servers->server(0));
    const auto started = SteadyClock::now();
    const auto result = locker.tryAcquire("slow", withTtl(300ms, "paused-token"));
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::ValidityExpired);
    QVERIFY2(elapsedMs(started) >= 400, QByteArray::number(elapsedMs(started)));
    const auto &votes = result.error().votes;
    QCOMPARE(votes.size(), size_t(3));
    QVERIFY2(votes[0].outcome == Outcome::Error && votes[1].outcome == Outcome::Released &&
                 votes[2].outcome == Outcome::Released,
             qPrintable(outcomes(votes)));
    QVERIFY(votes[0].error.has_value());
    QVERIFY2(votes[0].error->kind == ErrorKind::Timeout, qPrintable(votes[0].error->toString()));
    for (const int i : {1, 2})
        QVERIFY2(!servers->get(i, "slow").startsWith(LockValue::ownerPrefix("paused-token")),
                 servers->get(i, "slow").constData());

    QVERIFY(servers->server(0).resume());
    // The paused node may still run the late acquire when it wakes up: its key expires by itself.
    QTRY_VERIFY_WITH_TIMEOUT(servers->nodesWithToken("slow", "paused-token") == 0, 5000);
    // And the set works again.
    auto after = locker.tryAcquire("after", withTtl(10s));
    LS_VERIFY_OK(after);
    QCOMPARE(servers->nodesWithToken("after", after->token), 3);
    LS_VERIFY_OK(locker.release(*after));
}

void TestLocker::unresponsiveNodeCostsNodeTimeoutNotConnectTimeout_data()
{
    QTest::addColumn<bool>("warm");
    QTest::newRow("cold pool") << false;
    QTest::newRow("warm pool, second attempt") << true;
}

void TestLocker::unresponsiveNodeCostsNodeTimeoutNotConnectTimeout()
{
    QFETCH(bool, warm);
    // Redlock: a node that does not answer must not hold up the others for long. With a cold
    // pool the Locker first has to connect to the paused node; that must be bounded by the
    // attempt's node timeout (500 ms), not by the node's connect timeout (10 s here), or the
    // write to the healthy nodes waits behind it and the lock loses most of its validity.
    LS_START_SERVERS(servers, 3);
    auto configs = servers->configs();
    for (auto &config : configs)
        config.connectTimeout = 10s;
    LockerOptions options;
    options.nodeTimeout = 500ms;
    Locker locker(configs, options); // no connection opened yet
    if (warm) {
        auto first = locker.tryAcquire("warm", withTtl(30s));
        LS_VERIFY_OK(first);
        LS_VERIFY_OK(locker.release(*first));
    }
    QVERIFY(servers->server(0).pause());
    ResumeOnExit resume(servers->server(0));
    if (warm) {
        // The first attempt finds an open connection and waits one node timeout for it; the
        // connection is dropped after that timeout, so the second attempt connects again.
        const auto firstStarted = SteadyClock::now();
        auto first = locker.tryAcquire("warm-paused", withTtl(30s));
        LS_VERIFY_OK(first);
        const qint64 firstTook = elapsedMs(firstStarted);
        const auto releaseStarted = SteadyClock::now();
        LS_VERIFY_OK(locker.release(*first));
        qInfo("paused node, open connection: acquire %lld ms; the release after it %lld ms",
              static_cast<long long>(firstTook), static_cast<long long>(elapsedMs(releaseStarted)));
    }

    const auto started = SteadyClock::now();
    const auto lock = locker.tryAcquire("cold", withTtl(30s));
    const qint64 took = elapsedMs(started);
    LS_VERIFY_OK(lock);
    QVERIFY2(lock->votes[0].outcome == Outcome::Error && lock->votes[1].outcome == Outcome::Granted &&
                 lock->votes[2].outcome == Outcome::Granted,
             qPrintable(outcomes(lock->votes)));
    // Generous: ten node timeouts, still half the connect timeout.
    QVERIFY2(took < 5000,
             qPrintable(QStringLiteral("the attempt took %1 ms with one node paused (node timeout "
                                       "500 ms, connect timeout 10 s); validity left %2 ms")
                            .arg(took)
                            .arg(lock->validityLeft(SteadyClock::now()).count())));
    const auto releaseStarted = SteadyClock::now();
    LS_VERIFY_OK(locker.release(*lock));
    QVERIFY2(elapsedMs(releaseStarted) < 5000,
             qPrintable(QStringLiteral("release took %1 ms").arg(elapsedMs(releaseStarted))));
    QVERIFY(servers->get(1, "cold").isNull());
    QVERIFY(servers->get(2, "cold").isNull());
}

void TestLocker::extendHealsRestartedNode()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("healme", withTtl(10s));
    LS_VERIFY_OK(lock);
    LS_VERIFY_OK(servers->server(2).restart());
    LS_VERIFY_OK(servers->reconnect(2));
    QVERIFY(servers->get(2, "healme").isNull());
    QVERIFY(servers->get(2, fenceKeyFor("healme")).isNull());

    const auto healed = locker.extend(*lock, 10s, ExtendMode::Replace, true);
    LS_VERIFY_OK(healed);
    QVERIFY2(healed->votes[2].outcome == Outcome::Granted, qPrintable(outcomes(healed->votes)));
    // The owner's value, marked with the extend's call id (so that undoing a heal can never
    // delete a key that survived).
    QVERIFY2(servers->get(2, "healme").startsWith(lock->value + " call="),
             servers->get(2, "healme").constData());
    QCOMPARE(LockValue::parse(servers->get(2, "healme"))->token, lock->token);
    const qint64 pttl = servers->pttl(2, "healme");
    QVERIFY2(inRange(pttl, 8000, 10'000), rangeMessage("PTTL", 2, pttl));
    // The fencing counter of the restarted node is raised to the lock's fence.
    QCOMPARE(servers->get(2, fenceKeyFor("healme")), QByteArray::number(lock->fence));
    QCOMPARE(servers->nodesWithToken("healme", lock->token), 3);
    LS_VERIFY_OK(locker.release(*healed));
    QCOMPARE(servers->nodesWithToken("healme", lock->token), 0);
}

void TestLocker::healNeverTakesForeignKey()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("contested", withTtl(10s));
    LS_VERIFY_OK(lock);
    LS_VERIFY_OK(servers->server(2).restart());
    LS_VERIFY_OK(servers->reconnect(2));
    QVERIFY(servers->set(2, "contested", "FOREIGN", 60'000));

    // Still ours on a quorum: the extend succeeds, the foreign key stays.
    const auto extended = locker.extend(*lock, 10s, ExtendMode::Replace, true);
    LS_VERIFY_OK(extended);
    QVERIFY2(extended->votes[2].outcome == Outcome::Held, qPrintable(outcomes(extended->votes)));
    QCOMPARE(servers->get(2, "contested"), QByteArray("FOREIGN"));
    QVERIFY(servers->pttl(2, "contested") > 50'000);

    // Lost on node 1 too (restart): ours on one node only, so the heal fails and takes nothing.
    LS_VERIFY_OK(servers->server(1).restart());
    LS_VERIFY_OK(servers->reconnect(1));
    const auto failed = locker.extend(*extended, 10s, ExtendMode::Replace, true);
    LS_VERIFY_LOCK_ERROR(failed, LockErrorKind::NotHeld);
    QCOMPARE(servers->get(2, "contested"), QByteArray("FOREIGN"));
    QVERIFY(servers->pttl(2, "contested") > 50'000);
    QVERIFY2(servers->nodesWithToken("contested", lock->token) <= 1,
             "a failed heal must not leave re-created keys behind");
    QVERIFY(servers->get(1, "contested").isNull());
}

void TestLocker::healOnExpiredLockFails()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("gone", withTtl(200ms));
    LS_VERIFY_OK(lock);
    QThread::msleep(400);
    const auto healed = locker.extend(*lock, 10s, ExtendMode::Replace, true);
    LS_VERIFY_LOCK_ERROR(healed, LockErrorKind::NotHeld);
    for (int i = 0; i < nodes; ++i)
        QVERIFY2(servers->get(i, "gone").isNull(), servers->get(i, "gone").constData());
    // Someone else can take it at once.
    Locker other(servers->configs());
    const auto next = other.tryAcquire("gone", withTtl(10s));
    LS_VERIFY_OK(next);
    QVERIFY(next->fence > lock->fence);
    LS_VERIFY_OK(other.release(*next));
}

void TestLocker::fencingStrictlyIncreasing()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    Locker other(servers->configs());
    qint64 last = 0;
    auto check = [&](const LockResult<Lock> &lock, const char *step) {
        if (!lock)
            return QByteArray(step) + ": " + lock.error().toString().toUtf8();
        if (lock->fence <= last)
            return QByteArray(step) + ": fence " + QByteArray::number(lock->fence) + " after " +
                   QByteArray::number(last);
        const auto parsed = LockValue::parse(lock->value);
        if (!parsed || parsed->fence != lock->fence)
            return QByteArray(step) + ": the value does not carry the fence: " + lock->value;
        for (int i = 0; i < nodes; ++i) {
            const auto stored = LockValue::parse(servers->get(i, "fenced"));
            if (!stored || stored->fence != lock->fence)
                return QByteArray(step) + ": node" + QByteArray::number(i) + " stores " +
                       servers->get(i, "fenced");
        }
        last = lock->fence;
        return QByteArray();
    };

    auto a = locker.tryAcquire("fenced", withTtl(10s));
    QByteArray problem = check(a, "first acquire");
    QVERIFY2(problem.isEmpty(), problem.constData());
    LS_VERIFY_OK(locker.release(*a));

    auto b = other.tryAcquire("fenced", withTtl(200ms));
    problem = check(b, "after release");
    QVERIFY2(problem.isEmpty(), problem.constData());
    QThread::msleep(400); // expires

    auto c = locker.tryAcquire("fenced", withTtl(10s));
    problem = check(c, "after expiry");
    QVERIFY2(problem.isEmpty(), problem.constData());
    // Re-acquire by the same owner (same token) keeps the fence: it is the same lock.
    auto again = locker.tryAcquire("fenced", withTtl(10s, c->token));
    LS_VERIFY_OK(again);
    QCOMPARE(again->fence, c->fence);
    LS_VERIFY_OK(locker.release(*c));

    for (int round = 0; round < 5; ++round) {
        auto d = (round % 2 ? locker : other).tryAcquire("fenced", withTtl(10s));
        problem = check(d, "re-acquire");
        QVERIFY2(problem.isEmpty(), problem.constData());
        LS_VERIFY_OK((round % 2 ? locker : other).release(*d));
    }
    QCOMPARE(last, qint64(8));
}

void TestLocker::fencingIsMaxAmongVoters()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const QByteArray fenceKey = fenceKeyFor("fk");
    QVERIFY(servers->set(0, fenceKey, "10"));
    QVERIFY(servers->set(1, fenceKey, "50"));
    QVERIFY(servers->set(2, fenceKey, "5"));

    const auto all = locker.tryAcquire("fk", withTtl(10s));
    LS_VERIFY_OK(all);
    // Each vote reports the node's own counter value; the lock's fence is the highest.
    QCOMPARE(all->votes[0].fence, 11);
    QCOMPARE(all->votes[1].fence, 51);
    QCOMPARE(all->votes[2].fence, 6);
    QCOMPARE(all->fence, 51);
    QCOMPARE(LockValue::parse(all->value)->fence, 51);
    // Before acquire returned, the nodes that were behind got their counter raised and our
    // value rewritten: every node stores the lock's fence, with its TTL and the rest intact.
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(servers->get(i, fenceKey), QByteArray("51"));
        QCOMPARE(servers->get(i, "fk"), all->value);
        const qint64 pttl = servers->pttl(i, "fk");
        QVERIFY2(inRange(pttl, 8000, 10'000), rangeMessage("PTTL", i, pttl));
    }
    LS_VERIFY_OK(locker.release(*all));

    // Node 1 (the highest counter) is held by someone else: it does not vote, its counter stays.
    QVERIFY(servers->set(1, fenceKey, "100"));
    QVERIFY(servers->set(1, "fk", "foreign", 60'000));
    const auto two = locker.tryAcquire("fk", withTtl(10s));
    LS_VERIFY_OK(two);
    QCOMPARE(two->votes[1].outcome, Outcome::Held);
    QCOMPARE(two->fence, 52); // above the previous holder's 51, although node 1 was not in the quorum
    QCOMPARE(servers->get(1, fenceKey), QByteArray("100"));
    QCOMPARE(servers->get(1, "fk"), QByteArray("foreign"));
    LS_VERIFY_OK(locker.release(*two));
}

void TestLocker::fencingMonotonicAcrossQuorums()
{
    // The case the simulator found: failed partial attempts left the counters apart (node 0 at
    // 100, the others at 5). Holder A's quorum includes node 0 and gets 101; every later
    // holder's quorum differs (the node held by a stale foreign key does not vote). Before the
    // fix B got 7 (the highest of nodes 1 and 2), and a resource that had seen 101 rejected it.
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    Locker other(servers->configs());
    const QByteArray key = "mono";
    const QByteArray fenceKey = fenceKeyFor(key);
    QVERIFY(servers->set(0, fenceKey, "100"));
    QVERIFY(servers->set(1, fenceKey, "5"));
    QVERIFY(servers->set(2, fenceKey, "5"));

    // -1: all three nodes free; otherwise the node held by a foreign key during that holder.
    const int excluded[] = {-1, 0, 1, 2, 0, 0, -1, 2, 1, 1};
    qint64 last = 0;
    int step = 0;
    QByteArrayList storageProblems;
    for (const int skip : excluded) {
        const QByteArray where =
            "holder " + QByteArray::number(step) +
            (skip < 0 ? QByteArray(" (all nodes)") : " (without node" + QByteArray::number(skip) + ")");
        if (skip >= 0)
            QVERIFY(servers->set(skip, key, "foreign", 60'000));
        Locker &who = step % 2 ? other : locker;
        const auto lock = who.tryAcquire(key, withTtl(10s));
        QVERIFY2(lock.has_value(), where + ": " + describe(lock));
        QVERIFY2(lock->fence > last,
                 where + ": fence " + QByteArray::number(lock->fence) + " after " + QByteArray::number(last));
        if (step == 0)
            QCOMPARE(lock->fence, 101);
        for (int i = 0; i < 3; ++i) {
            if (i == skip) {
                QCOMPARE(lock->votes[size_t(i)].outcome, Outcome::Held);
                continue;
            }
            QCOMPARE(lock->votes[size_t(i)].outcome, Outcome::Granted);
            // Every granting node's counter and stored value carry the lock's fence (checked
            // after the loop, so that a fence going backwards is what a regression reports).
            const auto stored = LockValue::parse(servers->get(i, key));
            if (servers->get(i, fenceKey) != QByteArray::number(lock->fence) || !stored ||
                stored->fence != lock->fence || stored->token != lock->token)
                storageProblems << where + ": node" + QByteArray::number(i) + " counter " +
                                       servers->get(i, fenceKey) + ", value " + servers->get(i, key);
        }
        last = lock->fence;
        LS_VERIFY_OK(who.release(*lock));
        if (skip >= 0)
            QVERIFY(servers->del(skip, key));
        ++step;
    }
    // No holder was ever lower: with the counters apart only on the first acquire, the raise
    // makes every later quorum continue from the highest, one per holder.
    QCOMPARE(last, qint64(100 + std::size(excluded)));
    QVERIFY2(storageProblems.isEmpty(), storageProblems.join("; ").constData());
}

void TestLocker::fencingRaiseOnlyWhenCountersDiffer()
{
    // The raise costs one extra script call, and only on the nodes that are behind: when the
    // counters agree (the usual case), an acquire is one script call per node, as before.
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const QByteArray fenceKey = fenceKeyFor("cost");
    auto callsNow = [&] {
        return std::vector<qint64>{servers->scriptCalls(0, true), servers->scriptCalls(1, true),
                                   servers->scriptCalls(2, true)};
    };
    auto acquireAndCount = [&](const char *what, std::vector<qint64> expected) {
        const auto before = callsNow();
        const auto lock = locker.tryAcquire("cost", withTtl(10s));
        const auto after = callsNow();
        if (!lock)
            return QByteArray(what) + ": " + describe(lock);
        for (size_t i = 0; i < 3; ++i) {
            if (after[i] - before[i] != expected[i])
                return QByteArray(what) + ": node" + QByteArray::number(qulonglong(i)) + " ran " +
                       QByteArray::number(after[i] - before[i]) + " script calls";
        }
        if (!locker.release(*lock))
            return QByteArray(what) + ": release failed";
        return QByteArray();
    };
    QByteArray problem = acquireAndCount("fresh counters", {1, 1, 1});
    QVERIFY2(problem.isEmpty(), problem.constData());
    problem = acquireAndCount("counters agree", {1, 1, 1});
    QVERIFY2(problem.isEmpty(), problem.constData());
    // A failed partial attempt elsewhere bumped node 2: nodes 0 and 1 are behind, once.
    QVERIFY(servers->set(2, fenceKey, "40"));
    problem = acquireAndCount("node 2 ahead", {2, 2, 1});
    QVERIFY2(problem.isEmpty(), problem.constData());
    QCOMPARE(servers->get(0, fenceKey), QByteArray("41"));
    problem = acquireAndCount("in step again", {1, 1, 1});
    QVERIFY2(problem.isEmpty(), problem.constData());
    for (int i = 0; i < 3; ++i)
        QCOMPARE(servers->get(i, fenceKey), QByteArray("42"));

    // One node without fencing or a single node: no raise ever.
    LS_START_SERVERS(single, 1);
    Locker one(single->configs());
    QVERIFY(single->set(0, fenceKey, "7"));
    const qint64 before = single->scriptCalls(0, true);
    const auto lock = one.tryAcquire("cost", withTtl(10s));
    LS_VERIFY_OK(lock);
    QCOMPARE(lock->fence, 8);
    QCOMPARE(single->scriptCalls(0, true) - before, 1);
    LS_VERIFY_OK(one.release(*lock));
}

void TestLocker::fencingHealAndHandleNeverLower()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const QByteArray fenceKey = fenceKeyFor("heal");
    QVERIFY(servers->set(0, fenceKey, "30"));
    const auto lock = locker.tryAcquire("heal", withTtl(10s));
    LS_VERIFY_OK(lock);
    QCOMPARE(lock->fence, 31);

    // A handle made from the token recovers the highest fence, even if the first node that
    // answers stores a lower one (a node the raise missed).
    QByteArray lower = lock->value;
    lower.replace("fence=31", "fence=1");
    QVERIFY(servers->set(0, "heal", lower, 10'000));
    // Node 2 lost the key and its counter (restart), node 1's counter moved far ahead (failed
    // attempts of others): healing re-creates the key with the lock's fence and raises node
    // 2's counter to it, but never lowers node 1's.
    QVERIFY(servers->del(2, "heal"));
    QVERIFY(servers->del(2, fenceKey));
    QVERIFY(servers->set(1, fenceKey, "500"));
    const auto healed = locker.extend(locker.handleFor("heal", lock->token), 10s, ExtendMode::Replace, true);
    LS_VERIFY_OK(healed);
    QCOMPARE(healed->fence, 31);
    QCOMPARE(LockValue::parse(servers->get(2, "heal"))->fence, 31);
    QCOMPARE(servers->get(2, fenceKey), QByteArray("31"));
    QCOMPARE(servers->get(1, fenceKey), QByteArray("500"));
    LS_VERIFY_OK(locker.release(*healed));

    // The next holder is above both the lock and node 1's counter.
    const auto next = locker.tryAcquire("heal", withTtl(10s));
    LS_VERIFY_OK(next);
    QCOMPARE(next->fence, 501);
    LS_VERIFY_OK(locker.release(*next));
}

void TestLocker::callerSuppliedToken()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    const auto first = locker.tryAcquire("tok", withTtl(5s, "my-own-token"));
    LS_VERIFY_OK(first);
    QCOMPARE(first->token, QByteArray("my-own-token"));
    QCOMPARE(servers->nodesWithToken("tok", "my-own-token"), nodes);

    // The same owner again: succeeds, refreshes the TTL, keeps the fence and the value.
    const auto again = locker.tryAcquire("tok", withTtl(20s, "my-own-token"));
    LS_VERIFY_OK(again);
    QCOMPARE(again->fence, first->fence);
    QCOMPARE(again->ttl, 20s);
    for (int i = 0; i < nodes; ++i) {
        const qint64 pttl = servers->pttl(i, "tok");
        QVERIFY2(inRange(pttl, 18'000, 20'000), rangeMessage("PTTL", i, pttl));
        QCOMPARE(servers->get(i, "tok"), first->value);
    }
    // Another token still cannot.
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("tok", withTtl(5s, "someone-else")), LockErrorKind::NotObtained);
    LS_VERIFY_OK(locker.release(*again));
    QCOMPARE(servers->nodesWithToken("tok", "my-own-token"), 0);

    // Tokens with bytes that need escaping.
    const QByteArray odd = "odd token=100% ü";
    const auto escaped = locker.tryAcquire("tok", withTtl(5s, odd));
    LS_VERIFY_OK(escaped);
    QCOMPARE(servers->nodesWithToken("tok", odd), nodes);
    QCOMPARE(LockValue::parse(servers->get(0, "tok"))->token, odd);
    LS_VERIFY_LOCK_ERROR(locker.release(locker.handleFor("tok", "odd")), LockErrorKind::NotHeld);
    LS_VERIFY_OK(locker.release(locker.handleFor("tok", odd)));
    QCOMPARE(servers->nodesWithToken("tok", odd), 0);
}

void TestLocker::handoffByToken()
{
    LS_START_SERVERS(servers, 3);
    Locker owner(servers->configs());
    Locker heir(servers->configs()); // another process, given only the key and the token
    const auto lock = owner.tryAcquire("handoff", withTtl(10s));
    LS_VERIFY_OK(lock);

    const Lock handle = heir.handleFor("handoff", lock->token);
    QCOMPARE(handle.key, QByteArray("handoff"));
    const auto left = heir.ttl(handle);
    LS_VERIFY_OK(left);
    QVERIFY(inRange(left->count(), 8000, 10'000));
    const auto extended = heir.extend(handle, 30s);
    LS_VERIFY_OK(extended);
    QVERIFY(inRange(servers->pttl(0, "handoff"), 28'000, 30'000));
    // Re-acquire with the handed-off token: the heir is the owner now.
    const auto taken = heir.tryAcquire("handoff", withTtl(30s, lock->token));
    LS_VERIFY_OK(taken);
    QCOMPARE(taken->fence, lock->fence);
    LS_VERIFY_OK(heir.release(handle));
    QCOMPARE(servers->nodesWithToken("handoff", lock->token), 0);
    LS_VERIFY_LOCK_ERROR(owner.release(*lock), LockErrorKind::NotHeld);
}

void TestLocker::acquireOrExtend()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    AcquireOptions options = withTtl(5s);
    options.label = QStringLiteral("nightly report");
    options.metadata.insert(QStringLiteral("job"), QStringLiteral("17"));
    const auto lock = locker.tryAcquire("aoe", options);
    LS_VERIFY_OK(lock);

    // Still held: extended (TTL replaced), same token and fence.
    const auto extended = locker.acquireOrExtend(*lock, 20s);
    LS_VERIFY_OK(extended);
    QCOMPARE(extended->token, lock->token);
    QCOMPARE(extended->fence, lock->fence);
    for (int i = 0; i < nodes; ++i) {
        const qint64 pttl = servers->pttl(i, "aoe");
        QVERIFY2(inRange(pttl, 18'000, 20'000), rangeMessage("PTTL", i, pttl));
    }

    // Gone everywhere: taken again with the same token, a new fence, the same label and metadata.
    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->del(i, "aoe"));
    const auto retaken = locker.acquireOrExtend(*extended, 10s);
    LS_VERIFY_OK(retaken);
    QCOMPARE(retaken->token, lock->token);
    QVERIFY(retaken->fence > lock->fence);
    const auto stored = LockValue::parse(servers->get(0, "aoe"));
    QVERIFY(stored.has_value());
    QCOMPARE(stored->label, QStringLiteral("nightly report"));
    QCOMPARE(stored->metadata.value(QStringLiteral("job")), QStringLiteral("17"));
    QCOMPARE(servers->nodesWithToken("aoe", lock->token), nodes);

    // Taken over by someone else: never taken back.
    for (int i = 0; i < nodes; ++i)
        QVERIFY(servers->set(i, "aoe", "ABCD", 60'000));
    LS_VERIFY_LOCK_ERROR(locker.acquireOrExtend(*retaken, 10s), LockErrorKind::NotObtained);
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(servers->get(i, "aoe"), QByteArray("ABCD"));
}

void TestLocker::ttlIsOwnerChecked()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const auto lock = locker.tryAcquire("ttl", withTtl(10s));
    LS_VERIFY_OK(lock);
    const auto left = locker.ttl(*lock);
    LS_VERIFY_OK(left);
    QVERIFY2(inRange(left->count(), 8000, 10'000), QByteArray::number(left->count()));

    const auto wrong = locker.ttl(locker.handleFor("ttl", "wrong-token"));
    LS_VERIFY_LOCK_ERROR(wrong, LockErrorKind::NotHeld);
    for (const NodeVote &vote : wrong.error().votes) {
        QCOMPARE(vote.outcome, Outcome::Held);
        QVERIFY(inRange(vote.pttl, 8000, 10'000));
    }

    // Lost on one node: still held on a quorum.
    QVERIFY(servers->del(0, "ttl"));
    LS_VERIFY_OK(locker.ttl(*lock));
    // Lost on two: not held.
    QVERIFY(servers->set(1, "ttl", "ABCD", 60'000));
    LS_VERIFY_LOCK_ERROR(locker.ttl(*lock), LockErrorKind::NotHeld);
    LS_VERIFY_LOCK_ERROR(locker.ttl(locker.handleFor("absent", lock->token)), LockErrorKind::NotHeld);
}

void TestLocker::noscriptFallback()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    auto warm = locker.tryAcquire("ns", withTtl(10s));
    LS_VERIFY_OK(warm);
    LS_VERIFY_OK(locker.release(*warm));

    auto flushAll = [&] {
        for (int i = 0; i < nodes; ++i) {
            const auto flushed = servers->admin(i).command({"SCRIPT", "FLUSH"});
            if (!flushed || !flushed->isOk())
                return false;
        }
        return true;
    };
    auto cached = [&](int node, const Script &script) {
        const auto reply = servers->admin(node).command({"SCRIPT", "EXISTS", script.sha1()});
        return reply && reply->isArray() && !reply->elements().empty() && reply->elements()[0].integer() == 1;
    };

    QVERIFY(flushAll());
    QVERIFY(!cached(0, scripts::acquire()));
    const auto lock = locker.tryAcquire("ns", withTtl(10s));
    LS_VERIFY_OK(lock);
    QCOMPARE(servers->nodesWithToken("ns", lock->token), nodes);
    for (int i = 0; i < nodes; ++i)
        QVERIFY2(cached(i, scripts::acquire()), "EVAL fallback should have loaded the script");

    QVERIFY(flushAll());
    LS_VERIFY_OK(locker.ttl(*lock));
    QVERIFY(flushAll());
    const auto extended = locker.extend(*lock, 20s);
    LS_VERIFY_OK(extended);
    QVERIFY(inRange(servers->pttl(0, "ns"), 18'000, 20'000));
    QVERIFY(flushAll());
    LS_VERIFY_OK(locker.release(*extended));
    QCOMPARE(servers->nodesWithToken("ns", lock->token), 0);
    // A lost script cache does not turn a foreign key into ours either.
    QVERIFY(servers->set(0, "ns", "ABCD"));
    QVERIFY(flushAll());
    LS_VERIFY_LOCK_ERROR(locker.release(locker.handleFor("ns", lock->token)), LockErrorKind::NotHeld);
    QCOMPARE(servers->get(0, "ns"), QByteArray("ABCD"));
}

void TestLocker::nonStringKeyIsAnErrorVote()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    const int hashNode = nodes == 1 ? 0 : 1;
    const auto hset = servers->admin(hashNode).command({"HSET", "typed", "field", "value"});
    LS_VERIFY_OK(hset);

    const auto result = locker.tryAcquire("typed", withTtl(10s, "typed-token"));
    const auto &votes = result ? result->votes : result.error().votes;
    QCOMPARE(votes.size(), size_t(nodes));
    const NodeVote &vote = votes[hashNode];
    QCOMPARE(vote.node, ServerSet::nodeName(hashNode));
    QCOMPARE(vote.outcome, Outcome::Error);
    QVERIFY(vote.error.has_value());
    QVERIFY2(vote.error->message.contains(QStringLiteral("WRONGTYPE")), qPrintable(vote.error->toString()));
    QCOMPARE(vote.error->node, ServerSet::nodeName(hashNode));
    if (nodes == 1) {
        // The node's cause, not a generic connection failure.
        LS_VERIFY_LOCK_ERROR(result, LockErrorKind::WrongType);
        QVERIFY2(result.error().toString().contains(ServerSet::nodeName(hashNode)),
                 qPrintable(result.error().toString()));
    } else {
        // The other nodes still make a quorum.
        LS_VERIFY_OK(result);
        const auto released = locker.release(*result);
        LS_VERIFY_OK(released);
        QCOMPARE(servers->nodesWithToken("typed", "typed-token"), 0);
    }
    const auto field = servers->admin(hashNode).command({"HGET", "typed", "field"});
    LS_VERIFY_OK(field);
    QCOMPARE(field->bytes(), QByteArray("value"));
}

void TestLocker::keyPrefix()
{
    LS_START_SERVERS(servers, 1);
    LockerOptions options;
    options.keyPrefix = "app:";
    Locker locker(servers->configs(), options);
    const auto lock = locker.tryAcquire("jobs", withTtl(10s));
    LS_VERIFY_OK(lock);
    QCOMPARE(lock->key, QByteArray("app:jobs"));
    QVERIFY(servers->get(0, "app:jobs").startsWith(LockValue::ownerPrefix(lock->token)));
    QVERIFY(servers->get(0, "jobs").isNull());
    // The fence counter starts with the prefix too (lock::fenceKeyFor).
    QCOMPARE(servers->get(0, "app:{app:jobs}.fence"), QByteArray("1"));
    QVERIFY(servers->get(0, "{app:jobs}.fence").isNull());

    // The same key without the prefix, through a plain Locker, is the same lock.
    Locker plain(servers->configs());
    LS_VERIFY_LOCK_ERROR(plain.tryAcquire("app:jobs", withTtl(10s)), LockErrorKind::NotObtained);
    LS_VERIFY_OK(plain.tryAcquire("jobs", withTtl(1s)));

    const Lock handle = locker.handleFor("jobs", lock->token);
    QCOMPARE(handle.key, QByteArray("app:jobs"));
    LS_VERIFY_OK(locker.ttl(handle));
    const auto again = locker.acquireOrExtend(*lock, 20s);
    LS_VERIFY_OK(again);
    QCOMPARE(again->key, QByteArray("app:jobs"));
    QCOMPARE(again->fence, lock->fence);
    QVERIFY(servers->get(0, "app:app:jobs").isNull());
    LS_VERIFY_OK(locker.release(handle));
    QVERIFY(servers->get(0, "app:jobs").isNull());
}

void TestLocker::withoutFencing()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    LockerOptions options;
    options.fencing = false;
    Locker locker(servers->configs(), options);
    Locker fencing(servers->configs());
    auto noCounter = [&](const QByteArray &key) {
        for (int i = 0; i < nodes; ++i)
            if (!servers->get(i, fenceKeyFor(key)).isNull())
                return false;
        return true;
    };

    // Random token: plain SET NX PX.
    const auto lock = locker.tryAcquire("nf", withTtl(10s));
    LS_VERIFY_OK(lock);
    QCOMPARE(lock->fence, 0);
    QVERIFY2(!lock->value.contains(" fence="), lock->value.constData());
    QVERIFY(lock->value.startsWith(LockValue::ownerPrefix(lock->token)));
    for (int i = 0; i < nodes; ++i) {
        QCOMPARE(lock->votes[i].outcome, Outcome::Granted);
        QCOMPARE(servers->get(i, "nf"), lock->value);
        QVERIFY(inRange(servers->pttl(i, "nf"), 8000, 10'000));
    }
    const auto parsed = LockValue::parse(lock->value);
    QVERIFY2(parsed.has_value(), lock->value.constData());
    QCOMPARE(parsed->token, lock->token);
    QCOMPARE(parsed->fence, 0);
    QCOMPARE(parsed->pid, QCoreApplication::applicationPid());
    QVERIFY(noCounter("nf"));

    // Owner checks work the same, with or without fencing on the other side.
    const auto denied = locker.tryAcquire("nf", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(denied, LockErrorKind::NotObtained);
    for (const NodeVote &vote : denied.error().votes)
        QCOMPARE(vote.outcome, Outcome::Held);
    LS_VERIFY_LOCK_ERROR(fencing.tryAcquire("nf", withTtl(10s)), LockErrorKind::NotObtained);
    LS_VERIFY_LOCK_ERROR(locker.release(locker.handleFor("nf", "wrong")), LockErrorKind::NotHeld);
    LS_VERIFY_OK(locker.ttl(*lock));
    LS_VERIFY_OK(locker.extend(*lock, 20s));
    QVERIFY(inRange(servers->pttl(0, "nf"), 18'000, 20'000));
    LS_VERIFY_OK(fencing.release(fencing.handleFor("nf", lock->token))); // a handoff across modes
    QCOMPARE(servers->nodesWithToken("nf", lock->token), 0);

    // Caller's token: the owner-checking script, still without a fence.
    const auto own = locker.tryAcquire("nf", withTtl(5s, "nf-token"));
    LS_VERIFY_OK(own);
    QCOMPARE(own->fence, 0);
    QVERIFY2(!servers->get(0, "nf").contains(" fence="), servers->get(0, "nf").constData());
    const auto storedOwn = LockValue::parse(servers->get(0, "nf"));
    QVERIFY2(storedOwn.has_value(), servers->get(0, "nf").constData());
    QCOMPARE(storedOwn->token, QByteArray("nf-token"));
    const auto again = locker.tryAcquire("nf", withTtl(20s, "nf-token"));
    LS_VERIFY_OK(again);
    QCOMPARE(again->fence, 0);
    QVERIFY(inRange(servers->pttl(0, "nf"), 18'000, 20'000));
    QVERIFY(noCounter("nf"));
    LS_VERIFY_OK(locker.release(*again));
    QCOMPARE(servers->nodesWithToken("nf", "nf-token"), 0);

    // A lock taken with fencing can be released by a Locker without it.
    const auto fenced = fencing.tryAcquire("mixed", withTtl(10s));
    LS_VERIFY_OK(fenced);
    LS_VERIFY_OK(locker.release(*fenced));
    QCOMPARE(servers->nodesWithToken("mixed", fenced->token), 0);

    if (nodes < 3)
        return;
    // Quorum denied by foreign holders: the partial SET NX grant is released.
    QVERIFY(servers->set(0, "nfq", "foreign", 60'000));
    QVERIFY(servers->set(1, "nfq", "foreign", 60'000));
    const auto minority = locker.tryAcquire("nfq", withTtl(10s, "nfq-token"));
    LS_VERIFY_LOCK_ERROR(minority, LockErrorKind::NotObtained);
    QCOMPARE(servers->nodesWithToken("nfq", "nfq-token"), 0);
    QVERIFY(servers->get(2, "nfq").isNull());
    const auto minorityRandom = locker.tryAcquire("nfq", withTtl(10s));
    LS_VERIFY_LOCK_ERROR(minorityRandom, LockErrorKind::NotObtained);
    QVERIFY2(servers->get(2, "nfq").isNull(), servers->get(2, "nfq").constData());
    QCOMPARE(servers->get(0, "nfq"), QByteArray("foreign"));
    QCOMPARE(servers->get(1, "nfq"), QByteArray("foreign"));

    // Heal after a restart re-creates the value, still without a fence counter.
    const auto healable = locker.tryAcquire("nfh", withTtl(10s));
    LS_VERIFY_OK(healable);
    LS_VERIFY_OK(servers->server(2).restart());
    LS_VERIFY_OK(servers->reconnect(2));
    LS_VERIFY_OK(locker.extend(*healable, 10s, ExtendMode::Replace, true));
    QVERIFY2(servers->get(2, "nfh").startsWith(healable->value + " call="),
             servers->get(2, "nfh").constData());
    QVERIFY(noCounter("nfh"));
    LS_VERIFY_OK(locker.release(*healable));
}

void TestLocker::poolBound()
{
    LS_START_SERVERS(servers, 3);
    LockerOptions options;
    options.poolSize = 2;
    Locker locker(servers->configs(), options);
    // The Locker's connections carry the configured client name; the admin ones do not.
    const QByteArray clientName = servers->configs().front().clientName.toUtf8();
    QVERIFY(clientName != "lockscope-admin");

    constexpr int threads = 16;
    constexpr int cycles = 40;
    std::atomic<bool> running{true};
    std::atomic<int> failures{0};
    std::mutex errorMutex;
    QString firstError;
    std::vector<int> maxSeen(3, 0);
    bool samplerFailed = false;
    std::thread sampler([&] {
        while (running.load()) {
            for (int i = 0; i < 3; ++i) {
                const int count = servers->clientsNamed(i, clientName);
                if (count < 0)
                    samplerFailed = true;
                maxSeen[i] = std::max(maxSeen[i], count);
            }
            std::this_thread::sleep_for(2ms);
        }
    });
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            const QByteArray key = "pool-" + QByteArray::number(t);
            for (int i = 0; i < cycles; ++i) {
                auto lock = locker.tryAcquire(key, withTtl(10s));
                LockResult<void> released;
                if (lock)
                    released = locker.release(*lock);
                if (!lock || !released) {
                    failures.fetch_add(1);
                    std::lock_guard guard(errorMutex);
                    if (firstError.isEmpty())
                        firstError = lock ? released.error().toString() : lock.error().toString();
                }
            }
        });
    }
    for (auto &worker : workers)
        worker.join();
    running = false;
    sampler.join();

    QVERIFY2(failures.load() == 0,
             qPrintable(QStringLiteral("%1 failures, first: %2").arg(failures.load()).arg(firstError)));
    QVERIFY(!samplerFailed);
    for (int i = 0; i < 3; ++i) {
        QVERIFY2(maxSeen[i] >= 1 && maxSeen[i] <= 2,
                 qPrintable(QStringLiteral("node%1: up to %2 lock connections").arg(i).arg(maxSeen[i])));
        const int now = servers->clientsNamed(i, clientName);
        QVERIFY2(now >= 1 && now <= 2, QByteArray::number(now));
    }
}

QTEST_GUILESS_MAIN(TestLocker)
#include "tst_locker.moc"
