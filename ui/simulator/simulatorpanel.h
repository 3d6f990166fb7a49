#pragma once

#include "inspect/nodegroup.h"
#include "sim/simulation.h"

#include <QElapsedTimer>
#include <QStringList>
#include <QTimer>
#include <QWidget>
#include <expected>
#include <memory>
#include <optional>
#include <vector>

class QLabel;
class QLayout;
class QPushButton;
class QTabWidget;
class SimCharts;
class SimExportButton;
class SimFaultsPanel;
class SimParameterForm;
class SimRunner;
class SimStatsView;
class SimTimeline;
class ThreadOwner;

/// The contention simulator: parameters (or a ready-made scenario), a target (a configured
/// group, or redis-server nodes the simulator starts itself), Start / Pause / Stop, faults
/// injected while it runs, live figures, charts (throughput, wait times, who held the lock
/// when) and JSON / CSV export. The GUI twin of `lockctl simulate`.
///
/// The panel runs the runs and wires its parts: the Setup form (SimParameterForm), the
/// Faults page (SimFaultsPanel), the Statistics page (SimStatsView) and the charts
/// (SimCharts).
///
/// Threads: the Simulation runs its own threads; its live queries (stats, events, samples,
/// fault log) and its non-blocking controls (pause, resume, requestStop, inject) are called
/// from here. Everything that waits (starting local redis-servers, the nodes' PING before a
/// run, destroying a Simulation, which joins its threads and releases its locks) happens on a
/// runner thread that also owns the local servers (they die with the thread that started
/// them). A finished run is read once more, then handed back to the runner to be destroyed;
/// its report and events stay here for export.
class SimulatorPanel : public QWidget
{
    Q_OBJECT

public:
    /// What the panel is doing.
    enum class Phase
    {
        Idle,     ///< no run yet
        Starting, ///< local nodes starting, nodes being checked
        Running,
        Paused,
        Stopping,
        Finished, ///< the last run ended (its figures are still shown)
    };

    explicit SimulatorPanel(QWidget *parent = nullptr);
    /// Stops a run under way and waits for its threads (see shutdown()).
    ~SimulatorPanel() override;

    /// The targets: every group (one node: single-instance lock; several: Redlock) plus local
    /// nodes. The selection survives when its group still exists.
    void setGroups(const lockscope::inspect::GroupConfig &config);

    /// The run the form describes. Nodes: the target group's; for local nodes, placeholders
    /// that the nodes started at Start replace.
    lockscope::sim::SimConfig formConfig() const;
    /// What stops the form from running, one problem per entry; empty when it can start.
    QStringList formProblems() const;
    bool localTarget() const;

    Phase phase() const { return m_phase; }
    bool isBusy() const;
    /// The figures shown last (live, or those of the finished run).
    const lockscope::sim::SimStats &lastStats() const { return m_stats; }
    /// Threads of the current run still alive (0 once it has finished).
    int liveWorkerThreads() const;
    SimTimeline *timeline() const;

    /// Writes reportToJson of the current (or last) run to `path`. False, with the reason
    /// logged and shown, when there is no run or the file cannot be written.
    bool exportJson(const QString &path);
    /// Writes the critical sections (eventsToCsv) to `path` and the per-worker counts
    /// (workersToCsv) next to it, as `<path without .csv>-workers.csv`.
    bool exportCsv(const QString &path);
    /// The file exportCsv() writes the per-worker counts to.
    static QString workersCsvPath(const QString &eventsPath);

    /// Stops a run under way (faults reverted, locks released, keys checked) and waits for the
    /// runner thread, which stops the local nodes. Blocks for as long as that takes: for the
    /// window closing. The panel is inert afterwards.
    void shutdown();

public slots:
    void start();
    /// Chooses the scenario `name` in the form and starts it (demos and screenshots); false,
    /// and nothing started, for an unknown name.
    bool startScenario(const QString &name);
    void stop();
    void togglePause();

signals:
    /// A line for the event log: run started and finished with its figures, faults applied,
    /// errors (`error` true).
    void logMessage(const QString &text, bool error = false);
    void runStarted();
    void runFinished();

private:
    QLayout *createControls();

    void onRunStarted(quint64 run, lockscope::sim::Simulation *simulation,
                      const std::vector<lockscope::redis::NodeConfig> &nodes);
    void onRunFailed(quint64 run, const QString &message);
    void onRunFinished(quint64 run);
    void disposeRun();
    void refresh();
    void readEvents(lockscope::sim::Simulation &simulation);
    void logBreakers(lockscope::sim::Simulation &simulation);
    void appendSamples(const std::vector<lockscope::sim::ThroughputSample> &samples);
    void showStats(const lockscope::sim::SimStats &stats);
    void inject(const lockscope::sim::SimFault &fault);
    void setPhase(Phase phase);
    void updateControls();
    QString statusText() const;
    void showError(const QString &text);
    /// Shows and logs why an export failed, or logs `done`.
    bool exported(const std::expected<void, QString> &written, const QString &done);
    void resetView(const lockscope::sim::SimConfig &config);

    // Controls.
    QPushButton *m_startButton = nullptr;
    QPushButton *m_pauseButton = nullptr;
    QPushButton *m_stopButton = nullptr;
    SimExportButton *m_exportButton = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_error = nullptr;

    // The parts.
    QTabWidget *m_sections = nullptr;
    SimParameterForm *m_form = nullptr;
    SimFaultsPanel *m_faults = nullptr;
    SimStatsView *m_statsView = nullptr;
    SimCharts *m_charts = nullptr;

    // The run.
    std::unique_ptr<ThreadOwner> m_runnerThread;
    SimRunner *m_runner = nullptr; ///< lives on m_runnerThread
    Phase m_phase = Phase::Idle;
    quint64 m_run = 0; ///< bumped at every start; results of another run are dropped
    /// The current run's simulation, owned by the runner; null outside a run.
    lockscope::sim::Simulation *m_sim = nullptr;
    bool m_stopPending = false;
    bool m_runLocal = false;
    bool m_runProduction = false; ///< the run's group has a production node: no node faults
    bool m_shutDown = false;
    lockscope::sim::SimStats m_stats;
    quint64 m_lastSeq = 0;
    size_t m_sampleCount = 0;
    size_t m_breakersLogged = 0; ///< entries of the run's breaker log already logged
    QElapsedTimer m_runClock;
    QTimer m_refreshTimer;
    /// What a finished run left for export.
    std::optional<lockscope::sim::SimReport> m_finalReport;
    std::vector<lockscope::sim::SectionEvent> m_finalEvents;
};
