#pragma once

#include "sim/simulation.h"

#include <QObject>
#include <QString>
#include <expected>
#include <functional>
#include <memory>
#include <vector>

namespace lockscope::redis {
class LocalRedisServer;
}

/// Starts the simulator's local redis-servers and its Simulations, and destroys them, on the
/// SimulatorPanel's runner thread; the panel reaches it through queued calls only.
///
/// Threads: all of it waits (a server accepting, the nodes' PING, a Simulation joining its
/// threads and releasing its locks), which the GUI thread must not; and a local node dies with
/// the thread that started it, so the servers are owned here. A Simulation started here runs
/// its own threads: the panel calls its live queries and non-blocking controls directly, but
/// hands it back to dispose() instead of deleting it. The runner is deleted on its thread when
/// that thread finishes, which stops a run under way and then the nodes.
class SimRunner : public QObject
{
public:
    SimRunner();
    ~SimRunner() override;

    /// Starts `localNodes` servers (0: use config.nodes), checks that every node answers,
    /// and starts the simulation. `onFinished` is called on the simulation's controller thread.
    std::expected<lockscope::sim::Simulation *, QString>
    start(lockscope::sim::SimConfig config, int localNodes, std::function<void()> onFinished);

    /// Destroys the simulation (which stops it and joins its threads), then the local nodes.
    /// Ignored when `simulation` is no longer the current one.
    void dispose(lockscope::sim::Simulation *simulation);

private:
    void dispose();

    std::unique_ptr<lockscope::sim::Simulation> m_simulation;
    std::vector<std::unique_ptr<lockscope::redis::LocalRedisServer>> m_servers;
};
