#pragma once

#include "redis/circuitbreaker.h"
#include "redis/connection.h"
#include "redis/nodeprobe.h"

#include <QList>
#include <QObject>
#include <chrono>
#include <memory>
#include <vector>

class QTimer;

/// Probes a fixed list of nodes periodically, on a worker thread.
///
/// Lives on a QThread it does not own (see ThreadOwner); start() and the probes run on that
/// thread and may block on Redis for up to a node's timeouts, which is why the GUI only talks
/// to it through queued calls and signals. It owns one Connection per node, created on the
/// worker thread and kept open between rounds so that a round measures round trips, not
/// connects. To monitor other nodes, replace the monitor.
///
/// Each node's probes go through a CircuitBreaker (default options), as a Locker's calls do:
/// the node list shows what a lock client would see, and while a breaker is open its node is not
/// probed, so a dead node's timeouts do not slow every round (its last status stays, with the
/// open breaker beside it). The breakers live and are fed on the worker thread; the GUI gets
/// copies of their status.
class NodeMonitor : public QObject
{
    Q_OBJECT

public:
    static constexpr std::chrono::milliseconds DefaultInterval{1000};

    explicit NodeMonitor(QList<lockscope::redis::NodeConfig> nodes,
                         std::chrono::milliseconds interval = DefaultInterval, QObject *parent = nullptr);
    ~NodeMonitor() override;

    std::chrono::milliseconds interval() const { return m_interval; }

    /// Opens the connections and starts probing, first round at once. Call on the worker
    /// thread (queued, or from QThread::started).
    void start();

signals:
    /// `row` indexes the node list given to the constructor.
    void statusChanged(int row, const lockscope::redis::NodeStatus &status);
    /// The node's breaker after each round (after statusChanged, when the node was probed).
    void breakerChanged(int row, const lockscope::redis::BreakerStatus &breaker);
    /// Every transition of the node's breaker, with its status right after it; emitted before
    /// the round's statusChanged and breakerChanged.
    void breakerTransition(int row, const lockscope::redis::BreakerEvent &event,
                           const lockscope::redis::BreakerStatus &breaker);

private:
    void probeAll();

    QList<lockscope::redis::NodeConfig> m_nodes;
    std::chrono::milliseconds m_interval;
    std::vector<std::unique_ptr<lockscope::redis::Connection>> m_connections;
    std::vector<std::unique_ptr<lockscope::redis::CircuitBreaker>> m_breakers;
    QTimer *m_timer = nullptr;
};
