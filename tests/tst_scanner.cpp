// Scanner against real 3-node groups: locks on 1, 2 and 3 nodes, differing tokens, no TTL, a
// killed node, raw keys, batches larger than one pipeline, cancellation, a least-privilege user.

#include "inspect/lockrecord.h"
#include "inspect/scanner.h"
#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lockfixture.h"

#include <QScopeGuard>
#include <QTest>
#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

using namespace lockscope;
using namespace lockscope::inspect;
using lockscope::test::ServerSet;

namespace {

QByteArray lockValue(const QByteArray &token, qint64 fence = 3)
{
    lock::LockValue value;
    value.token = token;
    value.fence = fence;
    value.host = QStringLiteral("host-a");
    value.pid = 42;
    value.thread = QStringLiteral("worker-1");
    value.acquiredAt =
        QDateTime::fromMSecsSinceEpoch(1'795'000'000'123, Qt::UTC); // fixed: equal values on every node
    return value.encode();
}

const LockRecord *findRecord(const Snapshot &snapshot, const QByteArray &key)
{
    const auto found = std::ranges::find(snapshot.records, key, &LockRecord::key);
    return found == snapshot.records.end() ? nullptr : &*found;
}

QStringList keysOf(const Snapshot &snapshot)
{
    QStringList keys;
    for (const LockRecord &record : snapshot.records)
        keys << QString::fromUtf8(record.key);
    return keys;
}

bool pipelineSet(redis::Connection &connection, const QByteArray &prefix, int count)
{
    for (int i = 0; i < count; ++i) {
        const QByteArray key = prefix + QByteArray::number(i).rightJustified(5, '0');
        connection.append({QByteArrayView("SET"), key,
                           lockValue("tok" + QByteArray::number(i) + "xxxxxxxxxxxxxxxx"),
                           QByteArrayView("PX"), QByteArrayView("600000")});
    }
    if (!connection.flush())
        return false;
    for (int i = 0; i < count; ++i) {
        auto reply = connection.readReply();
        if (!reply || !reply->isOk())
            return false;
    }
    return true;
}

/// Calls of `command` the server has counted (INFO commandstats), -1 when unreadable.
qint64 commandCalls(redis::Connection &connection, const QByteArray &command)
{
    auto info = connection.command({QByteArrayView("INFO"), QByteArrayView("commandstats")});
    if (!info || !info->isString())
        return -1;
    const QByteArray prefix = "cmdstat_" + command + ":calls=";
    const qsizetype at = info->bytes().indexOf(prefix);
    if (at < 0)
        return 0;
    const qsizetype from = at + prefix.size();
    return info->bytes().mid(from, info->bytes().indexOf(',', from) - from).toLongLong();
}

/// Everything of a record but the TTL figures, which move between two reads (their sign stays).
QString recordText(const LockRecord &record)
{
    QStringList parts{QString::fromUtf8(record.key.toHex()),
                      record.schema,
                      record.owner,
                      QString::fromUtf8(record.token),
                      QString::number(record.fence),
                      QString::number(record.held),
                      QString::number(record.of),
                      QString::number(record.quorum),
                      QString::number(record.minPttlMs >= 0),
                      record.anomalies.join(QLatin1Char(','))};
    for (const NodeEntry &entry : record.nodes) {
        parts << entry.node << QString::number(entry.reachable) << QString::number(entry.present())
              << entry.error << QString::number(int(entry.raw.type))
              << QString::fromUtf8(entry.raw.value.toHex()) << QString::number(entry.raw.fields.size())
              << QString::number(entry.raw.pttlMs >= 0)
              << (entry.decoded ? entry.decoded->schema : QStringLiteral("-"));
    }
    return parts.join(QLatin1Char('|'));
}

struct Streamed
{
    std::vector<LockRecord> records;
    std::size_t sinkCalls = 0;
    StreamSummary summary;
};

Streamed streamAll(const Scanner &scanner, const ScanOptions &options, std::size_t streamBatch,
                   const std::function<void(std::size_t)> &afterBatch = {})
{
    Streamed streamed;
    streamed.summary = scanner.stream(
        options,
        [&](std::vector<LockRecord> &&records) {
            for (LockRecord &record : records)
                streamed.records.push_back(std::move(record));
            if (afterBatch)
                afterBatch(++streamed.sinkCalls);
        },
        {}, nullptr, streamBatch);
    return streamed;
}

/// Scanner::stream() hands over the records scan() returns (same order, same contents) and says
/// the same of every node, whatever the batch size.
bool streamMatches(const Scanner &scanner, const ScanOptions &options, const Snapshot &snapshot)
{
    for (const std::size_t streamBatch : {std::size_t(1), std::size_t(3), std::size_t(4096)}) {
        const Streamed streamed = streamAll(scanner, options, streamBatch);
        QStringList expected;
        QStringList got;
        for (const LockRecord &record : snapshot.records)
            expected << recordText(record);
        for (const LockRecord &record : streamed.records)
            got << recordText(record);
        if (got != expected || streamed.summary.records != snapshot.records.size() ||
            streamed.summary.unlistedCount != snapshot.unlistedCount || streamed.summary.cancelled ||
            streamed.summary.nodes.size() != snapshot.nodes.size()) {
            qWarning("stream (batch %zu) differs from scan:\n  scan:   %s\n  stream: %s", streamBatch,
                     qPrintable(expected.join(QStringLiteral("\n          "))),
                     qPrintable(got.join(QStringLiteral("\n          "))));
            return false;
        }
        for (std::size_t i = 0; i < snapshot.nodes.size(); ++i) {
            const NodeScanResult &a = snapshot.nodes[i];
            const NodeScanResult &b = streamed.summary.nodes[i];
            if (a.node != b.node || a.ok != b.ok || a.note != b.note || a.keysScanned != b.keysScanned ||
                a.keysNotPermitted != b.keysNotPermitted || a.error.isEmpty() != b.error.isEmpty()) {
                qWarning("stream (batch %zu): node %zu differs: scan %s ok=%d note=%s scanned=%llu; stream "
                         "%s ok=%d note=%s scanned=%llu",
                         streamBatch, i, qPrintable(a.node), a.ok, qPrintable(a.note), a.keysScanned,
                         qPrintable(b.node), b.ok, qPrintable(b.note), b.keysScanned);
                return false;
            }
        }
    }
    return true;
}

} // namespace

class TestScanner : public QObject
{
    Q_OBJECT

private slots:
    // Locks of a library LockScope does not know: listed raw when the key says lock (with
    // lockLikeRaw), never hidden; the other keys are not listed, but their names are kept for
    // an operator's "these keys matched, none is a lock".
    void lockLikeUndecodedKeysAndUnlistedNames()
    {
        LS_START_SERVERS(set, 1);
        QVERIFY(set->set(0, "acme:lock:report", "held-by: reporting #7 (acme-locks 2.1)", 60000));
        QVERIFY(set->set(0, "orderMutex", "{\"who\": \"svc\"}", 60000));
        QVERIFY(set->set(0, "cache:user:1", "hello", 60000));
        QVERIFY(set->set(0, "cache:user:2", "world", 60000));
        QVERIFY(set->set(0, "clock:skew", "12", 60000)); // "clock" is not a lock
        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        const auto keysOf = [](const Snapshot &snapshot) {
            QList<QByteArray> keys;
            for (const LockRecord &record : snapshot.records)
                keys << record.key;
            return keys;
        };

        ScanOptions plain;
        plain.keepUnlisted = 100;
        const Snapshot before = scanner.scan(plain, 1);
        QVERIFY(streamMatches(scanner, plain, before));
        QVERIFY(!keysOf(before).contains("acme:lock:report"));
        QCOMPARE(before.unlistedCount, quint64(5));
        QCOMPARE(before.unlisted.size(), std::size_t(5));

        ScanOptions lockLike = plain;
        lockLike.lockLikeRaw = true;
        const Snapshot after = scanner.scan(lockLike, 2);
        QVERIFY(streamMatches(scanner, lockLike, after));
        QCOMPARE(keysOf(after), (QList<QByteArray>{"acme:lock:report", "orderMutex"}));
        for (const LockRecord &record : after.records) {
            QVERIFY(record.schema.isEmpty());
            QVERIFY(record.anomalies.contains(QLatin1String(anomaly::Undecoded)));
            QVERIFY(record.minPttlMs > 0); // its TTL read like a lock's
        }
        QCOMPARE(after.unlistedCount, quint64(3));
        QList<QByteArray> unlisted(after.unlisted.begin(), after.unlisted.end());
        std::ranges::sort(unlisted);
        QCOMPARE(unlisted, (QList<QByteArray>{"cache:user:1", "cache:user:2", "clock:skew"}));

        ScanOptions capped = lockLike;
        capped.keepUnlisted = 2;
        const Snapshot few = scanner.scan(capped, 3);
        QCOMPARE(few.unlistedCount, quint64(3));
        QCOMPARE(few.unlisted.size(), std::size_t(2));
    }

    void classifiesLocksAcrossThreeNodes()
    {
        LS_START_SERVERS(set, 3);
        // On 3 nodes: taken by the lock library.
        lock::Locker locker(set->configs());
        lock::AcquireOptions acquire;
        acquire.ttl = std::chrono::minutes(5);
        acquire.label = QStringLiteral("nightly");
        auto taken = locker.acquire("lock:on3", acquire);
        QVERIFY2(taken.has_value(), test::describe(taken).constData());
        // On 2 and 1 nodes, differing tokens, no TTL: written with SET.
        const QByteArray t2 = lock::randomToken();
        QVERIFY(set->set(0, "lock:on2", lockValue(t2), 60000));
        QVERIFY(set->set(2, "lock:on2", lockValue(t2), 60000));
        const QByteArray t1 = lock::randomToken();
        QVERIFY(set->set(1, "lock:on1", lockValue(t1), 60000));
        const QByteArray ta = lock::randomToken();
        const QByteArray tb = lock::randomToken();
        QVERIFY(set->set(0, "lock:differ", lockValue(ta, 1), 60000));
        QVERIFY(set->set(1, "lock:differ", lockValue(tb, 2), 60000));
        QVERIFY(set->set(2, "lock:differ", lockValue(tb, 2), 60000));
        const QByteArray tn = lock::randomToken();
        for (int i = 0; i < 3; ++i)
            QVERIFY(set->set(i, "lock:nottl", lockValue(tn)));
        // Not locks.
        for (int i = 0; i < 3; ++i) {
            QVERIFY(set->set(i, "user:1", "hello"));
            LS_VERIFY_OK(set->admin(i).command(
                {QByteArrayView("RPUSH"), QByteArrayView("queue"), QByteArrayView("a")}));
        }

        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        std::mutex mutex;
        std::vector<ScanProgress> progress;
        const Snapshot snapshot = scanner.scan({}, 17, [&](const ScanProgress &p) {
            const std::scoped_lock guard(mutex);
            progress.push_back(p);
        });
        QVERIFY(streamMatches(scanner, {}, snapshot));
        QCOMPARE(snapshot.generation, quint64(17));
        QVERIFY(!snapshot.cancelled);
        QCOMPARE(snapshot.nodes.size(), std::size_t(3));
        for (const NodeScanResult &node : snapshot.nodes)
            QVERIFY2(node.ok, qPrintable(node.error));
        // Sorted by key; non-lock keys (and the fence counter) are not listed.
        QCOMPARE(keysOf(snapshot), QStringList({QStringLiteral("lock:differ"), QStringLiteral("lock:nottl"),
                                                QStringLiteral("lock:on1"), QStringLiteral("lock:on2"),
                                                QStringLiteral("lock:on3")}));
        QCOMPARE(std::ranges::count_if(progress, [](const ScanProgress &p) { return p.finished; }), 3);

        const LockRecord *on3 = findRecord(snapshot, "lock:on3");
        QVERIFY(on3);
        QCOMPARE(on3->schema, QStringLiteral("lockscope"));
        QCOMPARE(on3->token, taken->token);
        QCOMPARE(on3->held, 3);
        QCOMPARE(on3->of, 3);
        QVERIFY(on3->quorum);
        QVERIFY(on3->fence > 0);
        QVERIFY(on3->minPttlMs > 0 && on3->minPttlMs <= 300000);
        QVERIFY2(on3->anomalies.isEmpty(), qPrintable(on3->anomalies.join(',')));
        QCOMPARE(on3->nodes.size(), std::size_t(3));
        QCOMPARE(on3->nodes[0].node, ServerSet::nodeName(0));

        const LockRecord *on2 = findRecord(snapshot, "lock:on2");
        QCOMPARE(on2->held, 2);
        QVERIFY(on2->quorum);
        QVERIFY(on2->anomalies.isEmpty());
        QVERIFY(!on2->nodes[1].present());
        QVERIFY(on2->nodes[2].present());

        const LockRecord *on1 = findRecord(snapshot, "lock:on1");
        QCOMPARE(on1->held, 1);
        QVERIFY(!on1->quorum);
        QCOMPARE(on1->anomalies, QStringList{QLatin1String(anomaly::QuorumLost)});
        QCOMPARE(on1->token, t1);

        const LockRecord *differ = findRecord(snapshot, "lock:differ");
        QCOMPARE(differ->token, tb);
        QCOMPARE(differ->held, 2);
        QCOMPARE(differ->fence, 2);
        QCOMPARE(differ->anomalies, QStringList{QLatin1String(anomaly::TokensDiffer)});

        const LockRecord *nottl = findRecord(snapshot, "lock:nottl");
        QCOMPARE(nottl->held, 3);
        QCOMPARE(nottl->minPttlMs, -1);
        QCOMPARE(nottl->anomalies, QStringList{QLatin1String(anomaly::NoTtl)});
    }

    void explicitMatchListsRawKeys()
    {
        LS_START_SERVERS(set, 3);
        for (int i = 0; i < 3; ++i) {
            QVERIFY(set->set(i, "user:1", "hello", 50000));
            LS_VERIFY_OK(set->admin(i).command({QByteArrayView("HSET"), QByteArrayView("user:2"),
                                                QByteArrayView("name"), QByteArrayView("bob")}));
        }
        LS_VERIFY_OK(
            set->admin(0).command({QByteArrayView("RPUSH"), QByteArrayView("user:3"), QByteArrayView("a")}));
        QVERIFY(set->set(0, "other", "x"));
        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        ScanOptions options;
        options.match = {QStringLiteral("user:*")};
        const Snapshot snapshot = scanner.scan(options, 1);
        QVERIFY(streamMatches(scanner, options, snapshot));
        QCOMPARE(keysOf(snapshot),
                 QStringList({QStringLiteral("user:1"), QStringLiteral("user:2"), QStringLiteral("user:3")}));
        const LockRecord *u1 = findRecord(snapshot, "user:1");
        QVERIFY(u1->schema.isEmpty());
        QVERIFY(u1->anomalies.contains(QLatin1String(anomaly::Undecoded)));
        QCOMPARE(u1->held, 3);
        QCOMPARE(u1->nodes[0].raw.value, QByteArray("hello"));
        QCOMPARE(u1->nodes[0].raw.typeName, QStringLiteral("string"));
        const LockRecord *u2 = findRecord(snapshot, "user:2");
        QCOMPARE(u2->nodes[1].raw.type, RawEntry::Type::Hash);
        QCOMPARE(u2->nodes[1].raw.fields.size(), std::size_t(1));
        QCOMPARE(u2->nodes[1].raw.fields[0].second, QByteArray("bob"));
        QCOMPARE(u2->nodes[1].raw.pttlMs, -1);
        const LockRecord *u3 = findRecord(snapshot, "user:3");
        QCOMPARE(u3->nodes[0].raw.type, RawEntry::Type::Other);
        QCOMPARE(u3->nodes[0].raw.typeName, QStringLiteral("list"));
        QCOMPARE(u3->held, 1);

        // Two overlapping patterns: every key once.
        options.match = {QStringLiteral("user:*"), QStringLiteral("user:1*")};
        QCOMPARE(keysOf(scanner.scan(options, 2)).size(), 3);
        QVERIFY(streamMatches(scanner, options, scanner.scan(options, 3)));
    }

    void schemaSpecificPatternListsUndecoded()
    {
        LS_START_SERVERS(set, 1);
        // ShedLock keys live under job-lock:*: a value no schema reads is still shown there.
        QVERIFY(set->set(0, "job-lock:prod:nightly", "garbage", 50000));
        QVERIFY(set->set(0, "plain", "garbage", 50000));
        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        const Snapshot snapshot = scanner.scan({}, 1);
        QCOMPARE(keysOf(snapshot), QStringList{QStringLiteral("job-lock:prod:nightly")});
        QVERIFY(streamMatches(scanner, {}, snapshot));
        QVERIFY(snapshot.records[0].anomalies.contains(QLatin1String(anomaly::Undecoded)));
    }

    void killedNodeIsUnreachableInEveryRecord()
    {
        LS_START_SERVERS(set, 3);
        for (int i = 0; i < 3; ++i) {
            QVERIFY(set->set(i, "lock:a", lockValue("tokenaaaaaaaaaaaaaaaaa"), 60000));
            QVERIFY(set->set(i, "lock:b", lockValue("tokenbbbbbbbbbbbbbbbbb"), 60000));
        }
        set->server(1).kill();
        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        const Snapshot snapshot = scanner.scan({}, 1);
        QVERIFY(streamMatches(scanner, {}, snapshot));
        QVERIFY(!snapshot.cancelled);
        QVERIFY(snapshot.nodes[0].ok);
        QVERIFY(!snapshot.nodes[1].ok);
        QVERIFY(!snapshot.nodes[1].error.isEmpty());
        QVERIFY(snapshot.nodes[2].ok);
        QCOMPARE(snapshot.records.size(), std::size_t(2));
        for (const LockRecord &record : snapshot.records) {
            QCOMPARE(record.held, 2);
            QVERIFY(record.quorum);
            QCOMPARE(record.anomalies, QStringList{QLatin1String(anomaly::NodeUnreachable)});
            QVERIFY(!record.nodes[1].reachable);
            QCOMPARE(record.nodes[1].node, ServerSet::nodeName(1));
            QCOMPARE(record.nodes[1].error, snapshot.nodes[1].error);
        }
    }

    void batchesLargerThanOnePipeline()
    {
        LS_START_SERVERS(set, 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(pipelineSet(set->admin(i), "lock:many:", 3000));
        for (int i = 0; i < 500; ++i)
            QVERIFY(set->set(0, "other:" + QByteArray::number(i), "v"));
        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        ScanOptions options;
        options.count = 200;
        options.batch = 256;
        std::atomic<int> callbacks{0};
        const auto before = std::chrono::steady_clock::now();
        const QDateTime beforeWall = QDateTime::currentDateTimeUtc();
        const Snapshot snapshot = scanner.scan(options, 5, [&](const ScanProgress &) { ++callbacks; });
        const auto after = std::chrono::steady_clock::now();
        QCOMPARE(snapshot.records.size(), std::size_t(3000));
        // Each record is stamped with the round that read it, not with the scan's start: the
        // TTL countdown of a key read late in a long scan starts from its own read.
        std::set<std::chrono::steady_clock::time_point> stamps;
        for (const LockRecord &record : snapshot.records) {
            QVERIFY(record.readAtSteady >= before && record.readAtSteady <= after);
            QVERIFY(record.readAt >= beforeWall.addMSecs(-1));
            stamps.insert(record.readAtSteady);
        }
        QVERIFY2(stamps.size() >= 3000 / 256, qPrintable(QString::number(stamps.size())));
        QVERIFY(callbacks.load() >= 3 * (3000 / 256));
        QCOMPARE(snapshot.nodes[0].keysScanned, quint64(3500));
        QCOMPARE(snapshot.nodes[1].keysScanned, quint64(3000));
        QVERIFY(std::ranges::is_sorted(snapshot.records, {}, &LockRecord::key));
        QVERIFY(streamMatches(scanner, options, snapshot));
        for (const LockRecord &record : snapshot.records) {
            QCOMPARE(record.held, 3);
            QCOMPARE(record.schema, QStringLiteral("lockscope"));
        }
        // A schema filter that nothing matches.
        options.schema = QStringLiteral("redis-py");
        QCOMPARE(scanner.scan(options, 6).records.size(), std::size_t(0));
    }

    void readsTtlsOfPossibleLocksOnly()
    {
        // 50 locks among 200 other keys: the scan asks the server for 50 PTTLs, not 250.
        LS_START_SERVERS(set, 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(pipelineSet(set->admin(i), "lock:ttl:", 50));
        for (int i = 0; i < 200; ++i)
            QVERIFY(set->set(0, "cache:item:" + QByteArray::number(i), "payload-" + QByteArray::number(i)));
        // A key that holds a lock on node 0 and something else (no TTL) on node 1: listed,
        // with node 1's TTL read too although its value is no lock.
        QVERIFY(set->set(0, "mixed:key", lockValue("mixedtokenxxxxxxxxxxxxx"), 60000));
        QVERIFY(set->set(1, "mixed:key", "plain value"));
        const qint64 before = commandCalls(set->admin(0), "pttl");
        QVERIFY(before >= 0);
        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        ScanOptions options;
        options.count = 40;
        options.batch = 16;
        const Snapshot snapshot = scanner.scan(options, 1);
        QCOMPARE(commandCalls(set->admin(0), "pttl") - before, qint64(51));
        // The streamed scan asks for the same TTLs, no more.
        const qint64 beforeStream = commandCalls(set->admin(0), "pttl");
        QCOMPARE(streamAll(scanner, options, 4096).records.size(), std::size_t(51));
        QCOMPARE(commandCalls(set->admin(0), "pttl") - beforeStream, qint64(51));
        QVERIFY(streamMatches(scanner, options, snapshot));
        QCOMPARE(snapshot.records.size(), std::size_t(51));
        QCOMPARE(snapshot.nodes[0].keysScanned, quint64(251));
        for (const LockRecord &record : snapshot.records) {
            for (const NodeEntry &entry : record.nodes)
                QVERIFY(entry.raw.pttlMs != RawEntry::PttlNotRead);
        }
        const LockRecord *mixed = findRecord(snapshot, "mixed:key");
        QVERIFY(mixed);
        QCOMPARE(mixed->schema, QStringLiteral("lockscope"));
        QVERIFY(mixed->nodes[0].raw.pttlMs > 0);
        QCOMPARE(mixed->nodes[1].raw.value, QByteArray("plain value"));
        QCOMPARE(mixed->nodes[1].raw.pttlMs, qint64(-1));
        QVERIFY(!mixed->nodes[1].decoded);
        QCOMPARE(mixed->nodes[2].raw.type, RawEntry::Type::Missing);

        // Listing raw keys (--match) reads every matched key's TTL.
        const qint64 beforeRaw = commandCalls(set->admin(0), "pttl");
        options.match = {QStringLiteral("cache:item:1*")};
        const Snapshot raw = scanner.scan(options, 2);
        QCOMPARE(raw.records.size(), std::size_t(111)); // 1, 10-19, 100-199
        QCOMPARE(commandCalls(set->admin(0), "pttl") - beforeRaw, qint64(111));
        QVERIFY(streamMatches(scanner, options, raw));
        QCOMPARE(findRecord(raw, "cache:item:1")->nodes[0].raw.pttlMs, qint64(-1));
    }

    void cancellation()
    {
        LS_START_SERVERS(set, 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(pipelineSet(set->admin(i), "lock:c:", 2000));
        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        ScanOptions options;
        options.count = 100;
        options.batch = 100;
        std::atomic<bool> cancel{false};
        std::atomic<quint64> maxSeen{0};
        const Snapshot snapshot = scanner.scan(
            options, 9,
            [&](const ScanProgress &p) {
                maxSeen = std::max(maxSeen.load(), p.keysScanned);
                cancel = true;
            },
            &cancel);
        QVERIFY(snapshot.cancelled);
        QVERIFY(snapshot.records.empty());
        for (const NodeScanResult &node : snapshot.nodes)
            QVERIFY(node.keysScanned < 2000);

        std::atomic<bool> early{true};
        const Snapshot none = scanner.scan(options, 10, {}, &early);
        QVERIFY(none.cancelled);

        // The streamed scan stops at the next batch: nothing more reaches the sink.
        std::atomic<bool> stop{false};
        std::size_t handed = 0;
        std::size_t calls = 0;
        const StreamSummary summary = scanner.stream(
            options,
            [&](std::vector<LockRecord> &&records) {
                handed += records.size();
                ++calls;
                stop = true;
            },
            {}, &stop, 100);
        QVERIFY(summary.cancelled);
        QCOMPARE(calls, std::size_t(1));
        QCOMPARE(handed, std::size_t(100));
        QCOMPARE(summary.records, quint64(100));
        const StreamSummary nothing = scanner.stream(
            options, [&](std::vector<LockRecord> &&) { QFAIL("a cancelled stream handed records over"); }, {},
            &early);
        QVERIFY(nothing.cancelled);
        QCOMPARE(nothing.records, quint64(0));
    }

    // A node that dies while the records stream: what was read before stays as read, every
    // later record shows the node unreachable with its error, and the summary says it failed.
    // No record is lost: the other two nodes still make a quorum for each.
    void nodeKilledWhileStreaming()
    {
        LS_START_SERVERS(set, 3);
        for (int i = 0; i < 3; ++i)
            QVERIFY(pipelineSet(set->admin(i), "lock:s:", 2000));
        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        const Streamed streamed = streamAll(scanner, {}, 50, [&](std::size_t calls) {
            if (calls == 1)
                set->server(1).kill();
        });
        QCOMPARE(streamed.records.size(), std::size_t(2000));
        QVERIFY(std::ranges::is_sorted(streamed.records, {}, &LockRecord::key));
        QVERIFY(streamed.summary.nodes[0].ok);
        QVERIFY(!streamed.summary.nodes[1].ok);
        QVERIFY(!streamed.summary.nodes[1].error.isEmpty());
        QVERIFY(streamed.summary.nodes[2].ok);
        QVERIFY(streamed.records.front().nodes[1].reachable); // read before the kill
        QVERIFY(!streamed.records.back().nodes[1].reachable);
        for (const LockRecord &record : streamed.records) {
            QVERIFY(record.quorum);
            if (record.nodes[1].reachable) {
                QCOMPARE(record.held, 3);
                continue;
            }
            QCOMPARE(record.held, 2);
            QCOMPARE(record.nodes[1].error, streamed.summary.nodes[1].error);
            QCOMPARE(record.anomalies, QStringList{QLatin1String(anomaly::NodeUnreachable)});
        }
    }

    // A user limited to some keys (~jobs:*) sees those and is told how many it may not read:
    // a key outside its patterns never fails the node (it used to: "GET: NOPERM", empty table).
    void keyRestrictedUserSeesItsKeys()
    {
        LS_START_SERVERS(set, 1);
        LS_VERIFY_OK(set->admin(0).command(
            {QByteArrayView("ACL"), QByteArrayView("SETUSER"), QByteArrayView("jobsonly"),
             QByteArrayView("on"), QByteArrayView(">jobs-pw"), QByteArrayView("+scan"),
             QByteArrayView("+mget"), QByteArrayView("+get"), QByteArrayView("+pttl"),
             QByteArrayView("+type"), QByteArrayView("+hgetall"), QByteArrayView("+ping"),
             QByteArrayView("+hello"), QByteArrayView("+client|setname"), QByteArrayView("~jobs:*")}));
        QVERIFY(set->set(0, "jobs:lock:a", lockValue("tokenjobsaaaaaaaaaaaaa"), 60000));
        QVERIFY(set->set(0, "jobs:lock:b", lockValue("tokenjobsbbbbbbbbbbbbb"), 60000));
        QVERIFY(set->set(0, "billing:lock:x", lockValue("tokenbillxxxxxxxxxxxxx"), 60000));
        QVERIFY(set->set(0, "billing:lock:y", lockValue("tokenbillyyyyyyyyyyyyy"), 60000));
        std::vector<redis::NodeConfig> configs = set->configs();
        configs[0].username = QStringLiteral("jobsonly");
        configs[0].password = QStringLiteral("jobs-pw");
        const Scanner scanner(configs, SchemaRegistry::builtins());
        for (const int batch : {512, 1}) { // keys of both kinds in one MGET, and one key per MGET
            ScanOptions options;
            options.batch = batch;
            const Snapshot snapshot = scanner.scan(options, 1);
            QCOMPARE(snapshot.nodes.size(), std::size_t(1));
            QVERIFY(streamMatches(scanner, options, snapshot));
            QVERIFY2(snapshot.nodes[0].ok, qPrintable(snapshot.nodes[0].error));
            QCOMPARE(snapshot.nodes[0].keysNotPermitted, quint64(2));
            QVERIFY2(snapshot.nodes[0].note.contains(QLatin1String("2 scanned keys are not readable")),
                     qPrintable(snapshot.nodes[0].note));
            QCOMPARE(keysOf(snapshot),
                     QStringList({QStringLiteral("jobs:lock:a"), QStringLiteral("jobs:lock:b")}));
            QVERIFY(snapshot.records[0].nodes[0].raw.pttlMs > 0);
        }
    }

    void leastPrivilegeUser_data()
    {
        // The documented ACL, and an older one without +mget (values then read with GET, with a
        // note saying so).
        QTest::addColumn<QByteArray>("valueCommand");
        QTest::addColumn<bool>("noted");
        QTest::newRow("+mget (documented)") << QByteArray("+mget") << false;
        QTest::newRow("+get only") << QByteArray("+get") << true;
    }

    void leastPrivilegeUser()
    {
        QFETCH(QByteArray, valueCommand);
        QFETCH(bool, noted);
        LS_START_SERVERS(set, 3);
        std::vector<redis::NodeConfig> configs = set->configs();
        for (int i = 0; i < 3; ++i) {
            LS_VERIFY_OK(set->admin(i).command(
                {QByteArrayView("ACL"), QByteArrayView("SETUSER"), QByteArrayView("scanner"),
                 QByteArrayView("on"), QByteArrayView(">scan-pw"), QByteArrayView("+scan"), valueCommand,
                 QByteArrayView("+pttl"), QByteArrayView("+type"), QByteArrayView("+hgetall"),
                 QByteArrayView("+ping"), QByteArrayView("+hello"), QByteArrayView("+client|setname"),
                 QByteArrayView("~*")}));
            QVERIFY(set->set(i, "lock:acl", lockValue("tokenaclaclaclaclaclac"), 60000));
            LS_VERIFY_OK(set->admin(i).command({QByteArrayView("HSET"), QByteArrayView("lock:hash"),
                                                QByteArrayView("f"), QByteArrayView("v")}));
            configs[std::size_t(i)].username = QStringLiteral("scanner");
            configs[std::size_t(i)].password = QStringLiteral("scan-pw");
        }
        const Scanner scanner(configs, SchemaRegistry::builtins());
        ScanOptions options;
        options.match = {QStringLiteral("lock:*")};
        const Snapshot snapshot = scanner.scan(options, 1);
        QVERIFY(streamMatches(scanner, options, snapshot));
        for (const NodeScanResult &node : snapshot.nodes) {
            QVERIFY2(node.ok, qPrintable(node.error));
            QCOMPARE(!node.note.isEmpty(), noted);
            if (noted)
                QVERIFY2(node.note.contains(QLatin1String("+mget")), qPrintable(node.note));
        }
        QCOMPARE(keysOf(snapshot), QStringList({QStringLiteral("lock:acl"), QStringLiteral("lock:hash")}));
        QCOMPARE(snapshot.records[0].held, 3);
        QCOMPARE(snapshot.records[0].schema, QStringLiteral("lockscope"));
        QCOMPARE(snapshot.records[0].nodes[1].raw.value, lockValue("tokenaclaclaclaclaclac"));
        QVERIFY(snapshot.records[0].nodes[1].raw.pttlMs > 0);
        QCOMPARE(snapshot.records[1].nodes[2].raw.type, RawEntry::Type::Hash);
    }

    /// Locks spread over several keys: a LockScope read-write lock (sorted set) with its writer's
    /// intent, a Redisson fair lock with its queue and timeout set, and a fair queue whose lock is
    /// free. Each lock is one record, its companions in it, none listed on its own or twice.
    void sortedSetLockAndCompanionsListedOnce()
    {
        LS_START_SERVERS(set, 2);
        const QByteArray client = "8743c9c0-0795-4907-87fd-6c719a6b4586";
        lock::LockValue reader;
        reader.token = "readerAAAAAAAAAAAAAAAAA";
        reader.host = QStringLiteral("web-1");
        lock::LockValue writer;
        writer.token = "writerBBBBBBBBBBBBBBBBB";
        writer.host = QStringLiteral("batch");
        for (int i = 0; i < set->size(); ++i) {
            redis::Connection &admin = set->admin(i);
            LS_VERIFY_OK(admin.command({"ZADD", "docs:rw", "+inf", reader.encode() + " rw=r"}));
            QVERIFY(set->set(i, "{docs:rw}.wwait", writer.encode() + " rw=w", 60000));
            LS_VERIFY_OK(admin.command({"HSET", "fair", client + ":1", "1"}));
            LS_VERIFY_OK(admin.command({"RPUSH", "redisson_lock_queue:{fair}", client + ":2"}));
            LS_VERIFY_OK(admin.command({"ZADD", "redisson_lock_timeout:{fair}", "+inf", client + ":2"}));
            LS_VERIFY_OK(admin.command({"RPUSH", "redisson_lock_queue:{idle}", client + ":3"}));
            LS_VERIFY_OK(admin.command({"ZADD", "redisson_lock_timeout:{idle}", "+inf", client + ":3"}));
        }
        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        const Snapshot snapshot = scanner.scan(ScanOptions{}, 1);
        QVERIFY(streamMatches(scanner, ScanOptions{}, snapshot));
        QCOMPARE(keysOf(snapshot), QStringList({QStringLiteral("docs:rw"), QStringLiteral("fair"),
                                                QStringLiteral("redisson_lock_queue:{idle}")}));
        QCOMPARE(snapshot.unlistedCount, quint64(0));

        const LockRecord &rw = snapshot.records[0];
        QCOMPARE(rw.kind, QStringLiteral("read"));
        QCOMPARE(rw.held, 2);
        for (const NodeEntry &entry : rw.nodes) {
            QVERIFY(entry.raw.isSortedSet());
            QCOMPARE(entry.raw.members.size(), std::size_t(1));
            QVERIFY(entry.raw.serverTimeMs > 0);
            QVERIFY(entry.decoded);
            QCOMPARE(entry.decoded->holders.size(), std::size_t(1));
            QCOMPARE(entry.decoded->holders[0].token, reader.token);
            QCOMPARE(entry.decoded->queue.size(), std::size_t(1));
            QCOMPARE(entry.decoded->queue[0].token, writer.token);
            QVERIFY(entry.decoded->anomalies.contains(QStringLiteral("reader entry without expiry (web-1)")));
        }
        QVERIFY(rw.anomalies.contains(QLatin1String(anomaly::LockState)));

        const LockRecord &fair = snapshot.records[1];
        QCOMPARE(fair.schema, QStringLiteral("redisson-fairlock"));
        QCOMPARE(fair.kind, QStringLiteral("fair"));
        QCOMPARE(fair.nodes[0].decoded->queue.size(), std::size_t(1));
        QCOMPARE(fair.nodes[0].decoded->queue[0].raw, client + ":2");
        QCOMPARE(fair.nodes[0].raw.companions.size(), std::size_t(2));

        const LockRecord &idle = snapshot.records[2];
        QCOMPARE(idle.schema, QStringLiteral("redisson-fairqueue"));
        QCOMPARE(idle.nodes[1].decoded->queue.size(), std::size_t(1));
        QCOMPARE(idle.nodes[1].decoded->details.value(QStringLiteral("lock")), QStringLiteral("idle"));
    }

    /// The same with a Locker that has a key prefix: its companions are named after the prefix
    /// ("myapp:{myapp:docs}.wwait"), which the scanner does not know. Each lock is still one
    /// record with its companions in it; neither they nor the fence counters are listed alone.
    void prefixedLockerCompanionsListedOnce()
    {
        using namespace std::chrono_literals;
        LS_START_SERVERS(set, 3);
        lock::LockerOptions prefixed;
        prefixed.keyPrefix = "myapp:";
        lock::Locker locker(set->configs(), prefixed);
        lock::AcquireOptions read;
        read.ttl = 30s;
        read.kind = lock::LockKind::Read;
        const auto reader = locker.tryAcquire("docs", read);
        QVERIFY2(reader.has_value(), test::describe(reader).constData());
        lock::AcquireOptions fair = read;
        fair.kind = lock::LockKind::Fair;
        const auto holder = locker.tryAcquire("fair", fair);
        QVERIFY2(holder.has_value(), test::describe(holder).constData());
        auto cancel = std::make_shared<lock::CancellationToken>();
        std::vector<std::thread> waiters;
        for (const lock::LockKind kind : {lock::LockKind::Write, lock::LockKind::Fair}) {
            lock::AcquireOptions wait = read;
            wait.kind = kind;
            wait.retry = lock::RetryStrategy::linear(20ms);
            wait.wait = 30s;
            wait.cancel = cancel;
            const QByteArray key = kind == lock::LockKind::Write ? "docs" : "fair";
            waiters.emplace_back([&locker, wait, key] { (void)locker.acquire(key, wait); });
        }
        const auto stop = qScopeGuard([&] {
            cancel->cancel();
            for (std::thread &waiter : waiters)
                waiter.join();
        });
        const auto everywhere = [&](const QByteArray &key) {
            for (int i = 0; i < set->size(); ++i) {
                if (set->admin(i).command({"EXISTS", key})->integer() != 1)
                    return false;
            }
            return true;
        };
        QTRY_VERIFY_WITH_TIMEOUT(everywhere("myapp:{myapp:docs}.wwait"), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(everywhere("myapp:{myapp:fair}.queue"), 5000);

        const Scanner scanner(set->configs(), SchemaRegistry::builtins());
        const Snapshot snapshot = scanner.scan(ScanOptions{}, 1);
        QVERIFY(streamMatches(scanner, ScanOptions{}, snapshot));
        QCOMPARE(keysOf(snapshot), QStringList({QStringLiteral("myapp:docs"), QStringLiteral("myapp:fair")}));
        const LockRecord &docs = snapshot.records[0];
        QCOMPARE(docs.kind, QStringLiteral("read"));
        QCOMPARE(docs.held, 3);
        for (const NodeEntry &entry : docs.nodes) {
            QVERIFY(entry.decoded);
            QCOMPARE(entry.decoded->queue.size(), std::size_t(1));
            QCOMPARE(entry.decoded->queue[0].mode, QStringLiteral("write"));
        }
        const LockRecord &fairRecord = snapshot.records[1];
        QCOMPARE(fairRecord.kind, QStringLiteral("fair"));
        QCOMPARE(fairRecord.token, holder->token);
        for (const NodeEntry &entry : fairRecord.nodes) {
            QVERIFY(entry.decoded);
            QCOMPARE(entry.decoded->queue.size(), std::size_t(1));
        }
    }
};

QTEST_GUILESS_MAIN(TestScanner)
#include "tst_scanner.moc"
