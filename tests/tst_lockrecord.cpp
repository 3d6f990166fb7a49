// aggregate(): majority token, k of N, quorum, TTL and anomalies of one key across a group. Pure.

#include "inspect/lockrecord.h"
#include "util/quorum.h"

#include <QTest>

using namespace lockscope::inspect;
using Clock = std::chrono::steady_clock;

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
};

QTEST_GUILESS_MAIN(TestLockRecord)
#include "tst_lockrecord.moc"
