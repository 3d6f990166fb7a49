#include "demotraffic.h"

#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lock/watchdog.h"
#include "redis/connection.h"
#include "uilogging.h"

#include <QDateTime>
#include <QRandomGenerator>
#include <QSysInfo>
#include <QUuid>
#include <chrono>
#include <functional>
#include <random>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::GroupNode;
using lockscope::inspect::NodeGroup;
using lockscope::lock::AcquireOptions;
using lockscope::lock::Locker;
using lockscope::lock::LockerOptions;
using lockscope::lock::LockValue;
using lockscope::redis::Connection;
using lockscope::redis::NodeConfig;
using namespace std::chrono_literals;

namespace {

using Millis = std::chrono::milliseconds;

/// What a service thread needs: a stop flag to sleep on and its own random numbers.
class Service
{
public:
    Service(const std::atomic<bool> &stop, quint32 seed) : m_stop(stop), m_random(seed) {}

    bool stopping() const { return m_stop.load(); }

    /// Sleeps in short slices; false when the demo is stopping.
    bool sleep(Millis duration)
    {
        const auto until = std::chrono::steady_clock::now() + duration;
        while (!stopping()) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= until)
                return true;
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, 100ms));
        }
        return false;
    }
    bool sleepBetween(Millis low, Millis high) { return sleep(between(low, high)); }
    Millis between(Millis low, Millis high)
    {
        return Millis(std::uniform_int_distribution<qint64>(low.count(), high.count())(m_random));
    }
    int number(int low, int high) { return std::uniform_int_distribution<int>(low, high)(m_random); }

private:
    const std::atomic<bool> &m_stop;
    std::mt19937 m_random;
};

/// A range of durations a service draws from.
struct Span
{
    Millis low;
    Millis high;
};

/// A service's worker until the demo stops: one attempt at `key()` with `options()`; when it
/// gets the lock, holds it for a time drawn from `hold` and releases it; then waits a time drawn
/// from `gap`. The key and options are drawn again for every attempt.
void takeInTurns(Service &service, Locker &locker, const std::function<QByteArray()> &key,
                 const std::function<AcquireOptions()> &options, Span hold, Span gap)
{
    while (!service.stopping()) {
        if (auto lock = locker.tryAcquire(key(), options())) {
            service.sleepBetween(hold.low, hold.high);
            (void)locker.release(*lock);
        }
        service.sleepBetween(gap.low, gap.high);
    }
}

LockerOptions pooled(int connections)
{
    LockerOptions options;
    options.poolSize = connections;
    return options;
}

QByteArray ms(Millis duration)
{
    return QByteArray::number(qint64(duration.count()));
}

/// A LockScope value as a crashed or hand-written client leaves it (fence from the counter).
QByteArray lockScopeValue(Connection &connection, const QByteArray &key, const QString &label,
                          const QString &thread)
{
    LockValue value;
    value.token = lockscope::lock::randomToken();
    auto fence = connection.command({"INCR", lockscope::lock::fenceKeyFor(key)});
    value.fence = fence ? fence->integer() : 0;
    value.host = QSysInfo::machineHostName();
    value.pid = 4242;
    value.thread = thread;
    value.acquiredAt = QDateTime::currentDateTimeUtc();
    value.label = label;
    return value.encode();
}

/// uuid.uuid1().hex as redis-py's Lock writes it: a time-based UUID (100 ns since 1582-10-15).
QByteArray uuid1Hex()
{
    const quint64 ticks = quint64(QDateTime::currentMSecsSinceEpoch()) * 10'000 + 0x01B21DD213814000ULL +
                          QRandomGenerator::global()->bounded(10'000);
    const quint64 node = QRandomGenerator::global()->generate64() & 0xFFFFFFFFFFFFULL;
    const quint32 clockSeq = (QRandomGenerator::global()->generate() & 0x3FFF) | 0x8000;
    return QByteArray::number(ticks & 0xFFFFFFFF, 16).rightJustified(8, '0') +
           QByteArray::number((ticks >> 32) & 0xFFFF, 16).rightJustified(4, '0') +
           QByteArray::number(((ticks >> 48) & 0x0FFF) | 0x1000, 16).rightJustified(4, '0') +
           QByteArray::number(clockSeq, 16).rightJustified(4, '0') +
           QByteArray::number(node, 16).rightJustified(12, '0');
}

QByteArray randomBytes(int count)
{
    QByteArray bytes(count, Qt::Uninitialized);
    for (char &byte : bytes)
        byte = char(QRandomGenerator::global()->bounded(256));
    return bytes;
}

/// Runs `once` until the demo stops; a node that is down only costs a pause.
void connected(Service &service, const NodeConfig &node, const std::function<void(Connection &)> &once)
{
    Connection connection(node);
    while (!service.stopping()) {
        if (!connection.isConnected() && !connection.connect()) {
            service.sleep(2s);
            continue;
        }
        once(connection);
    }
}

} // namespace

DemoTraffic::DemoTraffic(QList<NodeConfig> nodes) : m_nodes(std::move(nodes)) {}

DemoTraffic::~DemoTraffic()
{
    stop();
}

GroupConfig DemoTraffic::groups(const QList<NodeConfig> &nodes)
{
    GroupConfig config;
    if (nodes.isEmpty())
        return config;
    NodeGroup redlock{
        .name = QStringLiteral("demo-redlock"), .nodes = {}, .match = {QStringLiteral("billing:*")}};
    for (const NodeConfig &node : nodes)
        redlock.nodes.push_back(
            GroupNode{.config = node, .readOnly = false, .production = false, .color = {}});
    redlock.nodes.front().color = QStringLiteral("#3b7dd8");
    NodeGroup single{.name = nodes.front().name.isEmpty() ? QStringLiteral("demo-1") : nodes.front().name,
                     .nodes = {GroupNode{.config = nodes.front(),
                                         .readOnly = false,
                                         .production = false,
                                         .color = QStringLiteral("#3b7dd8")}},
                     .match = {QStringLiteral("jobs:*")}};
    if (nodes.size() > 1)
        config.groups.push_back(std::move(redlock));
    config.groups.push_back(std::move(single));
    return config;
}

void DemoTraffic::start()
{
    if (!m_threads.empty() || m_nodes.isEmpty())
        return;
    m_stop = false;
    const std::vector<NodeConfig> all(m_nodes.begin(), m_nodes.end());
    const NodeConfig first = m_nodes.front();
    auto seed = [] {
        return QRandomGenerator::global()->generate();
    };

    if (all.size() >= 3) {
        // checkout-api: short Redlock critical sections on a handful of invoices, so that the
        // workers collide now and then.
        auto checkout = std::make_shared<Locker>(all, pooled(3));
        for (int worker = 1; worker <= 3; ++worker) {
            m_threads.emplace_back([this, checkout, worker, s = seed()] {
                Service service(m_stop, s);
                service.sleepBetween(0ms, 1500ms);
                takeInTurns(
                    service, *checkout,
                    [&] { return "billing:invoice:" + QByteArray::number(1000 + service.number(1, 8)); },
                    [&] {
                        AcquireOptions options;
                        options.ttl = 20s;
                        options.label = QStringLiteral("checkout-api");
                        options.thread = QStringLiteral("worker-%1").arg(worker);
                        options.metadata.insert(QStringLiteral("order"),
                                                QString::number(service.number(50000, 59999)));
                        return options;
                    },
                    {3s, 12s}, {1s, 4s});
            });
        }

        // ledger-rebuild: dies between its first and second node, every half minute.
        m_threads.emplace_back([this, node = all[2], s = seed()] {
            Service service(m_stop, s);
            service.sleep(2s);
            connected(service, node, [&](Connection &connection) {
                const QByteArray key = "billing:ledger:rebuild";
                (void)connection.command({"SET", key,
                                          lockScopeValue(connection, key, QStringLiteral("ledger-rebuild"),
                                                         QStringLiteral("main")),
                                          "PX", ms(15s), "NX"});
                service.sleep(30s);
            });
        });
    }

    // report-builder: long jobs kept alive by a watchdog (TTL 15 s, extended every 5 s).
    m_threads.emplace_back([this, first, s = seed()] {
        Service service(m_stop, s);
        Locker locker({first}, pooled(2));
        int run = 0;
        while (!service.stopping()) {
            const QByteArray key = (++run % 2) ? "jobs:report:daily" : "jobs:report:weekly";
            AcquireOptions options;
            options.ttl = 15s;
            options.label = QStringLiteral("report-builder");
            options.thread = QStringLiteral("job-%1").arg(run);
            options.metadata.insert(QStringLiteral("run"), QString::number(run));
            if (auto lock = locker.tryAcquire(key, options)) {
                lockscope::lock::LockGuard guard(locker, *lock, /*watchdog=*/true); // extends every TTL/3
                service.sleepBetween(20s, 45s);
                (void)guard.release();
            }
            service.sleep(5s);
        }
    });

    // mailer: takes a batch and "crashes": the lock stays until its TTL runs out.
    m_threads.emplace_back([this, first, s = seed()] {
        Service service(m_stop, s);
        Locker locker({first}, pooled(1));
        for (int batch = 1; !service.stopping(); ++batch) {
            AcquireOptions options;
            options.ttl = service.between(8s, 14s);
            options.label = QStringLiteral("mailer");
            options.thread = QStringLiteral("sender");
            (void)locker.tryAcquire("jobs:mailer:batch-" + QByteArray::number(batch), options);
            service.sleepBetween(5s, 9s);
        }
    });

    // catalog readers and a price writer: a read/write lock, several readers at a time, the
    // writer now and then (it waits for the readers; new readers wait for it).
    auto catalog = std::make_shared<Locker>(std::vector<NodeConfig>{first}, pooled(4));
    for (int reader = 1; reader <= 3; ++reader) {
        m_threads.emplace_back([this, catalog, reader, s = seed()] {
            Service service(m_stop, s);
            AcquireOptions options;
            options.kind = lockscope::lock::LockKind::Read;
            options.ttl = 15s;
            options.label = QStringLiteral("catalog-api");
            options.thread = QStringLiteral("reader-%1").arg(reader);
            takeInTurns(
                service, *catalog, [] { return QByteArray("jobs:catalog:prices"); }, [&] { return options; },
                {4s, 10s}, {500ms, 2s});
        });
    }
    m_threads.emplace_back([this, catalog, s = seed()] {
        Service service(m_stop, s);
        while (!service.stopping()) {
            service.sleepBetween(20s, 40s);
            AcquireOptions options;
            options.kind = lockscope::lock::LockKind::Write;
            options.ttl = 10s;
            options.wait = 10s;
            options.label = QStringLiteral("price-import");
            options.thread = QStringLiteral("writer");
            if (auto lock = catalog->acquire("jobs:catalog:prices", options)) {
                service.sleepBetween(2s, 4s);
                (void)catalog->release(*lock);
            }
        }
    });

    // render farm: 4 workers share a semaphore of 3 GPU permits.
    auto gpus = std::make_shared<Locker>(std::vector<NodeConfig>{first}, pooled(4));
    for (int worker = 1; worker <= 4; ++worker) {
        m_threads.emplace_back([this, gpus, worker, s = seed()] {
            Service service(m_stop, s);
            AcquireOptions options;
            options.kind = lockscope::lock::LockKind::Semaphore;
            options.permits = 3;
            options.ttl = 20s;
            options.label = QStringLiteral("render-farm");
            options.thread = QStringLiteral("render-%1").arg(worker);
            takeInTurns(
                service, *gpus, [] { return QByteArray("jobs:render:gpu-pool"); }, [&] { return options; },
                {5s, 15s}, {1s, 3s});
        });
    }

    // legacy-cron and the other libraries' layouts, on the single node.
    m_threads.emplace_back([this, first, s = seed()] {
        Service service(m_stop, s);
        QByteArray redissonHolder;
        int tick = 0;
        connected(service, first, [&](Connection &connection) {
            if (tick == 0) {
                // No TTL: the anomaly stays until an operator force-releases it.
                const QByteArray key = "jobs:legacy:cleanup";
                (void)connection.command(
                    {"SET", key,
                     lockScopeValue(connection, key, QStringLiteral("legacy-cron"), QStringLiteral("cron")),
                     "NX"});
            }
            // Redisson RLock: a hash "<uuid>:<thread id>" -> hold count, renewed to 30 s every
            // 10 s by its watchdog, handed to a new holder every minute.
            if (tick % 60 == 0) {
                redissonHolder = QUuid::createUuid().toByteArray(QUuid::WithoutBraces) + ":57";
                (void)connection.command({"DEL", "jobs:redisson:inventory-sync"});
            }
            if (tick % 10 == 0) {
                (void)connection.command({"HSET", "jobs:redisson:inventory-sync", redissonHolder, "1"});
                (void)connection.command({"PEXPIRE", "jobs:redisson:inventory-sync", ms(30s)});
            }
            // redis-py Lock (uuid1 hex) and go-redsync (base64 of 16 random bytes).
            if (tick % 25 == 3)
                (void)connection.command({"SET", "jobs:py:export", uuid1Hex(), "PX", ms(20s), "NX"});
            if (tick % 12 == 5)
                (void)connection.command(
                    {"SET", "jobs:sync:catalog", randomBytes(16).toBase64(), "PX", ms(8s), "NX"});
            ++tick;
            service.sleep(1s);
        });
    });
    qCInfo(lcUi) << "demo traffic:" << m_threads.size() << "service threads";
}

void DemoTraffic::stop()
{
    m_stop = true;
    m_threads.clear(); // joins; every service checks the flag at least every 100 ms
}
