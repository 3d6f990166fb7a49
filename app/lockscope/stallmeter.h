#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <vector>

/// Measures how long the event loop of the thread it lives on stays away: a precise timer
/// fires every `tick` and records the gap since the previous firing. A gap far above the tick
/// is a stall (the GUI froze for that long). For `lockscope --stall-report` and the GUI stall
/// benchmark; figures are reported, never asserted in tests.
class StallMeter : public QObject
{
    Q_OBJECT

public:
    explicit StallMeter(std::chrono::milliseconds tick = std::chrono::milliseconds(2),
                        QObject *parent = nullptr);

    void start();
    void stop();
    /// Forgets what was measured so far (e.g. after start-up).
    void reset();

    /// The longest gap between two ticks, minus the tick itself.
    double longestStallMs() const;
    /// Gap percentile (0..100) over all ticks, minus the tick.
    double percentileMs(double percentile) const;
    qsizetype ticks() const { return qsizetype(m_gapsUs.size()); }

private:
    void onTick();

    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastUs = -1;
    std::chrono::milliseconds m_tick;
    std::vector<qint64> m_gapsUs;
};
