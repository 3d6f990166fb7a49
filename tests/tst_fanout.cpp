#include "util/fanout.h"

#include <QTest>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using lockscope::util::forEachParallel;

namespace {

/// The thread ids the calls ran on, and the indices in the order they ran.
struct Trace
{
    std::mutex mutex;
    std::set<std::thread::id> threads;
    std::vector<std::size_t> order;

    void add(std::size_t i)
    {
        const std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
        order.push_back(i);
    }
};

/// Blocks the first `parties` calls until all of them have arrived (or 10 s have passed): they
/// can only all arrive when that many threads run at once, since a thread stuck in a call
/// takes no further index.
class Rendezvous
{
public:
    explicit Rendezvous(int parties) : m_parties(parties) {}

    /// True when all parties arrived in time.
    bool arrive()
    {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        ++m_arrived;
        while (m_arrived.load() < m_parties) {
            if (std::chrono::steady_clock::now() > deadline)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return true;
    }

private:
    const int m_parties;
    std::atomic<int> m_arrived{0};
};

} // namespace

class TestFanout : public QObject
{
    Q_OBJECT

private slots:
    void everyIndexExactlyOnce_data();
    void everyIndexExactlyOnce();
    void threadsAreBounded();
    void maxThreadsAboveCount();
    void countZero();
    void countOneRunsInline();
    void oneThreadRunsInlineInOrder_data();
    void oneThreadRunsInlineInOrder();
};

void TestFanout::everyIndexExactlyOnce_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("maxThreads");
    QTest::newRow("many indices, few threads") << 10'000 << 4;
    QTest::newRow("as many threads as indices") << 16 << 16;
    QTest::newRow("two") << 2 << 2;
    QTest::newRow("inline") << 100 << 1;
}

void TestFanout::everyIndexExactlyOnce()
{
    QFETCH(int, count);
    QFETCH(int, maxThreads);
    std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
    forEachParallel(hits.size(), static_cast<std::size_t>(maxThreads), [&](std::size_t i) { ++hits[i]; });
    for (std::size_t i = 0; i < hits.size(); ++i)
        QCOMPARE(hits[i].load(), 1);
}

void TestFanout::threadsAreBounded()
{
    constexpr std::size_t MaxThreads = 4;
    Trace trace;
    Rendezvous rendezvous(MaxThreads);
    std::atomic<int> active{0};
    std::atomic<int> peak{0};
    std::atomic<bool> allArrived{true};
    forEachParallel(64, MaxThreads, [&](std::size_t i) {
        const int now = ++active;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        trace.add(i);
        if (i < MaxThreads && !rendezvous.arrive())
            allArrived = false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        --active;
    });
    QVERIFY2(allArrived, "the first indices did not run on MaxThreads threads at once");
    QCOMPARE(trace.threads.size(), MaxThreads);
    QCOMPARE(peak.load(), int(MaxThreads));
    QCOMPARE(trace.order.size(), std::size_t(64));
    // The calling thread is one of the MaxThreads: it took one of the first indices.
    QVERIFY(trace.threads.contains(std::this_thread::get_id()));
}

void TestFanout::maxThreadsAboveCount()
{
    constexpr std::size_t Count = 3;
    Trace trace;
    Rendezvous rendezvous(Count);
    std::atomic<bool> allArrived{true};
    forEachParallel(Count, 64, [&](std::size_t i) {
        trace.add(i);
        if (!rendezvous.arrive())
            allArrived = false;
    });
    QVERIFY(allArrived);
    QCOMPARE(trace.threads.size(), Count); // one per index, not 64
    std::vector<std::size_t> order = trace.order;
    std::ranges::sort(order);
    QCOMPARE(order, (std::vector<std::size_t>{0, 1, 2}));
}

void TestFanout::countZero()
{
    std::atomic<int> calls{0};
    forEachParallel(0, 8, [&](std::size_t) { ++calls; });
    forEachParallel(0, 0, [&](std::size_t) { ++calls; });
    QCOMPARE(calls.load(), 0);
}

void TestFanout::countOneRunsInline()
{
    Trace trace;
    forEachParallel(1, 8, [&](std::size_t i) { trace.add(i); });
    QCOMPARE(trace.order, std::vector<std::size_t>{0});
    QCOMPARE(trace.threads, std::set<std::thread::id>{std::this_thread::get_id()});
}

void TestFanout::oneThreadRunsInlineInOrder_data()
{
    QTest::addColumn<int>("maxThreads");
    QTest::newRow("maxThreads 1") << 1;
    QTest::newRow("maxThreads 0") << 0;
}

void TestFanout::oneThreadRunsInlineInOrder()
{
    QFETCH(int, maxThreads);
    Trace trace;
    forEachParallel(10, static_cast<std::size_t>(maxThreads), [&](std::size_t i) { trace.add(i); });
    QCOMPARE(trace.order, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    QCOMPARE(trace.threads, std::set<std::thread::id>{std::this_thread::get_id()});
}

QTEST_GUILESS_MAIN(TestFanout)
#include "tst_fanout.moc"
