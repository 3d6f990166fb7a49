// The lock kinds beyond the mutex (core/inspect/schemas_kinds.cpp), written into a real
// redis-server with the commands of each layout and read back as lockctl show and the app read
// them (readRecord: the key, its companion keys, the server's clock), then decoded. Redisson has
// no Java peer here: its data is written with the commands its scripts run, the source file named
// at each test. redis-semaphore's layouts written by the real library: tst_peer_redissemaphore.

#include "inspect/admin.h"
#include "inspect/auditlog.h"
#include "inspect/keyread.h"
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockfixture.h"

#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>
#include <thread>

using namespace lockscope;
using namespace lockscope::inspect;
using lockscope::test::ServerSet;

namespace {

constexpr char kClient[] = "8743c9c0-0795-4907-87fd-6c719a6b4586";

/// The node's clock in Unix ms (TIME), so that deadline scores are set relative to it.
qint64 serverNow(ServerSet &set)
{
    const auto time = set.admin(0).command({"TIME"});
    if (!time || !time->isArray() || time->elements().size() != 2)
        return 0;
    return time->elements()[0].bytes().toLongLong() * 1000 + time->elements()[1].bytes().toLongLong() / 1000;
}

/// A LockScope holder value with the kind's extra fields (`extra`, e.g. "rw=r") and, when
/// given, the holder's acquire time ("at=").
QByteArray holderValue(const QByteArray &token, qint64 fence, const QString &host, const QByteArray &extra,
                       const QDateTime &acquiredAt = {})
{
    lock::LockValue value;
    value.token = token;
    value.fence = fence;
    value.host = host;
    value.pid = 100 + fence;
    value.acquiredAt = acquiredAt;
    return value.encode() + ' ' + extra;
}

bool run(ServerSet &set, std::initializer_list<QByteArrayView> command)
{
    const auto reply = set.admin(0).command(command);
    if (!reply || reply->isError()) {
        qWarning() << "command failed:" << (reply ? reply->bytes() : reply.error().toString().toUtf8());
        return false;
    }
    return true;
}

/// The record as lockctl show reads it, and its only node's decoding.
struct Read
{
    LockRecord record;
    const DecodedLock *lock = nullptr;
};

Read readOne(ServerSet &set, const QByteArray &key)
{
    Read read;
    read.record = readRecord(set.configs(), key, SchemaRegistry::builtins());
    if (!read.record.nodes.empty() && read.record.nodes[0].decoded)
        read.lock = &*read.record.nodes[0].decoded;
    return read;
}

QByteArray score(qint64 ms)
{
    return QByteArray::number(ms);
}

QString joined(const QStringList &list)
{
    return list.join(QStringLiteral(" | "));
}

} // namespace

class TestSchemasKinds : public QObject
{
    Q_OBJECT

private slots:
    /// LockScope's own kinds as the real Locker writes them.
    void writtenByTheLocker()
    {
        using namespace std::chrono_literals;
        LS_START_SERVERS(set, 1);
        lock::Locker locker(set->configs());
        const auto options = [](lock::LockKind kind, int permits = 0) {
            lock::AcquireOptions acquire;
            acquire.ttl = 10s;
            acquire.kind = kind;
            acquire.permits = permits;
            return acquire;
        };
        const QDateTime before = QDateTime::currentDateTimeUtc();
        for (int r = 0; r < 2; ++r)
            QVERIFY(locker.tryAcquire("rw", options(lock::LockKind::Read)).has_value());
        for (int p = 0; p < 2; ++p)
            QVERIFY(locker.tryAcquire("pool", options(lock::LockKind::Semaphore, 3)).has_value());
        for (int h = 0; h < 2; ++h)
            QVERIFY(locker.tryAcquire("job", options(lock::LockKind::Reentrant)).has_value());
        const auto fairHolder = locker.tryAcquire("fair", options(lock::LockKind::Fair));
        QVERIFY(fairHolder.has_value());
        auto cancel = std::make_shared<lock::CancellationToken>();
        std::thread waiter([&] {
            lock::AcquireOptions wait = options(lock::LockKind::Fair);
            wait.retry = lock::RetryStrategy::linear(20ms);
            wait.wait = 10s;
            wait.cancel = cancel;
            (void)locker.acquire("fair", wait);
        });
        const auto cleanup = qScopeGuard([&] {
            cancel->cancel();
            waiter.join();
        });
        QTRY_VERIFY_WITH_TIMEOUT(
            set->admin(0).command({"ZCARD", lock::fairQueueKeysFor("fair").first})->integer() == 1, 5000);

        const Read rw = readOne(*set, "rw");
        QVERIFY(rw.lock);
        QCOMPARE(rw.lock->kind, QStringLiteral("read"));
        QCOMPARE(rw.lock->holders.size(), std::size_t(2));
        QVERIFY2(ownerText(rw.record).startsWith(QStringLiteral("2 readers: ")),
                 qPrintable(ownerText(rw.record)));
        QCOMPARE(kindText(rw.record), QStringLiteral("read ×2"));
        for (const LockHolder &holder : rw.lock->holders) {
            QVERIFY2(holder.pttlMs > 5000 && holder.pttlMs <= 10000, QByteArray::number(holder.pttlMs));
            QCOMPARE(holder.mode, QStringLiteral("read"));
            QVERIFY(holder.fence > 0);
        }
        // Age: the earliest reader's acquire time, which the Locker wrote moments ago.
        const auto acquiredJustNow = [&before](const QDateTime &acquiredAt) {
            const QDateTime now = QDateTime::currentDateTimeUtc();
            return acquiredAt.isValid() && acquiredAt >= now.addSecs(-60) && acquiredAt <= now &&
                   acquiredAt >= before.addMSecs(-1);
        };
        QVERIFY2(acquiredJustNow(rw.lock->acquiredAt),
                 qPrintable(rw.lock->acquiredAt.toString(Qt::ISODateWithMs)));
        const Read pool = readOne(*set, "pool");
        QVERIFY(pool.lock);
        QCOMPARE(pool.lock->kind, QStringLiteral("semaphore"));
        QCOMPARE(pool.lock->permits, 3);
        QVERIFY2(ownerText(pool.record).startsWith(QStringLiteral("2 of 3 permits: ")),
                 qPrintable(ownerText(pool.record)));
        QCOMPARE(kindText(pool.record), QStringLiteral("semaphore 2/3"));
        QCOMPARE(pool.lock->holders.size(), std::size_t(2));
        QVERIFY2(pool.lock->anomalies.isEmpty(), qPrintable(joined(pool.lock->anomalies)));
        QVERIFY2(acquiredJustNow(pool.lock->acquiredAt),
                 qPrintable(pool.lock->acquiredAt.toString(Qt::ISODateWithMs)));
        const Read job = readOne(*set, "job");
        QVERIFY(job.lock);
        QCOMPARE(job.lock->kind, QStringLiteral("reentrant"));
        QCOMPARE(job.lock->holdCount, 2);
        QCOMPARE(kindText(job.record), QStringLiteral("reentrant ×2"));
        const Read fair = readOne(*set, "fair");
        QVERIFY(fair.lock);
        QCOMPARE(fair.lock->kind, QStringLiteral("fair"));
        QCOMPARE(fair.lock->holders.size(), std::size_t(1));
        QCOMPARE(fair.lock->holders[0].token, fairHolder->token);
        QCOMPARE(fair.lock->queue.size(), std::size_t(1));
        QVERIFY2(ownerText(fair.record).endsWith(QStringLiteral(" (1 waiting)")),
                 qPrintable(ownerText(fair.record)));
        QCOMPARE(kindText(fair.record), QStringLiteral("fair, 1 waiting"));
        QVERIFY2(fair.lock->queue[0].pttlMs > 0, QByteArray::number(fair.lock->queue[0].pttlMs));
        QVERIFY2(fair.lock->anomalies.isEmpty(), qPrintable(joined(fair.lock->anomalies)));
    }

    /// A Locker with a key prefix names its companions after it ("myapp:{myapp:docs}.wwait"):
    /// the inspector, which does not know the prefix, still reads them with their lock, reads
    /// the fence counter under that name, and a force-release bumps that counter.
    void writtenByAPrefixedLocker()
    {
        using namespace std::chrono_literals;
        LS_START_SERVERS(set, 1);
        lock::LockerOptions prefixed;
        prefixed.keyPrefix = "myapp:";
        lock::Locker locker(set->configs(), prefixed);
        const auto options = [](lock::LockKind kind) {
            lock::AcquireOptions acquire;
            acquire.ttl = 10s;
            acquire.kind = kind;
            return acquire;
        };
        const auto reader = locker.tryAcquire("docs", options(lock::LockKind::Read));
        QVERIFY(reader.has_value());
        const auto fairHolder = locker.tryAcquire("fair", options(lock::LockKind::Fair));
        QVERIFY(fairHolder.has_value());
        auto cancel = std::make_shared<lock::CancellationToken>();
        const auto waitFor = [&](lock::LockKind kind, const QByteArray &key) {
            return std::thread([&locker, cancel, options, kind, key] {
                lock::AcquireOptions wait = options(kind);
                wait.retry = lock::RetryStrategy::linear(20ms);
                wait.wait = 10s;
                wait.cancel = cancel;
                (void)locker.acquire(key, wait);
            });
        };
        std::thread writer = waitFor(lock::LockKind::Write, "docs");
        std::thread waiter = waitFor(lock::LockKind::Fair, "fair");
        const auto stopWaiting = [&] {
            cancel->cancel();
            for (std::thread *thread : {&writer, &waiter}) {
                if (thread->joinable())
                    thread->join();
            }
        };
        const auto cleanup = qScopeGuard(stopWaiting);
        const QByteArray intentKey = "myapp:{myapp:docs}.wwait";
        const QByteArray queueKey = "myapp:{myapp:fair}.queue";
        QTRY_VERIFY_WITH_TIMEOUT(set->admin(0).command({"EXISTS", intentKey})->integer() == 1, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(set->admin(0).command({"ZCARD", queueKey})->integer() == 1, 5000);

        const Read docs = readOne(*set, "myapp:docs");
        QVERIFY(docs.lock);
        QCOMPARE(docs.lock->kind, QStringLiteral("read"));
        QCOMPARE(docs.lock->queue.size(), std::size_t(1));
        QCOMPARE(docs.lock->queue[0].mode, QStringLiteral("write"));
        QVERIFY(docs.lock->details.contains(QStringLiteral("writer waiting")));
        QVERIFY(docs.record.nodes[0].raw.companion(intentKey));
        const Read fair = readOne(*set, "myapp:fair");
        QVERIFY(fair.lock);
        QCOMPARE(fair.lock->queue.size(), std::size_t(1));
        QCOMPARE(kindText(fair.record), QStringLiteral("fair, 1 waiting"));

        // Each companion belongs to its lock, whose key is in the name's hash tag.
        const SchemaRegistry registry = SchemaRegistry::builtins();
        const auto ownedBy = [&](const QByteArray &companion, const QByteArray &owner) {
            const auto owners = registry.companionOwners(companion);
            return std::ranges::find(owners, owner) != owners.end();
        };
        QVERIFY(ownedBy(intentKey, "myapp:docs"));
        QVERIFY(ownedBy(queueKey, "myapp:fair"));
        QVERIFY(ownedBy("myapp:{myapp:fair}.qexp", "myapp:fair"));
        // A queue met alone (its lock free) reads its deadlines under the same prefix.
        RawEntry queueEntry;
        queueEntry.type = RawEntry::Type::Other;
        queueEntry.typeName = QStringLiteral("zset");
        queueEntry.members.emplace_back(fairHolder->value, 1.0);
        QCOMPARE(registry.companionKeys(queueKey, queueEntry),
                 std::vector<QByteArray>{QByteArray("myapp:{myapp:fair}.qexp")});

        // The fence counter is read under the prefixed name; a force-release bumps that one
        // (the writer no longer waits: its acquire would count too).
        stopWaiting();
        const auto reads = readKeyOnNodes(set->configs(), "myapp:docs", {.fenceCounter = true});
        QCOMPARE(reads.size(), std::size_t(1));
        QCOMPARE(reads[0].fenceCounter, std::optional<qint64>(reader->fence));
        QTemporaryDir dir;
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        Admin admin(QStringLiteral("kinds"), {AdminNode{set->configs()[0], false, false}},
                    Operator{QStringLiteral("alice"), QStringLiteral("ops-box")}, &log);
        const AdminResult released = admin.forceReleaseHolder(docs.record, reader->token);
        QVERIFY2(released.ok, qPrintable(released.message));
        QCOMPARE(set->get(0, "myapp:{myapp:docs}.fence"), QByteArray::number(reader->fence + 1));
        QCOMPARE(set->admin(0).command({"EXISTS", "{myapp:docs}.fence"})->integer(), 0);
    }

    void lockScopeReadersWithWaitingWriter()
    {
        LS_START_SERVERS(set, 1);
        const qint64 now = serverNow(*set);
        QVERIFY(now > 0);
        const QByteArray r1 = holderValue("readerAAAAAAAAAAAAAAAAA", 3, QStringLiteral("web-1"), "rw=r");
        const QByteArray r2 = holderValue("readerBBBBBBBBBBBBBBBBB", 4, QStringLiteral("web-2"), "rw=r");
        const QByteArray w = holderValue("writerCCCCCCCCCCCCCCCCC", 5, QStringLiteral("batch"), "rw=w");
        QVERIFY(run(*set, {"ZADD", "docs:rw", score(now + 30000), r1, score(now + 20000), r2}));
        QVERIFY(run(*set, {"PEXPIRE", "docs:rw", "30000"}));
        // No hash tag in the key: the intent goes to "{docs:rw}.wwait" (sameSlotName).
        QVERIFY(run(*set, {"SET", "{docs:rw}.wwait", w, "PX", "5000"}));

        const Read read = readOne(*set, "docs:rw");
        QVERIFY(read.lock);
        QCOMPARE(read.lock->schema, QStringLiteral("lockscope-kinds"));
        QCOMPARE(read.lock->kind, QStringLiteral("read"));
        QCOMPARE(read.record.kind, QStringLiteral("read"));
        QCOMPARE(read.lock->holders.size(), std::size_t(2));
        // Server order: ascending deadline.
        QCOMPARE(read.lock->holders[0].raw, r2);
        QCOMPARE(read.lock->holders[0].token, QByteArray("readerBBBBBBBBBBBBBBBBB"));
        QCOMPARE(read.lock->holders[0].owner, QStringLiteral("web-2 pid 104"));
        QCOMPARE(read.lock->holders[0].mode, QStringLiteral("read"));
        QCOMPARE(read.lock->holders[0].fence, 4);
        QCOMPARE(read.lock->holders[1].raw, r1);
        QVERIFY(read.lock->holders[0].pttlMs > 0 && read.lock->holders[0].pttlMs <= 20000);
        QVERIFY(read.lock->holders[1].pttlMs > read.lock->holders[0].pttlMs);
        QCOMPARE(read.lock->queue.size(), std::size_t(1));
        QCOMPARE(read.lock->queue[0].raw, w);
        QCOMPARE(read.lock->queue[0].mode, QStringLiteral("write"));
        QVERIFY(read.lock->queue[0].pttlMs > 0 && read.lock->queue[0].pttlMs <= 5000);
        QCOMPARE(read.lock->details.value(QStringLiteral("writer waiting")), QStringLiteral("batch pid 105"));
        QVERIFY2(read.lock->anomalies.isEmpty(), qPrintable(joined(read.lock->anomalies)));
        QVERIFY(!read.record.anomalies.contains(QLatin1String(anomaly::LockState)));
        // The companion was read with the key, on the same node.
        const RawEntry *intent = read.record.nodes[0].raw.companion("{docs:rw}.wwait");
        QVERIFY(intent);
        QCOMPARE(intent->value, w);
    }

    void lockScopeWriterAndReaderWithoutExpiry()
    {
        LS_START_SERVERS(set, 1);
        const qint64 now = serverNow(*set);
        // A hash tag in the key: the intent would be "<key>.wwait"; a writer and a reader
        // entry whose score is +inf.
        const QByteArray w = holderValue("writerDDDDDDDDDDDDDDDDD", 9, QStringLiteral("app"), "rw=w");
        const QByteArray r = holderValue("readerEEEEEEEEEEEEEEEEE", 8, QStringLiteral("old"), "rw=r");
        QVERIFY(run(*set, {"ZADD", "{acct}:rw", score(now + 10000), w, "+inf", r}));

        const Read read = readOne(*set, "{acct}:rw");
        QVERIFY(read.lock);
        QCOMPARE(read.lock->kind, QStringLiteral("write"));
        QCOMPARE(read.lock->fence, 9);
        QCOMPARE(read.lock->holders.size(), std::size_t(2));
        QCOMPARE(read.lock->holders[1].pttlMs, -1);
        QVERIFY2(read.lock->anomalies.contains(QStringLiteral("reader entry without expiry (old pid 108)")),
                 qPrintable(joined(read.lock->anomalies)));
        QVERIFY2(
            read.lock->anomalies.contains(QStringLiteral("a writer and 1 reader(s) hold the lock at once")),
            qPrintable(joined(read.lock->anomalies)));
        QVERIFY(read.record.anomalies.contains(QLatin1String(anomaly::LockState)));
        QVERIFY(read.record.nodes[0].raw.companion("{acct}:rw.wwait"));
        QCOMPARE(read.record.nodes[0].raw.companion("{acct}:rw.wwait")->type, RawEntry::Type::Missing);
    }

    void lockScopeSemaphoreOverItsLimit()
    {
        LS_START_SERVERS(set, 1);
        const qint64 now = serverNow(*set);
        QVERIFY(run(*set, {"ZADD", "pool:sem", score(now + 30000),
                           holderValue("holderAAAAAAAAAAAAAAAAA", 1, QStringLiteral("a"), "permits=2"),
                           score(now + 30000),
                           holderValue("holderBBBBBBBBBBBBBBBBB", 2, QStringLiteral("b"), "permits=2"),
                           score(now + 30000),
                           holderValue("holderCCCCCCCCCCCCCCCCC", 3, QStringLiteral("c"), "permits=3")}));

        const Read read = readOne(*set, "pool:sem");
        QVERIFY(read.lock);
        QCOMPARE(read.lock->kind, QStringLiteral("semaphore"));
        QCOMPARE(read.lock->permits, 2);
        QCOMPARE(read.lock->holders.size(), std::size_t(3));
        QVERIFY2(read.lock->anomalies.contains(QStringLiteral("3 permits used of 2")),
                 qPrintable(joined(read.lock->anomalies)));
        QVERIFY2(read.lock->anomalies.contains(
                     QStringLiteral("the holders disagree on the number of permits (2, 3)")),
                 qPrintable(joined(read.lock->anomalies)));
        QCOMPARE(read.lock->token,
                 QByteArray("holderAAAAAAAAAAAAAAAAA,holderBBBBBBBBBBBBBBBBB,holderCCCCCCCCCCCCCCCCC"));
    }

    /// Age of a lock of several holders: the acquire time of its earliest holder whose deadline
    /// has not passed.
    void lockScopeAcquiredAtIsTheEarliestCurrentHolder()
    {
        LS_START_SERVERS(set, 1);
        const qint64 now = serverNow(*set);
        QVERIFY(now > 0);
        const QDateTime earlier = QDateTime(QDate(2026, 3, 1), QTime(9, 15, 0, 250), Qt::UTC);
        const QDateTime later = QDateTime(QDate(2026, 3, 1), QTime(9, 40, 30, 0), Qt::UTC);
        const QDateTime gone = QDateTime(QDate(2026, 3, 1), QTime(8, 0, 0, 0), Qt::UTC);
        // The later one first in server order (the earlier deadline), the earlier one second.
        QVERIFY(run(*set, {"ZADD", "docs:age", score(now + 20000),
                           holderValue("readerLLLLLLLLLLLLLLLLL", 1, QStringLiteral("l"), "rw=r", later),
                           score(now + 30000),
                           holderValue("readerEEEEEEEEEEEEEEEEE", 2, QStringLiteral("e"), "rw=r", earlier)}));
        const Read rw = readOne(*set, "docs:age");
        QVERIFY(rw.lock);
        QCOMPARE(rw.lock->kind, QStringLiteral("read"));
        QCOMPARE(rw.lock->acquiredAt, earlier);

        // A holder past its deadline (not yet pruned) no longer holds the semaphore: its earlier
        // "at" does not count; nor does a holder that recorded none.
        QVERIFY(run(*set,
                    {"ZADD", "pool:age", score(now - 5000),
                     holderValue("holderGGGGGGGGGGGGGGGGG", 3, QStringLiteral("g"), "permits=3", gone),
                     score(now + 20000),
                     holderValue("holderLLLLLLLLLLLLLLLLL", 4, QStringLiteral("l"), "permits=3", later),
                     score(now + 25000),
                     holderValue("holderNNNNNNNNNNNNNNNNN", 5, QStringLiteral("n"), "permits=3"),
                     score(now + 30000),
                     holderValue("holderEEEEEEEEEEEEEEEEE", 6, QStringLiteral("e"), "permits=3", earlier)}));
        const Read pool = readOne(*set, "pool:age");
        QVERIFY(pool.lock);
        QCOMPARE(pool.lock->kind, QStringLiteral("semaphore"));
        QCOMPARE(pool.lock->holders.size(), std::size_t(4));
        QCOMPARE(pool.lock->acquiredAt, earlier);

        // Every holder past its deadline: nobody holds it now, no acquire time.
        QVERIFY(
            run(*set, {"ZADD", "pool:stale", score(now - 5000),
                       holderValue("holderGGGGGGGGGGGGGGGGG", 3, QStringLiteral("g"), "permits=3", gone)}));
        const Read stale = readOne(*set, "pool:stale");
        QVERIFY(stale.lock);
        QVERIFY(!stale.lock->acquiredAt.isValid());
    }

    /// LockValue::parse takes "permits=+2" (toInt); the decoder of LockScope's kinds has always
    /// wanted plain digits, what the Locker writes: such a set is not read as a semaphore.
    void lockScopeSemaphorePermitsInPlainDigitsOnly()
    {
        LS_START_SERVERS(set, 1);
        const qint64 now = serverNow(*set);
        QVERIFY(run(*set, {"ZADD", "pool:signed", score(now + 30000),
                           holderValue("holderSSSSSSSSSSSSSSSSS", 1, QStringLiteral("s"), "permits=+2")}));
        const QByteArray value = holderValue("holderSSSSSSSSSSSSSSSSS", 1, QStringLiteral("s"), "permits=+2");
        QCOMPARE(lock::LockValue::parse(value).value_or(lock::LockValue{}).permits, 2);
        const Read read = readOne(*set, "pool:signed");
        QVERIFY(!read.lock || read.lock->schema != QLatin1String("lockscope-kinds"));
    }

    void lockScopeReentrantAndMutex()
    {
        LS_START_SERVERS(set, 1);
        const QByteArray reentrant =
            holderValue("reentrantAAAAAAAAAAAAAA", 6, QStringLiteral("svc"), "cnt=3");
        QVERIFY(set->set(0, "orders:lock", reentrant, 30000));
        const QByteArray mutex = holderValue("mutexAAAAAAAAAAAAAAAAAA", 7, QStringLiteral("svc"), "");
        QVERIFY(set->set(0, "orders:other", mutex.trimmed(), 30000));

        const Read r = readOne(*set, "orders:lock");
        QVERIFY(r.lock);
        QCOMPARE(r.lock->schema, QStringLiteral("lockscope"));
        QCOMPARE(r.lock->kind, QStringLiteral("reentrant"));
        QCOMPARE(r.lock->holdCount, 3);
        QCOMPARE(r.lock->holders.size(), std::size_t(1));
        QCOMPARE(r.lock->holders[0].count, 3);
        QCOMPARE(r.lock->holders[0].raw, reentrant);
        QCOMPARE(r.lock->holders[0].fence, 6);

        const Read m = readOne(*set, "orders:other");
        QVERIFY(m.lock);
        QCOMPARE(m.lock->kind, QStringLiteral("mutex"));
        QCOMPARE(m.lock->holders.size(), std::size_t(1));
        QCOMPARE(m.lock->holders[0].raw, mutex.trimmed());
        QCOMPARE(m.lock->holders[0].token, QByteArray("mutexAAAAAAAAAAAAAAAAAA"));
        QVERIFY(m.lock->holders[0].pttlMs > 0);
    }

    // RedissonFairLock.java (tryLockInnerAsync): the holder's HSET + PEXPIRE on the lock hash;
    // a waiter's RPUSH on "redisson_lock_queue:{name}" and ZADD of its timeout (ms, client
    // clock) on "redisson_lock_timeout:{name}".
    void redissonFairLockWithQueue()
    {
        LS_START_SERVERS(set, 1);
        const qint64 now = serverNow(*set);
        const QByteArray holder = QByteArray(kClient) + ":1";
        const QByteArray alive = QByteArray(kClient) + ":52";
        const QByteArray gone = "11111111-2222-3333-4444-555555555555:7";
        QVERIFY(run(*set, {"HSET", "fair", holder, "2"}));
        QVERIFY(run(*set, {"PEXPIRE", "fair", "30000"}));
        QVERIFY(run(*set, {"RPUSH", "redisson_lock_queue:{fair}", gone, alive}));
        QVERIFY(run(*set, {"ZADD", "redisson_lock_timeout:{fair}", score(now - 5000), gone,
                           score(now + 300000), alive}));

        const Read read = readOne(*set, "fair");
        QVERIFY(read.lock);
        QCOMPARE(read.lock->schema, QStringLiteral("redisson-fairlock"));
        QCOMPARE(read.lock->kind, QStringLiteral("fair"));
        QCOMPARE(read.lock->holdCount, 2);
        QCOMPARE(read.lock->holders.size(), std::size_t(1));
        QCOMPARE(read.lock->holders[0].raw, holder);
        QCOMPARE(read.lock->holders[0].count, 2);
        QCOMPARE(read.lock->queue.size(), std::size_t(2));
        QCOMPARE(read.lock->queue[0].raw, gone); // arrival order: the list's
        QCOMPARE(read.lock->queue[0].pttlMs, 0);
        QCOMPARE(read.lock->queue[1].raw, alive);
        QCOMPARE(read.lock->queue[1].owner, QStringLiteral("%1 thread 52").arg(QLatin1String(kClient)));
        QVERIFY(read.lock->queue[1].pttlMs > 200000 && read.lock->queue[1].pttlMs <= 300000);
        QCOMPARE(read.lock->anomalies.size(), 1);
        QVERIFY2(
            read.lock->anomalies[0].startsWith(QStringLiteral("queue entry whose waiter is gone (expired ")),
            qPrintable(joined(read.lock->anomalies)));

        // Without waiters the same hash is a plain RLock.
        QVERIFY(run(*set, {"DEL", "redisson_lock_queue:{fair}", "redisson_lock_timeout:{fair}"}));
        const Read plain = readOne(*set, "fair");
        QVERIFY(plain.lock);
        QCOMPARE(plain.lock->schema, QStringLiteral("redisson-rlock"));
        QCOMPARE(plain.lock->kind, QStringLiteral("reentrant"));
        QCOMPARE(plain.lock->holders.size(), std::size_t(1));
        QCOMPARE(plain.lock->holders[0].raw, holder);
    }

    void redissonFairQueueOfAFreeLock()
    {
        LS_START_SERVERS(set, 1);
        const qint64 now = serverNow(*set);
        const QByteArray waiter = QByteArray(kClient) + ":9";
        QVERIFY(run(*set, {"RPUSH", "redisson_lock_queue:{jobs}", waiter}));
        QVERIFY(run(*set, {"ZADD", "redisson_lock_timeout:{jobs}", score(now + 60000), waiter}));

        const Read read = readOne(*set, "redisson_lock_queue:{jobs}");
        QVERIFY(read.lock);
        QCOMPARE(read.lock->schema, QStringLiteral("redisson-fairqueue"));
        QCOMPARE(read.lock->kind, QStringLiteral("fair"));
        QVERIFY(read.lock->holders.empty());
        QCOMPARE(read.lock->queue.size(), std::size_t(1));
        QVERIFY(read.lock->queue[0].pttlMs > 0 && read.lock->queue[0].pttlMs <= 60000);
        QCOMPARE(read.lock->details.value(QStringLiteral("lock")), QStringLiteral("jobs"));
        QVERIFY2(read.lock->anomalies.isEmpty(), qPrintable(joined(read.lock->anomalies)));
    }

    // RedissonPermitExpirableSemaphore.java: the counter of available permits under the name
    // (DECRBY at acquire), and each permit's id as 16 raw bytes in the ZSET
    // suffixName(name, "timeout") = "{name}:timeout", scored by its lease deadline (client ms) or
    // nonExpirableTimeout (922337203685477) without a lease.
    void redissonPermitExpirableSemaphore()
    {
        LS_START_SERVERS(set, 1);
        const qint64 now = serverNow(*set);
        const QByteArray leased = QByteArray::fromHex("00112233445566778899aabbccddeeff");
        const QByteArray unleased = QByteArray::fromHex("ffeeddccbbaa99887766554433221100");
        QVERIFY(set->set(0, "uploads:semaphore", "1"));
        QVERIFY(run(*set, {"ZADD", "{uploads:semaphore}:timeout", score(now + 30000), leased,
                           "922337203685477", unleased}));

        const Read read = readOne(*set, "uploads:semaphore");
        QVERIFY(read.lock);
        QCOMPARE(read.lock->schema, QStringLiteral("redisson-semaphore"));
        QCOMPARE(read.lock->confidence, Confidence::Likely);
        QCOMPARE(read.lock->kind, QStringLiteral("semaphore"));
        QCOMPARE(read.lock->permits, 3); // 1 available + 2 taken
        QCOMPARE(read.lock->holders.size(), std::size_t(2));
        QCOMPARE(read.lock->holders[0].raw, leased);
        QCOMPARE(read.lock->holders[0].token, QByteArray("00112233445566778899aabbccddeeff"));
        QVERIFY(read.lock->holders[0].pttlMs > 0 && read.lock->holders[0].pttlMs <= 30000);
        QCOMPARE(read.lock->holders[1].pttlMs, -1);
        QCOMPARE(read.lock->anomalies,
                 QStringList{
                     QStringLiteral("permit ffeeddccbbaa99887766554433221100 was taken without a lease: it "
                                    "never expires")});
    }

    // RedissonSemaphore.java: only the counter (trySetPermits SET, acquire DECRBY).
    void redissonSemaphoreCounter()
    {
        LS_START_SERVERS(set, 1);
        QVERIFY(set->set(0, "reports:semaphore", "4"));
        QVERIFY(set->set(0, "reports:count", "4"));

        const Read read = readOne(*set, "reports:semaphore");
        QVERIFY(read.lock);
        QCOMPARE(read.lock->schema, QStringLiteral("redisson-semaphore"));
        QCOMPARE(read.lock->confidence, Confidence::Guess);
        QCOMPARE(read.lock->kind, QStringLiteral("semaphore"));
        QCOMPARE(read.lock->permits, -1);
        QVERIFY(read.lock->holders.empty());
        QCOMPARE(read.lock->details.value(QStringLiteral("available permits")), QStringLiteral("4"));
        // A number under a key that does not say semaphore is a counter.
        QVERIFY(!readOne(*set, "reports:count").lock);
    }

    // Force-releasing a semaphore must not delete its permit counter.
    void semaphoreCounterIsNotForceReleased()
    {
        LS_START_SERVERS(set, 1);
        QVERIFY(set->set(0, "reports:semaphore", "0"));
        const Read read = readOne(*set, "reports:semaphore");
        QVERIFY(read.lock);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        AuditLog log(dir.filePath(QStringLiteral("audit.jsonl")));
        Admin admin(QStringLiteral("kinds"), {AdminNode{set->configs()[0], false, false}},
                    Operator{QStringLiteral("alice"), QStringLiteral("ops-box")}, &log);
        const AdminResult result = admin.forceRelease(read.record, SchemaRegistry::builtins());
        QVERIFY(!result.ok);
        QCOMPARE(result.nodes.size(), std::size_t(1));
        QCOMPARE(result.nodes[0].outcome, AdminOutcome::Refused);
        QCOMPARE(set->get(0, "reports:semaphore"), QByteArray("0"));
    }

    // redis-semaphore's semaphore/acquire/lua.js and multiSemaphore/acquire/lua.js, by hand:
    // members scored by acquire time, the key's PEXPIRE the lock timeout. (The real library
    // writes them in tst_peer_redissemaphore.)
    void redisSemaphoreExpiredMember()
    {
        LS_START_SERVERS(set, 1);
        const qint64 now = serverNow(*set);
        const QByteArray fresh = "0b7a3d3c-9a8e-4f47-9d2b-0d6a1c2e3f40";
        const QByteArray stale = "5c9e1f20-3b4a-4c5d-8e6f-7a8b9c0d1e2f";
        QVERIFY(run(*set, {"ZADD", "semaphore:jobs", score(now - 15000), stale, score(now), fresh}));
        QVERIFY(run(*set, {"PEXPIRE", "semaphore:jobs", "10000"}));

        const Read read = readOne(*set, "semaphore:jobs");
        QVERIFY(read.lock);
        QCOMPARE(read.lock->schema, QStringLiteral("redis-semaphore"));
        QCOMPARE(read.lock->holders.size(), std::size_t(2));
        QCOMPARE(read.lock->holders[0].token, stale);
        QCOMPARE(read.lock->holders[0].pttlMs, 0);
        QVERIFY(read.lock->holders[1].pttlMs > 0 && read.lock->holders[1].pttlMs <= 10000);
        QCOMPARE(read.lock->anomalies.size(), 1);
        QVERIFY2(
            read.lock->anomalies[0].startsWith(QStringLiteral("entry %1 expired ").arg(QLatin1String(stale))),
            qPrintable(joined(read.lock->anomalies)));
    }

    void companionOwnersAreTheInverse()
    {
        const SchemaRegistry registry = SchemaRegistry::builtins();
        const auto owners = [&](const QByteArray &key) {
            auto list = registry.companionOwners(key);
            std::ranges::sort(list);
            return list;
        };
        // "{docs:rw}.wwait" is the intent of "docs:rw" (no tag) and of "{docs:rw}" (tagged) alike.
        QCOMPARE(owners("{docs:rw}.wwait"), (std::vector<QByteArray>{"docs:rw", "{docs:rw}"}));
        QCOMPARE(owners("{acct}:rw.wwait"), (std::vector<QByteArray>{"{acct}:rw"}));
        // A Locker's key prefix goes in front, the key in the tag; "myapp:{myapp:docs}" could
        // also be a tagged key of its own.
        QCOMPARE(owners("myapp:{myapp:docs}.wwait"),
                 (std::vector<QByteArray>{"myapp:docs", "myapp:{myapp:docs}"}));
        QCOMPARE(owners("myapp:{myapp:fair}.qexp"),
                 (std::vector<QByteArray>{"myapp:fair", "myapp:{myapp:fair}"}));
        QCOMPARE(owners("a:b:{a:b:fair}.queue"), (std::vector<QByteArray>{"a:b:fair", "a:b:{a:b:fair}"}));
        // Only a prefix that is the start of the key in the tag.
        QCOMPARE(owners("other:{myapp:docs}.wwait"), (std::vector<QByteArray>{"other:{myapp:docs}"}));
        // Redisson names the queue of "fair" and of "{fair}" alike.
        QCOMPARE(owners("redisson_lock_queue:{fair}"), (std::vector<QByteArray>{"fair", "{fair}"}));
        QCOMPARE(owners("redisson_lock_timeout:{fair}"),
                 (std::vector<QByteArray>{"fair", "redisson_lock_queue:{fair}", "{fair}"}));
        QCOMPARE(owners("{uploads:semaphore}:timeout"),
                 (std::vector<QByteArray>{"uploads:semaphore", "{uploads:semaphore}"}));
        QVERIFY(owners("{session}:timeout").empty()); // "session" does not name a semaphore
        QVERIFY(owners("orders:lock").empty());
    }
};

QTEST_GUILESS_MAIN(TestSchemasKinds)
#include "tst_schemas_kinds.moc"
