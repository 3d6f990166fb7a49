// The simulator panel against real redis-server processes: runs driven through its buttons on
// local nodes it starts itself and on a configured group, validation, scenarios, stop, close
// mid-run, export, and the timeline's painting.
#include "mainwindow.h"
#include "redis/connection.h"
#include "redis/localserver.h"
#include "sim/simconfig.h"
#include "simulator/simtimeline.h"
#include "simulator/simulatorpanel.h"
#include "widgettest.h"

#include <QAbstractItemView>
#include <QAction>
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineSeries>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QValueAxis>
#include <functional>

using namespace std::chrono_literals;
using lockscope::inspect::GroupConfig;
using lockscope::inspect::GroupNode;
using lockscope::inspect::NodeGroup;
using lockscope::redis::Connection;
using lockscope::redis::LocalRedisServer;
using lockscope::redis::NodeConfig;
using lockscope::sim::SectionEvent;
using lockscope::sim::SimConfig;
using widgettest::child;
using widgettest::whenModal;

namespace {

// Generous: the machine may be busy with other builds. Nothing here measures speed.
constexpr int RunTimeoutMs = 90'000;

qint64 dbsize(const NodeConfig &node)
{
    Connection connection(node);
    auto reply = connection.command({"DBSIZE"});
    return reply ? reply->integer() : -1;
}

quint64 number(const QString &text)
{
    bool ok = false;
    const quint64 value = QLocale().toULongLong(text, &ok);
    return ok ? value : quint64(-1);
}

/// Types into a spin box as an operator does: focus, select all, type, Enter.
void typeValue(QWidget *panel, const char *name, const QString &text)
{
    auto *spin = child<QAbstractSpinBox>(panel, name);
    spin->setFocus();
    QTest::keyClick(spin, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(spin, text);
    QTest::keyClick(spin, Qt::Key_Enter);
}

/// Chooses `text` in a combo box as an operator does: a click opens the popup, the arrow keys
/// move to the item, Enter takes it.
void choose(QWidget *panel, const char *name, const QString &text)
{
    auto *combo = child<QComboBox>(panel, name);
    const int index = combo->findText(text);
    QVERIFY2(index >= 0, qPrintable(text));
    QTest::mouseClick(combo, Qt::LeftButton);
    QAbstractItemView *popup = combo->view();
    QTRY_VERIFY(popup->isVisible());
    const int from = popup->currentIndex().row();
    for (int i = from; i < index; ++i)
        QTest::keyClick(popup, Qt::Key_Down);
    for (int i = from; i > index; --i)
        QTest::keyClick(popup, Qt::Key_Up);
    QTest::keyClick(popup, Qt::Key_Enter);
    QTRY_VERIFY(!popup->isVisible());
    QCOMPARE(combo->currentText(), text);
}

void untick(QWidget *panel, const char *name)
{
    auto *box = child<QCheckBox>(panel, name);
    if (box->isChecked())
        QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(6, box->height() / 2));
    QVERIFY(!box->isChecked());
}

int redPixels(const QImage &image)
{
    int red = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QColor c = image.pixelColor(x, y);
            if (c.red() > 180 && c.green() < 90 && c.blue() < 90)
                ++red;
        }
    }
    return red;
}

/// Red drawn by a timeline beyond its legend's (which has a red swatch and a red outline):
/// violation bars and overlap outlines.
int redBars(SimTimeline &timeline)
{
    SimTimeline empty;
    empty.resize(timeline.size());
    empty.setWorkerCount(timeline.workerCount());
    return redPixels(timeline.grab().toImage()) - redPixels(empty.grab().toImage());
}

bool isBusy(const SimulatorPanel &panel)
{
    return panel.isBusy();
}

} // namespace

class TestSimulatorPanel : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void healthyRunOnLocalNodes();
    void validationErrorStartsNothing();
    void scenarioFillsTheForm();
    void stopMidRun();
    void runsOnAConfiguredGroup();
    void productionGroupAsksFirst();
    void exportWritesJsonAndCsv();
    void closingTheWindowMidRunLeavesNoKeys();
    void timelinePaintsOutcomes();
    void slowRunWithAViolationReadsRight();
    void longRunTimelineShowsTheFirstViolation();
    void lockKindEnablesItsParameters();
    void readWriteRatioAndBackToMutex();
    void semaphoreRunKeepsToItsPermits();
    void breakerAndDegradedCheckboxes();

private:
    NodeConfig startServer();
    GroupConfig groupOf(const QString &name, const NodeConfig &node, bool production = false);
    void selectTarget(const QString &group);
    /// A run limited to `acquisitions` with `workers` workers, short holds.
    void setSmallRun(int workers, int acquisitions);
    void clickStart();
    bool waitFinished();

    std::vector<std::unique_ptr<LocalRedisServer>> m_servers;
    std::unique_ptr<SimulatorPanel> m_panel;
    std::unique_ptr<QSignalSpy> m_log;
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestSimulatorPanel::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    // The window restores its docks from the settings a previous run saved on close.
    QSettings().clear();
}

void TestSimulatorPanel::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_panel = std::make_unique<SimulatorPanel>();
    m_panel->resize(420, 900);
    m_panel->show();
    m_log = std::make_unique<QSignalSpy>(m_panel.get(), &SimulatorPanel::logMessage);
}

void TestSimulatorPanel::cleanup()
{
    m_log.reset();
    m_panel.reset();
    m_servers.clear();
    m_dir.reset();
}

NodeConfig TestSimulatorPanel::startServer()
{
    auto server = LocalRedisServer::start();
    if (!server)
        qFatal("cannot start redis-server: %s", qPrintable(server.error().toString()));
    m_servers.push_back(std::move(*server));
    NodeConfig config = m_servers.back()->nodeConfig();
    config.name = QStringLiteral("test-node");
    return config;
}

GroupConfig TestSimulatorPanel::groupOf(const QString &name, const NodeConfig &node, bool production)
{
    GroupConfig config;
    NodeGroup group;
    group.name = name;
    group.nodes.push_back(GroupNode{node, false, production, {}});
    config.groups.push_back(group);
    return config;
}

void TestSimulatorPanel::selectTarget(const QString &group)
{
    auto *target = child<QComboBox>(m_panel.get(), "simTarget");
    for (int i = 0; i < target->count(); ++i) {
        if (target->itemText(i).startsWith(group + QLatin1Char(' '))) {
            target->setCurrentIndex(i);
            return;
        }
    }
    QFAIL(qPrintable(QStringLiteral("no target %1").arg(group)));
}

void TestSimulatorPanel::setSmallRun(int workers, int acquisitions)
{
    child<QSpinBox>(m_panel.get(), "simWorkers")->setValue(workers);
    child<QDoubleSpinBox>(m_panel.get(), "simHold")->setValue(0.2);
    child<QDoubleSpinBox>(m_panel.get(), "simDuration")->setValue(0);
    child<QSpinBox>(m_panel.get(), "simMaxAcquisitions")->setValue(acquisitions);
}

void TestSimulatorPanel::clickStart()
{
    auto *start = child<QPushButton>(m_panel.get(), "simStart");
    QVERIFY(start->isEnabled());
    QTest::mouseClick(start, Qt::LeftButton);
}

bool TestSimulatorPanel::waitFinished()
{
    return QTest::qWaitFor([this] { return m_panel->phase() == SimulatorPanel::Phase::Finished; },
                           RunTimeoutMs);
}

void TestSimulatorPanel::healthyRunOnLocalNodes()
{
    QVERIFY(m_panel->localTarget());
    child<QSpinBox>(m_panel.get(), "simLocalNodes")->setValue(1);
    setSmallRun(4, 500);
    auto *stop = child<QPushButton>(m_panel.get(), "simStop");
    QVERIFY(!stop->isEnabled());
    clickStart();
    QVERIFY(m_panel->isBusy());
    QVERIFY(!child<QPushButton>(m_panel.get(), "simStart")->isEnabled());
    QVERIFY(waitFinished());

    QCOMPARE(child<QLabel>(m_panel.get(), "simAcquisitions")->text(), QStringLiteral("500"));
    QCOMPARE(child<QLabel>(m_panel.get(), "simViolations")->text(), QStringLiteral("0"));
    QCOMPARE(child<QLabel>(m_panel.get(), "simKeysLeft")->text(), QStringLiteral("0"));
    QCOMPARE(m_panel->lastStats().acquisitions, quint64(500));
    QCOMPARE(m_panel->lastStats().violations, quint64(0));

    auto *table = child<QTableWidget>(m_panel.get(), "simWorkersTable");
    QCOMPARE(table->rowCount(), 4);
    quint64 sum = 0;
    for (int row = 0; row < table->rowCount(); ++row)
        sum += number(table->item(row, 1)->text());
    QCOMPARE(sum, quint64(500));

    QVERIFY(m_panel->timeline()->eventCount() > 0);
    auto *view = child<QChartView>(m_panel.get(), "simThroughputChart");
    QVERIFY(!view->chart()->series().isEmpty());
    auto *acquisitions = qobject_cast<QLineSeries *>(view->chart()->series().first());
    QVERIFY(acquisitions);
    QVERIFY(acquisitions->count() > 0);

    QCOMPARE(m_panel->liveWorkerThreads(), 0);
    QVERIFY(child<QPushButton>(m_panel.get(), "simStart")->isEnabled());
    QVERIFY(!stop->isEnabled());
    bool logged = false;
    for (const QList<QVariant> &entry : *m_log)
        logged = logged || entry.at(0).toString().startsWith(QStringLiteral("Simulation finished"));
    QVERIFY(logged);
}

void TestSimulatorPanel::validationErrorStartsNothing()
{
    auto *error = child<QLabel>(m_panel.get(), "simError");
    QVERIFY(error->isHidden());
    child<QSpinBox>(m_panel.get(), "simWorkers")->setValue(0);
    clickStart();
    QVERIFY(!error->isHidden());
    QVERIFY2(error->text().contains(QStringLiteral("workers")), qPrintable(error->text()));
    QCOMPARE(m_panel->phase(), SimulatorPanel::Phase::Idle);
    QVERIFY(child<QPushButton>(m_panel.get(), "simStart")->isEnabled());
    QVERIFY(m_log->isEmpty());

    // stall and stall-every go together.
    child<QSpinBox>(m_panel.get(), "simWorkers")->setValue(2);
    child<QSpinBox>(m_panel.get(), "simStall")->setValue(100);
    child<QSpinBox>(m_panel.get(), "simStallEvery")->setValue(0);
    clickStart();
    QVERIFY2(error->text().contains(QStringLiteral("stall")), qPrintable(error->text()));
    QCOMPARE(m_panel->phase(), SimulatorPanel::Phase::Idle);
}

void TestSimulatorPanel::scenarioFillsTheForm()
{
    auto *scenario = child<QComboBox>(m_panel.get(), "simScenario");
    QCOMPARE(scenario->itemData(0).toString(), QString()); // "Custom" first
    const int index = scenario->findData(QStringLiteral("ttl-short"));
    QVERIFY(index > 0);
    scenario->setCurrentIndex(index);

    SimConfig expected;
    QVERIFY(lockscope::sim::applyScenario(QStringLiteral("ttl-short"), expected));
    QCOMPARE(child<QSpinBox>(m_panel.get(), "simWorkers")->value(), expected.workers);
    QCOMPARE(child<QSpinBox>(m_panel.get(), "simTtl")->value(), int(expected.ttl.count()));
    QCOMPARE(child<QSpinBox>(m_panel.get(), "simStall")->value(), int(expected.stall.count()));
    QCOMPARE(child<QSpinBox>(m_panel.get(), "simStallEvery")->value(), expected.stallEvery);
    QCOMPARE(child<QCheckBox>(m_panel.get(), "simFencing")->isChecked(), expected.fencing);
    QVERIFY(!child<QCheckBox>(m_panel.get(), "simFencing")->isChecked());
    QCOMPARE(child<QSpinBox>(m_panel.get(), "simRetryBase")->value(), int(expected.retry.delay.count()));
    QCOMPARE(child<QSpinBox>(m_panel.get(), "simRetryMax")->value(), int(expected.retry.maxDelay.count()));
    QCOMPARE(child<QDoubleSpinBox>(m_panel.get(), "simHold")->value(),
             double(expected.hold.count()) / 1000.0);
    const SimConfig form = m_panel->formConfig();
    QCOMPARE(form.scenario, QStringLiteral("ttl-short"));
    QCOMPARE(form.stall, expected.stall);
    QCOMPARE(form.retry.kind, expected.retry.kind);

    // The retry schedule: linear takes the one delay, none takes neither.
    auto *retryKind = child<QComboBox>(m_panel.get(), "simRetryKind");
    retryKind->setCurrentIndex(retryKind->findData(int(lockscope::lock::RetryStrategy::Kind::Linear)));
    QVERIFY(!child<QSpinBox>(m_panel.get(), "simRetryMax")->isEnabled());
    QCOMPARE(m_panel->formConfig().retry.kind, lockscope::lock::RetryStrategy::Kind::Linear);
    QCOMPARE(m_panel->formConfig().retry.delay,
             std::chrono::milliseconds(child<QSpinBox>(m_panel.get(), "simRetryBase")->value()));
    retryKind->setCurrentIndex(retryKind->findData(int(lockscope::lock::RetryStrategy::Kind::None)));
    QVERIFY(!child<QSpinBox>(m_panel.get(), "simRetryBase")->isEnabled());
    QCOMPARE(m_panel->formConfig().retry.kind, lockscope::lock::RetryStrategy::Kind::None);
    retryKind->setCurrentIndex(retryKind->findData(int(lockscope::lock::RetryStrategy::Kind::Exponential)));
    QVERIFY(child<QSpinBox>(m_panel.get(), "simRetryMax")->isEnabled());

    // A scenario that kills nodes switches the target to local nodes, as many as it needs.
    const NodeConfig node = startServer();
    m_panel->setGroups(groupOf(QStringLiteral("solo"), node));
    selectTarget(QStringLiteral("solo"));
    QVERIFY(!m_panel->localTarget());
    scenario->setCurrentIndex(scenario->findData(QStringLiteral("redlock-restart")));
    QVERIFY(m_panel->localTarget());
    QCOMPARE(child<QSpinBox>(m_panel.get(), "simLocalNodes")->value(), 3);
    QCOMPARE(m_panel->formConfig().faults.size(), size_t(2));
    QVERIFY2(m_panel->formProblems().isEmpty(), qPrintable(m_panel->formProblems().join(QLatin1Char('\n'))));

    // ...and refuses to run it on a group.
    selectTarget(QStringLiteral("solo"));
    QVERIFY(!m_panel->formProblems().isEmpty());
}

void TestSimulatorPanel::stopMidRun()
{
    child<QSpinBox>(m_panel.get(), "simLocalNodes")->setValue(1);
    setSmallRun(4, 2'000'000'000);
    clickStart();
    QTRY_VERIFY_WITH_TIMEOUT(m_panel->phase() == SimulatorPanel::Phase::Running, RunTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(m_panel->lastStats().acquisitions > 0, RunTimeoutMs);
    QVERIFY(m_panel->liveWorkerThreads() > 0);
    QVERIFY(child<QPushButton>(m_panel.get(), "simPause")->isEnabled());
    QVERIFY(child<QPushButton>(m_panel.get(), "simFaultStall")->isEnabled());
    // Kill applies to local nodes; restart only to a node that is down.
    QVERIFY(child<QPushButton>(m_panel.get(), "simFaultKill")->isEnabled());
    QVERIFY(!child<QPushButton>(m_panel.get(), "simFaultRestart")->isEnabled());

    // Faults through the buttons; their outcomes come back through the fault log.
    const auto faultsLogged = [this] {
        int n = 0;
        for (const QList<QVariant> &entry : *m_log)
            n += entry.at(0).toString().startsWith(QStringLiteral("Simulation fault")) ? 1 : 0;
        return n;
    };
    QTest::mouseClick(child<QPushButton>(m_panel.get(), "simFaultStall"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(faultsLogged(), 1, RunTimeoutMs);
    child<QSpinBox>(m_panel.get(), "simFaultPauseLength")->setValue(0); // until resumed
    QTest::mouseClick(child<QPushButton>(m_panel.get(), "simFaultPause"), Qt::LeftButton);
    auto *resume = child<QPushButton>(m_panel.get(), "simFaultResume");
    QTRY_VERIFY_WITH_TIMEOUT(resume->isEnabled(), RunTimeoutMs);
    QVERIFY(!child<QPushButton>(m_panel.get(), "simFaultPause")->isEnabled());
    QVERIFY(m_servers.empty()); // the paused node is the panel's own
    QTest::mouseClick(resume, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(m_panel.get(), "simFaultPause")->isEnabled(), RunTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(faultsLogged(), 3, RunTimeoutMs);
    for (const QList<QVariant> &entry : *m_log) {
        if (entry.at(0).toString().startsWith(QStringLiteral("Simulation fault")))
            QVERIFY2(!entry.at(1).toBool(), qPrintable(entry.at(0).toString()));
    }

    QTest::mouseClick(child<QPushButton>(m_panel.get(), "simStop"), Qt::LeftButton);
    QVERIFY(waitFinished());
    QVERIFY(m_panel->lastStats().acquisitions > 0);
    QCOMPARE(m_panel->lastStats().keysLeft, quint64(0));
    QCOMPARE(child<QLabel>(m_panel.get(), "simKeysLeft")->text(), QStringLiteral("0"));
    QCOMPARE(m_panel->liveWorkerThreads(), 0);
    QVERIFY(!child<QPushButton>(m_panel.get(), "simFaultStall")->isEnabled());
    QVERIFY(!child<QPushButton>(m_panel.get(), "simPause")->isEnabled());
}

void TestSimulatorPanel::runsOnAConfiguredGroup()
{
    const NodeConfig node = startServer();
    m_panel->setGroups(groupOf(QStringLiteral("solo"), node));
    selectTarget(QStringLiteral("solo"));
    // The selection survives new groups while its group is still there.
    GroupConfig more = groupOf(QStringLiteral("solo"), node);
    more.groups.push_back(groupOf(QStringLiteral("other"), node).groups.front());
    m_panel->setGroups(more);
    QVERIFY(!m_panel->localTarget());
    QVERIFY(child<QComboBox>(m_panel.get(), "simTarget")->currentText().startsWith(QStringLiteral("solo ")));

    setSmallRun(3, 300);
    clickStart();
    QVERIFY(waitFinished());
    QCOMPARE(m_panel->lastStats().acquisitions, quint64(300));
    QCOMPARE(m_panel->lastStats().violations, quint64(0));
    QCOMPARE(m_panel->lastStats().keysLeft, quint64(0));
    // The run deleted its fence counters: nothing of it is left on the node.
    QCOMPARE(dbsize(node), qint64(0));
}

void TestSimulatorPanel::productionGroupAsksFirst()
{
    const NodeConfig node = startServer();
    m_panel->setGroups(groupOf(QStringLiteral("prod"), node, true));
    selectTarget(QStringLiteral("prod"));
    setSmallRun(2, 50);
    bool asked = false;
    whenModal<QMessageBox>([&asked](QMessageBox *box) {
        asked = box->text().contains(QStringLiteral("lockscope:sim:"));
        box->button(QMessageBox::Cancel)->click();
    });
    clickStart();
    QVERIFY(asked);
    QCOMPARE(m_panel->phase(), SimulatorPanel::Phase::Idle);
    QCOMPARE(dbsize(node), qint64(0));

    whenModal<QMessageBox>([](QMessageBox *box) {
        for (QAbstractButton *button : box->buttons()) {
            if (box->buttonRole(button) == QMessageBox::AcceptRole)
                button->click();
        }
    });
    clickStart();
    QVERIFY(waitFinished());
    QCOMPARE(m_panel->lastStats().acquisitions, quint64(50));
    QCOMPARE(dbsize(node), qint64(0));
}

void TestSimulatorPanel::exportWritesJsonAndCsv()
{
    const QString json = m_dir->filePath(QStringLiteral("run.json"));
    QVERIFY(!m_panel->exportJson(json)); // no run yet
    QVERIFY(!child<QLabel>(m_panel.get(), "simError")->isHidden());

    child<QSpinBox>(m_panel.get(), "simLocalNodes")->setValue(1);
    setSmallRun(2, 100);
    clickStart();
    QVERIFY(waitFinished());
    QVERIFY(m_panel->exportJson(json));
    QFile file(json);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(report.value(QStringLiteral("acquisitions")).toInteger(), 100);
    QCOMPARE(report.value(QStringLiteral("workers")).toArray().size(), 2);

    const QString csv = m_dir->filePath(QStringLiteral("run.csv"));
    QVERIFY(m_panel->exportCsv(csv));
    QFile events(csv);
    QVERIFY(events.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = events.readAll().split('\n');
    QVERIFY(lines.first().startsWith("seq,worker,key"));
    QVERIFY(lines.size() > 100); // a header and a line per section
    QFile workers(SimulatorPanel::workersCsvPath(csv));
    QCOMPARE(workers.fileName(), m_dir->filePath(QStringLiteral("run-workers.csv")));
    QVERIFY(workers.open(QIODevice::ReadOnly));
    QCOMPARE(workers.readAll().trimmed().split('\n').size(), 3); // a header and two workers
}

void TestSimulatorPanel::closingTheWindowMidRunLeavesNoKeys()
{
    m_panel.reset(); // this one uses the window's panel
    const NodeConfig node = startServer();
    auto window = std::make_unique<MainWindow>();
    window->setAuditLogPath(m_dir->filePath(QStringLiteral("audit.jsonl")));
    window->setAutoRefreshInterval(0ms);
    window->setGroups(groupOf(QStringLiteral("solo"), node));
    window->show();
    auto *simulatorWindow = child<QWidget>(window.get(), "simulatorWindow");
    auto *action = child<QAction>(window.get(), "simulatorAction");
    QVERIFY(simulatorWindow->isHidden());
    QVERIFY(simulatorWindow->isWindow()); // its own window: the lock table keeps its room
    action->trigger();
    QVERIFY(!simulatorWindow->isHidden());
    QVERIFY(action->isChecked());

    SimulatorPanel *panel = window->simulator();
    auto *target = child<QComboBox>(panel, "simTarget");
    target->setCurrentIndex(1);
    QVERIFY(!panel->localTarget());
    child<QSpinBox>(panel, "simWorkers")->setValue(4);
    child<QDoubleSpinBox>(panel, "simDuration")->setValue(0);
    child<QSpinBox>(panel, "simMaxAcquisitions")->setValue(0); // until stopped
    QTest::mouseClick(child<QPushButton>(panel, "simStart"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(panel->lastStats().acquisitions > 0, RunTimeoutMs);
    QVERIFY(dbsize(node) > 0); // the fence counter at least

    window->close(); // waits for the run to stop
    QVERIFY(!isBusy(*panel));
    QCOMPARE(panel->liveWorkerThreads(), 0);
    QCOMPARE(dbsize(node), qint64(0));
    window.reset();
}

void TestSimulatorPanel::timelinePaintsOutcomes()
{
    SimTimeline timeline;
    timeline.resize(400, 220);
    timeline.setWorkerCount(3);
    std::vector<SectionEvent> events;
    const auto section = [](int worker, qint64 start, qint64 end, SectionEvent::Outcome outcome) {
        SectionEvent e;
        e.worker = worker;
        e.requestUs = start - 50'000;
        e.startUs = start;
        e.endUs = end;
        e.outcome = outcome;
        return e;
    };
    events.push_back(section(0, 100'000, 900'000, SectionEvent::Outcome::Accepted));
    events.push_back(section(1, 1'000'000, 2'500'000, SectionEvent::Outcome::Violation));
    SectionEvent rejected = section(2, 2'600'000, 3'000'000, SectionEvent::Outcome::FencingRejected);
    rejected.overlapped = true;
    rejected.stalled = true;
    events.push_back(rejected);
    events.push_back(section(0, 3'100'000, 3'200'000, SectionEvent::Outcome::Abandoned));
    timeline.addEvents(events);
    timeline.setNow(4'000'000);
    QCOMPARE(timeline.eventCount(), 4);

    const QImage image = timeline.grab().toImage();
    QVERIFY(!image.isNull());
    int red = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QColor c = image.pixelColor(x, y);
            if (c.red() > 180 && c.green() < 90 && c.blue() < 90)
                ++red;
        }
    }
    QVERIFY2(red > 100, qPrintable(QStringLiteral("%1 red pixels").arg(red)));

    // Sections that ended more than a minute ago are dropped.
    timeline.setNow(120'000'000);
    QCOMPARE(timeline.eventCount(), 0);
    timeline.grab(); // paints the empty state
}

void TestSimulatorPanel::slowRunWithAViolationReadsRight()
{
    // Issue 11 (defect 13): a slow run showed "Per second 0", "1 violations", an unlabelled wait
    // line, a timeline on its last 5 s that hid the violation, and the acquisitions flattened
    // under the failed attempts. Two workers, 1 s sections, a 2 s TTL, no fencing; the next
    // holder stalls 1.7 s after its validity check: its lock expires, the other worker takes
    // it and reads, the stalled one writes, and the other's write is then based on a stale
    // value: one violation, early in a 12 s run.
    QVERIFY(m_panel->localTarget());
    typeValue(m_panel.get(), "simWorkers", QStringLiteral("2"));
    typeValue(m_panel.get(), "simHold", QStringLiteral("1000"));
    typeValue(m_panel.get(), "simTtl", QStringLiteral("2000"));
    typeValue(m_panel.get(), "simDuration", QStringLiteral("12"));
    typeValue(m_panel.get(), "simMaxAcquisitions", QStringLiteral("0"));
    untick(m_panel.get(), "simFencing");
    QCOMPARE(m_panel->formConfig().workers, 2);
    QCOMPARE(m_panel->formConfig().ttl, 2000ms);
    QCOMPARE(m_panel->formConfig().duration, 12'000ms);
    clickStart();
    QTRY_VERIFY_WITH_TIMEOUT(m_panel->phase() == SimulatorPanel::Phase::Running, RunTimeoutMs);
    typeValue(m_panel.get(), "simFaultStallLength", QStringLiteral("1700"));
    auto *stall = child<QPushButton>(m_panel.get(), "simFaultStall");
    QTRY_VERIFY_WITH_TIMEOUT(stall->isEnabled(), RunTimeoutMs);
    QTest::mouseClick(stall, Qt::LeftButton);
    QVERIFY(waitFinished());

    const lockscope::sim::SimStats stats = m_panel->lastStats();
    QVERIFY(stats.acquisitions > 0);
    QVERIFY2(stats.violations >= 1,
             "the stall made no violation: the machine may be too slow for its timing");

    // A rate with a decimal, over the whole running time (not the last sample's 0 or 1).
    const double rate = double(stats.acquisitions) / stats.elapsedSeconds;
    QVERIFY(rate >= 0.1 && rate < 100);
    const QString rateText = child<QLabel>(m_panel.get(), "simAcquisitionRate")->text();
    QCOMPARE(rateText, QLocale().toString(rate, 'f', 1) + QStringLiteral("/s"));

    // Singular and plural as English has them.
    const QString status = child<QLabel>(m_panel.get(), "simStatus")->text();
    const QString violations = stats.violations == 1
                                   ? QStringLiteral("· 1 violation ·")
                                   : QStringLiteral("· %1 violations ·").arg(stats.violations);
    QVERIFY2(status.contains(violations), qPrintable(status));
    QVERIFY2(status.contains(QStringLiteral(" acquisitions ·")), qPrintable(status));
    QVERIFY2(status.endsWith(QStringLiteral("· 0 keys left")), qPrintable(status));
    bool logged = false;
    for (const QList<QVariant> &entry : *m_log) {
        const QString line = entry.at(0).toString();
        if (line.startsWith(QStringLiteral("Simulation finished"))) {
            logged = true;
            QVERIFY2(line.contains(violations.mid(2, violations.size() - 4) + QLatin1Char(',')),
                     qPrintable(line));
            QVERIFY2(line.contains(QStringLiteral("(%1)").arg(rateText)), qPrintable(line));
        }
    }
    QVERIFY(logged);

    // The wait and hold lines say which figure is which.
    const QString wait = child<QLabel>(m_panel.get(), "simWaitTimes")->text();
    QVERIFY2(wait.startsWith(QStringLiteral("p50 ")) && wait.contains(QStringLiteral(" · p95 ")) &&
                 wait.contains(QStringLiteral(" · p99 ")),
             qPrintable(wait));
    const QString hold = child<QLabel>(m_panel.get(), "simHoldTimes")->text();
    QVERIFY2(hold.startsWith(QStringLiteral("p50 ")) && hold.contains(QStringLiteral(" · p99 ")),
             qPrintable(hold));

    // The timeline shows the whole run, the violation included, without zooming.
    auto *charts = child<QTabWidget>(m_panel.get(), "simCharts");
    QTabBar *tabs = charts->tabBar();
    QTest::mouseClick(tabs, Qt::LeftButton, {}, tabs->tabRect(2).center());
    QCOMPARE(charts->currentIndex(), 2);
    SimTimeline *timeline = m_panel->timeline();
    QVERIFY(timeline->isVisible());
    QVERIFY(timeline->leftUs() <= 0);
    QVERIFY(timeline->rightUs() >= qint64(stats.elapsedSeconds * 1e6));
    QVERIFY(timeline->firstViolationUs() >= timeline->leftUs());
    QVERIFY(timeline->firstViolationUs() < timeline->rightUs());
    const int red = redBars(*timeline);
    QVERIFY2(red > 20, qPrintable(QStringLiteral("%1 red pixels").arg(red)));

    // Failed attempts have their own scale: the acquisitions line uses the height of its axis.
    QTest::mouseClick(tabs, Qt::LeftButton, {}, tabs->tabRect(0).center());
    auto *view = child<QChartView>(m_panel.get(), "simThroughputChart");
    QLineSeries *acquisitions = nullptr;
    QLineSeries *failed = nullptr;
    for (QAbstractSeries *series : view->chart()->series()) {
        auto *line = qobject_cast<QLineSeries *>(series);
        if (line && line->name().startsWith(QStringLiteral("Acquisitions")))
            acquisitions = line;
        else if (line && line->name().startsWith(QStringLiteral("Failed")))
            failed = line;
    }
    QVERIFY(acquisitions && failed);
    const auto verticalAxis = [](QLineSeries *series) -> QValueAxis * {
        for (QAbstractAxis *axis : series->attachedAxes()) {
            if (axis->orientation() == Qt::Vertical)
                return qobject_cast<QValueAxis *>(axis);
        }
        return nullptr;
    };
    QValueAxis *acquisitionAxis = verticalAxis(acquisitions);
    QValueAxis *failedAxis = verticalAxis(failed);
    QVERIFY(acquisitionAxis && failedAxis);
    QVERIFY(acquisitionAxis != failedAxis);
    QVERIFY(acquisitionAxis->isVisible() && failedAxis->isVisible());
    double highest = 0;
    double highestFailed = 0;
    for (const QPointF &p : acquisitions->points())
        highest = std::max(highest, p.y());
    for (const QPointF &p : failed->points())
        highestFailed = std::max(highestFailed, p.y());
    QVERIFY(highest > 0);
    QVERIFY2(
        highest >= acquisitionAxis->max() / 3,
        qPrintable(
            QStringLiteral("acquisitions up to %1 on a 0-%2 axis").arg(highest).arg(acquisitionAxis->max())));
    QVERIFY(highestFailed <= failedAxis->max());

    // One acquisition is one acquisition.
    typeValue(m_panel.get(), "simWorkers", QStringLiteral("1"));
    typeValue(m_panel.get(), "simDuration", QStringLiteral("0"));
    typeValue(m_panel.get(), "simMaxAcquisitions", QStringLiteral("1"));
    clickStart();
    QVERIFY(waitFinished());
    QCOMPARE(m_panel->lastStats().acquisitions, quint64(1));
    const QString single = child<QLabel>(m_panel.get(), "simStatus")->text();
    QVERIFY2(single.contains(QStringLiteral("· 1 acquisition ·")) &&
                 single.contains(QStringLiteral("· 0 violations ·")),
             qPrintable(single));
}

void TestSimulatorPanel::longRunTimelineShowsTheFirstViolation()
{
    // A finished run longer than the minute the timeline keeps: it opens on the first
    // violation (kept although older sections were dropped), not on the last seconds.
    SimTimeline timeline;
    timeline.resize(500, 240);
    timeline.setWorkerCount(2);
    timeline.show();
    QVERIFY(QTest::qWaitForWindowExposed(&timeline));
    const auto section = [](int worker, qint64 start, qint64 end, SectionEvent::Outcome outcome) {
        SectionEvent e;
        e.worker = worker;
        e.requestUs = start;
        e.startUs = start;
        e.endUs = end;
        e.outcome = outcome;
        return e;
    };
    std::vector<SectionEvent> events;
    events.push_back(section(1, 3'000'000, 3'800'000, SectionEvent::Outcome::Violation));
    for (qint64 t = 0; t < 100'000'000; t += 1'000'000)
        events.push_back(section(0, t, t + 500'000, SectionEvent::Outcome::Accepted));
    std::ranges::sort(events, {}, &SectionEvent::endUs);
    // Arriving as the run goes, the view following the end.
    for (size_t i = 0; i < events.size(); i += 10) {
        timeline.addEvents(std::vector<SectionEvent>(
            events.begin() + qsizetype(i), events.begin() + qsizetype(std::min(i + 10, events.size()))));
        timeline.setNow(events[std::min(i + 9, events.size() - 1)].endUs);
    }
    QVERIFY(timeline.leftUs() > 3'800'000); // while running: the last seconds
    QCOMPARE(redBars(timeline), 0);

    timeline.showRun(100'000'000);
    QCOMPARE(timeline.firstViolationUs(), qint64(3'000'000));
    QVERIFY(timeline.leftUs() <= 3'000'000);
    QVERIFY(timeline.rightUs() >= 3'800'000);
    QVERIFY(redBars(timeline) > 50);

    // A short run is shown whole.
    timeline.clear();
    timeline.addEvents({section(0, 1'000'000, 2'000'000, SectionEvent::Outcome::Violation),
                        section(1, 8'000'000, 9'000'000, SectionEvent::Outcome::Accepted)});
    timeline.setNow(9'500'000);
    QVERIFY(timeline.leftUs() > 2'000'000); // the 5 s window hides the violation...
    timeline.showRun(10'000'000);
    QVERIFY(timeline.leftUs() <= 0); // ...the finished run does not
    QVERIFY(timeline.rightUs() >= 10'000'000);
    QVERIFY(redBars(timeline) > 50);
}

void TestSimulatorPanel::lockKindEnablesItsParameters()
{
    using lockscope::sim::SimLockKind;
    QWidget *panel = m_panel.get();
    auto *readRatio = child<QSpinBox>(panel, "simReadRatio");
    auto *permits = child<QSpinBox>(panel, "simPermits");
    // A mutex by default, which takes neither.
    QCOMPARE(child<QComboBox>(panel, "simLockKind")->currentText(), QStringLiteral("Mutex"));
    QVERIFY(!readRatio->isEnabled());
    QVERIFY(!permits->isEnabled());
    QCOMPARE(m_panel->formConfig().lockKind, SimLockKind::Mutex);

    choose(panel, "simLockKind", QStringLiteral("Semaphore"));
    QVERIFY(permits->isEnabled());
    QVERIFY(child<QLabel>(panel, "simPermitsLabel")->isEnabled());
    QVERIFY(!readRatio->isEnabled());
    QVERIFY(!child<QLabel>(panel, "simReadRatioLabel")->isEnabled());
    typeValue(panel, "simPermits", QStringLiteral("7"));
    QCOMPARE(permits->value(), 7);
    const SimConfig config = m_panel->formConfig();
    QCOMPARE(config.lockKind, SimLockKind::Semaphore);
    QCOMPARE(config.permits, 7);
    QVERIFY(!config.readRatio);
    QVERIFY2(m_panel->formProblems().isEmpty(), qPrintable(m_panel->formProblems().join(QLatin1Char('\n'))));

    // A fair lock with pub/sub wake-up runs (SimConfig::validate takes it), but its FIFO order
    // is not counted there: the form says so.
    choose(panel, "simLockKind", QStringLiteral("Fair"));
    QVERIFY(!permits->isEnabled());
    QVERIFY(!readRatio->isEnabled());
    auto *note = child<QLabel>(panel, "simLockKindNote");
    QVERIFY2(!note->text().contains(QStringLiteral("pub/sub")), qPrintable(note->text()));
    auto *wakeup = child<QComboBox>(panel, "simWakeup");
    wakeup->setCurrentIndex(wakeup->findData(int(lockscope::sim::Wakeup::PubSub)));
    QVERIFY2(note->text().contains(QStringLiteral("pub/sub")), qPrintable(note->text()));
    QCOMPARE(m_panel->formConfig().lockKind, SimLockKind::Fair);
    QCOMPARE(m_panel->formConfig().permits, 0);
    QVERIFY(m_panel->formProblems().isEmpty());
}

void TestSimulatorPanel::readWriteRatioAndBackToMutex()
{
    using lockscope::sim::SimLockKind;
    QWidget *panel = m_panel.get();
    choose(panel, "simLockKind", QStringLiteral("Read/write"));
    QVERIFY(child<QSpinBox>(panel, "simReadRatio")->isEnabled());
    QVERIFY(!child<QSpinBox>(panel, "simPermits")->isEnabled());
    // The default ratio, until the operator types another.
    QVERIFY(m_panel->formConfig().readRatio);
    QCOMPARE(*m_panel->formConfig().readRatio, SimConfig::kDefaultReadRatio);
    typeValue(panel, "simReadRatio", QStringLiteral("65"));
    SimConfig config = m_panel->formConfig();
    QCOMPARE(config.lockKind, SimLockKind::ReadWrite);
    QVERIFY(config.readRatio);
    QCOMPARE(*config.readRatio, 0.65);
    QCOMPARE(config.permits, 0);
    QVERIFY(m_panel->formProblems().isEmpty());

    choose(panel, "simLockKind", QStringLiteral("Semaphore"));
    typeValue(panel, "simPermits", QStringLiteral("3"));
    QCOMPARE(m_panel->formConfig().permits, 3);
    QVERIFY(!m_panel->formConfig().readRatio);

    // Back to a mutex: neither parameter goes with it, and the form can run.
    choose(panel, "simLockKind", QStringLiteral("Mutex"));
    QVERIFY(!child<QSpinBox>(panel, "simReadRatio")->isEnabled());
    QVERIFY(!child<QSpinBox>(panel, "simPermits")->isEnabled());
    config = m_panel->formConfig();
    QCOMPARE(config.lockKind, SimLockKind::Mutex);
    QCOMPARE(config.permits, 0);
    QVERIFY(!config.readRatio);
    QVERIFY2(m_panel->formProblems().isEmpty(), qPrintable(m_panel->formProblems().join(QLatin1Char('\n'))));
    QVERIFY(config.validate(std::vector<bool>(config.nodes.size(), true)).isEmpty());
}

void TestSimulatorPanel::semaphoreRunKeepsToItsPermits()
{
    QWidget *panel = m_panel.get();
    QVERIFY(m_panel->localTarget());
    child<QSpinBox>(panel, "simLocalNodes")->setValue(1);
    setSmallRun(4, 300);
    choose(panel, "simLockKind", QStringLiteral("Semaphore"));
    typeValue(panel, "simPermits", QStringLiteral("2"));
    QCOMPARE(m_panel->formConfig().permits, 2);
    clickStart();
    QVERIFY(waitFinished());

    // The report: every acquisition, never more than the 2 permits on the key at once.
    const lockscope::sim::SimStats stats = m_panel->lastStats();
    QCOMPARE(stats.acquisitions, quint64(300));
    QVERIFY2(stats.maxHolders >= 1 && stats.maxHolders <= 2, qPrintable(QString::number(stats.maxHolders)));
    QCOMPARE(stats.overlaps, quint64(0));
    QCOMPARE(stats.violations, quint64(0));
    const QString json = m_dir->filePath(QStringLiteral("semaphore.json"));
    QVERIFY(m_panel->exportJson(json));
    QFile file(json);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(report.value(QStringLiteral("kind")).toString(), QStringLiteral("semaphore"));
    QCOMPARE(report.value(QStringLiteral("config")).toObject().value(QStringLiteral("permits")).toInt(), 2);
    QCOMPARE(report.value(QStringLiteral("max_holders")).toInt(), stats.maxHolders);

    // The panel names the kind and shows its figure, labelled.
    QCOMPARE(child<QLabel>(panel, "simLockKind")->text(), QStringLiteral("Semaphore of 2 permits"));
    QCOMPARE(child<QLabel>(panel, "simKindFigureName")->text(), QStringLiteral("Most holders"));
    QCOMPARE(child<QLabel>(panel, "simKindFigure")->text(),
             QStringLiteral("%1 of 2 permits").arg(stats.maxHolders));
    bool started = false;
    bool finished = false;
    for (const QList<QVariant> &entry : *m_log) {
        const QString line = entry.at(0).toString();
        if (line.startsWith(QStringLiteral("Simulation started")))
            started = line.contains(QStringLiteral("semaphore of 2 permits"));
        if (line.startsWith(QStringLiteral("Simulation finished")))
            finished = line.contains(QStringLiteral("most holders %1 of 2 permits").arg(stats.maxHolders));
    }
    QVERIFY(started);
    QVERIFY(finished);
}

void TestSimulatorPanel::breakerAndDegradedCheckboxes()
{
    QWidget *panel = m_panel.get();
    auto *breaker = child<QCheckBox>(panel, "simBreaker");
    auto *degraded = child<QCheckBox>(panel, "simDegraded");
    QVERIFY(breaker->isChecked()); // the library's default
    QVERIFY(!degraded->isChecked());
    QVERIFY(breaker->toolTip().contains(QStringLiteral("3 failures")));
    QVERIFY(degraded->toolTip().contains(QStringLiteral("in-process")));
    QVERIFY(m_panel->formConfig().breaker);
    QVERIFY(!m_panel->formConfig().degraded);

    untick(panel, "simBreaker");
    QTest::mouseClick(degraded, Qt::LeftButton, {}, QPoint(6, degraded->height() / 2));
    QVERIFY(degraded->isChecked());
    QVERIFY(!m_panel->formConfig().breaker);
    QVERIFY(m_panel->formConfig().degraded);

    child<QSpinBox>(panel, "simLocalNodes")->setValue(1);
    setSmallRun(2, 100);
    clickStart();
    QVERIFY(waitFinished());
    QCOMPARE(m_panel->lastStats().acquisitions, quint64(100));
    // The run got what the boxes said (the exported report carries the run's configuration).
    const QString json = m_dir->filePath(QStringLiteral("breaker.json"));
    QVERIFY(m_panel->exportJson(json));
    QFile file(json);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(report.value(QStringLiteral("config")).toObject().value(QStringLiteral("breaker")).toBool(),
             false);
    QCOMPARE(
        report.value(QStringLiteral("config")).toObject().value(QStringLiteral("degraded_mode")).toBool(),
        true);
    QCOMPARE(report.value(QStringLiteral("degraded_acquisitions")).toInteger(), 0); // healthy node
    // The statistics show the new figures.
    QCOMPARE(child<QLabel>(panel, "simDegradedAcquisitions")->text(), QStringLiteral("0"));
    QCOMPARE(child<QLabel>(panel, "simBreakerRefusals")->text(), QStringLiteral("0"));
    QCOMPARE(child<QLabel>(panel, "simBreakerOpens")->text(), QStringLiteral("0"));
    QCOMPARE(child<QLabel>(panel, "simDegradedWrites")->text(), QStringLiteral("0"));
}

QTEST_MAIN(TestSimulatorPanel)
#include "tst_simulatorpanel.moc"
