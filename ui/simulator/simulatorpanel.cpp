#include "simulatorpanel.h"

#include "sim/simreport.h"
#include "simcharts.h"
#include "simrunner.h"
#include "themecolors.h"
#include "threadowner.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>
#include <expected>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::NodeGroup;
using lockscope::lock::RetryStrategy;
using lockscope::redis::NodeConfig;
using namespace lockscope::sim;
using namespace std::chrono_literals;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

/// Target combo: whether the item is the "local nodes" entry; the group name otherwise.
constexpr int LocalRole = Qt::UserRole + 1;
constexpr int GroupRole = Qt::UserRole + 2;

/// Sections kept for the timeline, the CSV export and the JSON's event count.
constexpr int EventCapacity = 50'000;
constexpr int MaxLocalNodes = 5;

enum WorkerColumn
{
    WorkerColumnId,
    WorkerColumnAcquisitions,
    WorkerColumnFailed,
    WorkerColumnViolations,
    WorkerColumnRejected,
    WorkerColumnLost,
    WorkerColumnStalls,
    WorkerColumnClock,
    WorkerColumnHolding,
    WorkerColumnCount
};

/// "850 µs", "1.2 ms", "2.35 s" (as lockctl simulate prints them).
QString formatUs(quint64 value)
{
    if (value >= 1'000'000)
        return QStringLiteral("%1 s").arg(static_cast<double>(value) / 1e6, 0, 'f', 2);
    if (value >= 1000)
        return QStringLiteral("%1 ms").arg(static_cast<double>(value) / 1e3, 0, 'f', 1);
    return QStringLiteral("%1 µs").arg(value);
}

/// "0.7/s", "12.5/s", "1,234/s": a slow run's rate must not round to 0.
QString formatRate(double perSecond)
{
    const QLocale locale;
    if (perSecond <= 0)
        return QStringLiteral("0/s");
    if (perSecond < 0.1)
        return locale.toString(perSecond, 'g', 2) + QStringLiteral("/s");
    return locale.toString(perSecond, 'f', perSecond < 100 ? 1 : 0) + QStringLiteral("/s");
}

/// Per second over the running time (pauses excluded), as the run's summary gives it.
double perSecond(quint64 count, double seconds)
{
    return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

/// "1 violation", "2 violations": `one` and `many` hold %1 for the number. English has no
/// translation file here, so %n with "(s)" would show as it is written.
QString counted(quint64 n, const QString &one, const QString &many)
{
    return (n == 1 ? one : many).arg(QLocale().toString(n));
}

QLabel *valueLabel(const QString &objectName)
{
    auto *label = new QLabel(QStringLiteral("–"));
    label->setObjectName(objectName);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont font = label->font();
    font.setBold(true);
    label->setFont(font);
    return label;
}

QSpinBox *msSpin(const QString &objectName, int max, const QString &special = {})
{
    auto *spin = new QSpinBox;
    spin->setObjectName(objectName);
    spin->setRange(0, max);
    spin->setSuffix(QStringLiteral(" ms"));
    spin->setSpecialValueText(special);
    spin->setAccelerated(true);
    return spin;
}

} // namespace

SimulatorPanel::SimulatorPanel(QWidget *parent)
    : QWidget(parent), m_runnerThread(std::make_unique<ThreadOwner>(QStringLiteral("Simulator")))
{
    m_runner = new SimRunner;
    m_runnerThread->adopt(m_runner);
    m_runnerThread->start();

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

    m_exportJsonAction = new QAction(tr("Export JSON…"), this);
    m_exportJsonAction->setObjectName(QStringLiteral("simExportJson"));
    m_exportCsvAction = new QAction(tr("Export CSV…"), this);
    m_exportCsvAction->setObjectName(QStringLiteral("simExportCsv"));
    m_exportCsvAction->setToolTip(tr("Critical sections to the chosen file, per-worker counts to a second "
                                     "file next to it (…-workers.csv)"));
    auto *exportMenu = new QMenu(this);
    exportMenu->setToolTipsVisible(true);
    exportMenu->addAction(m_exportJsonAction);
    exportMenu->addAction(m_exportCsvAction);
    m_exportButton = new QToolButton;
    m_exportButton->setObjectName(QStringLiteral("simExport"));
    m_exportButton->setText(tr("Export"));
    m_exportButton->setMenu(exportMenu);
    m_exportButton->setPopupMode(QToolButton::InstantPopup);
    m_exportButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    const auto exportName = [](const char *suffix) {
        return QDir::home().filePath(
            QStringLiteral("lockscope-sim-%1.%2")
                .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")),
                     QLatin1String(suffix)));
    };
    connect(m_exportJsonAction, &QAction::triggered, this, [this, exportName] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export the simulation as JSON"),
                                                          exportName("json"), tr("JSON (*.json)"));
        if (!path.isEmpty())
            exportJson(path);
    });
    connect(m_exportCsvAction, &QAction::triggered, this, [this, exportName] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export the critical sections as CSV"),
                                                          exportName("csv"), tr("CSV (*.csv)"));
        if (!path.isEmpty())
            exportCsv(path);
    });

    auto *buttons = new QHBoxLayout;
    buttons->setContentsMargins(0, 0, 0, 0);
    buttons->addWidget(m_startButton);
    buttons->addWidget(m_pauseButton);
    buttons->addWidget(m_stopButton);
    buttons->addStretch(1);
    buttons->addWidget(m_exportButton);

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("simStatus"));
    m_status->setWordWrap(true);
    m_error = new QLabel;
    m_error->setObjectName(QStringLiteral("simError"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setVisible(false);

    m_sections = new QTabWidget;
    m_sections->setObjectName(QStringLiteral("simSections"));
    m_sections->setDocumentMode(true);
    m_sections->addTab(createParameters(), tr("Setup"));
    m_sections->addTab(createFaults(), tr("Faults"));
    m_sections->addTab(createStatistics(), tr("Statistics"));

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

    setGroups({});
    showStats(m_stats);
    setPhase(Phase::Idle);
}

SimulatorPanel::~SimulatorPanel()
{
    shutdown();
}

// --- layout --------------------------------------------------------------------------------

QWidget *SimulatorPanel::createParameters()
{
    m_target = new QComboBox;
    m_target->setObjectName(QStringLiteral("simTarget"));
    m_target->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_target->setMinimumContentsLength(8);
    m_target->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_localNodes = new QSpinBox;
    m_localNodes->setObjectName(QStringLiteral("simLocalNodes"));
    m_localNodes->setRange(1, MaxLocalNodes);
    m_localNodes->setValue(1);
    m_localNodes->setSuffix(tr(" node"));
    m_localNodes->setToolTip(tr("1 node: a single-instance lock; more: Redlock"));
    auto *targetRow = new QHBoxLayout;
    targetRow->setContentsMargins(0, 0, 0, 0);
    targetRow->addWidget(m_target, 1);
    targetRow->addWidget(m_localNodes);
    m_targetNote = theme::noteLabel(QStringLiteral("simTargetNote"));
    connect(m_target, &QComboBox::currentIndexChanged, this, &SimulatorPanel::onTargetChanged);
    connect(m_localNodes, &QSpinBox::valueChanged, this, &SimulatorPanel::onTargetChanged);

    m_scenario = new QComboBox;
    m_scenario->setObjectName(QStringLiteral("simScenario"));
    m_scenario->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_scenario->setMinimumContentsLength(10);
    m_scenario->addItem(tr("Custom"), QString());
    for (const Scenario &s : scenarios()) {
        m_scenario->addItem(s.title, s.name);
        m_scenario->setItemData(m_scenario->count() - 1, s.description, Qt::ToolTipRole);
    }
    m_scenarioNote = theme::noteLabel(QStringLiteral("simScenarioNote"));
    connect(m_scenario, &QComboBox::currentIndexChanged, this, &SimulatorPanel::onScenarioChanged);
    m_scenarioNote->setText(tr("Your own parameters, no scheduled faults."));

    m_workers = new QSpinBox;
    m_workers->setObjectName(QStringLiteral("simWorkers"));
    m_workers->setRange(0, 1024);
    m_workers->setToolTip(tr("Worker threads, each with its own connections"));
    m_keys = new QSpinBox;
    m_keys->setObjectName(QStringLiteral("simKeys"));
    m_keys->setRange(1, 100'000);
    m_keys->setToolTip(tr("Lock keys; every critical section picks one at random"));

    m_hold = new QDoubleSpinBox;
    m_hold->setObjectName(QStringLiteral("simHold"));
    m_hold->setRange(0, 600'000);
    m_hold->setDecimals(3);
    m_hold->setSuffix(QStringLiteral(" ms"));
    m_hold->setToolTip(tr("Critical section length (mean for the random distributions)"));
    m_holdDistribution = new QComboBox;
    m_holdDistribution->setObjectName(QStringLiteral("simHoldDistribution"));
    m_holdDistribution->addItem(tr("Fixed"), int(HoldDistribution::Fixed));
    m_holdDistribution->addItem(tr("Uniform"), int(HoldDistribution::Uniform));
    m_holdDistribution->addItem(tr("Exponential"), int(HoldDistribution::Exponential));
    m_holdDistribution->setToolTip(tr("Fixed: every section lasts the hold time. Uniform: 0 to 2 × hold. "
                                      "Exponential: mean hold, many short sections and a few long ones."));
    auto *holdRow = new QHBoxLayout;
    holdRow->setContentsMargins(0, 0, 0, 0);
    holdRow->addWidget(m_hold, 1);
    holdRow->addWidget(m_holdDistribution);

    m_ttl = msSpin(QStringLiteral("simTtl"), 3'600'000);
    m_ttl->setToolTip(tr("Lock TTL"));
    m_wait = msSpin(QStringLiteral("simWait"), 3'600'000, tr("= TTL"));
    m_wait->setToolTip(tr("A blocking acquire gives up after this long (0: the TTL)"));
    m_retryBase = msSpin(QStringLiteral("simRetryBase"), 60'000);
    m_retryBase->setMinimum(1);
    m_retryMax = msSpin(QStringLiteral("simRetryMax"), 600'000);
    m_retryMax->setMinimum(1);
    m_retryBase->setToolTip(tr("Delay before a blocking acquire tries again: the first one of an "
                               "exponential schedule (it doubles up to the maximum), or every one of "
                               "a linear one; jittered by half"));
    m_retryMax->setToolTip(tr("Longest retry delay of an exponential schedule"));
    m_retryKind = new QComboBox;
    m_retryKind->setObjectName(QStringLiteral("simRetryKind"));
    m_retryKind->addItem(tr("Exponential"), int(RetryStrategy::Kind::Exponential));
    m_retryKind->addItem(tr("Linear"), int(RetryStrategy::Kind::Linear));
    m_retryKind->addItem(tr("No retry"), int(RetryStrategy::Kind::None));
    m_retryKind->setToolTip(tr("How a worker that finds the lock held tries again: a doubling delay, the "
                               "same delay every time, or not at all (one attempt per critical section)"));
    m_retryKind->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_retryKind, &QComboBox::currentIndexChanged, this, [this] {
        const auto kind = static_cast<RetryStrategy::Kind>(m_retryKind->currentData().toInt());
        m_retryBase->setEnabled(kind != RetryStrategy::Kind::None);
        m_retryMax->setEnabled(kind == RetryStrategy::Kind::Exponential);
    });
    auto *retryRow = new QHBoxLayout;
    retryRow->setContentsMargins(0, 0, 0, 0);
    retryRow->addWidget(m_retryKind);
    retryRow->addWidget(m_retryBase, 1);
    retryRow->addWidget(new QLabel(tr("to")));
    retryRow->addWidget(m_retryMax, 1);

    m_duration = new QDoubleSpinBox;
    m_duration->setObjectName(QStringLiteral("simDuration"));
    m_duration->setRange(0, 86'400);
    m_duration->setDecimals(1);
    m_duration->setSuffix(tr(" s"));
    m_duration->setSpecialValueText(tr("no time limit"));
    m_duration->setToolTip(tr("Running time limit (pauses excluded); 0: none"));
    m_maxAcquisitions = new QSpinBox;
    m_maxAcquisitions->setObjectName(QStringLiteral("simMaxAcquisitions"));
    m_maxAcquisitions->setRange(0, 2'000'000'000);
    m_maxAcquisitions->setSuffix(tr(" acq."));
    m_maxAcquisitions->setSpecialValueText(tr("no count limit"));
    m_maxAcquisitions->setToolTip(tr("Stop after exactly this many acquisitions; 0: none. With both limits, "
                                     "whichever comes first; with neither, the run lasts until Stop."));
    auto *limitRow = new QHBoxLayout;
    limitRow->setContentsMargins(0, 0, 0, 0);
    limitRow->addWidget(m_duration, 1);
    limitRow->addWidget(new QLabel(tr("or")));
    limitRow->addWidget(m_maxAcquisitions, 1);

    m_stall = msSpin(QStringLiteral("simStall"), 600'000, tr("no stalls"));
    m_stall->setToolTip(tr("One critical section in K stalls this long between its validity check and its "
                           "write (a GC pause)"));
    m_stallEvery = new QSpinBox;
    m_stallEvery->setObjectName(QStringLiteral("simStallEvery"));
    m_stallEvery->setRange(0, 1'000'000);
    m_stallEvery->setPrefix(tr("1 in "));
    m_stallEvery->setSpecialValueText(tr("never"));
    m_stallEvery->setToolTip(tr("K: which share of the critical sections stalls"));
    auto *stallRow = new QHBoxLayout;
    stallRow->setContentsMargins(0, 0, 0, 0);
    stallRow->addWidget(m_stall, 1);
    stallRow->addWidget(m_stallEvery, 1);

    m_wakeup = new QComboBox;
    m_wakeup->setObjectName(QStringLiteral("simWakeup"));
    m_wakeup->addItem(tr("Poll (sleep out the retry delay)"), int(Wakeup::Poll));
    m_wakeup->addItem(tr("Pub/sub (woken by releases)"), int(Wakeup::PubSub));
    m_wakeup->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_wakeup->setMinimumContentsLength(8);

    m_fencing = new QCheckBox(tr("Fencing tokens"));
    m_fencing->setObjectName(QStringLiteral("simFencing"));
    m_fencing->setToolTip(tr("The resource rejects writes with a token lower than one it has seen"));
    m_watchdog = new QCheckBox(tr("Watchdog"));
    m_watchdog->setObjectName(QStringLiteral("simWatchdog"));
    m_watchdog->setToolTip(tr("Each holder extends its lock every TTL/3"));
    m_checkValidity = new QCheckBox(tr("Check validity before writing"));
    m_checkValidity->setObjectName(QStringLiteral("simCheckValidity"));
    m_checkValidity->setToolTip(tr("A worker abandons its write when its own clock says the lock has "
                                   "expired (what a careful client does)"));
    auto *options = new QVBoxLayout;
    options->setContentsMargins(0, 0, 0, 0);
    options->setSpacing(2);
    options->addWidget(m_fencing);
    options->addWidget(m_watchdog);
    options->addWidget(m_checkValidity);

    // The spin boxes would be as wide as their largest value ("2000000000 acq."); let them
    // shrink with a narrow dock instead.
    const int em = fontMetrics().horizontalAdvance(QLatin1Char('m'));
    for (QAbstractSpinBox *spin : std::initializer_list<QAbstractSpinBox *>{
             m_workers, m_keys, m_hold, m_ttl, m_wait, m_retryBase, m_retryMax, m_duration, m_maxAcquisitions,
             m_stall, m_stallEvery, m_localNodes})
        spin->setMinimumWidth(em * 5);
    m_holdDistribution->setMinimumContentsLength(6);
    m_holdDistribution->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);

    m_parameters = new QWidget;
    auto *form = new QFormLayout(m_parameters);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setRowWrapPolicy(QFormLayout::DontWrapRows);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    form->addRow(tr("Target:"), targetRow);
    form->addRow(m_targetNote);
    form->addRow(tr("Scenario:"), m_scenario);
    form->addRow(m_scenarioNote);
    form->addRow(tr("Workers:"), m_workers);
    form->addRow(tr("Keys:"), m_keys);
    form->addRow(tr("Hold:"), holdRow);
    form->addRow(tr("TTL:"), m_ttl);
    form->addRow(tr("Wait deadline:"), m_wait);
    form->addRow(tr("Retry:"), retryRow);
    form->addRow(tr("Stop after:"), limitRow);
    form->addRow(tr("Stall:"), stallRow);
    form->addRow(tr("Wake-up:"), m_wakeup);
    form->addRow(tr("Options:"), options);

    auto *scroll = new QScrollArea;
    scroll->setObjectName(QStringLiteral("simParameters"));
    scroll->setWidget(m_parameters);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);

    // The engine's defaults, with lockctl simulate's 10 s.
    SimConfig defaults;
    defaults.duration = 10s;
    fillForm(defaults);
    return scroll;
}

QWidget *SimulatorPanel::createFaults()
{
    m_faultNode = new QComboBox;
    m_faultNode->setObjectName(QStringLiteral("simFaultNode"));
    m_faultNode->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_faultNode->setMinimumContentsLength(10);
    connect(m_faultNode, &QComboBox::currentIndexChanged, this, &SimulatorPanel::updateControls);
    m_pauseLength = msSpin(QStringLiteral("simFaultPauseLength"), 600'000, tr("until resumed"));
    m_pauseLength->setValue(2000);
    m_pauseLength->setToolTip(tr("Resumed after this long. Local nodes get SIGSTOP; other nodes CLIENT PAUSE "
                                 "WRITE, which needs a length (\"until resumed\" means 10 s there)."));
    m_pauseNodeButton = new QPushButton(tr("Pause"));
    m_pauseNodeButton->setObjectName(QStringLiteral("simFaultPause"));
    m_resumeNodeButton = new QPushButton(tr("Resume"));
    m_resumeNodeButton->setObjectName(QStringLiteral("simFaultResume"));
    m_killNodeButton = new QPushButton(tr("Kill"));
    m_killNodeButton->setObjectName(QStringLiteral("simFaultKill"));
    m_killNodeButton->setToolTip(tr("SIGKILL: the node loses its data set (local nodes only)"));
    m_restartNodeButton = new QPushButton(tr("Restart"));
    m_restartNodeButton->setObjectName(QStringLiteral("simFaultRestart"));
    m_restartNodeButton->setToolTip(tr("Start the killed node again, empty (local nodes only)"));
    m_nodeStates = theme::noteLabel(QStringLiteral("simNodeStates"));
    const auto nodeFault = [this](SimFault::Kind kind) {
        SimFault fault;
        fault.kind = kind;
        fault.target = m_faultNode->currentIndex();
        if (kind == SimFault::Kind::PauseNode)
            fault.length = milliseconds(m_pauseLength->value());
        inject(fault);
    };
    connect(m_pauseNodeButton, &QPushButton::clicked, this,
            [nodeFault] { nodeFault(SimFault::Kind::PauseNode); });
    connect(m_resumeNodeButton, &QPushButton::clicked, this,
            [nodeFault] { nodeFault(SimFault::Kind::ResumeNode); });
    connect(m_killNodeButton, &QPushButton::clicked, this,
            [nodeFault] { nodeFault(SimFault::Kind::KillNode); });
    connect(m_restartNodeButton, &QPushButton::clicked, this,
            [nodeFault] { nodeFault(SimFault::Kind::RestartNode); });

    m_nodeFaults = new QGroupBox(tr("Node"));
    auto *nodeGrid = new QGridLayout(m_nodeFaults);
    nodeGrid->addWidget(m_faultNode, 0, 0, 1, 2);
    nodeGrid->addWidget(new QLabel(tr("Pause for:")), 1, 0);
    nodeGrid->addWidget(m_pauseLength, 1, 1);
    nodeGrid->addWidget(m_pauseNodeButton, 2, 0);
    nodeGrid->addWidget(m_resumeNodeButton, 2, 1);
    nodeGrid->addWidget(m_killNodeButton, 3, 0);
    nodeGrid->addWidget(m_restartNodeButton, 3, 1);
    nodeGrid->addWidget(m_nodeStates, 4, 0, 1, 2);

    m_faultWorker = new QComboBox;
    m_faultWorker->setObjectName(QStringLiteral("simFaultWorker"));
    m_dropButton = new QPushButton(tr("Drop connections"));
    m_dropButton->setObjectName(QStringLiteral("simFaultDrop"));
    m_dropButton->setToolTip(tr("CLIENT KILL of every connection of the worker, on every node"));
    m_driftRate = new QDoubleSpinBox;
    m_driftRate->setObjectName(QStringLiteral("simFaultRate"));
    m_driftRate->setRange(0.01, 100);
    m_driftRate->setDecimals(2);
    m_driftRate->setSingleStep(0.1);
    m_driftRate->setValue(1.5);
    m_driftRate->setPrefix(QStringLiteral("× "));
    m_driftRate->setToolTip(
        tr("The worker's lock clock runs at this rate: 1.5 = 50 % fast, 0.5 = half speed; "
           "1 puts it back"));
    m_driftButton = new QPushButton(tr("Drift clock"));
    m_driftButton->setObjectName(QStringLiteral("simFaultDrift"));
    m_stallLength = msSpin(QStringLiteral("simFaultStallLength"), 600'000);
    m_stallLength->setMinimum(1);
    m_stallLength->setValue(500);
    m_stallButton = new QPushButton(tr("Stall next holder"));
    m_stallButton->setObjectName(QStringLiteral("simFaultStall"));
    m_stallButton->setToolTip(tr("Whoever holds the lock next stalls this long after its validity check"));
    connect(m_dropButton, &QPushButton::clicked, this, [this] {
        SimFault fault;
        fault.kind = SimFault::Kind::DropConnection;
        fault.target = m_faultWorker->currentIndex();
        inject(fault);
    });
    connect(m_driftButton, &QPushButton::clicked, this, [this] {
        SimFault fault;
        fault.kind = SimFault::Kind::ClockDrift;
        fault.target = m_faultWorker->currentIndex();
        fault.rate = m_driftRate->value();
        inject(fault);
    });
    connect(m_stallButton, &QPushButton::clicked, this, [this] {
        SimFault fault;
        fault.kind = SimFault::Kind::StallHolder;
        fault.target = -1;
        fault.length = milliseconds(m_stallLength->value());
        inject(fault);
    });

    m_workerFaults = new QGroupBox(tr("Worker"));
    auto *workerGrid = new QGridLayout(m_workerFaults);
    workerGrid->addWidget(m_faultWorker, 0, 0);
    workerGrid->addWidget(m_dropButton, 0, 1);
    workerGrid->addWidget(m_driftRate, 1, 0);
    workerGrid->addWidget(m_driftButton, 1, 1);
    workerGrid->addWidget(m_stallLength, 2, 0);
    workerGrid->addWidget(m_stallButton, 2, 1);
    workerGrid->setColumnStretch(0, 1);
    workerGrid->setColumnStretch(1, 1);

    auto *note = theme::noteLabel(QStringLiteral("simFaultNote"));
    note->setText(tr("Faults apply while a run is going; their outcomes go to the event log. "
                     "Kill and restart need local nodes."));

    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(m_nodeFaults);
    layout->addWidget(m_workerFaults);
    layout->addWidget(note);
    layout->addStretch(1);
    auto *scroll = new QScrollArea;
    scroll->setWidget(page);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    return scroll;
}

QWidget *SimulatorPanel::createStatistics()
{
    m_acquisitions = valueLabel(QStringLiteral("simAcquisitions"));
    m_acquisitionRate = valueLabel(QStringLiteral("simAcquisitionRate"));
    m_failedRate = valueLabel(QStringLiteral("simFailedRate"));
    m_waitTimes = valueLabel(QStringLiteral("simWaitTimes"));
    m_holdTimes = valueLabel(QStringLiteral("simHoldTimes"));
    m_violations = valueLabel(QStringLiteral("simViolations"));
    m_rejections = valueLabel(QStringLiteral("simFencingRejections"));
    m_overlaps = valueLabel(QStringLiteral("simOverlaps"));
    m_lostLocks = valueLabel(QStringLiteral("simLostLocks"));
    m_fairness = valueLabel(QStringLiteral("simFairness"));
    m_keysLeft = valueLabel(QStringLiteral("simKeysLeft"));

    auto *grid = new QGridLayout;
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(3);
    int row = 0;
    const auto pair = [&](int column, const QString &name, QLabel *value, const QString &tip) {
        auto *label = new QLabel(name);
        label->setToolTip(tip);
        value->setToolTip(tip);
        grid->addWidget(label, row, column * 2);
        grid->addWidget(value, row, column * 2 + 1);
    };
    const auto wide = [&](const QString &name, QLabel *value, const QString &tip) {
        auto *label = new QLabel(name);
        label->setToolTip(tip);
        value->setToolTip(tip);
        grid->addWidget(label, row, 0);
        grid->addWidget(value, row, 1, 1, 3);
        ++row;
    };
    pair(0, tr("Acquisitions"), m_acquisitions, tr("Locks obtained"));
    pair(1, tr("Per second"), m_acquisitionRate,
         tr("Acquisitions per second over the running time so far (pauses excluded); the throughput "
            "chart shows them over time"));
    ++row;
    pair(0, tr("Failed/s"), m_failedRate,
         tr("Failed attempts per second over the running time so far (also those of acquires that "
            "succeeded in the end)"));
    pair(1, tr("Fairness"), m_fairness,
         tr("Jain's index over the workers' acquisitions: 1 = all equal, 1/n = one took all"));
    ++row;
    pair(0, tr("Violations"), m_violations, tr("Writes accepted on a stale value: lost updates"));
    pair(1, tr("Rejected"), m_rejections, tr("Stale writes the resource refused thanks to fencing tokens"));
    ++row;
    pair(0, tr("Overlaps"), m_overlaps, tr("Critical sections on the same key that overlapped in time"));
    pair(1, tr("Lost locks"), m_lostLocks, tr("Locks the watchdog reported lost"));
    ++row;
    wide(tr("Wait"), m_waitTimes,
         tr("Time to obtain the lock: median (p50), 95th and 99th percentile of the blocking acquires "
            "(one that gave up counts until it gave up)"));
    wide(tr("Hold"), m_holdTimes, tr("Critical section length: median (p50) and 99th percentile"));
    wide(tr("Keys left"), m_keysLeft,
         tr("Lock keys still on a node after the final releases (known once the run has finished)"));
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);

    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    layout->addLayout(grid);
    layout->addWidget(createWorkersTable(), 1);
    return page;
}

QWidget *SimulatorPanel::createWorkersTable()
{
    m_workerTable = new QTableWidget(0, WorkerColumnCount);
    m_workerTable->setObjectName(QStringLiteral("simWorkersTable"));
    // Short titles, so that the table fits a narrow dock; the tooltips say it in full.
    m_workerTable->setHorizontalHeaderLabels({tr("#"), tr("Acq."), tr("Failed"), tr("Viol."), tr("Rej."),
                                              tr("Lost"), tr("Stalls"), tr("Clock"), tr("Holds")});
    const QStringList tips{tr("Worker"),
                           tr("Acquisitions"),
                           tr("Failed attempts"),
                           tr("Violations: writes accepted on a stale value"),
                           tr("Fencing rejections: stale writes refused"),
                           tr("Locks lost: the watchdog reported it, or the release found it gone"),
                           tr("Stalled critical sections"),
                           tr("Lock clock rate (1 = no drift)"),
                           tr("Holding a lock right now")};
    for (int column = 0; column < WorkerColumnCount; ++column)
        m_workerTable->horizontalHeaderItem(column)->setToolTip(tips[column]);
    m_workerTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_workerTable->setSelectionMode(QAbstractItemView::NoSelection);
    m_workerTable->setAlternatingRowColors(true);
    m_workerTable->setShowGrid(false);
    m_workerTable->setWordWrap(false);
    m_workerTable->verticalHeader()->hide();
    m_workerTable->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_workerTable->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_workerTable->horizontalHeader()->setHighlightSections(false);
    m_workerTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_workerTable->horizontalHeader()->setStretchLastSection(true);
    m_workerTable->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_workerTable->setMinimumHeight(fontMetrics().height() * 6);
    return m_workerTable;
}

void SimulatorPanel::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    // The figures' colours come from the palette (the charts follow it themselves).
    if (m_charts && (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange))
        showStats(m_stats);
}

// --- target and parameters -----------------------------------------------------------------

void SimulatorPanel::setGroups(const GroupConfig &config)
{
    const Target previous = m_target->count() > 0 ? currentTarget() : Target{};
    m_config = config;
    const QSignalBlocker blocker(m_target);
    m_target->clear();
    m_target->addItem(tr("Local nodes"));
    m_target->setItemData(0, true, LocalRole);
    m_target->setItemData(0,
                          tr("redis-server processes on free loopback ports, started for the run and stopped "
                             "after it; they can be paused, killed and restarted"),
                          Qt::ToolTipRole);
    int select = 0;
    for (const NodeGroup &group : m_config.groups) {
        bool production = false;
        for (const auto &node : group.nodes)
            production = production || node.production;
        QString text = group.isRedlockSet()
                           ? tr("%1 (Redlock, %2 nodes)").arg(group.name).arg(group.nodes.size())
                           : tr("%1 (single node)").arg(group.name);
        if (production)
            text += QStringLiteral(" — ") + tr("production");
        m_target->addItem(text);
        const int index = m_target->count() - 1;
        m_target->setItemData(index, false, LocalRole);
        m_target->setItemData(index, group.name, GroupRole);
        if (!previous.local && previous.group == group.name)
            select = index;
    }
    m_target->setCurrentIndex(select);
    onTargetChanged();
}

bool SimulatorPanel::localTarget() const
{
    return currentTarget().local;
}

SimulatorPanel::Target SimulatorPanel::currentTarget() const
{
    const int index = m_target->currentIndex();
    if (index < 0 || m_target->itemData(index, LocalRole).toBool())
        return Target{};
    return Target{false, m_target->itemData(index, GroupRole).toString()};
}

const NodeGroup *SimulatorPanel::targetGroup() const
{
    const Target target = currentTarget();
    return target.local ? nullptr : m_config.group(target.group);
}

void SimulatorPanel::onTargetChanged()
{
    m_localNodes->setSuffix(m_localNodes->value() == 1 ? tr(" node") : tr(" nodes"));
    const bool local = localTarget();
    m_localNodes->setVisible(local);
    if (local) {
        const int n = m_localNodes->value();
        m_targetNote->setText(
            n == 1 ? tr("Single-instance lock on one redis-server started for the run (stopped after it).")
                   : tr("Redlock over %1 redis-servers started for the run (stopped after it).").arg(n));
        return;
    }
    const NodeGroup *group = targetGroup();
    if (!group) {
        m_targetNote->clear();
        return;
    }
    QStringList names;
    bool production = false;
    for (const auto &node : group->nodes) {
        names << node.config.label();
        production = production || node.production;
    }
    QString text =
        group->isRedlockSet()
            ? tr("Redlock over %1 (quorum %2).").arg(names.join(QStringLiteral(", "))).arg(group->quorum())
            : tr("Single-instance lock on %1.").arg(names.join(QString()));
    text += QLatin1Char(' ') + tr("Writes lockscope:sim:<run id>:* keys and deletes them at the end.");
    if (production)
        text += QLatin1Char(' ') + tr("Production: asks before it starts.");
    m_targetNote->setText(text);
}

void SimulatorPanel::onScenarioChanged()
{
    const QString name = m_scenario->currentData().toString();
    const std::optional<Scenario> scenario = findScenario(name);
    if (!scenario) {
        m_scenarioConfig = SimConfig{};
        m_scenarioNote->setText(tr("Your own parameters, no scheduled faults."));
        return;
    }
    SimConfig config;
    applyScenario(name, config);
    m_scenarioConfig = config;
    fillForm(config);
    QString note = scenario->description;
    if (!config.faults.empty()) {
        QStringList faults;
        for (const SimFault &fault : config.faults)
            faults << fault.describe();
        note += QLatin1Char(' ') + tr("Faults: %1.").arg(faults.join(QStringLiteral("; ")));
    }
    m_scenarioNote->setText(note);
    if (scenario->needsLocal || (localTarget() && scenario->nodes > 0)) {
        m_target->setCurrentIndex(0);
        if (scenario->nodes > 0)
            m_localNodes->setValue(scenario->nodes);
    }
}

void SimulatorPanel::fillForm(const SimConfig &config)
{
    m_filling = true;
    m_workers->setValue(config.workers);
    m_keys->setValue(config.keys);
    m_hold->setValue(static_cast<double>(config.hold.count()) / 1000.0);
    m_holdDistribution->setCurrentIndex(m_holdDistribution->findData(int(config.holdDistribution)));
    m_ttl->setValue(static_cast<int>(config.ttl.count()));
    m_wait->setValue(static_cast<int>(config.wait.count()));
    m_retryKind->setCurrentIndex(m_retryKind->findData(int(config.retry.kind)));
    m_retryBase->setValue(static_cast<int>(config.retry.delay.count()));
    m_retryMax->setValue(static_cast<int>(config.retry.maxDelay.count()));
    m_duration->setValue(static_cast<double>(config.duration.count()) / 1000.0);
    m_maxAcquisitions->setValue(static_cast<int>(std::min<qint64>(config.maxAcquisitions, 2'000'000'000)));
    m_stall->setValue(static_cast<int>(config.stall.count()));
    m_stallEvery->setValue(config.stallEvery);
    m_fencing->setChecked(config.fencing);
    m_watchdog->setChecked(config.watchdog);
    m_checkValidity->setChecked(config.checkValidity);
    m_wakeup->setCurrentIndex(m_wakeup->findData(int(config.wakeup)));
    m_filling = false;
}

SimConfig SimulatorPanel::formConfig() const
{
    // The scenario's fault schedule and name stay; the form overrides its parameters (as the
    // options of lockctl simulate override --scenario).
    SimConfig config = m_scenarioConfig;
    config.workers = m_workers->value();
    config.keys = m_keys->value();
    config.hold = microseconds(std::llround(m_hold->value() * 1000.0));
    config.holdDistribution = static_cast<HoldDistribution>(m_holdDistribution->currentData().toInt());
    config.ttl = milliseconds(m_ttl->value());
    config.wait = milliseconds(m_wait->value());
    switch (static_cast<RetryStrategy::Kind>(m_retryKind->currentData().toInt())) {
    case RetryStrategy::Kind::Exponential:
        config.retry = RetryStrategy::exponential(milliseconds(m_retryBase->value()),
                                                  milliseconds(m_retryMax->value()), 0, 0.5);
        break;
    case RetryStrategy::Kind::Linear:
        config.retry = RetryStrategy::linear(milliseconds(m_retryBase->value()), 0, 0.5);
        break;
    case RetryStrategy::Kind::None:
        config.retry = RetryStrategy::none();
        break;
    }
    config.duration = milliseconds(std::llround(m_duration->value() * 1000.0));
    config.maxAcquisitions = m_maxAcquisitions->value();
    config.stall = milliseconds(m_stall->value());
    config.stallEvery = m_stallEvery->value();
    config.fencing = m_fencing->isChecked();
    config.watchdog = m_watchdog->isChecked();
    config.checkValidity = m_checkValidity->isChecked();
    config.wakeup = static_cast<Wakeup>(m_wakeup->currentData().toInt());
    config.eventCapacity = EventCapacity;
    config.nodes.clear();
    if (localTarget()) {
        for (int i = 0; i < m_localNodes->value(); ++i) {
            NodeConfig node;
            node.name = QStringLiteral("local%1").arg(i);
            config.nodes.push_back(node);
        }
    } else if (const NodeGroup *group = targetGroup()) {
        for (const auto &node : group->nodes)
            config.nodes.push_back(node.clientConfig());
    }
    return config;
}

QStringList SimulatorPanel::formProblems() const
{
    QStringList problems;
    const bool local = localTarget();
    const SimConfig config = formConfig();
    if (!local) {
        const NodeGroup *group = targetGroup();
        // Read-only nodes are refused by SimConfig::validate below (core's rule).
        if (!group)
            problems << tr("target: the group %1 is no longer configured").arg(currentTarget().group);
    }
    if (const auto scenario = findScenario(config.scenario)) {
        if (scenario->needsLocal && !local)
            problems << tr("scenario %1 kills and restarts nodes: choose local nodes as the target")
                            .arg(scenario->name);
        else if (scenario->nodes > 0 && static_cast<int>(config.nodes.size()) < scenario->nodes)
            problems << tr("scenario %1 needs %2 nodes, the target has %3")
                            .arg(scenario->name)
                            .arg(scenario->nodes)
                            .arg(config.nodes.size());
    }
    if (config.retry.kind == RetryStrategy::Kind::Exponential && config.retry.maxDelay < config.retry.delay)
        problems << tr("retry: the longest delay is below the first");
    problems << config.validate(std::vector<bool>(config.nodes.size(), local));
    return problems;
}

bool SimulatorPanel::confirmProduction(const NodeGroup &group)
{
    QStringList production;
    for (const auto &node : group.nodes) {
        if (node.production)
            production << node.config.label();
    }
    if (production.isEmpty())
        return true;
    const SimConfig config = formConfig();
    QMessageBox box(
        QMessageBox::Warning, tr("Run the simulator on production?"),
        tr("<p>Group <b>%1</b> has production nodes: %2.</p>"
           "<p>The simulator will take and release locks there as fast as %3 workers can, on "
           "the keys <code>lockscope:sim:&lt;run id&gt;:k0</code> … <code>k%4</code> and their "
           "fence counters, and delete them when the run ends.</p>")
            .arg(group.name.toHtmlEscaped(), production.join(QStringLiteral(", ")).toHtmlEscaped())
            .arg(config.workers)
            .arg(config.keys - 1),
        QMessageBox::NoButton, this);
    QPushButton *run = box.addButton(tr("Run on %1").arg(group.name), QMessageBox::AcceptRole);
    QPushButton *cancel = box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(cancel);
    cancel->setFocus();
    box.exec();
    return box.clickedButton() == run;
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
    const bool local = localTarget();
    if (const NodeGroup *group = targetGroup(); group && !confirmProduction(*group))
        return;

    SimConfig config = formConfig();
    const int localNodes = local ? m_localNodes->value() : 0;
    const quint64 run = ++m_run;
    m_runLocal = local;
    m_runProduction = false;
    if (const NodeGroup *group = targetGroup()) {
        for (const auto &node : group->nodes)
            m_runProduction = m_runProduction || node.production;
    }
    m_stopPending = false;
    resetView(config);
    setPhase(Phase::Starting);
    emit logMessage(local ? counted(localNodes, tr("Simulator: starting %1 local node…"),
                                    tr("Simulator: starting %1 local nodes…"))
                          : tr("Simulator: starting on %1…").arg(currentTarget().group));

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
    m_runNodes = nodes;
    m_runClock.start();
    m_faultNode->clear();
    for (size_t i = 0; i < nodes.size(); ++i)
        m_faultNode->addItem(QStringLiteral("%1: %2").arg(i).arg(nodes[i].label()));
    const SimConfig &config = simulation->config();
    QString kind = nodes.size() > 1 ? tr("Redlock over %1 nodes").arg(nodes.size()) : tr("a single node");
    QString prefix = QString::fromUtf8(simulation->lockKey(0));
    prefix.chop(2); // "k0"
    emit logMessage(
        tr("Simulation started%1: %2, %3, %4; keys %5*")
            .arg(config.scenario.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(config.scenario),
                 counted(quint64(config.workers), tr("%1 worker"), tr("%1 workers")),
                 counted(quint64(config.keys), tr("%1 key"), tr("%1 keys")), kind, prefix));
    setPhase(Phase::Running);
    // The form is read-only during the run: show the figures instead.
    if (m_sections->currentIndex() == 0)
        m_sections->setCurrentIndex(2);
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
    const auto events = simulation->events(m_lastSeq);
    if (!events.empty()) {
        m_lastSeq = events.back().seq;
        m_charts->appendEvents(events);
    }
    // The run is over: the timeline shows all of it (or its first violation), not its last
    // seconds, so that a violation early in the run is in view without zooming.
    m_charts->showRun(std::llround(stats.elapsedSeconds * 1e6));
    appendSamples(simulation->samples(m_sampleCount));
    m_finalReport = simulation->report();
    m_finalEvents = simulation->events();
    logFaults(m_finalReport->faults);
    disposeRun();

    emit logMessage(
        tr("Simulation finished after %1 s: %2 (%3), wait p99 %4, %5, %6, %7, %8, fairness %9")
            .arg(stats.elapsedSeconds, 0, 'f', 1)
            .arg(counted(stats.acquisitions, tr("%1 acquisition"), tr("%1 acquisitions")),
                 formatRate(perSecond(stats.acquisitions, stats.elapsedSeconds)), formatUs(stats.waitP99Us),
                 counted(stats.violations, tr("%1 violation"), tr("%1 violations")),
                 counted(stats.fencingRejections, tr("%1 fencing rejection"), tr("%1 fencing rejections")),
                 counted(stats.overlaps, tr("%1 overlap"), tr("%1 overlaps")),
                 counted(stats.lostLocks, tr("%1 lost lock"), tr("%1 lost locks")))
            .arg(stats.fairness, 0, 'f', 3),
        stats.violations > 0);
    if (stats.keysLeft > 0)
        emit logMessage(
            counted(stats.keysLeft,
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
    m_faultsLogged = 0;
    m_finalReport.reset();
    m_finalEvents.clear();
    m_runNodes.clear();
    m_runWorkers = config.workers;
    m_charts->reset(config.workers);
    m_workerTable->setRowCount(0);
    m_faultNode->clear();
    for (int i = 0; i < int(config.nodes.size()); ++i)
        m_faultNode->addItem(QStringLiteral("%1: %2").arg(i).arg(config.nodes[size_t(i)].label()));
    m_faultWorker->clear();
    for (int i = 0; i < config.workers; ++i)
        m_faultWorker->addItem(tr("Worker %1").arg(i));
    m_nodeStates->clear();
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
    const auto events = m_sim->events(m_lastSeq);
    if (!events.empty()) {
        m_lastSeq = events.back().seq;
        m_charts->appendEvents(events);
    }
    m_charts->setNow(m_runClock.nsecsElapsed() / 1000);
    appendSamples(m_sim->samples(m_sampleCount));
    logFaults(m_sim->faultLog());
    if (stats.state == SimState::Stopping && m_phase != Phase::Stopping)
        setPhase(Phase::Stopping);
    else
        updateControls();
}

void SimulatorPanel::showStats(const SimStats &stats)
{
    m_stats = stats;
    const QLocale locale;
    const bool any = m_phase != Phase::Idle && m_phase != Phase::Starting;
    const auto number = [&](quint64 value) {
        return any ? locale.toString(value) : QStringLiteral("–");
    };
    m_acquisitions->setText(number(stats.acquisitions));
    // Over the whole running time: the last sample's rate of a slow run is 0 or 1 by chance.
    m_acquisitionRate->setText(any ? formatRate(perSecond(stats.acquisitions, stats.elapsedSeconds))
                                   : QStringLiteral("–"));
    m_failedRate->setText(any ? formatRate(perSecond(stats.failedAttempts, stats.elapsedSeconds))
                              : QStringLiteral("–"));
    m_violations->setText(number(stats.violations));
    m_rejections->setText(number(stats.fencingRejections));
    m_overlaps->setText(number(stats.overlaps));
    m_lostLocks->setText(number(stats.lostLocks));
    m_fairness->setText(any && stats.acquisitions > 0 ? locale.toString(stats.fairness, 'f', 3)
                                                      : QStringLiteral("–"));
    m_waitTimes->setText(
        any && stats.acquisitions > 0
            ? tr("p50 %1 · p95 %2 · p99 %3")
                  .arg(formatUs(stats.waitP50Us), formatUs(stats.waitP95Us), formatUs(stats.waitP99Us))
            : QStringLiteral("–"));
    m_holdTimes->setText(any && stats.acquisitions > 0
                             ? tr("p50 %1 · p99 %2").arg(formatUs(stats.holdP50Us), formatUs(stats.holdP99Us))
                             : QStringLiteral("–"));
    m_keysLeft->setText(stats.state == SimState::Finished ? locale.toString(stats.keysLeft)
                                                          : QStringLiteral("–"));
    const QPalette pal = palette();
    theme::setTextColor(m_violations, stats.violations > 0 ? theme::danger(pal) : QColor());
    theme::setTextColor(m_rejections, stats.fencingRejections > 0 ? theme::warning(pal) : QColor());
    theme::setTextColor(m_overlaps, stats.overlaps > 0 ? theme::danger(pal) : QColor());
    theme::setTextColor(
        m_keysLeft, stats.state == SimState::Finished && stats.keysLeft > 0 ? theme::danger(pal) : QColor());
    updateWorkers(stats);
    m_charts->setHistogram(stats.waitLog2Us);

    QStringList nodes;
    for (size_t i = 0; i < m_runNodes.size(); ++i) {
        const bool down = i < stats.nodeDown.size() && stats.nodeDown[i];
        const bool paused = i < stats.nodePaused.size() && stats.nodePaused[i];
        nodes << QStringLiteral("%1 %2").arg(m_runNodes[i].label(), down     ? tr("down")
                                                                    : paused ? tr("paused")
                                                                             : tr("up"));
    }
    m_nodeStates->setText(nodes.join(QStringLiteral(" · ")));
}

void SimulatorPanel::updateWorkers(const SimStats &stats)
{
    const int rows = static_cast<int>(stats.workers.size());
    if (m_workerTable->rowCount() != rows) {
        m_workerTable->setRowCount(rows);
        for (int row = 0; row < rows; ++row) {
            for (int column = 0; column < WorkerColumnCount; ++column) {
                auto *item = new QTableWidgetItem;
                item->setTextAlignment(column == WorkerColumnHolding ? Qt::Alignment(Qt::AlignCenter)
                                                                     : Qt::AlignRight | Qt::AlignVCenter);
                m_workerTable->setItem(row, column, item);
            }
        }
    }
    const QLocale locale;
    const QColor danger = theme::danger(palette());
    const auto set = [&](int row, int column, const QString &text, const QColor &color = {}) {
        QTableWidgetItem *item = m_workerTable->item(row, column);
        if (item->text() != text)
            item->setText(text);
        const QVariant foreground = color.isValid() ? QVariant(color) : QVariant();
        if (item->data(Qt::ForegroundRole) != foreground)
            item->setData(Qt::ForegroundRole, foreground);
    };
    for (int row = 0; row < rows; ++row) {
        const WorkerStats &w = stats.workers[size_t(row)];
        set(row, WorkerColumnId, QString::number(w.worker));
        set(row, WorkerColumnAcquisitions, locale.toString(w.acquisitions));
        set(row, WorkerColumnFailed, locale.toString(w.failedAttempts));
        set(row, WorkerColumnViolations, locale.toString(w.violations), w.violations > 0 ? danger : QColor());
        set(row, WorkerColumnRejected, locale.toString(w.fencingRejections));
        // As lockctl simulate counts them: the watchdog lost it, or the release found it gone.
        set(row, WorkerColumnLost, locale.toString(w.lostLocks + w.expiredBeforeRelease));
        set(row, WorkerColumnStalls, locale.toString(w.stalls));
        set(row, WorkerColumnClock,
            w.clockRate == 1.0 ? QStringLiteral("1") : QString::number(w.clockRate, 'g', 3));
        set(row, WorkerColumnHolding, w.holding ? QStringLiteral("●") : QString());
    }
}

void SimulatorPanel::appendSamples(const std::vector<ThroughputSample> &samples)
{
    m_sampleCount += samples.size();
    m_charts->appendSamples(samples);
}

void SimulatorPanel::logFaults(const std::vector<FaultRecord> &faults)
{
    for (size_t i = m_faultsLogged; i < faults.size(); ++i) {
        const FaultRecord &f = faults[i];
        emit logMessage(tr("Simulation fault at %1 s, %2: %3%4")
                            .arg(static_cast<double>(f.atUs) / 1e6, 0, 'f', 2)
                            .arg(f.fault.describe(), f.ok ? QString() : tr("failed: "), f.message),
                        !f.ok);
    }
    m_faultsLogged = std::max(m_faultsLogged, faults.size());
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
    m_parameters->setEnabled(!busy && !m_shutDown);
    m_startButton->setEnabled(!busy && !m_shutDown);
    m_pauseButton->setEnabled(running);
    m_pauseButton->setText(m_phase == Phase::Paused ? tr("Resume") : tr("Pause"));
    m_stopButton->setEnabled(!m_shutDown && (running || (m_phase == Phase::Starting && !m_stopPending)));
    const bool exportable = m_sim || m_finalReport;
    m_exportButton->setEnabled(exportable);
    m_exportJsonAction->setEnabled(exportable);
    m_exportCsvAction->setEnabled(exportable);

    // Faults: only while running, and only those that apply to the node as it is now. Not on
    // production nodes: a CLIENT PAUSE there would hold up every other client too.
    const bool production = m_runProduction;
    const int node = m_faultNode->currentIndex();
    const bool paused =
        node >= 0 && size_t(node) < m_stats.nodePaused.size() && m_stats.nodePaused[size_t(node)];
    const bool down = node >= 0 && size_t(node) < m_stats.nodeDown.size() && m_stats.nodeDown[size_t(node)];
    const bool nodeFaults = running && node >= 0 && !production;
    m_nodeFaults->setEnabled(running);
    m_faultNode->setEnabled(running);
    m_pauseLength->setEnabled(nodeFaults);
    m_pauseNodeButton->setEnabled(nodeFaults && !paused && !down);
    m_resumeNodeButton->setEnabled(nodeFaults && paused);
    m_killNodeButton->setEnabled(nodeFaults && m_runLocal && !down);
    m_restartNodeButton->setEnabled(nodeFaults && m_runLocal && down);
    const QString nodeTip = production ? tr("Not on production nodes") : QString();
    m_pauseNodeButton->setToolTip(nodeTip.isEmpty() ? tr("SIGSTOP a local node; CLIENT PAUSE WRITE elsewhere")
                                                    : nodeTip);
    m_resumeNodeButton->setToolTip(nodeTip.isEmpty() ? tr("SIGCONT or CLIENT UNPAUSE") : nodeTip);
    m_workerFaults->setEnabled(running);

    // The status line.
    switch (m_phase) {
    case Phase::Idle:
        m_status->setText(tr("Choose a target and the parameters, then Start."));
        break;
    case Phase::Starting:
        m_status->setText(m_stopPending ? tr("Starting (stops as soon as it runs)…")
                          : m_runLocal  ? tr("Starting local nodes…")
                                        : tr("Checking the nodes…"));
        break;
    case Phase::Running:
    case Phase::Paused:
        m_status->setText(QStringLiteral("%1 · %2 · %3 · %4")
                              .arg(m_phase == Phase::Paused ? tr("Paused") : tr("Running"),
                                   tr("%1 s").arg(m_stats.elapsedSeconds, 0, 'f', 1),
                                   counted(m_stats.acquisitions, tr("%1 acquisition"), tr("%1 acquisitions")),
                                   counted(m_stats.violations, tr("%1 violation"), tr("%1 violations"))));
        break;
    case Phase::Stopping:
        m_status->setText(tr("Stopping: reverting faults, releasing locks…"));
        break;
    case Phase::Finished:
        m_status->setText(
            m_shutDown ? tr("Stopped.")
                       : QStringLiteral("%1 · %2 · %3 · %4")
                             .arg(tr("Finished after %1 s").arg(m_stats.elapsedSeconds, 0, 'f', 1),
                                  counted(m_stats.acquisitions, tr("%1 acquisition"), tr("%1 acquisitions")),
                                  counted(m_stats.violations, tr("%1 violation"), tr("%1 violations")),
                                  counted(m_stats.keysLeft, tr("%1 key left"), tr("%1 keys left"))));
        break;
    }
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
    QString base = eventsPath;
    if (base.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive))
        base.chop(4);
    return base + QStringLiteral("-workers.csv");
}

namespace {

std::expected<void, QString> writeFile(const QString &path, const QByteArray &data)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.commit())
        return std::unexpected(QObject::tr("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

} // namespace

bool SimulatorPanel::exportJson(const QString &path)
{
    const std::optional<SimReport> report = m_sim ? std::optional<SimReport>(m_sim->report()) : m_finalReport;
    if (!report) {
        showError(tr("Nothing to export yet: start a run first."));
        return false;
    }
    if (auto written = writeFile(path, QJsonDocument(reportToJson(*report)).toJson()); !written) {
        showError(tr("Export failed: %1").arg(written.error()));
        emit logMessage(tr("Simulation export failed: %1").arg(written.error()), true);
        return false;
    }
    emit logMessage(tr("Simulation exported as JSON to %1").arg(path));
    return true;
}

bool SimulatorPanel::exportCsv(const QString &path)
{
    if (!m_sim && !m_finalReport) {
        showError(tr("Nothing to export yet: start a run first."));
        return false;
    }
    const std::vector<SectionEvent> events = m_sim ? m_sim->events() : m_finalEvents;
    const SimStats stats = m_sim ? m_sim->stats() : m_finalReport->stats;
    const QString workersPath = workersCsvPath(path);
    for (const auto &[file, bytes] :
         {std::pair{path, eventsToCsv(events)}, std::pair{workersPath, workersToCsv(stats)}}) {
        if (auto written = writeFile(file, bytes); !written) {
            showError(tr("Export failed: %1").arg(written.error()));
            emit logMessage(tr("Simulation export failed: %1").arg(written.error()), true);
            return false;
        }
    }
    emit logMessage(tr("Simulation exported as CSV: critical sections to %1, per-worker counts to %2")
                        .arg(path, workersPath));
    return true;
}
