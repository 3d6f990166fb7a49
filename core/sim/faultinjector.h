#pragma once

#include "simulation.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

// Internal to the simulator (core/sim). Not part of the public API.

namespace lockscope::redis {
class Connection;
}

namespace lockscope::sim {

class NodeStates;
class RunState;
class SimWorkers;

/// Applies SimFaults on a thread of its own, one at a time and in order: pauses (SIGSTOP for a
/// node the program started, CLIENT PAUSE WRITE otherwise), kills and restarts local nodes,
/// drops a worker's connections, drifts a worker's clock, stalls a holder. A fault with a
/// length reverts itself after it (a delayed task on the same thread). Keeps the fault log.
///
/// Threads: start() once; every other function may be called from any thread, and those that
/// wait (apply, revertAll, closeConnections) must not be called from the fault thread itself.
/// The admin connections it opens belong to the fault thread.
class FaultInjector
{
public:
    /// `config`, `run`, `nodes` and `workers` must outlive this.
    FaultInjector(const SimConfig &config, std::vector<redis::LocalRedisServer *> localServers,
                  const RunState &run, NodeStates &nodes, SimWorkers &workers);
    ~FaultInjector();
    FaultInjector(const FaultInjector &) = delete;
    FaultInjector &operator=(const FaultInjector &) = delete;

    /// Whether this program started node i (so it can be paused with signals, killed, restarted).
    bool isLocal(int node) const;

    void start();
    bool started() const { return m_thread.joinable(); }
    /// Ends the fault thread (faults still queued are dropped) and joins it. Idempotent.
    void stop();

    /// Queues a fault; returns at once. The outcome goes to the log.
    void inject(const SimFault &fault);
    /// Applies a fault on the fault thread and waits for its outcome.
    FaultRecord apply(const SimFault &fault);
    /// Resumes paused nodes and restarts killed local ones, and waits.
    void revertAll();
    /// Closes the admin connections (a fault applied later opens them again), and waits.
    void closeConnections();

    std::vector<FaultRecord> log() const;

private:
    void post(std::function<void()> task, std::chrono::steady_clock::duration delay = {});
    void loop();
    /// Runs `fn` on the fault thread and waits for it.
    template <typename F>
    auto onThread(F fn) -> decltype(fn());

    // On the fault thread.
    redis::Connection &admin(int node);
    FaultRecord record(const SimFault &fault, bool ok, QString message);
    void revertLater(SimFault::Kind kind, const SimFault &fault);
    FaultRecord applyNow(const SimFault &fault);
    FaultRecord dropConnections(const SimFault &fault);
    void revertAllNow();

    struct DelayedTask
    {
        std::chrono::steady_clock::time_point due;
        quint64 order = 0;
        std::function<void()> run;
    };

    const SimConfig &m_config;
    const std::vector<redis::LocalRedisServer *> m_local;
    const RunState &m_run;
    NodeStates &m_nodes;
    SimWorkers &m_workers;

    // Faults: one thread applies them, in order; delayed ones (reverts) wait in m_tasks.
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<DelayedTask> m_tasks;
    quint64 m_taskOrder = 0;
    bool m_shutdown = false;
    std::thread m_thread;
    std::vector<FaultRecord> m_log;
    std::vector<std::unique_ptr<redis::Connection>> m_admins; // fault thread only
};

} // namespace lockscope::sim
