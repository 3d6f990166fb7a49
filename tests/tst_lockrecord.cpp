// aggregate(): majority token, k of N, quorum, TTL and anomalies of one key across a group; and
// ownerText(), the one owner text every view shows, over the values of several schemas. Pure.

#include "inspect/lockrecord.h"
#include "samplelocks.h"
#include "util/quorum.h"

#include <QTest>

using namespace lockscope::inspect;
using Clock = std::chrono::steady_clock;

Q_DECLARE_METATYPE(RawEntry)

namespace {

NodeEntry held(const QString &node, const QByteArray &token, qint64 pttl, qint64 fence = 7)
{
    NodeEntry entry;
    entry.node = node;
    entry.raw.type = RawEntry::Type::String;
    entry.raw.typeName = QStringLiteral("string");
    entry.raw.value = "ls1 tok=" + token;
    entry.raw.pttlMs = pttl;
    DecodedLock decoded;
    decoded.schema = QStringLiteral("test");
    decoded.owner = QStringLiteral("owner-") + QString::fromLatin1(token);
    decoded.token = token;
    decoded.fence = fence;
    entry.decoded = decoded;
    return entry;
}

NodeEntry missing(const QString &node)
{
    NodeEntry entry;
    entry.node = node;
    return entry;
}

NodeEntry unreachable(const QString &node)
{
    NodeEntry entry;
    entry.node = node;
    entry.reachable = false;
    entry.error = QStringLiteral("refused");
    return entry;
}

NodeEntry raw(const QString &node, const QByteArray &value, qint64 pttl)
{
    NodeEntry entry;
    entry.node = node;
    entry.raw.type = RawEntry::Type::String;
    entry.raw.typeName = QStringLiteral("string");
    entry.raw.value = value;
    entry.raw.pttlMs = pttl;
    return entry;
}

} // namespace

class TestLockRecord : public QObject
{
    Q_OBJECT

private slots:
    void quorumIsAStrictMajority()
    {
        const std::pair<int, int> expected[] = {{1, 1}, {2, 2}, {3, 2}, {4, 3}, {5, 3}, {7, 4}};
        for (const auto &[nodes, quorum] : expected)
            QCOMPARE(lockscope::quorumOf(nodes), quorum);
        // A record's "quorum reached" is the same rule.
        for (int of = 1; of <= 7; ++of) {
            for (int held = 0; held <= of; ++held)
                QCOMPARE(held >= lockscope::quorumOf(of), 2 * held > of);
        }
    }

    void heldOnAll()
    {
        const LockRecord r =
            aggregate("k", {held("a", "t1", 900), held("b", "t1", 800), held("c", "t1", 1000)});
        QCOMPARE(r.key, QByteArray("k"));
        QCOMPARE(r.held, 3);
        QCOMPARE(r.of, 3);
        QVERIFY(r.quorum);
        QCOMPARE(r.token, QByteArray("t1"));
        QCOMPARE(r.schema, QStringLiteral("test"));
        QCOMPARE(r.owner, QStringLiteral("owner-t1"));
        QCOMPARE(r.fence, 7);
        QCOMPARE(r.minPttlMs, 800);
        QVERIFY(r.anomalies.isEmpty());
        QCOMPARE(r.nodes.size(), std::size_t(3));
        QCOMPARE(r.nodes[1].node, QStringLiteral("b"));
    }

    void heldOnTwoOfThree()
    {
        const LockRecord r = aggregate("k", {held("a", "t1", 900), missing("b"), held("c", "t1", 1000)});
        QCOMPARE(r.held, 2);
        QVERIFY(r.quorum);
        QVERIFY(r.anomalies.isEmpty());
    }

    void heldOnOneOfThree()
    {
        const LockRecord r = aggregate("k", {missing("a"), held("b", "t1", 900), missing("c")});
        QCOMPARE(r.held, 1);
        QVERIFY(!r.quorum);
        QCOMPARE(r.anomalies, QStringList{QLatin1String(anomaly::QuorumLost)});
    }

    void singleNodeNeverQuorumLost()
    {
        const LockRecord r = aggregate("k", {held("a", "t1", 900)});
        QCOMPARE(r.held, 1);
        QCOMPARE(r.of, 1);
        QVERIFY(r.quorum);
        QVERIFY(r.anomalies.isEmpty());
    }

    void tokensDiffer()
    {
        const LockRecord r =
            aggregate("k", {held("a", "t1", 900, 1), held("b", "t2", 900, 2), held("c", "t2", 500, 2)});
        QCOMPARE(r.token, QByteArray("t2"));
        QCOMPARE(r.held, 2);
        QCOMPARE(r.fence, 2);
        QCOMPARE(r.minPttlMs, 500);
        QVERIFY(r.quorum);
        QVERIFY(r.anomalies.contains(QLatin1String(anomaly::TokensDiffer)));
        QVERIFY(!r.anomalies.contains(QLatin1String(anomaly::QuorumLost)));
    }

    void fenceIsHighestAmongHolders()
    {
        // On a Redlock set a node the fence raise did not reach stores a lower fence.
        const LockRecord r =
            aggregate("k", {held("a", "t1", 900, 3), held("b", "t1", 900, 9), held("c", "t2", 900, 50)});
        QCOMPARE(r.token, QByteArray("t1"));
        QCOMPARE(r.fence, 9); // the other token's fence does not count
    }

    void tieGoesToFirstNode()
    {
        const LockRecord r = aggregate("k", {missing("a"), held("b", "tb", 900), held("c", "tc", 900)});
        QCOMPARE(r.token, QByteArray("tb"));
        QCOMPARE(r.held, 1);
        QVERIFY(r.anomalies.contains(QLatin1String(anomaly::TokensDiffer)));
        QVERIFY(r.anomalies.contains(QLatin1String(anomaly::QuorumLost)));
    }

    void noTtl()
    {
        const LockRecord r =
            aggregate("k", {held("a", "t1", -1), held("b", "t1", 700), held("c", "t1", 800)});
        QCOMPARE(r.minPttlMs, 700);
        QCOMPARE(r.anomalies, QStringList{QLatin1String(anomaly::NoTtl)});
        const LockRecord none = aggregate("k", {held("a", "t1", -1)});
        QCOMPARE(none.minPttlMs, -1);
        QVERIFY(none.anomalies.contains(QLatin1String(anomaly::NoTtl)));
        QVERIFY(!none.expiredAt(Clock::now() + std::chrono::hours(1)));
    }

    void nodeUnreachable()
    {
        const LockRecord r = aggregate("k", {held("a", "t1", 900), unreachable("b"), held("c", "t1", 900)});
        QCOMPARE(r.held, 2);
        QVERIFY(r.quorum);
        QCOMPARE(r.anomalies, QStringList{QLatin1String(anomaly::NodeUnreachable)});
        QVERIFY(!r.nodes[1].present());
        QCOMPARE(r.nodes[1].error, QStringLiteral("refused"));
    }

    void undecoded()
    {
        const LockRecord r = aggregate("k", {raw("a", "v", 900), raw("b", "v", 900), raw("c", "w", 900)});
        QVERIFY(r.schema.isEmpty());
        QCOMPARE(r.token, QByteArray("v"));
        QCOMPARE(r.held, 2);
        QVERIFY(r.anomalies.contains(QLatin1String(anomaly::Undecoded)));
        QVERIFY(r.anomalies.contains(QLatin1String(anomaly::TokensDiffer)));
    }

    void expiredAt()
    {
        LockRecord r = aggregate("k", {held("a", "t1", 100), held("b", "t1", 300), missing("c")});
        const Clock::time_point t0 = r.readAtSteady;
        QVERIFY(!r.expiredAt(t0));
        QVERIFY(!r.expiredAt(t0 + std::chrono::milliseconds(200)));
        QVERIFY(r.expiredAt(t0 + std::chrono::milliseconds(300)));
        const LockRecord empty = aggregate("k", {missing("a"), missing("b")});
        QCOMPARE(empty.held, 0);
        QVERIFY(!empty.expiredAt(t0 + std::chrono::hours(1)));
    }

    // The owner text across the schemas' own values (decoded by the built-in schemas): the label
    // first when there is one, the owner fields as the schema reads them, and what is missing said.
    void ownerTextAcrossSchemas_data()
    {
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<RawEntry>("value");
        QTest::addColumn<QString>("schema");
        QTest::addColumn<QString>("owner");

        const QDateTime at(QDate(2025, 1, 1), QTime(10, 0), Qt::UTC);
        const auto lockscope = [&](const QString &host, qint64 pid, const QString &thread,
                                   const QString &label) {
            return samplelocks::stringRaw(
                samplelocks::lockscopeValue(samplelocks::token("t"), 7, host, pid, thread, label, at),
                30'000);
        };
        QTest::newRow("lockscope, label, host, pid, thread")
            << QByteArray("jobs:lock:export")
            << lockscope(QStringLiteral("alice-box"), 12, QStringLiteral("main"),
                         QStringLiteral("nightly export"))
            << QStringLiteral("lockscope") << QStringLiteral("“nightly export” — alice-box pid 12 main");
        QTest::newRow("lockscope, no label")
            << QByteArray("jobs:lock:export") << lockscope(QStringLiteral("alice-box"), 12, {}, {})
            << QStringLiteral("lockscope") << QStringLiteral("alice-box pid 12");
        QTest::newRow("lockscope, label only")
            << QByteArray("jobs:lock:export") << lockscope({}, 0, {}, QStringLiteral("nightly export"))
            << QStringLiteral("lockscope") << QStringLiteral("“nightly export”");
        QTest::newRow("lockscope, nothing recorded")
            << QByteArray("jobs:lock:export") << lockscope({}, 0, {}, {}) << QStringLiteral("lockscope")
            << QStringLiteral("not recorded by lockscope");
        QTest::newRow("redisson") << QByteArray("inventory:sku:88123")
                                  << samplelocks::hashRaw({{"71c403c7-376a-40a4-80e5-119306f775da:57", "2"}},
                                                          30'000)
                                  << QStringLiteral("redisson-rlock")
                                  << QStringLiteral("71c403c7-376a-40a4-80e5-119306f775da thread 57");
        QTest::newRow("shedlock") << QByteArray("job-lock:default:sendNewsletter")
                                  << samplelocks::stringRaw("ADDED:2025-01-01T10:00:00.000Z@batch-host-2",
                                                            540'000)
                                  << QStringLiteral("shedlock") << QStringLiteral("batch-host-2");
        QTest::newRow("redis-py: a bare token names no owner")
            << QByteArray("orders:lock:checkout-5521")
            << samplelocks::stringRaw("ba629320e71811f190ad0242ac120002", 10'000)
            << QStringLiteral("redis-py") << QStringLiteral("not recorded by redis-py");
        QTest::newRow("unknown value")
            << QByteArray("legacy:mutex:report") << samplelocks::stringRaw("locked-by-cron", 300'000)
            << QString() << QStringLiteral("unknown: the value is not decoded");
        QTest::newRow("control characters escaped")
            << QByteArray("jobs:lock:export")
            << lockscope(QStringLiteral("box"), 1, {}, QStringLiteral("two\nlines\x1b[2J"))
            << QStringLiteral("lockscope") << QStringLiteral("“two\\nlines\\x1b[2J” — box pid 1");
    }

    void ownerTextAcrossSchemas()
    {
        QFETCH(QByteArray, key);
        QFETCH(RawEntry, value);
        QFETCH(QString, schema);
        QFETCH(QString, owner);
        const LockRecord record = samplelocks::heldOn(key, value, {QStringLiteral("a"), QStringLiteral("b")});
        QCOMPARE(record.schema, schema);
        QCOMPARE(ownerText(record), owner);
    }

    // A 50 MB label must not be laid out: the owner text keeps the start and says the size.
    void ownerTextCutsALongLabel()
    {
        const QString label(400, QLatin1Char('x'));
        const LockRecord record = samplelocks::heldOn(
            "jobs:lock:long",
            samplelocks::stringRaw(samplelocks::lockscopeValue(samplelocks::token("l"), 1,
                                                               QStringLiteral("box"), 9, {}, label, {}),
                                   30'000),
            {QStringLiteral("a")});
        QCOMPARE(
            ownerText(record),
            QStringLiteral("“%1… (400 characters in all)” — box pid 9").arg(QString(300, QLatin1Char('x'))));
    }

    // The label and owner are the majority holder's, not a minority node's.
    void ownerTextIsTheMajorityHolders()
    {
        const QDateTime at(QDate(2025, 1, 1), QTime(10, 0), Qt::UTC);
        const auto value = [&](const QByteArray &token, const QString &host, const QString &label) {
            return samplelocks::stringRaw(
                samplelocks::lockscopeValue(samplelocks::token(token), 3, host, 5, {}, label, at), 9'000);
        };
        const QByteArray key = "jobs:lock:split";
        const LockRecord record = aggregate(
            key, {samplelocks::held(QStringLiteral("a"), key,
                                    value("old", QStringLiteral("stale-box"), QStringLiteral("old run"))),
                  samplelocks::held(QStringLiteral("b"), key,
                                    value("new", QStringLiteral("new-box"), QStringLiteral("new run"))),
                  samplelocks::held(QStringLiteral("c"), key,
                                    value("new", QStringLiteral("new-box"), QStringLiteral("new run")))});
        QCOMPARE(record.held, 2);
        QCOMPARE(majorityEntry(record), &record.nodes[1]);
        QCOMPARE(labelOf(record), QStringLiteral("new run"));
        QCOMPARE(ownerText(record), QStringLiteral("“new run” — new-box pid 5"));
    }
};

QTEST_GUILESS_MAIN(TestLockRecord)
#include "tst_lockrecord.moc"
