#include "runstate.h"

namespace lockscope::sim {

SimState RunState::state() const
{
    std::lock_guard lock(m_mutex);
    return m_state;
}

void RunState::setState(SimState state)
{
    {
        std::lock_guard lock(m_mutex);
        m_state = state;
    }
    m_wake.notify_all();
}

SteadyClock::duration RunState::runningTimeLocked(SteadyClock::time_point now) const
{
    if (m_state == SimState::Idle)
        return {};
    SteadyClock::duration pausedFor = m_pausedTotal;
    if (m_paused)
        pausedFor += now - m_pausedSince;
    return now - m_origin - pausedFor;
}

std::pair<SimState, double> RunState::stateAndRunningSeconds() const
{
    std::lock_guard lock(m_mutex);
    return {m_state, std::chrono::duration<double>(runningTimeLocked(SteadyClock::now())).count()};
}

double RunState::runningSeconds() const
{
    return stateAndRunningSeconds().second;
}

void RunState::pause()
{
    std::lock_guard lock(m_mutex);
    if (m_state != SimState::Running)
        return;
    m_paused = true;
    m_pausedSince = SteadyClock::now();
    m_state = SimState::Paused;
}

void RunState::resume()
{
    {
        std::lock_guard lock(m_mutex);
        if (m_state != SimState::Paused)
            return;
        m_pausedTotal += SteadyClock::now() - m_pausedSince;
        m_paused = false;
        m_state = SimState::Running;
    }
    m_wake.notify_all();
}

void RunState::requestStop()
{
    {
        std::lock_guard lock(m_mutex);
        if (m_state == SimState::Idle || m_state == SimState::Finished)
            return;
        m_stopRequested = true;
    }
    m_wake.notify_all();
}

bool RunState::waitFinished(milliseconds timeout)
{
    std::unique_lock lock(m_mutex);
    const auto done = [this] {
        return m_state == SimState::Finished || m_state == SimState::Idle;
    };
    if (timeout == milliseconds::max()) {
        m_wake.wait(lock, done);
        return true;
    }
    return m_wake.wait_for(lock, timeout, done);
}

bool RunState::waitWhilePaused()
{
    std::unique_lock lock(m_mutex);
    m_wake.wait(lock, [this] { return !m_paused || m_stopRequested; });
    return !m_stopRequested;
}

bool RunState::waitForStopRequest(milliseconds tick)
{
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, tick, [this] { return m_stopRequested; });
    return m_stopRequested;
}

void RunState::stopNow()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopRequested = true;
        if (m_paused) {
            m_pausedTotal += SteadyClock::now() - m_pausedSince;
            m_paused = false;
        }
    }
    m_wake.notify_all();
}

} // namespace lockscope::sim
