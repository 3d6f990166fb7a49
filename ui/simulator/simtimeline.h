#pragma once

#include "sim/simulation.h"

#include <QWidget>
#include <algorithm>
#include <chrono>
#include <deque>
#include <vector>

/// Who held the lock when: one lane per worker, one bar per critical section (lock obtained to
/// write done). While a run goes it follows the last few seconds (setNow()); once it has ended,
/// showRun() shows all of it, or, for a run longer than the minute kept, the first violation.
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
    /// A finished run of `runUs` µs: the window covers the whole run when it is at most a
    /// minute long; a longer one shows its last minute, unless a violation happened before
    /// that: then the window is centred on the first violation, so that it is seen without
    /// zooming or scrolling.
    void showRun(qint64 runUs);
    /// The time span drawn, in µs since the start of the run.
    qint64 leftUs() const { return rightUs() - m_windowUs; }
    qint64 rightUs() const { return std::max(m_nowUs, m_windowUs); }
    /// Start of the earliest violation seen (kept when older sections are dropped), or -1.
    qint64 firstViolationUs() const { return m_firstViolationUs; }
    /// Circuit breaker transitions to mark on the time axis: a line where a breaker opened
    /// (warning colour) or closed again (success colour); half-open probes are not drawn.
    void addBreakerMarks(const std::vector<lockscope::sim::BreakerRecord> &records);
    int breakerMarkCount() const { return static_cast<int>(m_breakerMarks.size()); }
    /// Forgets every section and mark (a new run).
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

    struct BreakerMark
    {
        qint64 atUs = 0;
        bool open = false;
    };

    std::deque<lockscope::sim::SectionEvent> m_events;
    std::vector<BreakerMark> m_breakerMarks; ///< capped like the run's breaker log
    /// Violations that ended before the minute kept in m_events: still drawn (at most a few
    /// hundred), so that showRun() can point at the first one.
    std::deque<lockscope::sim::SectionEvent> m_pinned;
    qint64 m_firstViolationUs = -1;
    qint64 m_firstViolationEndUs = -1;
    qint64 m_followWindowUs = -1; ///< the window before showRun(), restored by clear()
    int m_workers = 0;
    qint64 m_nowUs = 0;
    qint64 m_windowUs = 5'000'000;
    qint64 m_lastEndUs = 0;
};
