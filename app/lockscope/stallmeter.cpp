#include "stallmeter.h"

#include <algorithm>

StallMeter::StallMeter(std::chrono::milliseconds tick, QObject *parent) : QObject(parent), m_tick(tick)
{
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(tick);
    connect(&m_timer, &QTimer::timeout, this, &StallMeter::onTick);
}

void StallMeter::start()
{
    m_clock.start();
    m_lastUs = -1;
    m_timer.start();
}

void StallMeter::stop()
{
    m_timer.stop();
}

void StallMeter::reset()
{
    m_gapsUs.clear();
    m_lastUs = -1;
}

void StallMeter::onTick()
{
    const qint64 now = m_clock.nsecsElapsed() / 1000;
    if (m_lastUs >= 0)
        m_gapsUs.push_back(now - m_lastUs);
    m_lastUs = now;
}

double StallMeter::longestStallMs() const
{
    if (m_gapsUs.empty())
        return 0;
    const qint64 longest = *std::max_element(m_gapsUs.begin(), m_gapsUs.end());
    return std::max(0.0, double(longest) / 1000.0 - double(m_tick.count()));
}

double StallMeter::percentileMs(double percentile) const
{
    if (m_gapsUs.empty())
        return 0;
    std::vector<qint64> sorted = m_gapsUs;
    const auto rank = size_t(std::clamp(percentile, 0.0, 100.0) / 100.0 * double(sorted.size() - 1));
    std::nth_element(sorted.begin(), sorted.begin() + qsizetype(rank), sorted.end());
    return std::max(0.0, double(sorted[rank]) / 1000.0 - double(m_tick.count()));
}
