#pragma once

#include "sim/simulation.h"

#include <QWidget>
#include <vector>

class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QPushButton;
class QSpinBox;

/// The simulator's Faults page: faults injected by hand into a run under way (pause, resume,
/// kill or restart a node; drop a worker's connections, drift its clock, stall the next
/// holder), the nodes' states, and the log of the faults applied (scheduled ones too). A
/// button is enabled only while a run is going and only for what the node's state allows;
/// production nodes get no node faults.
class SimFaultsPanel : public QWidget
{
    Q_OBJECT

public:
    explicit SimFaultsPanel(QWidget *parent = nullptr);

    /// A new run of `workers` workers on `nodes` (for local nodes, the placeholders of the
    /// form): the fault targets, no node states, nothing logged yet.
    void reset(const std::vector<lockscope::redis::NodeConfig> &nodes, int workers);
    /// The nodes as the run started them (local nodes with their ports); their states are
    /// shown from now on.
    void setRunNodes(const std::vector<lockscope::redis::NodeConfig> &nodes);
    /// Which faults apply: `running` while a run goes (paused or not), `local` on local nodes
    /// (kill, restart), `production` on a group with a production node (no node faults).
    void setRunState(bool running, bool local, bool production);
    /// The nodes' states (up, paused, down) from the run's figures.
    void showNodeStates(const lockscope::sim::SimStats &stats);
    /// Logs the entries of the run's fault log (logMessage) that were not logged yet.
    void logFaults(const std::vector<lockscope::sim::FaultRecord> &faults);

signals:
    /// A button asks for `fault`; the panel hands it to the simulation, whose fault log
    /// reports the outcome.
    void injectRequested(const lockscope::sim::SimFault &fault);
    /// A line for the event log: a fault applied, or failed (`error` true).
    void logMessage(const QString &text, bool error);

private:
    QWidget *createNodeFaults();
    QWidget *createWorkerFaults();
    void injectNodeFault(lockscope::sim::SimFault::Kind kind);
    void updateButtons();

    QGroupBox *m_nodeFaults = nullptr;
    QGroupBox *m_workerFaults = nullptr;
    QComboBox *m_faultNode = nullptr;
    QSpinBox *m_pauseLength = nullptr;
    QPushButton *m_pauseNodeButton = nullptr;
    QPushButton *m_resumeNodeButton = nullptr;
    QPushButton *m_killNodeButton = nullptr;
    QPushButton *m_restartNodeButton = nullptr;
    QLabel *m_nodeStates = nullptr;
    QComboBox *m_faultWorker = nullptr;
    QPushButton *m_dropButton = nullptr;
    QDoubleSpinBox *m_driftRate = nullptr;
    QPushButton *m_driftButton = nullptr;
    QSpinBox *m_stallLength = nullptr;
    QPushButton *m_stallButton = nullptr;

    bool m_running = false;
    bool m_local = false;
    bool m_production = false;
    std::vector<lockscope::redis::NodeConfig> m_runNodes;
    std::vector<bool> m_nodePaused;
    std::vector<bool> m_nodeDown;
    size_t m_faultsLogged = 0;
};
