// Read/write locks and counting semaphores against real servers, on one node and on a 3-node
// Redlock set: who may hold them at once, writer preference, per-holder expiry, the typed
// errors, kind mismatches, and what failed calls leave behind (asserted on the servers' data).

#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lock/watchdog.h"
#include "lockfixture.h"

#include <QTest>
#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <ranges>
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

void addNodeCounts()
{
    QTest::addColumn<int>("nodes");
    QTest::addRow("1 node") << 1;
    QTest::addRow("3 nodes") << 3;
}

AcquireOptions kindOptions(LockKind kind, std::chrono::milliseconds ttl, int permits = 0)
{
    AcquireOptions options = withTtl(ttl);
    options.kind = kind;
    options.permits = permits;
    return options;
}

/// The members of the sorted set `key` on node i (empty when absent or on failure).
std::vector<QByteArray> members(ServerSet &servers, int i, const QByteArray &key)
{
    std::vector<QByteArray> out;
    auto reply = servers.admin(i).command({"ZRANGE", key, "0", "-1"});
    if (reply && reply->isArray()) {
        for (const auto &element : reply->elements())
            out.push_back(element.bytes());
    }
    return out;
}

/// How many nodes carry a holder entry of `token` under `key`.
int nodesWithMember(ServerSet &servers, const QByteArray &key, const QByteArray &token)
{
    int count = 0;
    for (int i = 0; i < servers.size(); ++i) {
        const auto all = members(servers, i, key);
        count += std::ranges::any_of(
            all, [&](const QByteArray &member) { return member.startsWith(LockValue::ownerPrefix(token)); });
    }
    return count;
}

/// The holder's deadline on node i less the server's time now: its remaining ms (-100 if absent).
qint64 memberPttl(ServerSet &servers, int i, const QByteArray &key, const QByteArray &token)
{
    auto all = servers.admin(i).command({"ZRANGE", key, "0", "-1", "WITHSCORES"});
    auto time = servers.admin(i).command({"TIME"});
    if (!all || !time || !all->isArray() || !time->isArray() || time->elements().size() < 2)
        return -100;
    const qint64 now =
        time->elements()[0].bytes().toLongLong() * 1000 + time->elements()[1].bytes().toLongLong() / 1000;
    const auto &e = all->elements();
    for (size_t j = 0; j + 1 < e.size(); j += 2) {
        if (e[j].bytes().startsWith(LockValue::ownerPrefix(token)))
            return static_cast<qint64>(e[j + 1].bytes().toDouble()) - now;
    }
    return -100;
}

/// The score (deadline, server Unix ms) of `token`'s holder entry on node i; -1 if absent.
qint64 memberScore(ServerSet &servers, int i, const QByteArray &key, const QByteArray &token)
{
    auto all = servers.admin(i).command({"ZRANGE", key, "0", "-1", "WITHSCORES"});
    if (!all || !all->isArray())
        return -1;
    const auto &e = all->elements();
    for (size_t j = 0; j + 1 < e.size(); j += 2) {
        if (e[j].bytes().startsWith(LockValue::ownerPrefix(token)))
            return e[j + 1].bytes().toLongLong();
    }
    return -1;
}

/// Replaces `key` on node i by a sorted set holding only another owner's entry `member`.
bool replaceWithForeignHolder(ServerSet &servers, int i, const QByteArray &key, const QByteArray &member)
{
    return servers.del(i, key) &&
           servers.admin(i).command({"ZADD", key, "4102444800000", member}).has_value(); // year 2100
}

} // namespace

class TestLockKinds : public QObject
{
    Q_OBJECT

private slots:
    void readersShareWriterExcludes_data() { addNodeCounts(); }
    void readersShareWriterExcludes();
    void waitingWriterBlocksNewReaders_data() { addNodeCounts(); }
    void waitingWriterBlocksNewReaders();
    void crashedReaderExpiresWriterProceeds_data() { addNodeCounts(); }
    void crashedReaderExpiresWriterProceeds();
    void timeoutKindsAndIntentCleanup();
    void watchdogKeepsReaderAndWriter_data() { addNodeCounts(); }
    void watchdogKeepsReaderAndWriter();
    void extendTtlReleasePerHolder_data() { addNodeCounts(); }
    void extendTtlReleasePerHolder();
    void extendHealsLostHolderEntry();
    void writerFencesIncrease_data() { addNodeCounts(); }
    void writerFencesIncrease();
    void semaphoreNeverExceedsPermits_data() { addNodeCounts(); }
    void semaphoreNeverExceedsPermits();
    void crashedPermitReturnsAtItsTtl_data() { addNodeCounts(); }
    void crashedPermitReturnsAtItsTtl();
    void reentrantHoldsCount_data() { addNodeCounts(); }
    void reentrantHoldsCount();
    void reentrantOwnerIsThreadByDefault();
    void reentrantFailedReentryUndoesItsHold();
    void reentrantPausedNodeUndoesLateHold();
    void multiKeyAllOrNone_data() { addNodeCounts(); }
    void multiKeyAllOrNone();
    void multiKeyOverlappingSetsFromThreads();
    void multiKeyPausedNodeLeavesNoKeys();
    void multiKeyExtendTtlRelease();
    void fairServesInArrivalOrder_data() { addNodeCounts(); }
    void fairServesInArrivalOrder();
    void fairSkipsVanishedWaiter();
    void fairCancelledWaiterLeavesQueue();
    void semaphoreQuorum();
    void semaphoreWithNodeDown();
    void kindsDoNotMix();
    void invalidPermits();
    void pausedNodeLeavesNoEntry();
    void failedRefreshKeepsEarlierEntry();
    void failedHolderRefreshPutsBackItsDeadline();
    void failedReentryPutsBackItsExpiry();
    void readOnlyNodeRefusesEveryKind();
};

void TestLockKinds::readersShareWriterExcludes()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    auto r1 = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    auto r2 = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_OK(r1);
    LS_VERIFY_OK(r2);
    QCOMPARE(r1->kind, LockKind::Read);
    for (int i = 0; i < nodes; ++i) {
        QCOMPARE(members(*servers, i, "doc").size(), size_t(2));
        QVERIFY(inRange(servers->pttl(i, "doc"), 9000, 10000));
    }

    const auto writer = locker.tryAcquire("doc", kindOptions(LockKind::Write, 10s));
    LS_VERIFY_LOCK_ERROR(writer, LockErrorKind::NotObtained);
    QVERIFY2(writer.error().message.contains(QLatin1String("held by 2 readers")),
             qPrintable(writer.error().toString()));
    QCOMPARE(nodesWithMember(*servers, "doc", writer.error().token), 0);

    LS_VERIFY_OK(locker.release(*r1));
    QCOMPARE(nodesWithMember(*servers, "doc", r1->token), 0);
    QCOMPARE(nodesWithMember(*servers, "doc", r2->token), nodes);
    LS_VERIFY_OK(locker.release(*r2));
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(servers->pttl(i, "doc"), qint64(-2)); // the last holder's release removes the key

    auto w = locker.tryAcquire("doc", kindOptions(LockKind::Write, 10s));
    LS_VERIFY_OK(w);
    QCOMPARE(nodesWithMember(*servers, "doc", w->token), nodes);
    QVERIFY(LockValue::parse(w->value)->mode == 'w');
    const auto reader = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_LOCK_ERROR(reader, LockErrorKind::WriteLockHeld);
    const auto writer2 = locker.tryAcquire("doc", kindOptions(LockKind::Write, 10s));
    LS_VERIFY_LOCK_ERROR(writer2, LockErrorKind::WriteLockHeld);
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(members(*servers, i, "doc").size(), size_t(1));
    LS_VERIFY_OK(locker.release(*w));
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(servers->pttl(i, "doc"), qint64(-2));
}

void TestLockKinds::waitingWriterBlocksNewReaders()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    auto reader = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_OK(reader);

    std::optional<LockResult<Lock>> writer;
    std::thread waiting([&] {
        AcquireOptions options = kindOptions(LockKind::Write, 10s);
        options.retry = RetryStrategy::linear(20ms);
        options.wait = 10s;
        writer = locker.acquire("doc", options);
    });
    const QByteArray intent = writerIntentKeyFor("doc");
    // Waiting on every node: the writer's attempt reaches the nodes in parallel, so node 0 may
    // hold the intent while the others have not run the script yet (a reader would then be
    // granted there, a quorum on 3 nodes).
    QTRY_VERIFY_WITH_TIMEOUT(
        std::ranges::all_of(std::views::iota(0, nodes), [&](int i) { return servers->pttl(i, intent) > 0; }),
        5000);
    // A new reader is turned away while the writer waits (writer preference)...
    const auto late = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_LOCK_ERROR(late, LockErrorKind::WriteLockHeld);
    QVERIFY2(late.error().message.contains(QLatin1String("writer is waiting")),
             qPrintable(late.error().toString()));
    QCOMPARE(nodesWithMember(*servers, "doc", late.error().token), 0);
    // ...but the reader already in refreshes its entry.
    LS_VERIFY_OK(locker.acquireOrExtend(*reader, 10s));

    LS_VERIFY_OK(locker.release(*reader));
    waiting.join();
    QVERIFY(writer.has_value());
    LS_VERIFY_OK(*writer);
    QCOMPARE(nodesWithMember(*servers, "doc", (*writer)->token), nodes);
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(servers->pttl(i, intent), qint64(-2)); // the writer took its intent away
    LS_VERIFY_OK(locker.release(**writer));
}

void TestLockKinds::crashedReaderExpiresWriterProceeds()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    auto longReader = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    auto crashed = locker.tryAcquire("doc", kindOptions(LockKind::Read, 300ms)); // never released
    LS_VERIFY_OK(longReader);
    LS_VERIFY_OK(crashed);
    // Each entry expires on its own: once the crashed reader's deadline passed, one reader is left.
    QTRY_VERIFY_WITH_TIMEOUT(memberPttl(*servers, 0, "doc", crashed->token) < 0, 5000);
    QTest::qWait(50);
    const auto writer = locker.tryAcquire("doc", kindOptions(LockKind::Write, 10s));
    LS_VERIFY_LOCK_ERROR(writer, LockErrorKind::NotObtained);
    QVERIFY2(writer.error().message.contains(QLatin1String("held by 1 reader")),
             qPrintable(writer.error().toString()));
    QCOMPARE(nodesWithMember(*servers, "doc", crashed->token), 0); // dropped by that write
    QCOMPARE(nodesWithMember(*servers, "doc", longReader->token), nodes);

    LS_VERIFY_OK(locker.release(*longReader));
    auto crashed2 = locker.tryAcquire("doc", kindOptions(LockKind::Read, 300ms)); // crashes too
    LS_VERIFY_OK(crashed2);
    AcquireOptions options = kindOptions(LockKind::Write, 10s);
    options.retry = RetryStrategy::linear(20ms);
    options.wait = 5s;
    const auto proceeds = locker.acquire("doc", options);
    LS_VERIFY_OK(proceeds);
    QVERIFY(proceeds->attempts > 1);
    // The writer holds where its votes say it was granted (on 3 nodes a quorum: a node where
    // the crashed reader's entry had not expired yet may have refused it); there it is alone.
    int granted = 0;
    for (int i = 0; i < nodes; ++i) {
        const auto all = members(*servers, i, "doc");
        if (proceeds->votes.at(size_t(i)).outcome != NodeVote::Outcome::Granted) {
            for (const QByteArray &member : all)
                QVERIFY(!member.startsWith(LockValue::ownerPrefix(proceeds->token)));
            continue;
        }
        ++granted;
        QCOMPARE(all.size(), size_t(1));
        QVERIFY(all.front().startsWith(LockValue::ownerPrefix(proceeds->token)));
        QVERIFY(inRange(servers->pttl(i, "doc"), 9000, 10000));
    }
    QVERIFY(granted >= nodes / 2 + 1);
    LS_VERIFY_OK(locker.release(*proceeds));
}

void TestLockKinds::timeoutKindsAndIntentCleanup()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const QByteArray intent = writerIntentKeyFor("doc");
    auto reader = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_OK(reader);
    AcquireOptions options = kindOptions(LockKind::Write, 10s);
    options.retry = RetryStrategy::linear(20ms);
    options.wait = 300ms;
    const auto writer = locker.acquire("doc", options);
    LS_VERIFY_LOCK_ERROR(writer, LockErrorKind::ReadersTimeout);
    QVERIFY(writer.error().lastCause == LockErrorKind::NotObtained);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(servers->pttl(i, intent), qint64(-2)); // the writer that gave up left no intent
    QCOMPARE(nodesWithMember(*servers, "doc", writer.error().token), 0);
    // So readers are welcome again.
    auto reader2 = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_OK(reader2);

    // A cancelled writer cleans up the same way.
    auto cancel = std::make_shared<CancellationToken>();
    options.cancel = cancel;
    options.wait = 10s;
    std::optional<LockResult<Lock>> cancelled;
    std::thread waiting([&] { cancelled = locker.acquire("doc", options); });
    QTRY_VERIFY_WITH_TIMEOUT(servers->pttl(0, intent) > 0, 5000);
    cancel->cancel();
    waiting.join();
    LS_VERIFY_LOCK_ERROR(*cancelled, LockErrorKind::Cancelled);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(servers->pttl(i, intent), qint64(-2));
    LS_VERIFY_OK(locker.release(*reader));
    LS_VERIFY_OK(locker.release(*reader2));

    // Waiting for a writer ends in WriteLockTimeout, for readers and writers alike.
    auto w = locker.tryAcquire("doc", kindOptions(LockKind::Write, 10s));
    LS_VERIFY_OK(w);
    for (const LockKind kind : {LockKind::Read, LockKind::Write}) {
        AcquireOptions waitOptions = kindOptions(kind, 10s);
        waitOptions.retry = RetryStrategy::linear(20ms);
        waitOptions.wait = 200ms;
        LS_VERIFY_LOCK_ERROR(locker.acquire("doc", waitOptions), LockErrorKind::WriteLockTimeout);
    }
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(members(*servers, i, "doc").size(), size_t(1));
        QCOMPARE(servers->pttl(i, intent), qint64(-2));
    }
    LS_VERIFY_OK(locker.release(*w));
}

void TestLockKinds::watchdogKeepsReaderAndWriter()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    for (const LockKind kind : {LockKind::Read, LockKind::Write}) {
        const QByteArray key = kind == LockKind::Read ? "watched-read" : "watched-write";
        auto guard = LockGuard::acquire(locker, key, kindOptions(kind, 300ms), /*watchdog=*/true);
        LS_VERIFY_OK(guard);
        const QByteArray token = guard->lock().token;
        QTest::qWait(1000); // three TTLs: only the watchdog's extends keep the entry
        QVERIFY(!guard->lost());
        for (int i = 0; i < nodes; ++i)
            QVERIFY2(memberPttl(*servers, i, key, token) > 0, key.constData());
        LS_VERIFY_OK(guard->release());
        QCOMPARE(nodesWithMember(*servers, key, token), 0);
    }
}

void TestLockKinds::extendTtlReleasePerHolder()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    auto a = locker.tryAcquire("sem", kindOptions(LockKind::Semaphore, 2s, 3));
    auto b = locker.tryAcquire("sem", kindOptions(LockKind::Semaphore, 2s, 3));
    LS_VERIFY_OK(a);
    LS_VERIFY_OK(b);
    auto extended = locker.extend(*a, 20s);
    LS_VERIFY_OK(extended);
    for (int i = 0; i < nodes; ++i) {
        QVERIFY(inRange(memberPttl(*servers, i, "sem", a->token), 19000, 20000));
        QVERIFY(inRange(memberPttl(*servers, i, "sem", b->token), 0, 2000)); // untouched
        QVERIFY(inRange(servers->pttl(i, "sem"), 19000, 20000)); // the key lives as long as its latest holder
    }
    const auto left = locker.ttl(*extended);
    LS_VERIFY_OK(left);
    QVERIFY(inRange(left->count(), 18000, 20000));
    auto added = locker.extend(*b, 1s, ExtendMode::Add);
    LS_VERIFY_OK(added);
    QVERIFY(inRange(memberPttl(*servers, 0, "sem", b->token), 2000, 3000));

    // Release takes one holder's entry only; a second release of it is NotHeld.
    LS_VERIFY_OK(locker.release(*b));
    LS_VERIFY_LOCK_ERROR(locker.release(*b), LockErrorKind::NotHeld);
    LS_VERIFY_LOCK_ERROR(locker.extend(*b, 5s), LockErrorKind::NotHeld);
    LS_VERIFY_LOCK_ERROR(locker.ttl(*b), LockErrorKind::NotHeld);
    QCOMPARE(nodesWithMember(*servers, "sem", a->token), nodes);
    QCOMPARE(nodesWithMember(*servers, "sem", b->token), 0);
    // A handle made from the token alone works on a holder entry too.
    LS_VERIFY_OK(locker.release(locker.handleFor("sem", a->token)));
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(servers->pttl(i, "sem"), qint64(-2));
}

void TestLockKinds::extendHealsLostHolderEntry()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    auto reader = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    auto other = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_OK(reader);
    LS_VERIFY_OK(other);
    // Node 2 lost everything (a restart without persistence): the reader survives on a quorum.
    QVERIFY(servers->del(2, "doc"));
    auto healed = locker.extend(*reader, 20s, ExtendMode::Replace, /*heal=*/true);
    LS_VERIFY_OK(healed);
    QCOMPARE(nodesWithMember(*servers, "doc", reader->token), 3);
    for (int i = 0; i < 3; ++i)
        QVERIFY(inRange(memberPttl(*servers, i, "doc", reader->token), 15000, 20000));
    // The healed entry is the reader's own value (its fence kept); the other reader stays lost there.
    QCOMPARE(members(*servers, 2, "doc").size(), size_t(1));
    QCOMPARE(LockValue::parse(members(*servers, 2, "doc").front())->fence, reader->fence);
    QCOMPARE(nodesWithMember(*servers, "doc", other->token), 2);

    // Lost on two nodes: no quorum survives, so nothing is healed (the heals are undone).
    for (const int i : {1, 2})
        LS_VERIFY_OK(servers->admin(i).command({"ZREM", "doc", members(*servers, i, "doc").front()}));
    QCOMPARE(nodesWithMember(*servers, "doc", other->token), 1);
    LS_VERIFY_LOCK_ERROR(locker.extend(*other, 20s, ExtendMode::Replace, true), LockErrorKind::NotHeld);
    QCOMPARE(nodesWithMember(*servers, "doc", other->token), 1);
}

void TestLockKinds::writerFencesIncrease()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    qint64 last = 0;
    for (int round = 0; round < 5; ++round) {
        auto reader = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
        LS_VERIFY_OK(reader);
        QVERIFY(reader->fence > last);
        last = reader->fence;
        LS_VERIFY_OK(locker.release(*reader));
        auto writer = locker.tryAcquire("doc", kindOptions(LockKind::Write, 10s));
        LS_VERIFY_OK(writer);
        QVERIFY(writer->fence > last);
        last = writer->fence;
        QCOMPARE(LockValue::parse(writer->value)->fence, writer->fence);
        LS_VERIFY_OK(locker.release(*writer));
    }
}

void TestLockKinds::semaphoreNeverExceedsPermits()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    constexpr int kPermits = 3;
    constexpr int kThreads = 16;
    constexpr int kRounds = 12;
    LockerOptions lockerOptions;
    lockerOptions.poolSize = kThreads;
    Locker locker(servers->configs(), lockerOptions);
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    std::atomic<int> done{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int round = 0; round < kRounds; ++round) {
                AcquireOptions options = kindOptions(LockKind::Semaphore, 10s, kPermits);
                options.retry = RetryStrategy::exponential(2ms, 20ms, 0, 0.5);
                options.wait = 30s;
                auto permit = locker.acquire("pool", options);
                if (!permit) {
                    ++failures;
                    continue;
                }
                const int now = ++inside;
                int seen = most.load();
                while (now > seen && !most.compare_exchange_weak(seen, now)) {
                }
                std::this_thread::sleep_for(1ms);
                --inside;
                if (!locker.release(*permit))
                    ++failures;
                ++done;
            }
        });
    }
    for (auto &thread : threads)
        thread.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE(done.load(), kThreads * kRounds);
    QVERIFY2(most.load() <= kPermits, QByteArray::number(most.load()));
    QVERIFY(most.load() >= 2); // they did overlap: a semaphore, not a mutex
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(servers->pttl(i, "pool"), qint64(-2));
}

void TestLockKinds::crashedPermitReturnsAtItsTtl()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    auto crashed = locker.tryAcquire("pool", kindOptions(LockKind::Semaphore, 300ms, 2)); // never released
    auto holder = locker.tryAcquire("pool", kindOptions(LockKind::Semaphore, 10s, 2));
    LS_VERIFY_OK(crashed);
    LS_VERIFY_OK(holder);
    const auto full = locker.tryAcquire("pool", kindOptions(LockKind::Semaphore, 10s, 2));
    LS_VERIFY_LOCK_ERROR(full, LockErrorKind::NotObtained);
    QVERIFY2(full.error().message.contains(QLatin1String("all 2 permits")),
             qPrintable(full.error().toString()));
    QVERIFY(std::ranges::all_of(full.error().votes, [](const NodeVote &vote) {
        return vote.blocker == NodeVote::Blocker::Permits && vote.pttl > 0 && vote.pttl <= 300;
    }));

    AcquireOptions options = kindOptions(LockKind::Semaphore, 10s, 2);
    options.retry = RetryStrategy::linear(20ms);
    options.wait = 5s;
    auto returned = locker.acquire("pool", options);
    LS_VERIFY_OK(returned);
    QCOMPARE(nodesWithMember(*servers, "pool", crashed->token), 0);
    QCOMPARE(nodesWithMember(*servers, "pool", holder->token), nodes);
    QCOMPARE(nodesWithMember(*servers, "pool", returned->token), nodes);
    for (int i = 0; i < nodes; ++i) {
        for (const QByteArray &member : members(*servers, i, "pool"))
            QCOMPARE(LockValue::parse(member)->permits, 2);
    }
    LS_VERIFY_OK(locker.release(*returned));
    LS_VERIFY_OK(locker.release(*holder));
}

void TestLockKinds::reentrantHoldsCount()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    AcquireOptions options = kindOptions(LockKind::Reentrant, 2s);
    options.token = "worker-7";
    auto first = locker.tryAcquire("job", options);
    LS_VERIFY_OK(first);
    QCOMPARE(first->holds, 1);
    QCOMPARE(first->token, QByteArray("worker-7"));
    options.ttl = 20s; // each re-entry sets the TTL
    auto second = locker.tryAcquire("job", options);
    LS_VERIFY_OK(second);
    QCOMPARE(second->holds, 2);
    QCOMPARE(second->fence, first->fence); // the same holding: the same fence
    for (int i = 0; i < nodes; ++i) {
        const auto value = LockValue::parse(servers->get(i, "job"));
        QVERIFY(value.has_value());
        QCOMPARE(value->holds, 2);
        QCOMPARE(value->token, QByteArray("worker-7"));
        QVERIFY(inRange(servers->pttl(i, "job"), 19000, 20000));
    }
    AcquireOptions other = kindOptions(LockKind::Reentrant, 20s);
    other.token = "worker-8";
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("job", other), LockErrorKind::NotObtained);

    LS_VERIFY_OK(locker.release(*second)); // one hold less: still held, TTL kept
    for (int i = 0; i < nodes; ++i) {
        QCOMPARE(LockValue::parse(servers->get(i, "job"))->holds, 1);
        QVERIFY(inRange(servers->pttl(i, "job"), 15000, 20000));
    }
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("job", other), LockErrorKind::NotObtained);
    // Keeping it alive adds no hold.
    LS_VERIFY_OK(locker.acquireOrExtend(*first, 30s));
    QCOMPARE(LockValue::parse(servers->get(0, "job"))->holds, 1);
    LS_VERIFY_OK(locker.release(*first));
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(servers->pttl(i, "job"), qint64(-2));
    LS_VERIFY_LOCK_ERROR(locker.release(*first), LockErrorKind::NotHeld);
    LS_VERIFY_OK(locker.tryAcquire("job", other));
}

void TestLockKinds::reentrantOwnerIsThreadByDefault()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    auto first = locker.tryAcquire("job", kindOptions(LockKind::Reentrant, 10s));
    LS_VERIFY_OK(first);
    auto again = locker.tryAcquire("job", kindOptions(LockKind::Reentrant, 10s));
    LS_VERIFY_OK(again);
    QCOMPARE(again->holds, 2);
    QCOMPARE(again->token, first->token);
    std::optional<LockResult<Lock>> fromOtherThread;
    std::thread other(
        [&] { fromOtherThread = locker.tryAcquire("job", kindOptions(LockKind::Reentrant, 10s)); });
    other.join();
    LS_VERIFY_LOCK_ERROR(*fromOtherThread, LockErrorKind::NotObtained);
    // Another Locker in the same thread is another owner too.
    Locker second(servers->configs());
    LS_VERIFY_LOCK_ERROR(second.tryAcquire("job", kindOptions(LockKind::Reentrant, 10s)),
                         LockErrorKind::NotObtained);
    // A plain mutex of the same token is not silently counted.
    AcquireOptions plain = withTtl(10s, "plain-owner");
    LS_VERIFY_OK(locker.tryAcquire("plain", plain));
    AcquireOptions reenter = kindOptions(LockKind::Reentrant, 10s);
    reenter.token = "plain-owner";
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("plain", reenter), LockErrorKind::KindMismatch);
    QCOMPARE(LockValue::parse(servers->get(0, "plain"))->holds, 0);
}

void TestLockKinds::reentrantFailedReentryUndoesItsHold()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    AcquireOptions options = kindOptions(LockKind::Reentrant, 10s);
    options.token = "owner";
    auto held = locker.tryAcquire("job", options);
    LS_VERIFY_OK(held);
    // Another owner took node 2 meanwhile (the key expired there and was taken), node 1 is down:
    // the re-entry gets node 0 only and fails; node 0 must be back to one hold, node 2 untouched.
    QVERIFY(servers->set(2, "job", "someone else", 10000));
    servers->server(1).kill();
    const auto reentry = locker.tryAcquire("job", options);
    LS_VERIFY_LOCK_ERROR(reentry, LockErrorKind::QuorumNotReached);
    QCOMPARE(reentry.error().votes[0].outcome, Outcome::Released);
    const auto value = LockValue::parse(servers->get(0, "job"));
    QVERIFY(value.has_value());
    QCOMPARE(value->holds, 1);
    QVERIFY(value->call.isEmpty() || held->value.contains(" call=" + value->call));
    QVERIFY(servers->pttl(0, "job") > 0);
    QCOMPARE(servers->get(2, "job"), QByteArray("someone else"));
}

void TestLockKinds::reentrantPausedNodeUndoesLateHold()
{
    LS_START_SERVERS(servers, 3);
    LockerOptions lockerOptions;
    lockerOptions.nodeTimeout = 300ms;
    Locker locker(servers->configs(), lockerOptions);
    AcquireOptions options = kindOptions(LockKind::Reentrant, 10s);
    options.token = "owner";
    auto held = locker.tryAcquire("job", options);
    LS_VERIFY_OK(held);
    servers->server(2).kill();
    const qint64 scriptsBefore = servers->scriptCalls(0, true);
    QVERIFY(servers->server(0).pause());
    ResumeOnExit resume(servers->server(0));
    // Node 1 grants the re-entry, node 0 is stalled, node 2 is down: no quorum.
    const auto reentry = locker.tryAcquire("job", options);
    LS_VERIFY_LOCK_ERROR(reentry, LockErrorKind::QuorumNotReached);
    QCOMPARE(LockValue::parse(servers->get(1, "job"))->holds, 1);
    QVERIFY(servers->server(0).resume());
    // The stalled node runs the late re-entry and then the undo queued behind it: one hold.
    QTRY_VERIFY_WITH_TIMEOUT(servers->scriptCalls(0, true) >= scriptsBefore + 2, 5000);
    const auto value = LockValue::parse(servers->get(0, "job"));
    QVERIFY(value.has_value());
    QCOMPARE(value->holds, 1);
    QVERIFY(servers->pttl(0, "job") > 0);
}

void TestLockKinds::multiKeyAllOrNone()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    Locker locker(servers->configs());
    auto a = locker.tryAcquire(std::vector<QByteArray>{"c", "a", "b", "a"}, withTtl(10s));
    LS_VERIFY_OK(a);
    QCOMPARE(a->keys, (std::vector<QByteArray>{"a", "b", "c"})); // sorted, each once
    QCOMPARE(a->key, QByteArray("a"));
    QCOMPARE(a->fences.size(), size_t(3));
    QCOMPARE(a->fence, a->fences.front());
    for (int i = 0; i < nodes; ++i) {
        for (const QByteArray key : {"a", "b", "c"}) {
            const auto value = LockValue::parse(servers->get(i, key));
            QVERIFY(value.has_value());
            QCOMPARE(value->token, a->token);
            QVERIFY(inRange(servers->pttl(i, key), 9000, 10000));
        }
    }
    const auto b = locker.tryAcquire(std::vector<QByteArray>{"d", "c"}, withTtl(10s));
    LS_VERIFY_LOCK_ERROR(b, LockErrorKind::NotObtained);
    QVERIFY2(b.error().message.contains(QLatin1String("key 1 of 2 (c)")), qPrintable(b.error().toString()));
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(servers->pttl(i, "d"), qint64(-2)); // none of the set was taken

    LS_VERIFY_OK(locker.release(*a));
    for (int i = 0; i < nodes; ++i) {
        for (const QByteArray key : {"a", "b", "c"})
            QCOMPARE(servers->pttl(i, key), qint64(-2));
    }
    auto b2 = locker.tryAcquire(std::vector<QByteArray>{"d", "c"}, withTtl(10s));
    LS_VERIFY_OK(b2);
    // A multi-key lock is a mutex set: other kinds take one key.
    LS_VERIFY_LOCK_ERROR(
        locker.tryAcquire(std::vector<QByteArray>{"x", "y"}, kindOptions(LockKind::Read, 10s)),
        LockErrorKind::InvalidArgument);
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire(std::vector<QByteArray>{"x", ""}, withTtl(10s)),
                         LockErrorKind::InvalidArgument);
    QCOMPARE(servers->pttl(0, "x"), qint64(-2));
    LS_VERIFY_OK(locker.release(*b2));
}

void TestLockKinds::multiKeyOverlappingSetsFromThreads()
{
    LS_START_SERVERS(servers, 3);
    constexpr int kThreads = 8;
    constexpr int kRounds = 15;
    constexpr int kKeys = 5;
    LockerOptions lockerOptions;
    lockerOptions.poolSize = kThreads;
    Locker locker(servers->configs(), lockerOptions);
    std::array<std::atomic<int>, kKeys> inside{};
    std::atomic<int> overlaps{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < kRounds; ++round) {
                // Overlapping sets in opposite orders: {k(t), k(t+1), k(t+2)} listed backwards half the time.
                std::vector<int> picked{(t + round) % kKeys, (t + round + 1) % kKeys,
                                        (t + round + 3) % kKeys};
                if (t % 2 == 1)
                    std::ranges::reverse(picked);
                std::vector<QByteArray> keys;
                for (const int k : picked)
                    keys.push_back("k" + QByteArray::number(k));
                AcquireOptions options = withTtl(10s);
                options.retry = RetryStrategy::exponential(2ms, 20ms, 0, 0.5);
                options.wait = 30s;
                auto lock = locker.acquire(keys, options);
                if (!lock) {
                    ++failures;
                    continue;
                }
                for (const int k : picked)
                    overlaps += ++inside[size_t(k)] > 1;
                std::this_thread::sleep_for(1ms);
                for (const int k : picked)
                    --inside[size_t(k)];
                if (!locker.release(*lock))
                    ++failures;
            }
        });
    }
    for (auto &thread : threads)
        thread.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE(overlaps.load(), 0);
    for (int i = 0; i < 3; ++i) {
        for (int k = 0; k < kKeys; ++k)
            QCOMPARE(servers->pttl(i, "k" + QByteArray::number(k)), qint64(-2));
    }
}

void TestLockKinds::multiKeyPausedNodeLeavesNoKeys()
{
    LS_START_SERVERS(servers, 3);
    LockerOptions options;
    options.nodeTimeout = 500ms;
    Locker locker(servers->configs(), options);
    auto warm = locker.tryAcquire(std::vector<QByteArray>{"w1", "w2"}, withTtl(10s));
    LS_VERIFY_OK(warm);
    LS_VERIFY_OK(locker.release(*warm));
    // The caller's token already holds "x" on every node: a failed call must not touch it.
    AcquireOptions mine = withTtl(10s, "multi-token");
    LS_VERIFY_OK(locker.tryAcquire("x", mine));

    // Node 0 stalls, node 2 is down: node 1 alone grants, no quorum.
    servers->server(2).kill();
    const qint64 scriptsBefore = servers->scriptCalls(0, true);
    QVERIFY(servers->server(0).pause());
    ResumeOnExit resume(servers->server(0));
    const auto result = locker.tryAcquire(std::vector<QByteArray>{"x", "y", "z"}, mine);
    LS_VERIFY_LOCK_ERROR(result, LockErrorKind::QuorumNotReached);
    QCOMPARE(result.error().votes[1].outcome, Outcome::Released);
    QCOMPARE(servers->pttl(1, "y"), qint64(-2));
    QCOMPARE(servers->pttl(1, "z"), qint64(-2));
    QCOMPARE(LockValue::parse(servers->get(1, "x"))->token, QByteArray("multi-token"));
    QVERIFY(servers->pttl(1, "x") > 0);
    QVERIFY(servers->server(0).resume());
    // The stalled node runs the late acquire and the undo queued behind it: y and z go, x stays.
    QTRY_VERIFY_WITH_TIMEOUT(servers->scriptCalls(0, true) >= scriptsBefore + 2, 5000);
    QCOMPARE(servers->pttl(0, "y"), qint64(-2));
    QCOMPARE(servers->pttl(0, "z"), qint64(-2));
    const auto x = LockValue::parse(servers->get(0, "x"));
    QVERIFY(x.has_value());
    QCOMPARE(x->token, QByteArray("multi-token"));
    QVERIFY(servers->pttl(0, "x") > 0);
}

void TestLockKinds::multiKeyExtendTtlRelease()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    auto lock = locker.tryAcquire(std::vector<QByteArray>{"m1", "m2"}, withTtl(2s));
    LS_VERIFY_OK(lock);
    auto extended = locker.extend(*lock, 20s);
    LS_VERIFY_OK(extended);
    for (int i = 0; i < 3; ++i) {
        QVERIFY(inRange(servers->pttl(i, "m1"), 19000, 20000));
        QVERIFY(inRange(servers->pttl(i, "m2"), 19000, 20000));
    }
    auto left = locker.ttl(*extended);
    LS_VERIFY_OK(left);
    QVERIFY(inRange(left->count(), 18000, 20000));
    // m2 lost on two nodes (expired and taken): the set is no longer held on a quorum.
    for (const int i : {0, 1})
        QVERIFY(servers->set(i, "m2", "someone else", 30000));
    LS_VERIFY_LOCK_ERROR(locker.extend(*extended, 30s), LockErrorKind::NotHeld);
    LS_VERIFY_LOCK_ERROR(locker.ttl(*extended), LockErrorKind::NotHeld);
    QVERIFY(inRange(servers->pttl(0, "m1"), 15000, 20000)); // a refused extend changed nothing
    LS_VERIFY_LOCK_ERROR(locker.release(*extended), LockErrorKind::NotHeld);
    // Release deleted only what was ours.
    for (const int i : {0, 1}) {
        QCOMPARE(servers->pttl(i, "m1"), qint64(-2));
        QCOMPARE(servers->get(i, "m2"), QByteArray("someone else"));
    }
    QCOMPARE(servers->pttl(2, "m1"), qint64(-2));
    QCOMPARE(servers->pttl(2, "m2"), qint64(-2));
}

void TestLockKinds::fairServesInArrivalOrder()
{
    QFETCH(int, nodes);
    LS_START_SERVERS(servers, nodes);
    LockerOptions lockerOptions;
    lockerOptions.poolSize = 8;
    Locker locker(servers->configs(), lockerOptions);
    const auto [queue, deadlines] = fairQueueKeysFor("fair");
    auto holder = locker.tryAcquire("fair", kindOptions(LockKind::Fair, 10s));
    LS_VERIFY_OK(holder);

    constexpr int kWaiters = 4;
    std::mutex orderMutex;
    std::vector<int> order;
    std::vector<std::thread> waiters;
    for (int w = 0; w < kWaiters; ++w) {
        waiters.emplace_back([&, w] {
            AcquireOptions options = kindOptions(LockKind::Fair, 10s);
            options.retry = RetryStrategy::linear(10ms);
            options.wait = 20s;
            auto lock = locker.acquire("fair", options);
            if (!lock)
                return;
            {
                std::lock_guard guard(orderMutex);
                order.push_back(w);
            }
            std::this_thread::sleep_for(5ms);
            (void)locker.release(*lock);
        });
        // The next waiter arrives after this one is in the queue (on every node).
        QTRY_VERIFY_WITH_TIMEOUT(members(*servers, nodes - 1, queue).size() == size_t(w + 1), 5000);
    }
    for (int i = 0; i < nodes; ++i)
        QCOMPARE(members(*servers, i, queue).size(), size_t(kWaiters));
    // A newcomer's try is refused while others wait, and does not queue.
    const auto newcomer = locker.tryAcquire("fair", kindOptions(LockKind::Fair, 10s));
    LS_VERIFY_LOCK_ERROR(newcomer, LockErrorKind::NotObtained);
    QCOMPARE(members(*servers, 0, queue).size(), size_t(kWaiters));

    LS_VERIFY_OK(locker.release(*holder));
    for (auto &thread : waiters)
        thread.join();
    QCOMPARE(order, (std::vector<int>{0, 1, 2, 3}));
    for (int i = 0; i < nodes; ++i) {
        QCOMPARE(servers->pttl(i, "fair"), qint64(-2));
        QVERIFY(members(*servers, i, queue).empty());
        QVERIFY(members(*servers, i, deadlines).empty());
    }
}

void TestLockKinds::fairSkipsVanishedWaiter()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    const auto [queue, deadlines] = fairQueueKeysFor("fair");
    auto holder = locker.tryAcquire("fair", kindOptions(LockKind::Fair, 10s));
    LS_VERIFY_OK(holder);
    // A waiter that queued first and then vanished (its process died): its place has a
    // deadline 500 ms ahead that nobody renews. Written as the acquire script writes it.
    auto time = servers->admin(0).command({"TIME"});
    LS_VERIFY_OK(time);
    const qint64 seconds = time->elements()[0].bytes().toLongLong();
    const qint64 micros = time->elements()[1].bytes().toLongLong();
    const QByteArray ghost = LockValue::ownerPrefix("ghost") + "host=gone pid=1";
    LS_VERIFY_OK(servers->admin(0).command(
        {"ZADD", queue, QByteArray::number(seconds * 1000000 + micros - 1000), ghost}));
    LS_VERIFY_OK(servers->admin(0).command(
        {"ZADD", deadlines, QByteArray::number(seconds * 1000 + micros / 1000 + 500), ghost}));

    std::optional<LockResult<Lock>> waiter;
    std::thread thread([&] {
        AcquireOptions options = kindOptions(LockKind::Fair, 10s);
        options.retry = RetryStrategy::linear(20ms);
        options.wait = 10s;
        waiter = locker.acquire("fair", options);
    });
    QTRY_VERIFY_WITH_TIMEOUT(members(*servers, 0, queue).size() == 2, 5000);
    QVERIFY(members(*servers, 0, queue).front() == ghost); // it arrived first
    LS_VERIFY_OK(locker.release(*holder));
    thread.join();
    LS_VERIFY_OK(*waiter);
    QCOMPARE(LockValue::parse(servers->get(0, "fair"))->token, (*waiter)->token);
    QVERIFY(members(*servers, 0, queue).empty()); // the ghost was dropped at its deadline
    LS_VERIFY_OK(locker.release(**waiter));
}

void TestLockKinds::fairCancelledWaiterLeavesQueue()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    const auto [queue, deadlines] = fairQueueKeysFor("fair");
    auto holder = locker.tryAcquire("fair", kindOptions(LockKind::Fair, 10s));
    LS_VERIFY_OK(holder);
    auto cancel = std::make_shared<CancellationToken>();
    std::optional<LockResult<Lock>> waiter;
    std::thread thread([&] {
        AcquireOptions options = kindOptions(LockKind::Fair, 10s);
        options.retry = RetryStrategy::linear(20ms);
        options.wait = 10s;
        options.cancel = cancel;
        waiter = locker.acquire("fair", options);
    });
    QTRY_VERIFY_WITH_TIMEOUT(members(*servers, 2, queue).size() == 1, 5000);
    cancel->cancel();
    thread.join();
    LS_VERIFY_LOCK_ERROR(*waiter, LockErrorKind::Cancelled);
    for (int i = 0; i < 3; ++i) {
        QVERIFY(members(*servers, i, queue).empty());
        QVERIFY(members(*servers, i, deadlines).empty());
        QCOMPARE(LockValue::parse(servers->get(i, "fair"))->token, holder->token); // the holder untouched
    }
    // A waiter whose wait runs out leaves the queue too.
    AcquireOptions options = kindOptions(LockKind::Fair, 10s);
    options.retry = RetryStrategy::linear(20ms);
    options.wait = 200ms;
    LS_VERIFY_LOCK_ERROR(locker.acquire("fair", options), LockErrorKind::Timeout);
    for (int i = 0; i < 3; ++i)
        QVERIFY(members(*servers, i, queue).empty());
    LS_VERIFY_OK(locker.release(*holder));
}

void TestLockKinds::semaphoreQuorum()
{
    LS_START_SERVERS(servers, 5);
    auto configs = servers->configs();
    Locker five(configs);
    configs.resize(3);
    Locker three(configs);
    configs.resize(1);
    Locker one(configs);
    // floor(n * N / (N + 1)) + 1: N + 1 holders would need more entries than n nodes of N fit.
    QCOMPARE(one.quorumFor(LockKind::Semaphore, 5), 1);
    QCOMPARE(three.quorumFor(LockKind::Semaphore, 1), 2);
    QCOMPARE(three.quorumFor(LockKind::Semaphore, 2), 3);
    QCOMPARE(three.quorumFor(LockKind::Semaphore, 100), 3);
    QCOMPARE(five.quorumFor(LockKind::Semaphore, 1), 3);
    QCOMPARE(five.quorumFor(LockKind::Semaphore, 2), 4);
    QCOMPARE(five.quorumFor(LockKind::Semaphore, 4), 5);
    QCOMPARE(five.quorumFor(LockKind::Read, 0), 3);
    QCOMPARE(five.quorumFor(LockKind::Write, 0), 3);
}

void TestLockKinds::semaphoreWithNodeDown()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    servers->server(2).kill();
    // One permit: a majority is enough, as for a mutex.
    auto single = locker.tryAcquire("one", kindOptions(LockKind::Semaphore, 10s, 1));
    LS_VERIFY_OK(single);
    QCOMPARE(nodesWithMember(*servers, "one", single->token), 2);
    // Two permits need every node: refused, and nothing is left on the nodes that granted.
    const auto two = locker.tryAcquire("two", kindOptions(LockKind::Semaphore, 10s, 2));
    LS_VERIFY_LOCK_ERROR(two, LockErrorKind::QuorumNotReached);
    QVERIFY2(two.error().message.contains(QLatin1String("3 needed")), qPrintable(two.error().toString()));
    for (const int i : {0, 1})
        QCOMPARE(servers->pttl(i, "two"), qint64(-2));
    LS_VERIFY_OK(locker.release(*single));
}

void TestLockKinds::kindsDoNotMix()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    auto permit = locker.tryAcquire("pool", kindOptions(LockKind::Semaphore, 10s, 3));
    LS_VERIFY_OK(permit);
    const auto before = members(*servers, 0, "pool");

    const auto otherCount = locker.tryAcquire("pool", kindOptions(LockKind::Semaphore, 10s, 2));
    LS_VERIFY_LOCK_ERROR(otherCount, LockErrorKind::KindMismatch);
    QVERIFY2(otherCount.error().message.contains(QLatin1String("semaphore of 3 permits")),
             qPrintable(otherCount.error().toString()));
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("pool", kindOptions(LockKind::Read, 10s)),
                         LockErrorKind::KindMismatch);
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("pool", kindOptions(LockKind::Mutex, 10s)),
                         LockErrorKind::WrongType);
    // A blocking acquire does not retry a mismatch.
    AcquireOptions blocking = kindOptions(LockKind::Semaphore, 10s, 5);
    blocking.wait = 5s;
    const qint64 scripts = servers->scriptCalls(0);
    LS_VERIFY_LOCK_ERROR(locker.acquire("pool", blocking), LockErrorKind::KindMismatch);
    QCOMPARE(servers->scriptCalls(0), scripts + 1);
    QCOMPARE(members(*servers, 0, "pool"), before);

    auto reader = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_OK(reader);
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("doc", kindOptions(LockKind::Semaphore, 10s, 3)),
                         LockErrorKind::KindMismatch);
    // The same token cannot hold both modes.
    AcquireOptions upgrade = kindOptions(LockKind::Write, 10s);
    upgrade.token = reader->token;
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("doc", upgrade), LockErrorKind::KindMismatch);
    QCOMPARE(nodesWithMember(*servers, "doc", reader->token), 1);

    QVERIFY(servers->set(0, "plain", "not a lock"));
    const auto onString = locker.tryAcquire("plain", kindOptions(LockKind::Write, 10s));
    LS_VERIFY_LOCK_ERROR(onString, LockErrorKind::KindMismatch);
    QVERIFY2(onString.error().message.contains(QLatin1String("holds a string")),
             qPrintable(onString.error().toString()));
    QCOMPARE(servers->get(0, "plain"), QByteArray("not a lock"));
}

void TestLockKinds::invalidPermits()
{
    LS_START_SERVERS(servers, 1);
    Locker locker(servers->configs());
    const qint64 before = servers->scriptCalls(0);
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("pool", kindOptions(LockKind::Semaphore, 10s, 0)),
                         LockErrorKind::InvalidArgument);
    LS_VERIFY_LOCK_ERROR(locker.tryAcquire("pool", kindOptions(LockKind::Semaphore, 10s, -1)),
                         LockErrorKind::InvalidArgument);
    LS_VERIFY_LOCK_ERROR(locker.acquire("doc", kindOptions(LockKind::Read, 10s, 2)),
                         LockErrorKind::InvalidArgument);
    QCOMPARE(servers->scriptCalls(0), before);
}

void TestLockKinds::pausedNodeLeavesNoEntry()
{
    LS_START_SERVERS(servers, 3);
    LockerOptions options;
    options.nodeTimeout = 500ms;
    Locker locker(servers->configs(), options);
    auto warm = locker.tryAcquire("warm", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_OK(warm);
    LS_VERIFY_OK(locker.release(*warm));

    QVERIFY(servers->server(0).pause());
    ResumeOnExit resume(servers->server(0));
    for (const LockKind kind : {LockKind::Read, LockKind::Semaphore}) {
        AcquireOptions slow = kindOptions(kind, 300ms, kind == LockKind::Semaphore ? 2 : 0);
        slow.token = kind == LockKind::Read ? "paused-reader" : "paused-permit";
        const auto result = locker.tryAcquire("slow", slow);
        // A reader has a majority but too late; a 2-permit semaphore on 3 nodes needs all 3.
        LS_VERIFY_LOCK_ERROR(result, kind == LockKind::Read ? LockErrorKind::ValidityExpired
                                                            : LockErrorKind::QuorumNotReached);
        const auto &votes = result.error().votes;
        QVERIFY2(votes[0].outcome == Outcome::Error && votes[1].outcome == Outcome::Released &&
                     votes[2].outcome == Outcome::Released,
                 qPrintable(outcomes(votes)));
        for (const int i : {1, 2})
            QVERIFY(members(*servers, i, "slow").empty());
    }
    QVERIFY(servers->server(0).resume());
    // The paused node runs the late acquires, then the undo queued behind them.
    QTRY_VERIFY_WITH_TIMEOUT(members(*servers, 0, "slow").empty(), 5000);
    QCOMPARE(servers->pttl(0, "slow"), qint64(-2));
}

void TestLockKinds::failedRefreshKeepsEarlierEntry()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    auto reader = locker.tryAcquire("doc", kindOptions(LockKind::Read, 10s));
    LS_VERIFY_OK(reader);
    servers->server(1).kill();
    servers->server(2).kill();
    AcquireOptions again = kindOptions(LockKind::Read, 10s);
    again.token = reader->token;
    const auto refreshed = locker.tryAcquire("doc", again);
    LS_VERIFY_LOCK_ERROR(refreshed, LockErrorKind::QuorumNotReached);
    // The entry the token held before the call stays, with its TTL.
    QVERIFY(inRange(memberPttl(*servers, 0, "doc", reader->token), 5000, 10000));
}

void TestLockKinds::readOnlyNodeRefusesEveryKind()
{
    LS_START_SERVERS(servers, 1);
    auto configs = servers->configs();
    configs.front().readOnly = true;
    Locker locker(configs);
    const qint64 before = servers->commandCalls(0, {"evalsha", "eval", "zadd", "set"});
    for (const LockKind kind : {LockKind::Read, LockKind::Write, LockKind::Semaphore}) {
        LS_VERIFY_LOCK_ERROR(
            locker.tryAcquire("doc", kindOptions(kind, 10s, kind == LockKind::Semaphore ? 2 : 0)),
            LockErrorKind::ReadOnly);
    }
    QCOMPARE(servers->commandCalls(0, {"evalsha", "eval", "zadd", "set"}), before);
    QCOMPARE(servers->pttl(0, "doc"), qint64(-2));
}

// A refresh of a holder entry the token held before (acquire with the caller's token) that
// fails on the quorum leaves that entry's deadline as it was on the node that granted, and the
// key's expiry still covers the other holders. A refresh that succeeds gets the new TTL.
void TestLockKinds::failedHolderRefreshPutsBackItsDeadline()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    for (const LockKind kind : {LockKind::Read, LockKind::Semaphore}) {
        const bool read = kind == LockKind::Read;
        const QByteArray key = read ? "refresh-read" : "refresh-permit";
        const int permits = read ? 0 : 1;
        std::optional<Lock> other; // readers only: another holder that outlives ours
        if (read) {
            auto longer = locker.tryAcquire(key, kindOptions(kind, 20s));
            LS_VERIFY_OK(longer);
            other = *longer;
        }
        const auto held = locker.tryAcquire(key, kindOptions(kind, 5s, permits));
        LS_VERIFY_OK(held);
        const qint64 deadline = memberScore(*servers, 0, key, held->token);
        QVERIFY(deadline > 0);
        for (const int i : {1, 2}) {
            QVERIFY(replaceWithForeignHolder(*servers, i, key,
                                             read ? "ls1 tok=other fence=1 rw=w host=h"
                                                  : "ls1 tok=other fence=1 permits=1 host=h"));
        }

        AcquireOptions again = kindOptions(kind, 60s, permits);
        again.token = held->token;
        const auto refreshed = locker.tryAcquire(key, again);
        QVERIFY2(!refreshed, "refused on two of three nodes, yet granted");
        QVERIFY2(refreshed.error().votes[0].outcome == Outcome::Granted,
                 qPrintable(outcomes(refreshed.error().votes)));
        QCOMPARE(memberScore(*servers, 0, key, held->token), deadline);
        QVERIFY2(inRange(memberPttl(*servers, 0, key, held->token), 0, 5000),
                 QByteArray::number(memberPttl(*servers, 0, key, held->token)));
        if (read) {
            // The key still lives as long as its latest holder, the other reader.
            QVERIFY2(inRange(servers->pttl(0, key), 15000, 20000), QByteArray::number(servers->pttl(0, key)));
            QVERIFY(inRange(memberPttl(*servers, 0, key, other->token), 15000, 20000));
        } else {
            QVERIFY2(inRange(servers->pttl(0, key), 0, 5000), QByteArray::number(servers->pttl(0, key)));
        }
        for (const int i : {1, 2})
            QCOMPARE(members(*servers, i, key).size(), size_t(1)); // nothing of ours added there

        // The same refresh on a quorum succeeds and gets the new TTL.
        for (const int i : {1, 2})
            QVERIFY(servers->del(i, key));
        const auto granted = locker.tryAcquire(key, again);
        LS_VERIFY_OK(granted);
        for (int i = 0; i < 3; ++i)
            QVERIFY2(inRange(memberPttl(*servers, i, key, held->token), 50000, 60000),
                     QByteArray::number(memberPttl(*servers, i, key, held->token)));
        QVERIFY(inRange(servers->pttl(0, key), 50000, 60000));
    }
}

// A failed re-entry of a reentrant lock takes its hold back (the undo) and puts back the
// expiry the lock had before the call; so does a failed refresh of a fair lock.
void TestLockKinds::failedReentryPutsBackItsExpiry()
{
    LS_START_SERVERS(servers, 3);
    Locker locker(servers->configs());
    for (const LockKind kind : {LockKind::Reentrant, LockKind::Fair}) {
        const QByteArray key = kind == LockKind::Reentrant ? "reenter" : "fair-refresh";
        AcquireOptions options = kindOptions(kind, 5s);
        options.token = "re-owner";
        const auto held = locker.tryAcquire(key, options);
        LS_VERIFY_OK(held);
        const QByteArray before = servers->get(0, key);
        for (const int i : {1, 2})
            QVERIFY(servers->set(i, key, "someone else's", 30000));
        options.ttl = 60s;
        const auto again = locker.tryAcquire(key, options);
        LS_VERIFY_LOCK_ERROR(again, LockErrorKind::NotObtained);
        const QByteArray value = servers->get(0, key);
        if (kind == LockKind::Reentrant)
            QVERIFY2(value.startsWith(LockValue::ownerPrefix("re-owner")) && value.contains(" cnt=1"),
                     value.constData());
        else
            QCOMPARE(value, before);
        QVERIFY2(inRange(servers->pttl(0, key), 0, 5000), QByteArray::number(servers->pttl(0, key)));
        for (const int i : {1, 2})
            QCOMPARE(servers->get(i, key), QByteArray("someone else's"));
    }
}

QTEST_GUILESS_MAIN(TestLockKinds)
#include "tst_lockkinds.moc"
