// lockctl simulate end to end: the built CLI against redis-server nodes this test starts (and
// nodes the CLI starts itself with --local).
#include "lockctlrunner.h"
#include "redis/connection.h"
#include "redisfixture.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>

using namespace lockscope;
using lockscope::test::describe;
using lockscope::test::runLockctl;
using lockscope::test::RunResult;
using lockscope::test::ServerKind;
using namespace std::chrono_literals;

namespace {

QJsonObject parseObject(const QString &text, bool &ok)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text.toUtf8(), &error);
    ok = error.error == QJsonParseError::NoError && document.isObject();
    return document.object();
}

qint64 sumOfWorkers(const QJsonObject &report)
{
    qint64 sum = 0;
    for (const auto &worker : report.value(QStringLiteral("workers")).toArray())
        sum += worker.toObject().value(QStringLiteral("acquisitions")).toInteger();
    return sum;
}

/// Keys on the server whose name starts with "lockscope:sim:" (SCAN).
int simKeys(redis::LocalRedisServer &server)
{
    redis::Connection connection(server.nodeConfig());
    auto reply = connection.command({"SCAN", "0", "MATCH", "lockscope:sim:*", "COUNT", "10000"});
    if (!reply || reply->elements().size() != 2)
        return -1;
    return static_cast<int>(reply->elements()[1].elements().size());
}

} // namespace

class TestLockctlSimulate : public QObject
{
    Q_OBJECT

private slots:
    void healthyJsonReport();
    void stalledHolderExitsWithViolations();
    void localNodesAndCsv();
    void lockKindsInJsonReport();
    void badLockKindInputIsUsageError();
    void breakerAndDegradedFlags();
    void badInputChangesNothing();
    void interruptStopsCleanly_data();
    void interruptStopsCleanly();
};

void TestLockctlSimulate::healthyJsonReport()
{
    LS_START_SERVER(server, ServerKind::Plain);
    const RunResult run = runLockctl(
        {QStringLiteral("simulate"), QStringLiteral("--nodes"), server->url(), QStringLiteral("--workers"),
         QStringLiteral("4"), QStringLiteral("--hold"), QStringLiteral("0"), QStringLiteral("--acquisitions"),
         QStringLiteral("2000"), QStringLiteral("--json"), QStringLiteral("--quiet")});
    QVERIFY2(run.exitCode == 0, describe(run).constData());
    bool ok = false;
    const QJsonObject report = parseObject(run.out, ok);
    QVERIFY2(ok, describe(run).constData());
    for (const char *key : {"acquisitions", "violations", "fencing_rejections", "failed_attempts",
                            "wait_p50_us", "wait_p99_us", "overlaps", "lost_locks", "fairness", "workers"})
        QVERIFY2(report.contains(QLatin1String(key)), key);
    QCOMPARE(report.value(QStringLiteral("acquisitions")).toInteger(), 2000);
    QCOMPARE(sumOfWorkers(report), 2000);
    QCOMPARE(report.value(QStringLiteral("workers")).toArray().size(), 4);
    QCOMPARE(report.value(QStringLiteral("violations")).toInteger(), 0);
    QCOMPARE(report.value(QStringLiteral("overlaps")).toInteger(), 0);
    QCOMPARE(report.value(QStringLiteral("keys_left")).toInteger(), 0);
    QVERIFY(report.value(QStringLiteral("wait_p50_us")).toInteger() <=
            report.value(QStringLiteral("wait_p99_us")).toInteger());
    QCOMPARE(report.value(QStringLiteral("config")).toObject().value(QStringLiteral("algorithm")).toString(),
             QStringLiteral("single"));
    QCOMPARE(simKeys(*server), 0);
    QVERIFY2(run.err.isEmpty(), qPrintable(run.err)); // --quiet: no status line
}

void TestLockctlSimulate::stalledHolderExitsWithViolations()
{
    // The ttl-short scenario, cut down to 40 acquisitions: violations, exit code 6.
    LS_START_SERVER(server, ServerKind::Plain);
    const QStringList common{
        QStringLiteral("simulate"),   QStringLiteral("--nodes"),        server->url(),
        QStringLiteral("--scenario"), QStringLiteral("ttl-short"),      QStringLiteral("--workers"),
        QStringLiteral("3"),          QStringLiteral("--acquisitions"), QStringLiteral("40"),
        QStringLiteral("--stall"),    QStringLiteral("800ms"),          QStringLiteral("--stall-every"),
        QStringLiteral("10"),         QStringLiteral("--json")};
    const RunResult run = runLockctl(common);
    QVERIFY2(run.exitCode == 6, describe(run).constData());
    bool ok = false;
    QJsonObject report = parseObject(run.out, ok);
    QVERIFY(ok);
    QVERIFY(report.value(QStringLiteral("violations")).toInteger() >= 1);
    QCOMPARE(report.value(QStringLiteral("config")).toObject().value(QStringLiteral("scenario")).toString(),
             QStringLiteral("ttl-short"));
    QCOMPARE(report.value(QStringLiteral("config")).toObject().value(QStringLiteral("ttl_ms")).toInteger(),
             200);
    // Non-terminal stderr: status lines, one a second.
    QVERIFY2(run.err.contains(QStringLiteral(" acq ")), qPrintable(run.err));

    // --fencing overrides the scenario's "no fencing": rejections instead of violations, exit 0.
    const RunResult fenced =
        runLockctl(common + QStringList{QStringLiteral("--fencing"), QStringLiteral("--quiet")});
    QVERIFY2(fenced.exitCode == 0, describe(fenced).constData());
    report = parseObject(fenced.out, ok);
    QVERIFY(ok);
    QCOMPARE(report.value(QStringLiteral("violations")).toInteger(), 0);
    QVERIFY(report.value(QStringLiteral("fencing_rejections")).toInteger() >= 1);
    QCOMPARE(simKeys(*server), 0);
}

void TestLockctlSimulate::localNodesAndCsv()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString csv = dir.filePath(QStringLiteral("sections.csv"));
    const RunResult run =
        runLockctl({QStringLiteral("simulate"), QStringLiteral("--local"), QStringLiteral("3"),
                    QStringLiteral("--workers"), QStringLiteral("4"), QStringLiteral("--hold"),
                    QStringLiteral("0"), QStringLiteral("--acquisitions"), QStringLiteral("300"),
                    QStringLiteral("--fault"), QStringLiteral("pause:0@0s+200ms"), QStringLiteral("--json"),
                    QStringLiteral("--quiet"), QStringLiteral("--csv"), csv});
    QVERIFY2(run.exitCode == 0, describe(run).constData());
    bool ok = false;
    const QJsonObject report = parseObject(run.out, ok);
    QVERIFY(ok);
    QCOMPARE(report.value(QStringLiteral("config")).toObject().value(QStringLiteral("algorithm")).toString(),
             QStringLiteral("redlock"));
    QCOMPARE(
        report.value(QStringLiteral("config")).toObject().value(QStringLiteral("nodes")).toArray().size(), 3);
    QCOMPARE(report.value(QStringLiteral("acquisitions")).toInteger(), 300);
    QCOMPARE(sumOfWorkers(report), 300);
    const QJsonArray faults = report.value(QStringLiteral("faults")).toArray();
    QVERIFY2(faults.size() >= 2, qPrintable(QJsonDocument(faults).toJson())); // pause, then resume
    for (const auto &fault : faults)
        QVERIFY(fault.toObject().value(QStringLiteral("ok")).toBool());
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 301);
    QVERIFY(lines.front().startsWith("seq,worker,key,"));
}

void TestLockctlSimulate::lockKindsInJsonReport()
{
    LS_START_SERVER(server, ServerKind::Plain);
    const QStringList common{QStringLiteral("simulate"),
                             QStringLiteral("--nodes"),
                             server->url(),
                             QStringLiteral("--workers"),
                             QStringLiteral("8"),
                             QStringLiteral("--hold"),
                             QStringLiteral("500us"),
                             QStringLiteral("--hold-distribution"),
                             QStringLiteral("uniform"),
                             QStringLiteral("--acquisitions"),
                             QStringLiteral("300"),
                             QStringLiteral("--json"),
                             QStringLiteral("--quiet")};
    const RunResult rw =
        runLockctl(common + QStringList{QStringLiteral("--kind"), QStringLiteral("rw"),
                                        QStringLiteral("--read-ratio"), QStringLiteral("0.8")});
    QVERIFY2(rw.exitCode == 0, describe(rw).constData());
    bool ok = false;
    QJsonObject report = parseObject(rw.out, ok);
    QVERIFY2(ok, describe(rw).constData());
    QCOMPARE(report.value(QStringLiteral("kind")).toString(), QStringLiteral("rw"));
    QJsonObject config = report.value(QStringLiteral("config")).toObject();
    QCOMPARE(config.value(QStringLiteral("kind")).toString(), QStringLiteral("rw"));
    QCOMPARE(config.value(QStringLiteral("read_ratio")).toDouble(), 0.8);
    QCOMPARE(report.value(QStringLiteral("acquisitions")).toInteger(), 300);
    const qint64 reads = report.value(QStringLiteral("reads")).toInteger();
    QVERIFY2(reads > 0 && reads < 300, qPrintable(QString::number(reads)));
    QVERIFY(report.value(QStringLiteral("reader_overlaps")).toInteger() > 0);
    QCOMPARE(report.value(QStringLiteral("violations")).toInteger(), 0);
    QCOMPARE(report.value(QStringLiteral("overlaps")).toInteger(), 0);
    QCOMPARE(report.value(QStringLiteral("accepted_writes")).toInteger() + reads, 300);
    QCOMPARE(report.value(QStringLiteral("keys_left")).toInteger(), 0);

    const RunResult semaphore =
        runLockctl(common + QStringList{QStringLiteral("--kind"), QStringLiteral("semaphore"),
                                        QStringLiteral("--permits"), QStringLiteral("3")});
    QVERIFY2(semaphore.exitCode == 0, describe(semaphore).constData());
    report = parseObject(semaphore.out, ok);
    QVERIFY2(ok, describe(semaphore).constData());
    QCOMPARE(report.value(QStringLiteral("kind")).toString(), QStringLiteral("semaphore"));
    config = report.value(QStringLiteral("config")).toObject();
    QCOMPARE(config.value(QStringLiteral("permits")).toInt(), 3);
    QVERIFY(!config.contains(QStringLiteral("read_ratio")));
    const int maxHolders = report.value(QStringLiteral("max_holders")).toInt();
    QVERIFY2(maxHolders >= 2 && maxHolders <= 3, qPrintable(QString::number(maxHolders)));
    QCOMPARE(report.value(QStringLiteral("violations")).toInteger(), 0);
    QCOMPARE(report.value(QStringLiteral("overlaps")).toInteger(), 0);
    QCOMPARE(report.value(QStringLiteral("acquisitions")).toInteger(), 300);
    QCOMPARE(simKeys(*server), 0);

    // The text report names the kind and its counts.
    const RunResult fair = runLockctl(
        {QStringLiteral("simulate"), QStringLiteral("--nodes"), server->url(), QStringLiteral("--kind"),
         QStringLiteral("fair"), QStringLiteral("--hold"), QStringLiteral("0"),
         QStringLiteral("--acquisitions"), QStringLiteral("100"), QStringLiteral("--quiet")});
    QVERIFY2(fair.exitCode == 0, describe(fair).constData());
    QVERIFY2(fair.out.contains(QStringLiteral("lock kind")) && fair.out.contains(QStringLiteral("fair")),
             describe(fair).constData());
    QVERIFY2(fair.out.contains(QStringLiteral("order violations (FIFO)")), describe(fair).constData());
}

void TestLockctlSimulate::breakerAndDegradedFlags()
{
    // Text: the rows say what was on, also on a healthy run.
    const RunResult on =
        runLockctl({QStringLiteral("simulate"), QStringLiteral("--local"), QStringLiteral("1"),
                    QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--acquisitions"),
                    QStringLiteral("100"), QStringLiteral("--degraded"), QStringLiteral("--quiet")});
    QVERIFY2(on.exitCode == 0, describe(on).constData());
    QVERIFY2(
        on.out.contains(QRegularExpression(QStringLiteral("breaker +on \\(3 failures, 5 s cool-down\\)"))),
        qPrintable(on.out));
    QVERIFY2(
        on.out.contains(QRegularExpression(QStringLiteral("degraded mode +on — 0 acquisitions degraded"))),
        qPrintable(on.out));
    QVERIFY(on.out.contains(QRegularExpression(QStringLiteral("refused by open breakers +0"))));
    QVERIFY(on.out.contains(QRegularExpression(QStringLiteral("breaker opens +0"))));
    const RunResult off =
        runLockctl({QStringLiteral("simulate"), QStringLiteral("--local"), QStringLiteral("1"),
                    QStringLiteral("--workers"), QStringLiteral("2"), QStringLiteral("--acquisitions"),
                    QStringLiteral("100"), QStringLiteral("--breaker"), QStringLiteral("off"),
                    QStringLiteral("--quiet")});
    QVERIFY2(off.exitCode == 0, describe(off).constData());
    QVERIFY2(off.out.contains(QRegularExpression(QStringLiteral("\\bbreaker +off\\n"))), qPrintable(off.out));
    QVERIFY(off.out.contains(QRegularExpression(QStringLiteral("degraded mode +off\\n"))));

    // JSON: two of three nodes killed for the rest of the run, degraded mode on.
    const RunResult outage =
        runLockctl({QStringLiteral("simulate"), QStringLiteral("--local"), QStringLiteral("3"),
                    QStringLiteral("--workers"), QStringLiteral("3"), QStringLiteral("--hold"),
                    QStringLiteral("1ms"), QStringLiteral("--ttl"), QStringLiteral("2s"),
                    QStringLiteral("--duration"), QStringLiteral("3s"), QStringLiteral("--fault"),
                    QStringLiteral("kill:1@1s"), QStringLiteral("--fault"), QStringLiteral("kill:2@1s"),
                    QStringLiteral("--degraded"), QStringLiteral("--json"), QStringLiteral("--quiet")});
    // Exit 6 would say the checker saw a lost update: degraded holders of this one process
    // exclude each other, so none is expected.
    QVERIFY2(outage.exitCode == 0, describe(outage).constData());
    bool ok = false;
    const QJsonObject report = parseObject(outage.out, ok);
    QVERIFY(ok);
    QCOMPARE(report.value(QStringLiteral("breaker")).toBool(), true);
    QCOMPARE(report.value(QStringLiteral("degraded_mode")).toBool(), true);
    QVERIFY(report.value(QStringLiteral("degraded_acquisitions")).toInteger() > 0);
    QVERIFY(report.value(QStringLiteral("breaker_opens")).toInteger() > 0);
    QVERIFY(report.contains(QStringLiteral("breaker_refusals")));
    QVERIFY(report.contains(QStringLiteral("degraded_writes")));
    QCOMPARE(report.value(QStringLiteral("fencing_rejections")).toInteger(), 0);
    const QJsonObject config = report.value(QStringLiteral("config")).toObject();
    QCOMPARE(config.value(QStringLiteral("breaker")).toBool(), true);
    QCOMPARE(config.value(QStringLiteral("degraded_mode")).toBool(), true);
    qint64 degraded = 0;
    for (const auto &worker : report.value(QStringLiteral("workers")).toArray()) {
        const QJsonObject w = worker.toObject();
        QVERIFY(w.contains(QStringLiteral("breaker_refusals")) &&
                w.contains(QStringLiteral("breaker_opens")));
        degraded += w.value(QStringLiteral("degraded_acquisitions")).toInteger();
    }
    QCOMPARE(degraded, report.value(QStringLiteral("degraded_acquisitions")).toInteger());
    const QJsonArray transitions = report.value(QStringLiteral("breaker_transitions")).toArray();
    QVERIFY(!transitions.isEmpty());
    QCOMPARE(transitions.first().toObject().value(QStringLiteral("to")).toString(), QStringLiteral("open"));

    const RunResult bad =
        runLockctl({QStringLiteral("simulate"), QStringLiteral("--local"), QStringLiteral("1"),
                    QStringLiteral("--breaker"), QStringLiteral("maybe")});
    QCOMPARE(bad.exitCode, 2);
    QVERIFY2(bad.err.contains(QStringLiteral("--breaker takes on or off")), qPrintable(bad.err));
    const RunResult help = runLockctl({QStringLiteral("simulate"), QStringLiteral("--help")});
    QVERIFY(help.out.contains(QStringLiteral("--breaker")) &&
            help.out.contains(QStringLiteral("--degraded")));
}

void TestLockctlSimulate::badLockKindInputIsUsageError()
{
    LS_START_SERVER(server, ServerKind::Plain);
    const QString url = server->url();
    struct Case
    {
        QStringList args;
        QString flag; ///< the flag the error names
    };
    const QList<Case> cases{
        {{QStringLiteral("--kind"), QStringLiteral("semaphore"), QStringLiteral("--permits"),
          QStringLiteral("0")},
         QStringLiteral("--permits")},
        {{QStringLiteral("--kind"), QStringLiteral("semaphore")}, QStringLiteral("--permits")},
        {{QStringLiteral("--permits"), QStringLiteral("3")}, QStringLiteral("--permits")},
        {{QStringLiteral("--kind"), QStringLiteral("read")}, QStringLiteral("--kind")},
        {{QStringLiteral("--kind"), QStringLiteral("rw"), QStringLiteral("--read-ratio"),
          QStringLiteral("1.5")},
         QStringLiteral("--read-ratio")},
        {{QStringLiteral("--kind"), QStringLiteral("rw"), QStringLiteral("--read-ratio"),
          QStringLiteral("most")},
         QStringLiteral("--read-ratio")},
        {{QStringLiteral("--kind"), QStringLiteral("fair"), QStringLiteral("--read-ratio"),
          QStringLiteral("0.5")},
         QStringLiteral("--read-ratio")},
    };
    for (const Case &c : cases) {
        const RunResult run =
            runLockctl(QStringList{QStringLiteral("simulate"), QStringLiteral("--nodes"), url} + c.args);
        QVERIFY2(run.exitCode == 2, describe(run).constData());
        QVERIFY2(run.err.contains(c.flag), describe(run).constData());
        QVERIFY(run.out.isEmpty());
    }
    const RunResult help = runLockctl({QStringLiteral("simulate"), QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    for (const char *flag : {"--kind", "--read-ratio", "--permits"})
        QVERIFY2(help.out.contains(QLatin1String(flag)), flag);
    QCOMPARE(simKeys(*server), 0);
}

void TestLockctlSimulate::badInputChangesNothing()
{
    LS_START_SERVER(server, ServerKind::Plain);
    const QString url = server->url();
    const QList<QStringList> cases{
        {QStringLiteral("--nodes"), url, QStringLiteral("--hold"), QStringLiteral("soon")},
        {QStringLiteral("--nodes"), url, QStringLiteral("--workers"), QStringLiteral("0")},
        {QStringLiteral("--nodes"), url, QStringLiteral("--scenario"), QStringLiteral("nope")},
        {QStringLiteral("--nodes"), url, QStringLiteral("--wakeup"), QStringLiteral("smoke")},
        {QStringLiteral("--nodes"), url, QStringLiteral("--fault"), QStringLiteral("kill:0@1s")},
        {QStringLiteral("--nodes"), url, QStringLiteral("--fault"), QStringLiteral("explode:0@1s")},
        {QStringLiteral("--nodes"), url, QStringLiteral("--stall"), QStringLiteral("1s")},
        {QStringLiteral("--nodes"), url, QStringLiteral("--scenario"), QStringLiteral("redlock-restart")},
        {QStringLiteral("--nodes"), url, QStringLiteral("--local"), QStringLiteral("1")},
        {QStringLiteral("--workers"), QStringLiteral("2")}, // no nodes
    };
    for (const QStringList &args : cases) {
        const RunResult run = runLockctl(QStringList{QStringLiteral("simulate")} + args);
        QVERIFY2(run.exitCode == 2, describe(run).constData());
        QVERIFY2(run.errLines().size() >= 1 &&
                     run.errLines().front().startsWith(QStringLiteral("lockctl: simulate")),
                 describe(run).constData());
        QVERIFY(run.out.isEmpty());
    }
    // The kill on a node it did not start names the node.
    const RunResult kill = runLockctl({QStringLiteral("simulate"), QStringLiteral("--nodes"), url,
                                       QStringLiteral("--fault"), QStringLiteral("kill:0@1s")});
    QVERIFY2(kill.err.contains(server->nodeConfig().label()), describe(kill).constData());
    // An unreachable node: exit 1, named.
    const RunResult down = runLockctl({QStringLiteral("simulate"), QStringLiteral("--nodes"),
                                       QStringLiteral("redis://127.0.0.1:1"), QStringLiteral("--duration"),
                                       QStringLiteral("1s")});
    QVERIFY2(down.exitCode == 1, describe(down).constData());
    QVERIFY2(down.err.contains(QStringLiteral("127.0.0.1:1")), describe(down).constData());
    QCOMPARE(simKeys(*server), 0);
}

void TestLockctlSimulate::interruptStopsCleanly_data()
{
    // Ctrl-C, an SSH drop (SIGHUP: it left the lock key and fence counters without a TTL) and
    // SIGTERM all stop the run cleanly.
    QTest::addColumn<int>("signal");
    QTest::newRow("SIGINT") << SIGINT;
    QTest::newRow("SIGHUP") << SIGHUP;
    QTest::newRow("SIGTERM") << SIGTERM;
}

void TestLockctlSimulate::interruptStopsCleanly()
{
    QFETCH(int, signal);
    LS_START_SERVER(server, ServerKind::Plain);
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("LOCKSCOPE_NODES"));
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(LOCKCTL_PATH),
                  {QStringLiteral("simulate"), QStringLiteral("--nodes"), server->url(),
                   QStringLiteral("--hold"), QStringLiteral("20ms"), QStringLiteral("--ttl"),
                   QStringLiteral("60s"), QStringLiteral("--watchdog"), QStringLiteral("--duration"),
                   QStringLiteral("0"), QStringLiteral("--json")});
    QVERIFY(process.waitForStarted(10000));
    // Wait for the first status line: the run is under way, locks are being held.
    QByteArray status;
    QTRY_VERIFY_WITH_TIMEOUT((status += process.readAllStandardError()).contains(" acq "), 20000);
    ::kill(static_cast<pid_t>(process.processId()), signal);
    QVERIFY2(process.waitForFinished(60000), "lockctl did not stop on the signal");
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 0);
    bool ok = false;
    const QJsonObject report = parseObject(QString::fromUtf8(process.readAllStandardOutput()), ok);
    QVERIFY(ok);
    QCOMPARE(report.value(QStringLiteral("state")).toString(), QStringLiteral("finished"));
    QVERIFY(report.value(QStringLiteral("acquisitions")).toInteger() > 0);
    QCOMPARE(report.value(QStringLiteral("keys_left")).toInteger(), 0);
    QCOMPARE(simKeys(*server), 0); // with a 60 s TTL, an unreleased lock would still be here
}

QTEST_GUILESS_MAIN(TestLockctlSimulate)
#include "tst_lockctl_simulate.moc"
