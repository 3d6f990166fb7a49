#pragma once

#include "simulation.h"
#include "util/logging.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

// Internal to the simulator (core/sim): the state its controller, worker threads and fault
// thread share. Not part of the public API.

namespace lockscope::sim {

using SteadyClock = std::chrono::steady_clock;

/// The run's state, its pause gate and its running time (pauses excluded). The controller and
/// the public API change it, the workers wait at the gate, the fault thread timestamps faults.
/// Thread-safe, except setOrigin(): once, before the run's threads start.
class RunState
{
public:
    void setOrigin(SteadyClock::time_point origin) { m_origin = origin; }
    SteadyClock::time_point origin() const { return m_origin; }
    qint64 sinceStartUs(SteadyClock::time_point t) const
    {
        return std::chrono::duration_cast<std::chrono::microseconds>(t - m_origin).count();
    }

    SimState state() const;
    /// Wakes every waiter.
    void setState(SimState state);
    /// The state and the running time in seconds, read together.
    std::pair<SimState, double> stateAndRunningSeconds() const;
    double runningSeconds() const;

    /// Running -> Paused: no new critical sections.
    void pause();
    /// Paused -> Running.
    void resume();
    /// Asks a started, unfinished run to stop.
    void requestStop();
    /// Until Finished (or Idle); false when `timeout` (milliseconds::max(): none) ran out first.
    bool waitFinished(milliseconds timeout);

    /// Workers: blocks while paused; false once a stop was requested.
    bool waitWhilePaused();
    /// Controller: waits up to `tick`; true when a stop was requested.
    bool waitForStopRequest(milliseconds tick);
    /// Shutdown: stop requested, any pause ended (its time counted), every waiter woken.
    void stopNow();
    /// Wakes the waiters to look again (a worker thread ended).
    void notify() { m_wake.notify_all(); }

private:
    SteadyClock::duration runningTimeLocked(SteadyClock::time_point now) const;

    SteadyClock::time_point m_origin;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    SimState m_state = SimState::Idle;
    bool m_paused = false;
    bool m_stopRequested = false;
    SteadyClock::duration m_pausedTotal{0};
    SteadyClock::time_point m_pausedSince;
};

struct NodeState
{
    bool paused = false;
    bool down = false;
};

/// Which nodes a fault has paused or killed: the fault thread writes, the workers and stats()
/// read. Thread-safe.
class NodeStates
{
public:
    explicit NodeStates(size_t nodes) : m_nodes(nodes) {}

    NodeState at(int node) const
    {
        std::lock_guard lock(m_mutex);
        return m_nodes[static_cast<size_t>(node)];
    }

    void set(int node, std::optional<bool> paused, std::optional<bool> down)
    {
        std::lock_guard lock(m_mutex);
        NodeState &s = m_nodes[static_cast<size_t>(node)];
        if (paused)
            s.paused = *paused;
        if (down)
            s.down = *down;
    }

    bool anyFaulted() const
    {
        std::lock_guard lock(m_mutex);
        return std::ranges::any_of(m_nodes, [](const NodeState &n) { return n.paused || n.down; });
    }

    std::vector<NodeState> all() const
    {
        std::lock_guard lock(m_mutex);
        return m_nodes;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<NodeState> m_nodes;
};

} // namespace lockscope::sim
