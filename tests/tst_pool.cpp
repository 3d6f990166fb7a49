#include "redis/connectionpool.h"
#include "redisfixture.h"

#include <QTest>
#include <atomic>
#include <thread>
#include <vector>

using namespace lockscope::redis;
using namespace lockscope::test;
using namespace std::chrono_literals;

class TestPool : public QObject
{
    Q_OBJECT

private slots:
    void manyThreadsShareABoundedPool();
    void exhaustedWhenAllLeased();
    void returnedLeaseWakesWaiter();
    void idleConnectionsAreReused();
    void brokenConnectionIsReplaced();
    void discardedLeaseIsNotReused();
    void connectErrorIsReturned();
};

void TestPool::manyThreadsShareABoundedPool()
{
    LS_START_SERVER(server, ServerKind::Plain);
    ConnectionPool pool(clientConfig(*server, ServerKind::Plain), 4);
    QCOMPARE(pool.maxSize(), 4);
    QCOMPARE(pool.openCount(), 0);

    constexpr int threads = 16;
    constexpr int increments = 200;
    std::atomic<int> maxOpen{0};
    std::atomic<int> failures{0};
    std::vector<QString> firstError(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < increments; ++i) {
                auto lease = pool.acquire(10s);
                if (!lease) {
                    if (failures.fetch_add(1) == 0)
                        firstError[t] = lease.error().toString();
                    continue;
                }
                int open = pool.openCount();
                int seen = maxOpen.load();
                while (open > seen && !maxOpen.compare_exchange_weak(seen, open)) {
                }
                const auto reply = (*lease)->command({"INCR", "shared-counter"});
                if (!reply && failures.fetch_add(1) == 0)
                    firstError[t] = reply.error().toString();
            }
        });
    }
    for (auto &worker : workers)
        worker.join();

    QString errors;
    for (const QString &e : firstError)
        errors += e;
    QVERIFY2(failures.load() == 0,
             qPrintable(QStringLiteral("%1 failures, e.g. %2").arg(failures.load()).arg(errors)));
    QVERIFY2(maxOpen.load() <= 4, qPrintable(QString::number(maxOpen.load())));
    QVERIFY(maxOpen.load() >= 1);
    QVERIFY(pool.openCount() <= 4);

    auto lease = pool.acquire();
    LS_VERIFY_OK(lease);
    const auto value = (*lease)->command({"GET", "shared-counter"});
    LS_VERIFY_OK(value);
    QCOMPARE(value->bytes(), QByteArray::number(threads * increments));

    // The server saw at most 4 pool connections (plus none other: we opened no others).
    const auto clients = (*lease)->command({"CLIENT", "LIST"});
    LS_VERIFY_OK(clients);
    QVERIFY2(clients->bytes().count("name=lockscope-test") <= 4, clients->bytes().constData());
}

void TestPool::exhaustedWhenAllLeased()
{
    LS_START_SERVER(server, ServerKind::Plain);
    ConnectionPool pool(clientConfig(*server, ServerKind::Plain), 4);
    std::vector<ConnectionPool::Lease> leases;
    for (int i = 0; i < 4; ++i) {
        auto lease = pool.acquire(1s);
        LS_VERIFY_OK(lease);
        leases.push_back(std::move(*lease));
    }
    QCOMPARE(pool.openCount(), 4);
    QCOMPARE(pool.idleCount(), 0);

    const auto start = std::chrono::steady_clock::now();
    const auto fifth = pool.acquire(200ms);
    const qint64 elapsed = elapsedMs(start);
    LS_VERIFY_ERROR(fifth, ErrorKind::PoolExhausted);
    QVERIFY2(elapsed >= 150, qPrintable(QString::number(elapsed)));
    QVERIFY2(elapsed < 200 + 2000, qPrintable(QString::number(elapsed)));
    QCOMPARE(fifth.error().node, pool.config().label());
    QCOMPARE(pool.openCount(), 4);

    leases.clear();
    QCOMPARE(pool.openCount(), 4);
    QCOMPARE(pool.idleCount(), 4);
}

void TestPool::returnedLeaseWakesWaiter()
{
    LS_START_SERVER(server, ServerKind::Plain);
    ConnectionPool pool(clientConfig(*server, ServerKind::Plain), 4);
    std::vector<ConnectionPool::Lease> leases;
    for (int i = 0; i < 4; ++i) {
        auto lease = pool.acquire(1s);
        LS_VERIFY_OK(lease);
        leases.push_back(std::move(*lease));
    }
    Connection *returned = leases.back().get();

    std::atomic<bool> done{false};
    Result<ConnectionPool::Lease> waited = fail(ErrorKind::Io, QString(), QStringLiteral("not run"));
    qint64 waitedMs = 0;
    std::thread waiter([&] {
        const auto start = std::chrono::steady_clock::now();
        waited = pool.acquire(10s);
        waitedMs = elapsedMs(start);
        done = true;
    });
    std::this_thread::sleep_for(300ms);
    const bool finishedEarly = done.load();
    leases.pop_back(); // returns one connection
    waiter.join();

    QVERIFY2(!finishedEarly, "the waiter got a connection while all were leased");
    LS_VERIFY_OK(waited);
    QCOMPARE(waited->get(), returned);
    QVERIFY2(waitedMs >= 250 && waitedMs < 5000, qPrintable(QString::number(waitedMs)));
    LS_VERIFY_OK((*waited)->command({"PING"}));
    QCOMPARE(pool.openCount(), 4);
}

void TestPool::idleConnectionsAreReused()
{
    LS_START_SERVER(server, ServerKind::Plain);
    ConnectionPool pool(clientConfig(*server, ServerKind::Plain), 4);
    Connection *first = nullptr;
    {
        auto lease = pool.acquire();
        LS_VERIFY_OK(lease);
        LS_VERIFY_OK((*lease)->command({"PING"}));
        first = lease->get();
    }
    QCOMPARE(pool.idleCount(), 1);
    for (int i = 0; i < 10; ++i) {
        auto lease = pool.acquire();
        LS_VERIFY_OK(lease);
        QCOMPARE(lease->get(), first);
    }
    QCOMPARE(pool.openCount(), 1);
}

void TestPool::brokenConnectionIsReplaced()
{
    LS_START_SERVER(server, ServerKind::Plain);
    ConnectionPool pool(clientConfig(*server, ServerKind::Plain), 2);
    {
        auto lease = pool.acquire();
        LS_VERIFY_OK(lease);
        LS_VERIFY_OK((*lease)->command({"SET", "k", "v"}));
    }
    QCOMPARE(pool.idleCount(), 1);

    LS_VERIFY_OK(server->restart());

    // The next borrower must get a working connection, not the dead socket.
    auto lease = pool.acquire();
    LS_VERIFY_OK(lease);
    const auto reply = (*lease)->command({"GET", "k"});
    LS_VERIFY_OK(reply);
    QVERIFY(reply->isNil()); // restarted without persistence
    QVERIFY(pool.openCount() <= 2);
}

void TestPool::discardedLeaseIsNotReused()
{
    LS_START_SERVER(server, ServerKind::Plain);
    ConnectionPool pool(clientConfig(*server, ServerKind::Plain), 2);
    {
        auto lease = pool.acquire();
        LS_VERIFY_OK(lease);
        LS_VERIFY_OK((*lease)->command({"PING"}));
        lease->discard();
        QVERIFY(!*lease);
    }
    QCOMPARE(pool.openCount(), 0);
    QCOMPARE(pool.idleCount(), 0);
    auto lease = pool.acquire();
    LS_VERIFY_OK(lease);
    LS_VERIFY_OK((*lease)->command({"PING"}));
    QCOMPARE(pool.openCount(), 1);
}

void TestPool::connectErrorIsReturned()
{
    LS_START_SERVER(server, ServerKind::Plain);
    NodeConfig config = clientConfig(*server, ServerKind::Plain);
    server->kill();
    ConnectionPool pool(config, 2);
    const auto lease = pool.acquire(500ms);
    LS_VERIFY_ERROR(lease, ErrorKind::Refused);
    QCOMPARE(pool.openCount(), 0);
}

QTEST_GUILESS_MAIN(TestPool)
#include "tst_pool.moc"
