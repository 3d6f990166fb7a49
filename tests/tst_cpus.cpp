#include "util/cpus.h"

#include <QTest>
#include <thread>

using lockscope::util::usableCpuCount;

class TestCpus : public QObject
{
    Q_OBJECT

private slots:
    void countsTheAffinityMask() { QCOMPARE(usableCpuCount(3, "", 64), 3); }
    void unknownMaskFallsBackToTheHost() { QCOMPARE(usableCpuCount(0, "", 8), 8); }
    void noQuota() { QCOMPARE(usableCpuCount(64, "max 100000", 64), 64); }
    void quotaOfOneCpuOnABigHost() { QCOMPARE(usableCpuCount(64, "100000 100000", 64), 1); }
    void fractionalQuotaRoundsUp() { QCOMPARE(usableCpuCount(64, "150000 100000", 64), 2); }
    void tinyQuotaIsStillOne() { QCOMPARE(usableCpuCount(64, "10000 100000", 64), 1); }
    void maskSmallerThanQuota() { QCOMPARE(usableCpuCount(2, "800000 100000", 64), 2); }
    void garbageIsIgnored() { QCOMPARE(usableCpuCount(4, "nonsense", 4), 4); }
    void thisProcess()
    {
        const int count = usableCpuCount();
        QVERIFY(count >= 1);
        QVERIFY(count <= std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
    }
};

QTEST_GUILESS_MAIN(TestCpus)
#include "tst_cpus.moc"
