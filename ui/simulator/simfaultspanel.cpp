#include "simfaultspanel.h"

#include "themecolors.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

using lockscope::redis::NodeConfig;
using namespace lockscope::sim;
using std::chrono::milliseconds;

namespace {

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

void fillNodes(QComboBox *combo, const std::vector<NodeConfig> &nodes)
{
    combo->clear();
    for (size_t i = 0; i < nodes.size(); ++i)
        combo->addItem(QStringLiteral("%1: %2").arg(i).arg(nodes[i].label()));
}

} // namespace

SimFaultsPanel::SimFaultsPanel(QWidget *parent) : QWidget(parent)
{
    QWidget *nodeFaults = createNodeFaults();
    QWidget *workerFaults = createWorkerFaults();
    auto *note = theme::noteLabel(QStringLiteral("simFaultNote"));
    note->setText(tr("Faults apply while a run is going; their outcomes go to the event log. "
                     "Kill and restart need local nodes."));

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(nodeFaults);
    layout->addWidget(workerFaults);
    layout->addWidget(note);
    layout->addStretch(1);
}

QWidget *SimFaultsPanel::createNodeFaults()
{
    m_faultNode = new QComboBox;
    m_faultNode->setObjectName(QStringLiteral("simFaultNode"));
    m_faultNode->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_faultNode->setMinimumContentsLength(10);
    connect(m_faultNode, &QComboBox::currentIndexChanged, this, &SimFaultsPanel::updateButtons);
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
    connect(m_pauseNodeButton, &QPushButton::clicked, this,
            [this] { injectNodeFault(SimFault::Kind::PauseNode); });
    connect(m_resumeNodeButton, &QPushButton::clicked, this,
            [this] { injectNodeFault(SimFault::Kind::ResumeNode); });
    connect(m_killNodeButton, &QPushButton::clicked, this,
            [this] { injectNodeFault(SimFault::Kind::KillNode); });
    connect(m_restartNodeButton, &QPushButton::clicked, this,
            [this] { injectNodeFault(SimFault::Kind::RestartNode); });

    m_nodeFaults = new QGroupBox(tr("Node"));
    auto *grid = new QGridLayout(m_nodeFaults);
    grid->addWidget(m_faultNode, 0, 0, 1, 2);
    grid->addWidget(new QLabel(tr("Pause for:")), 1, 0);
    grid->addWidget(m_pauseLength, 1, 1);
    grid->addWidget(m_pauseNodeButton, 2, 0);
    grid->addWidget(m_resumeNodeButton, 2, 1);
    grid->addWidget(m_killNodeButton, 3, 0);
    grid->addWidget(m_restartNodeButton, 3, 1);
    grid->addWidget(m_nodeStates, 4, 0, 1, 2);
    return m_nodeFaults;
}

QWidget *SimFaultsPanel::createWorkerFaults()
{
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
        emit injectRequested(fault);
    });
    connect(m_driftButton, &QPushButton::clicked, this, [this] {
        SimFault fault;
        fault.kind = SimFault::Kind::ClockDrift;
        fault.target = m_faultWorker->currentIndex();
        fault.rate = m_driftRate->value();
        emit injectRequested(fault);
    });
    connect(m_stallButton, &QPushButton::clicked, this, [this] {
        SimFault fault;
        fault.kind = SimFault::Kind::StallHolder;
        fault.target = -1;
        fault.length = milliseconds(m_stallLength->value());
        emit injectRequested(fault);
    });

    m_workerFaults = new QGroupBox(tr("Worker"));
    auto *grid = new QGridLayout(m_workerFaults);
    grid->addWidget(m_faultWorker, 0, 0);
    grid->addWidget(m_dropButton, 0, 1);
    grid->addWidget(m_driftRate, 1, 0);
    grid->addWidget(m_driftButton, 1, 1);
    grid->addWidget(m_stallLength, 2, 0);
    grid->addWidget(m_stallButton, 2, 1);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    return m_workerFaults;
}

void SimFaultsPanel::injectNodeFault(SimFault::Kind kind)
{
    SimFault fault;
    fault.kind = kind;
    fault.target = m_faultNode->currentIndex();
    if (kind == SimFault::Kind::PauseNode)
        fault.length = milliseconds(m_pauseLength->value());
    emit injectRequested(fault);
}

void SimFaultsPanel::reset(const std::vector<NodeConfig> &nodes, int workers)
{
    m_faultsLogged = 0;
    m_runNodes.clear();
    fillNodes(m_faultNode, nodes);
    m_faultWorker->clear();
    for (int i = 0; i < workers; ++i)
        m_faultWorker->addItem(tr("Worker %1").arg(i));
    m_nodeStates->clear();
}

void SimFaultsPanel::setRunNodes(const std::vector<NodeConfig> &nodes)
{
    m_runNodes = nodes;
    fillNodes(m_faultNode, nodes);
}

void SimFaultsPanel::setRunState(bool running, bool local, bool production)
{
    m_running = running;
    m_local = local;
    m_production = production;
    updateButtons();
}

void SimFaultsPanel::showNodeStates(const SimStats &stats)
{
    m_nodePaused = stats.nodePaused;
    m_nodeDown = stats.nodeDown;
    QStringList nodes;
    for (size_t i = 0; i < m_runNodes.size(); ++i) {
        const bool down = i < stats.nodeDown.size() && stats.nodeDown[i];
        const bool paused = i < stats.nodePaused.size() && stats.nodePaused[i];
        nodes << QStringLiteral("%1 %2").arg(m_runNodes[i].label(), down     ? tr("down")
                                                                    : paused ? tr("paused")
                                                                             : tr("up"));
    }
    m_nodeStates->setText(nodes.join(QStringLiteral(" · ")));
    updateButtons();
}

void SimFaultsPanel::updateButtons()
{
    // Only while running, and only those that apply to the node as it is now. Not on
    // production nodes: a CLIENT PAUSE there would hold up every other client too.
    const int node = m_faultNode->currentIndex();
    const bool paused = node >= 0 && size_t(node) < m_nodePaused.size() && m_nodePaused[size_t(node)];
    const bool down = node >= 0 && size_t(node) < m_nodeDown.size() && m_nodeDown[size_t(node)];
    const bool nodeFaults = m_running && node >= 0 && !m_production;
    m_nodeFaults->setEnabled(m_running);
    m_faultNode->setEnabled(m_running);
    m_pauseLength->setEnabled(nodeFaults);
    m_pauseNodeButton->setEnabled(nodeFaults && !paused && !down);
    m_resumeNodeButton->setEnabled(nodeFaults && paused);
    m_killNodeButton->setEnabled(nodeFaults && m_local && !down);
    m_restartNodeButton->setEnabled(nodeFaults && m_local && down);
    const QString nodeTip = m_production ? tr("Not on production nodes") : QString();
    m_pauseNodeButton->setToolTip(nodeTip.isEmpty() ? tr("SIGSTOP a local node; CLIENT PAUSE WRITE elsewhere")
                                                    : nodeTip);
    m_resumeNodeButton->setToolTip(nodeTip.isEmpty() ? tr("SIGCONT or CLIENT UNPAUSE") : nodeTip);
    m_workerFaults->setEnabled(m_running);
}

void SimFaultsPanel::logFaults(const std::vector<FaultRecord> &faults)
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
