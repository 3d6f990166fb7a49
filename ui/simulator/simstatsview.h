#pragma once

#include "sim/simulation.h"

#include <QWidget>

class QLabel;
class QTableWidget;

/// The simulator's Statistics page: the run's lock kind and the safety figure of that kind, the
/// run's figures (acquisitions and their rate, failed attempts, fairness, violations, fencing
/// rejections, overlaps, lost locks, degraded acquisitions and writes, breaker refusals and opens, wait and
/// hold percentiles, keys left) over a table with a row per worker. Figures that signal trouble are in the
/// palette's danger colour, re-chosen on a palette change.
class SimStatsView : public QWidget
{
    Q_OBJECT

public:
    explicit SimStatsView(QWidget *parent = nullptr);

    /// The run whose figures follow: its lock kind names the kind's own figure. Call before
    /// the run's first showStats().
    void setRunConfig(const lockscope::sim::SimConfig &config);
    /// Shows `stats`. Before a run has started (`started` false) the figures are dashes.
    void showStats(const lockscope::sim::SimStats &stats, bool started);

protected:
    void changeEvent(QEvent *event) override;

private:
    QWidget *createWorkersTable();
    void updateWorkers(const lockscope::sim::SimStats &stats);

    QLabel *m_lockKind = nullptr;
    QLabel *m_kindFigureName = nullptr;
    QLabel *m_kindFigure = nullptr;
    QLabel *m_acquisitions = nullptr;
    QLabel *m_acquisitionRate = nullptr;
    QLabel *m_failedRate = nullptr;
    QLabel *m_waitTimes = nullptr;
    QLabel *m_holdTimes = nullptr;
    QLabel *m_violations = nullptr;
    QLabel *m_rejections = nullptr;
    QLabel *m_overlaps = nullptr;
    QLabel *m_lostLocks = nullptr;
    QLabel *m_fairness = nullptr;
    QLabel *m_keysLeft = nullptr;
    QLabel *m_degraded = nullptr;
    QLabel *m_degradedWrites = nullptr;
    QLabel *m_breakerRefusals = nullptr;
    QLabel *m_breakerOpens = nullptr;
    QTableWidget *m_workerTable = nullptr;

    lockscope::sim::SimConfig m_config; ///< the run's (setRunConfig)
    bool m_configured = false;
    lockscope::sim::SimStats m_stats; ///< shown last
    bool m_started = false;
};
