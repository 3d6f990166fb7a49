#include "windowstatusbar.h"

#include <QLabel>
#include <QProgressBar>
#include <QTest>

using namespace std::chrono_literals;

class TestWindowStatusBar : public QObject
{
    Q_OBJECT

    static QLabel *label(const WindowStatusBar &bar, const char *name)
    {
        auto *found = bar.findChild<QLabel *>(QLatin1String(name));
        Q_ASSERT(found);
        return found;
    }

private slots:
    void nodesSayWhenTheyWereChecked()
    {
        WindowStatusBar bar;
        bar.setNodes(0, 0, {});
        QCOMPARE(label(bar, "statusSummary")->text(), QStringLiteral("No nodes"));
        bar.setNodes(0, 1, {});
        QCOMPARE(label(bar, "statusSummary")->text(), QStringLiteral("0 of 1 node up · checking…"));
        const QDateTime at = QDateTime::currentDateTime();
        bar.setNodes(2, 3, at);
        QCOMPARE(label(bar, "statusSummary")->text(),
                 QStringLiteral("2 of 3 nodes up · last check ") + at.toString(QStringLiteral("HH:mm:ss")));
    }

    void countsSayWhatTheFilterHides()
    {
        WindowStatusBar bar;
        bar.setLocks(1, 1, 0);
        QCOMPARE(label(bar, "lockCounts")->text(), QStringLiteral("1 lock · 0 with anomalies"));
        bar.setLocks(12, 1204, 3);
        QCOMPARE(label(bar, "lockCounts")->text(), QStringLiteral("12 of ") + QLocale().toString(1204) +
                                                       QStringLiteral(" locks · 3 with anomalies"));
    }

    // A label keeps its width while texts fit (no relayout of the window per refresh), widens
    // once for a longer one, and never narrows back.
    void labelsWidenOnceAndNeverNarrow()
    {
        WindowStatusBar bar;
        QLabel *counts = label(bar, "lockCounts");
        const int reserved = counts->width();
        bar.setLocks(5, 5, 1);
        QCOMPARE(counts->width(), reserved);
        bar.setLocks(9'999'998, 9'999'999, 9'999'999);
        const int widened = counts->width();
        QVERIFY2(widened > reserved, qPrintable(QStringLiteral("%1 <= %2").arg(widened).arg(reserved)));
        QVERIFY(counts->fontMetrics().horizontalAdvance(counts->text()) <= widened);
        bar.setLocks(5, 5, 1);
        QCOMPARE(counts->width(), widened);
    }

    void scanProgressAndRefreshTime()
    {
        WindowStatusBar bar;
        bar.show();
        auto *progress = bar.findChild<QProgressBar *>(QStringLiteral("scanProgress"));
        QVERIFY(progress);
        QVERIFY(!progress->isVisible());
        bar.scanStarted();
        QVERIFY(progress->isVisible());
        bar.scanProgress(1500);
        QCOMPARE(progress->format(), QStringLiteral("%1 keys scanned").arg(QLocale().toString(1500)));
        // A cancelled scan read nothing complete: the last refresh time stays as it was.
        bar.scanFinished(35ms, true);
        QVERIFY(!progress->isVisible());
        QVERIFY(label(bar, "lastRefresh")->text().isEmpty());
        bar.scanFinished(35ms, false);
        QVERIFY2(label(bar, "lastRefresh")->text().startsWith(QStringLiteral("Refreshed ")),
                 qPrintable(label(bar, "lastRefresh")->text()));
        QVERIFY(label(bar, "lastRefresh")->text().endsWith(QStringLiteral(" (35 ms)")));
    }
};

QTEST_MAIN(TestWindowStatusBar)
#include "tst_windowstatusbar.moc"
