#include "simulatorpanel.h"

#include "locktext.h"
#include "simcharts.h"
#include "simexport.h"
#include "simfaultspanel.h"
#include "simparameterform.h"
#include "simrunner.h"
#include "simstatsview.h"
#include "simtext.h"
#include "simtimeline.h"
#include "themecolors.h"
#include "threadowner.h"
#include "util/duration.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>
#include <cmath>
#include <expected>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::NodeGroup;
using lockscope::redis::NodeConfig;
using namespace lockscope::sim;
using namespace simtext;

namespace {

enum Section
{
    SetupSection,
    FaultsSection,
    StatisticsSection
};

/// `page` in a frameless scroll area that lets it fill the width.
QScrollArea *scrollable(QWidget *page)
{
    auto *scroll = new QScrollArea;
    scroll->setWidget(page);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    return scroll;
}

} // namespace

SimulatorPanel::SimulatorPanel(QWidget *parent)
    : QWidget(parent), m_runnerThread(std::make_unique<ThreadOwner>(QStringLiteral("Simulator")))
{
    m_runner = new SimRunner;
    m_runnerThread->adopt(m_runner);
    m_runnerThread->start();

    QLayout *buttons = createControls();
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("simStatus"));
    m_status->setWordWrap(true);
    m_error = new QLabel;
    m_error->setObjectName(QStringLiteral("simError"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setVisible(false);

    m_form = new SimParameterForm;
    QScrollArea *parameters = scrollable(m_form);
    parameters->setObjectName(QStringLiteral("simParameters"));
    parameters->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_faults = new SimFaultsPanel;
    connect(m_faults, &SimFaultsPanel::injectRequested, this, &SimulatorPanel::inject);
    connect(m_faults, &SimFaultsPanel::logMessage, this, &SimulatorPanel::logMessage);
    m_statsView = new SimStatsView;

    m_sections = new QTabWidget;
    m_sections->setObjectName(QStringLiteral("simSections"));
    m_sections->setDocumentMode(true);
    m_sections->insertTab(SetupSection, parameters, tr("Setup"));
    m_sections->insertTab(FaultsSection, scrollable(m_faults), tr("Faults"));
    m_sections->insertTab(StatisticsSection, m_statsView, tr("Statistics"));

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->setObjectName(QStringLiteral("simSplitter"));
    splitter->setChildrenCollapsible(false);
    splitter->addWidget(m_sections);
    m_charts = new SimCharts;
    splitter->addWidget(m_charts);
    splitter->setStretchFactor(0, 5);
    splitter->setStretchFactor(1, 4);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(buttons);
    layout->addWidget(m_status);
    layout->addWidget(m_error);
    layout->addWidget(splitter, 1);

    m_refreshTimer.setInterval(250);
    connect(&m_refreshTimer, &QTimer::timeout, this, &SimulatorPanel::refresh);

    showStats(m_stats);
    setPhase(Phase::Idle);
}

SimulatorPanel::~SimulatorPanel()
{
    shutdown();
}

QLayout *SimulatorPanel::createControls()
{
    m_startButton = new QPushButton(tr("Start"));
    m_startButton->setObjectName(QStringLiteral("simStart"));
    m_startButton->setToolTip(tr("Start a run with these parameters"));
    m_pauseButton = new QPushButton(tr("Pause"));
    m_pauseButton->setObjectName(QStringLiteral("simPause"));
    m_pauseButton->setToolTip(tr("No new critical sections while paused; those under way finish"));
    m_stopButton = new QPushButton(tr("Stop"));
    m_stopButton->setObjectName(QStringLiteral("simStop"));
    m_stopButton->setToolTip(tr("End the run: faults are reverted, held locks released, keys checked"));
    connect(m_startButton, &QPushButton::clicked, this, &SimulatorPanel::start);
    connect(m_pauseButton, &QPushButton::clicked, this, &SimulatorPanel::togglePause);
    connect(m_stopButton, &QPushButton::clicked, this, &SimulatorPanel::stop);

    m_exportButton = new SimExportButton;
    connect(m_exportButton, &SimExportButton::jsonChosen, this, &SimulatorPanel::exportJson);
    connect(m_exportButton, &SimExportButton::csvChosen, this, &SimulatorPanel::exportCsv);

    auto *buttons = new QHBoxLayout;
    buttons->setContentsMargins(0, 0, 0, 0);
    buttons->addWidget(m_startButton);
    buttons->addWidget(m_pauseButton);
    buttons->addWidget(m_stopButton);
    buttons->addStretch(1);
    buttons->addWidget(m_exportButton);
    return buttons;
}

// --- the form ------------------------------------------------------------------------------

void SimulatorPanel::setGroups(const GroupConfig &config)
{
    m_form->setGroups(config);
}

SimConfig SimulatorPanel::formConfig() const
{
    return m_form->config();
}

QStringList SimulatorPanel::formProblems() const
{
    return m_form->problems();
}

bool SimulatorPanel::localTarget() const
{
    return m_form->localTarget();
}

// --- the run -------------------------------------------------------------------------------

bool SimulatorPanel::isBusy() const
{
    return m_phase == Phase::Starting || m_phase == Phase::Running || m_phase == Phase::Paused ||
           m_phase == Phase::Stopping;
}

int SimulatorPanel::liveWorkerThreads() const
{
    return m_sim ? m_sim->liveWorkerThreads() : 0;
}

SimTimeline *SimulatorPanel::timeline() const
{
    return m_charts->timeline();
}

void SimulatorPanel::start()
{
    if (isBusy() || m_shutDown)
        return;
    showError(QString());
    const QStringList problems = formProblems();
    if (!problems.isEmpty()) {
        showError(problems.join(QLatin1Char('\n')));
        return;
    }
    if (!m_form->confirmProduction())
        return;

    const bool local = localTarget();
    SimConfig config = formConfig();
    const int localNodes = local ? m_form->localNodeCount() : 0;
    const quint64 run = ++m_run;
    m_runLocal = local;
    m_runProduction = false;
    if (const NodeGroup *group = m_form->targetGroup()) {
        for (const auto &node : group->nodes)
            m_runProduction = m_runProduction || node.production;
    }
    m_stopPending = false;
    resetView(config);
    setPhase(Phase::Starting);
    emit logMessage(local ? locktext::counted(localNodes, tr("Simulator: starting %1 local node…"),
                                              tr("Simulator: starting %1 local nodes…"))
                          : tr("Simulator: starting on %1…").arg(m_form->targetGroupName()));

    // The callbacks come from the runner and controller threads; the panel outlives both (its
    // destructor joins them), and queued calls to a deleted panel are dropped.
    QPointer<SimulatorPanel> self(this);
    auto finished = [self, run] {
        if (SimulatorPanel *panel = self.data())
            QMetaObject::invokeMethod(
                panel,
                [self, run] {
                    if (self)
                        self->onRunFinished(run);
                },
                Qt::QueuedConnection);
    };
    SimRunner *runner = m_runner;
    QMetaObject::invokeMethod(
        runner,
        [runner, self, run, config, localNodes, finished] {
            auto started = runner->start(config, localNodes, finished);
            SimulatorPanel *panel = self.data();
            if (!panel) {
                if (started)
                    runner->dispose(*started);
                return;
            }
            // The node list as run (local nodes have their ports now).
            std::vector<NodeConfig> nodes = started ? (*started)->config().nodes : std::vector<NodeConfig>{};
            QMetaObject::invokeMethod(
                panel,
                [self, run, started, nodes] {
                    if (!self)
                        return;
                    if (started)
                        self->onRunStarted(run, *started, nodes);
                    else
                        self->onRunFailed(run, started.error());
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void SimulatorPanel::onRunStarted(quint64 run, Simulation *simulation, const std::vector<NodeConfig> &nodes)
{
    if (run != m_run || m_shutDown) {
        // A run nobody waits for any more: the runner destroys it (which stops it).
        if (SimRunner *runner = m_runner)
            QMetaObject::invokeMethod(
                runner, [runner, simulation] { runner->dispose(simulation); }, Qt::QueuedConnection);
        return;
    }
    m_sim = simulation;
    m_runClock.start();
    m_faults->setRunNodes(nodes);
    const SimConfig &config = simulation->config();
    const QString topology =
        nodes.size() > 1 ? tr("Redlock over %1 nodes").arg(nodes.size()) : tr("a single node");
    QString prefix = QString::fromUtf8(simulation->lockKey(0));
    prefix.chop(2); // "k0"
    emit logMessage(
        tr("Simulation started%1: %2, %3, %4, %5; keys %6*")
            .arg(config.scenario.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(config.scenario),
                 lockKindText(config),
                 locktext::counted(quint64(config.workers), tr("%1 worker"), tr("%1 workers")),
                 locktext::counted(quint64(config.keys), tr("%1 key"), tr("%1 keys")), topology, prefix));
    setPhase(Phase::Running);
    // The form is read-only during the run: show the figures instead.
    if (m_sections->currentIndex() == SetupSection)
        m_sections->setCurrentIndex(StatisticsSection);
    emit runStarted();
    m_refreshTimer.start();
    if (m_stopPending)
        stop();
    // A short run may have ended before this arrived; refresh() notices.
    refresh();
}

void SimulatorPanel::onRunFailed(quint64 run, const QString &message)
{
    if (run != m_run)
        return;
    showError(message);
    emit logMessage(tr("Simulation could not start: %1").arg(message), true);
    setPhase(Phase::Idle);
}

void SimulatorPanel::onRunFinished(quint64 run)
{
    if (run != m_run || !m_sim)
        return;
    m_refreshTimer.stop();
    Simulation *simulation = m_sim;
    const SimStats stats = simulation->stats();
    showStats(stats);
    readEvents(*simulation);
    // The run is over: the timeline shows all of it (or its first violation), not its last
    // seconds, so that a violation early in the run is in view without zooming.
    m_charts->showRun(std::llround(stats.elapsedSeconds * 1e6));
    appendSamples(simulation->samples(m_sampleCount));
    m_finalReport = simulation->report();
    m_finalEvents = simulation->events();
    m_faults->logFaults(m_finalReport->faults);
    logBreakers(*simulation);
    disposeRun();

    const KindFigure figure = kindFigure(m_finalReport->config, stats);
    emit logMessage(
        tr("Simulation finished after %1 s: %2 (%3), wait p99 %4, %5, %6, %7, %8, fairness %9; %10: %11")
            .arg(stats.elapsedSeconds, 0, 'f', 1)
            .arg(locktext::counted(stats.acquisitions, tr("%1 acquisition"), tr("%1 acquisitions")),
                 formatRate(perSecond(stats.acquisitions, stats.elapsedSeconds)),
                 lockscope::formatMicros(stats.waitP99Us),
                 locktext::counted(stats.violations, tr("%1 violation"), tr("%1 violations")),
                 locktext::counted(stats.fencingRejections, tr("%1 fencing rejection"),
                                   tr("%1 fencing rejections")),
                 locktext::counted(stats.overlaps, tr("%1 overlap"), tr("%1 overlaps")),
                 locktext::counted(stats.lostLocks, tr("%1 lost lock"), tr("%1 lost locks")))
            .arg(stats.fairness, 0, 'f', 3)
            .arg(lockKindText(m_finalReport->config),
                 QStringLiteral("%1 %2").arg(figure.name.toLower(), figure.value)),
        stats.violations > 0);
    if (stats.keysLeft > 0)
        emit logMessage(
            locktext::counted(
                stats.keysLeft,
                tr("Simulation: %1 lock key was still on a node at the end (it expires by its TTL)"),
                tr("Simulation: %1 lock keys were still on a node at the end (they expire by "
                   "their TTL)")),
            true);
    setPhase(Phase::Finished);
    emit runFinished();
}

void SimulatorPanel::disposeRun()
{
    if (!m_sim)
        return;
    Simulation *simulation = m_sim;
    m_sim = nullptr;
    SimRunner *runner = m_runner;
    QMetaObject::invokeMethod(
        runner, [runner, simulation] { runner->dispose(simulation); }, Qt::QueuedConnection);
}

void SimulatorPanel::stop()
{
    if (m_phase == Phase::Starting) {
        m_stopPending = true;
        setPhase(Phase::Starting);
        return;
    }
    if (!m_sim || (m_phase != Phase::Running && m_phase != Phase::Paused))
        return;
    m_sim->requestStop();
    setPhase(Phase::Stopping);
    emit logMessage(tr("Simulation: stopping (reverting faults, releasing locks)…"));
}

void SimulatorPanel::togglePause()
{
    if (!m_sim)
        return;
    if (m_phase == Phase::Running) {
        m_sim->pause();
        setPhase(Phase::Paused);
        emit logMessage(tr("Simulation paused"));
    } else if (m_phase == Phase::Paused) {
        m_sim->resume();
        setPhase(Phase::Running);
        emit logMessage(tr("Simulation resumed"));
    }
}

void SimulatorPanel::inject(const SimFault &fault)
{
    if (!m_sim || (m_phase != Phase::Running && m_phase != Phase::Paused))
        return;
    // Applied on the simulation's fault thread; the outcome comes back through the fault log.
    m_sim->inject(fault);
}

void SimulatorPanel::shutdown()
{
    if (m_shutDown)
        return;
    m_shutDown = true;
    m_refreshTimer.stop();
    if (m_sim)
        m_sim->requestStop();
    ++m_run;
    m_sim = nullptr;
    // The runner is deleted on its thread as the thread ends: that destroys a simulation under
    // way (faults reverted, locks released, keys checked, threads joined), then the local nodes.
    m_runnerThread.reset();
    m_runner = nullptr;
    if (isBusy())
        m_phase = Phase::Finished;
    updateControls();
}

void SimulatorPanel::resetView(const SimConfig &config)
{
    m_stats = SimStats{};
    m_lastSeq = 0;
    m_sampleCount = 0;
    m_breakersLogged = 0;
    m_finalReport.reset();
    m_finalEvents.clear();
    m_charts->reset(config.workers);
    m_faults->reset(config.nodes, config.workers);
    m_statsView->setRunConfig(config);
    showStats(m_stats);
}

void SimulatorPanel::refresh()
{
    if (!m_sim)
        return;
    const SimStats stats = m_sim->stats();
    if (stats.state == SimState::Finished) {
        onRunFinished(m_run);
        return;
    }
    showStats(stats);
    readEvents(*m_sim);
    m_charts->setNow(m_runClock.nsecsElapsed() / 1000);
    appendSamples(m_sim->samples(m_sampleCount));
    m_faults->logFaults(m_sim->faultLog());
    logBreakers(*m_sim);
    if (stats.state == SimState::Stopping && m_phase != Phase::Stopping)
        setPhase(Phase::Stopping);
    else
        updateControls();
}

/// The breaker transitions not logged yet, into the log and onto the timeline.
void SimulatorPanel::logBreakers(Simulation &simulation)
{
    const auto records = simulation.breakerLog(m_breakersLogged);
    if (records.empty())
        return;
    m_breakersLogged += records.size();
    for (const BreakerRecord &b : records)
        emit logMessage(
            tr("Simulation at %1 s: %2").arg(static_cast<double>(b.atUs) / 1e6, 0, 'f', 2).arg(b.describe()),
            b.event.to == lockscope::redis::BreakerState::Open);
    m_charts->timeline()->addBreakerMarks(records);
}

bool SimulatorPanel::startScenario(const QString &name)
{
    if (!m_form->selectScenario(name))
        return false;
    start();
    return true;
}

void SimulatorPanel::readEvents(Simulation &simulation)
{
    const auto events = simulation.events(m_lastSeq);
    if (!events.empty()) {
        m_lastSeq = events.back().seq;
        m_charts->appendEvents(events);
    }
}

void SimulatorPanel::appendSamples(const std::vector<ThroughputSample> &samples)
{
    m_sampleCount += samples.size();
    m_charts->appendSamples(samples);
}

void SimulatorPanel::showStats(const SimStats &stats)
{
    m_stats = stats;
    m_statsView->showStats(stats, m_phase != Phase::Idle && m_phase != Phase::Starting);
    m_charts->setHistogram(stats.waitLog2Us);
    m_faults->showNodeStates(stats);
}

// --- controls ------------------------------------------------------------------------------

void SimulatorPanel::setPhase(Phase phase)
{
    m_phase = phase;
    updateControls();
}

void SimulatorPanel::updateControls()
{
    const bool busy = isBusy() && !m_shutDown;
    const bool running = !m_shutDown && m_sim && (m_phase == Phase::Running || m_phase == Phase::Paused);
    m_form->setEnabled(!busy && !m_shutDown);
    m_startButton->setEnabled(!busy && !m_shutDown);
    m_pauseButton->setEnabled(running);
    m_pauseButton->setText(m_phase == Phase::Paused ? tr("Resume") : tr("Pause"));
    m_stopButton->setEnabled(!m_shutDown && (running || (m_phase == Phase::Starting && !m_stopPending)));
    m_exportButton->setExportable(m_sim || m_finalReport);
    m_faults->setRunState(running, m_runLocal, m_runProduction);
    m_status->setText(statusText());
}

QString SimulatorPanel::statusText() const
{
    switch (m_phase) {
    case Phase::Idle:
        return tr("Choose a target and the parameters, then Start.");
    case Phase::Starting:
        return m_stopPending ? tr("Starting (stops as soon as it runs)…")
               : m_runLocal  ? tr("Starting local nodes…")
                             : tr("Checking the nodes…");
    case Phase::Running:
    case Phase::Paused:
        return QStringLiteral("%1 · %2 · %3 · %4")
            .arg(m_phase == Phase::Paused ? tr("Paused") : tr("Running"),
                 tr("%1 s").arg(m_stats.elapsedSeconds, 0, 'f', 1),
                 locktext::counted(m_stats.acquisitions, tr("%1 acquisition"), tr("%1 acquisitions")),
                 locktext::counted(m_stats.violations, tr("%1 violation"), tr("%1 violations")));
    case Phase::Stopping:
        return tr("Stopping: reverting faults, releasing locks…");
    case Phase::Finished:
        return m_shutDown
                   ? tr("Stopped.")
                   : QStringLiteral("%1 · %2 · %3 · %4")
                         .arg(tr("Finished after %1 s").arg(m_stats.elapsedSeconds, 0, 'f', 1),
                              locktext::counted(m_stats.acquisitions, tr("%1 acquisition"),
                                                tr("%1 acquisitions")),
                              locktext::counted(m_stats.violations, tr("%1 violation"), tr("%1 violations")),
                              locktext::counted(m_stats.keysLeft, tr("%1 key left"), tr("%1 keys left")));
    }
    return {};
}

void SimulatorPanel::showError(const QString &text)
{
    m_error->setText(text);
    theme::setTextColor(m_error, theme::danger(palette()));
    m_error->setVisible(!text.isEmpty());
}

// --- export --------------------------------------------------------------------------------

QString SimulatorPanel::workersCsvPath(const QString &eventsPath)
{
    return simexport::workersCsvPath(eventsPath);
}

bool SimulatorPanel::exportJson(const QString &path)
{
    const std::optional<SimReport> report = m_sim ? std::optional<SimReport>(m_sim->report()) : m_finalReport;
    if (!report) {
        showError(tr("Nothing to export yet: start a run first."));
        return false;
    }
    return exported(simexport::writeJson(path, *report), tr("Simulation exported as JSON to %1").arg(path));
}

bool SimulatorPanel::exportCsv(const QString &path)
{
    if (!m_sim && !m_finalReport) {
        showError(tr("Nothing to export yet: start a run first."));
        return false;
    }
    const std::vector<SectionEvent> events = m_sim ? m_sim->events() : m_finalEvents;
    const SimStats stats = m_sim ? m_sim->stats() : m_finalReport->stats;
    return exported(simexport::writeCsv(path, events, stats),
                    tr("Simulation exported as CSV: critical sections to %1, per-worker counts to %2")
                        .arg(path, workersCsvPath(path)));
}

bool SimulatorPanel::exported(const std::expected<void, QString> &written, const QString &done)
{
    if (!written) {
        showError(tr("Export failed: %1").arg(written.error()));
        emit logMessage(tr("Simulation export failed: %1").arg(written.error()), true);
        return false;
    }
    emit logMessage(done);
    return true;
}
