#pragma once

#include "sim/simulation.h"

#include <QWidget>
#include <chrono>
#include <deque>
#include <vector>

/// Who held the lock when: one lane per worker, one bar per critical section (lock obtained to
/// write done), over the last few seconds of a simulation run.
///
/// Bars are coloured by outcome: accepted in the palette's highlight, violations (writes on a
/// stale value) red, fencing rejections orange, abandoned or interrupted sections grey.
/// Sections that overlapped another holder's are outlined red, stalled ones hatched. A thin
/// line before a bar is the wait for the lock. Colours are read from the palette at paint
/// time, so a light/dark switch needs no reset. The mouse wheel zooms the time window.
class SimTimeline : public QWidget
{
    Q_OBJECT

public:
    explicit SimTimeline(QWidget *parent = nullptr);

    /// Lanes 0 .. workers-1 (also grows with the events).
    void setWorkerCount(int workers);
    int workerCount() const { return m_workers; }
    /// Appends sections (in the order they ended). Keeps those that ended in the last minute
    /// (or the window, when longer), at most maxEvents().
    void addEvents(const std::vector<lockscope::sim::SectionEvent> &events);
    /// The right edge of the window, in µs since the start of the run.
    void setNow(qint64 us);
    qint64 now() const { return m_nowUs; }
    /// How much time the widget shows (default 5 s).
    void setWindow(std::chrono::milliseconds window);
    std::chrono::milliseconds window() const;
    /// Forgets every section (a new run).
    void clear();

    int eventCount() const { return static_cast<int>(m_events.size()); }
    /// The most recent end time of the sections shown, or 0.
    qint64 lastEndUs() const { return m_lastEndUs; }
    static constexpr int maxEvents() { return 20'000; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
    /// The wheel zooms the window in and out (0.1 s to 60 s).
    void wheelEvent(QWheelEvent *event) override;

private:
    void prune();

    std::deque<lockscope::sim::SectionEvent> m_events;
    int m_workers = 0;
    qint64 m_nowUs = 0;
    qint64 m_windowUs = 5'000'000;
    qint64 m_lastEndUs = 0;
};
