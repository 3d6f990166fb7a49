#pragma once

#include "sim/simulation.h"

#include <QWidget>
#include <utility>
#include <vector>

class QBarSet;
class QCategoryAxis;
class QChartView;
class QLineSeries;
class QTabWidget;
class QValueAxis;
class SimTimeline;

/// The simulator's charts, one tab each: throughput over time (acquisitions per second on the
/// left axis, failed attempts per second on their own axis on the right: retries can outnumber
/// acquisitions a hundredfold and would flatten them on a shared scale), wait times (a
/// histogram of log2 buckets) and the timeline of critical sections. Colours come from the
/// palette and follow its changes.
class SimCharts : public QWidget
{
    Q_OBJECT

public:
    explicit SimCharts(QWidget *parent = nullptr);

    /// Empties every chart for a new run of `workers` workers.
    void reset(int workers);
    /// Extends the throughput chart (samples in time order, after those appended before).
    void appendSamples(const std::vector<lockscope::sim::ThroughputSample> &samples);
    /// The wait-time histogram: acquires per log2-µs bucket (SimStats::waitLog2Us).
    void setHistogram(const std::vector<quint64> &buckets);
    /// Adds critical sections to the timeline.
    void appendEvents(const std::vector<lockscope::sim::SectionEvent> &events);
    /// Moves the timeline's right edge to `us` µs into the run, or to the end of the last section
    /// shown when that is later.
    void setNow(qint64 us);
    /// The run has ended after `runUs` µs: the timeline shows all of it (SimTimeline::showRun()).
    void showRun(qint64 runUs);
    /// Colours from the palette; called on every palette or style change.
    void applyColors();

    SimTimeline *timeline() const { return m_timeline; }

protected:
    void changeEvent(QEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    /// Bucket boundaries on the wait chart's axis, as many as fit its width.
    void labelHistogram();

    QTabWidget *m_tabs = nullptr;
    QChartView *m_throughputView = nullptr;
    QLineSeries *m_acquisitionSeries = nullptr;
    QLineSeries *m_failedSeries = nullptr;
    QValueAxis *m_throughputX = nullptr;
    QValueAxis *m_throughputY = nullptr; ///< acquisitions/s
    QValueAxis *m_failedY = nullptr;     ///< failed attempts/s
    double m_acquisitionMax = 0;
    double m_failedMax = 0;
    QChartView *m_histogramView = nullptr;
    QBarSet *m_histogramSet = nullptr;
    QCategoryAxis *m_histogramX = nullptr;
    QValueAxis *m_histogramY = nullptr;
    std::pair<int, int> m_histogramRange{-1, -1}; ///< buckets shown, first and last
    SimTimeline *m_timeline = nullptr;
};
