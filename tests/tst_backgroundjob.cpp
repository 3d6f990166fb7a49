#include "backgroundjob.h"

#include <QSemaphore>
#include <QTest>
#include <QThread>
#include <atomic>
#include <memory>

/// The GUI's one-shot job idiom: the result comes back on the context's thread, a job whose
/// context is gone is not waited for and its result goes nowhere, stale results are dropped.
class TestBackgroundJob : public QObject
{
    Q_OBJECT

private slots:
    void resultArrivesOnTheContextThread()
    {
        QThreadPool pool;
        QObject context;
        QThread *jobThread = nullptr;
        QThread *doneThread = nullptr;
        int result = 0;
        runInBackground(
            &pool, &context,
            [&jobThread] {
                jobThread = QThread::currentThread();
                return 42;
            },
            [&](int value) {
                doneThread = QThread::currentThread();
                result = value;
            });
        QTRY_COMPARE(result, 42);
        QCOMPARE(doneThread, QThread::currentThread());
        QVERIFY(jobThread != QThread::currentThread());
    }

    void voidJob()
    {
        QThreadPool pool;
        QObject context;
        bool done = false;
        runInBackground(
            &pool, &context, [] {}, [&done] { done = true; });
        QTRY_VERIFY(done);
    }

    void contextGoneFirstDropsTheResult()
    {
        QThreadPool pool;
        auto context = std::make_unique<QObject>();
        QSemaphore release;
        std::atomic<bool> finished = false;
        bool done = false;
        runInBackground(
            &pool, context.get(),
            [&release, &finished] {
                release.acquire(); // still running when its context goes
                finished = true;
                return 1;
            },
            [&done](int) { done = true; });
        context.reset(); // returns at once: nothing waits for the job
        QVERIFY(!finished);
        release.release();
        QVERIFY(pool.waitForDone(5000));
        QTest::qWait(50); // any queued continuation would run now
        QVERIFY(finished);
        QVERIFY(!done);
    }

    void staleResultsAreDropped()
    {
        JobTracker tracker;
        QList<int> delivered;
        const quint64 first = tracker.start();
        auto firstDone = tracker.ifCurrent(first, [&](int value) { delivered << value; });
        const quint64 second = tracker.start();
        auto secondDone = tracker.ifCurrent(second, [&](int value) { delivered << value; });
        QVERIFY(!tracker.isCurrent(first));
        QVERIFY(tracker.isCurrent(second));
        firstDone(1);  // a result of the replaced generation
        secondDone(2); // the current one
        QCOMPARE(delivered, QList<int>{2});
    }
};

QTEST_GUILESS_MAIN(TestBackgroundJob)
#include "tst_backgroundjob.moc"
