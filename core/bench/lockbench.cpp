#include "lockbench.h"

#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "util/histogram.h"
#include "util/quorum.h"

#include <QCryptographicHash>
#include <atomic>
#include <cstring>
#include <hiredis.h>
#include <mutex>
#include <optional>
#include <thread>

namespace lockscope::bench {

using Clock = std::chrono::steady_clock;

namespace {

struct Totals
{
    std::mutex mutex;
    LatencyHistogram histogram;
    quint64 cycles = 0;
    quint64 failures = 0;
    QString error;

    void add(const LatencyHistogram &h, quint64 c, quint64 f, const QString &e)
    {
        std::lock_guard lock(mutex);
        histogram.merge(h);
        cycles += c;
        failures += f;
        if (error.isEmpty())
            error = e;
    }
};

LockBenchResult finish(const QString &name, const LockBenchOptions &options, Totals &totals, double seconds)
{
    LockBenchResult r;
    r.name = name;
    r.nodes = static_cast<int>(options.nodes.size());
    r.clients = options.clients;
    r.cycles = totals.cycles;
    r.failures = totals.failures;
    r.seconds = seconds;
    r.cyclesPerSec = seconds > 0 ? static_cast<double>(totals.cycles) / seconds : 0;
    r.p50Us = static_cast<double>(totals.histogram.percentile(50)) / 1000.0;
    r.p99Us = static_cast<double>(totals.histogram.percentile(99)) / 1000.0;
    r.maxUs = static_cast<double>(totals.histogram.max()) / 1000.0;
    r.error = totals.error;
    return r;
}

template <typename Body>
double runClients(const LockBenchOptions &options, Body body)
{
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    Clock::time_point start;
    for (int c = 0; c < std::max(1, options.clients); ++c)
        threads.emplace_back([&, c] {
            while (!go.load(std::memory_order_acquire))
                std::this_thread::yield();
            body(c, start + options.duration);
        });
    start = Clock::now();
    go.store(true, std::memory_order_release);
    for (auto &t : threads)
        t.join();
    return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr char kCompareAndDelete[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// A benchmark writes lock keys (and fence counters, which stay): refused on read-only nodes.
std::optional<LockBenchResult> refuseReadOnly(const LockBenchOptions &options, const QString &name)
{
    QStringList readOnly;
    for (const auto &node : options.nodes)
        if (node.readOnly)
            readOnly << node.label();
    if (readOnly.isEmpty())
        return std::nullopt;
    LockBenchResult result;
    result.name = name;
    result.nodes = static_cast<int>(options.nodes.size());
    result.clients = options.clients;
    result.error =
        QStringLiteral("%1 marked read-only: a benchmark writes lock keys and fence counters; nothing "
                       "was sent")
            .arg(readOnly.size() == 1
                     ? QStringLiteral("node %1 is").arg(readOnly.front())
                     : QStringLiteral("nodes %1 are").arg(readOnly.join(QStringLiteral(", "))));
    return result;
}

} // namespace

LockBenchResult runLockScope(const LockBenchOptions &options)
{
    if (auto refused = refuseReadOnly(options, options.fencing ? QStringLiteral("lockscope")
                                                               : QStringLiteral("lockscope-nofence")))
        return *refused;
    lock::LockerOptions lockerOptions;
    lockerOptions.poolSize = std::max(1, options.clients);
    lockerOptions.fencing = options.fencing;
    const QString name = options.fencing ? QStringLiteral("lockscope") : QStringLiteral("lockscope-nofence");
    lock::Locker locker(options.nodes, lockerOptions);
    Totals totals;
    // Warm up: connect every pool slot and load the scripts, outside the timed run.
    {
        lock::AcquireOptions o;
        o.ttl = options.ttl;
        auto warm = locker.tryAcquire(options.keyPrefix + "warmup", o);
        if (!warm) {
            LockBenchResult r;
            r.name = name;
            r.error = warm.error().toString();
            return r;
        }
        (void)locker.release(*warm);
    }
    const double seconds = runClients(options, [&](int client, Clock::time_point end) {
        LatencyHistogram histogram;
        quint64 cycles = 0, failures = 0;
        QString error;
        const QByteArray key = options.keyPrefix + "c" + QByteArray::number(client);
        lock::AcquireOptions o;
        o.ttl = options.ttl;
        o.thread = QStringLiteral("bench-%1").arg(client);
        while (Clock::now() < end) {
            const auto t0 = Clock::now();
            auto held = locker.tryAcquire(key, o);
            if (!held) {
                ++failures;
                if (error.isEmpty())
                    error = held.error().toString();
                continue;
            }
            auto released = locker.release(*held);
            if (!released) {
                ++failures;
                if (error.isEmpty())
                    error = released.error().toString();
                continue;
            }
            histogram.record(static_cast<quint64>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
            ++cycles;
        }
        totals.add(histogram, cycles, failures, error);
    });
    return finish(name, options, totals, seconds);
}

LockBenchResult runBareHiredis(const LockBenchOptions &options)
{
    if (auto refused = refuseReadOnly(options, QStringLiteral("bare-hiredis")))
        return *refused;
    Totals totals;
    const QByteArray sha = QCryptographicHash::hash(kCompareAndDelete, QCryptographicHash::Sha1).toHex();
    const double seconds = runClients(options, [&](int client, Clock::time_point end) {
        LatencyHistogram histogram;
        quint64 cycles = 0, failures = 0;
        QString error;
        std::vector<redisContext *> contexts;
        auto cleanup = qScopeGuard([&] {
            for (redisContext *c : contexts)
                redisFree(c);
        });
        for (const auto &node : options.nodes) {
            const timeval tv{static_cast<time_t>(node.connectTimeout.count() / 1000),
                             static_cast<suseconds_t>((node.connectTimeout.count() % 1000) * 1000)};
            redisContext *c = node.transport == redis::NodeConfig::Transport::Unix
                                  ? redisConnectUnixWithTimeout(node.unixPath.toLocal8Bit().constData(), tv)
                                  : redisConnectWithTimeout(node.host.toUtf8().constData(), node.port, tv);
            if (!c || c->err) {
                totals.add(histogram, 0, 1,
                           QStringLiteral("%1: %2").arg(node.label(), c ? QString::fromLocal8Bit(c->errstr)
                                                                        : QStringLiteral("out of memory")));
                if (c)
                    redisFree(c);
                return;
            }
            contexts.push_back(c);
            auto command = [&](std::initializer_list<QByteArray> args) {
                std::vector<const char *> argv;
                std::vector<size_t> lens;
                for (const QByteArray &a : args) {
                    argv.push_back(a.constData());
                    lens.push_back(static_cast<size_t>(a.size()));
                }
                if (void *r = redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()))
                    freeReplyObject(r);
            };
            if (!node.password.isEmpty()) {
                if (node.username.isEmpty())
                    command({"AUTH", node.password.toUtf8()});
                else
                    command({"AUTH", node.username.toUtf8(), node.password.toUtf8()});
            }
            if (node.db != 0)
                command({"SELECT", QByteArray::number(node.db)});
            command({"SCRIPT", "LOAD", kCompareAndDelete});
        }
        const QByteArray key = options.keyPrefix + "bare" + QByteArray::number(client);
        const QByteArray ttl = QByteArray::number(static_cast<qint64>(options.ttl.count()));
        const auto fanOut = [&](const char **argv, const size_t *lens, int argc, bool &allOk, bool isSet) {
            for (redisContext *c : contexts) {
                redisAppendCommandArgv(c, argc, argv, lens);
                int done = 0;
                while (!done)
                    if (redisBufferWrite(c, &done) != REDIS_OK)
                        break;
            }
            int yes = 0;
            for (redisContext *c : contexts) {
                void *raw = nullptr;
                if (redisGetReply(c, &raw) != REDIS_OK || !raw) {
                    allOk = false;
                    if (error.isEmpty())
                        error = QString::fromLocal8Bit(c->errstr);
                    continue;
                }
                auto *r = static_cast<redisReply *>(raw);
                if (isSet ? r->type == REDIS_REPLY_STATUS
                          : (r->type == REDIS_REPLY_INTEGER && r->integer == 1))
                    ++yes;
                freeReplyObject(r);
            }
            return yes;
        };
        const int quorum = quorumOf(static_cast<int>(contexts.size()));
        while (Clock::now() < end) {
            const auto t0 = Clock::now();
            const QByteArray token = lock::randomToken();
            const char *setArgv[] = {"SET", key.constData(), token.constData(), "NX", "PX", ttl.constData()};
            const size_t setLens[] = {
                3, static_cast<size_t>(key.size()), static_cast<size_t>(token.size()), 2,
                2, static_cast<size_t>(ttl.size())};
            const char *delArgv[] = {"EVALSHA", sha.constData(), "1", key.constData(), token.constData()};
            const size_t delLens[] = {7, static_cast<size_t>(sha.size()), 1, static_cast<size_t>(key.size()),
                                      static_cast<size_t>(token.size())};
            bool ok = true;
            const int setVotes = fanOut(setArgv, setLens, 6, ok, true);
            const int delVotes = fanOut(delArgv, delLens, 5, ok, false);
            if (!ok || setVotes < quorum || delVotes < quorum) {
                ++failures;
                if (!ok)
                    break; // a broken hiredis context stays broken
                continue;
            }
            histogram.record(static_cast<quint64>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
            ++cycles;
        }
        totals.add(histogram, cycles, failures, error);
    });
    return finish(QStringLiteral("bare-hiredis"), options, totals, seconds);
}

} // namespace lockscope::bench
