#include "nodemonitor.h"

#include "uilogging.h"

#include <QThread>
#include <QTimer>

using lockscope::redis::BreakerEvent;
using lockscope::redis::BreakerStatus;
using lockscope::redis::CircuitBreaker;
using lockscope::redis::Connection;
using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;

NodeMonitor::NodeMonitor(QList<NodeConfig> nodes, std::chrono::milliseconds interval, QObject *parent)
    : QObject(parent), m_nodes(std::move(nodes)), m_interval(interval)
{
    qRegisterMetaType<NodeStatus>();
    qRegisterMetaType<BreakerStatus>();
    qRegisterMetaType<BreakerEvent>();
}

NodeMonitor::~NodeMonitor() = default;

void NodeMonitor::start()
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_timer)
        return;
    m_connections.reserve(size_t(m_nodes.size()));
    m_breakers.reserve(size_t(m_nodes.size()));
    for (const NodeConfig &config : std::as_const(m_nodes)) {
        m_connections.push_back(std::make_unique<Connection>(config));
        const int row = int(m_breakers.size());
        // Runs on this thread (the one feeding the breaker), outside the breaker's mutex.
        m_breakers.push_back(std::make_unique<CircuitBreaker>(
            config.label(), lockscope::redis::BreakerOptions{}, [this, row](const BreakerEvent &event) {
                emit breakerTransition(row, event, m_breakers[size_t(row)]->status());
            }));
    }
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, &NodeMonitor::probeAll);
    qCDebug(lcUi) << "monitoring" << m_nodes.size() << "nodes every" << m_interval.count() << "ms";
    probeAll();
}

void NodeMonitor::probeAll()
{
    QElapsedTimer round;
    round.start();
    for (size_t i = 0; i < m_connections.size(); ++i) {
        CircuitBreaker &breaker = *m_breakers[i];
        if (breaker.allow()) {
            const NodeStatus status = lockscope::redis::probeNode(*m_connections[i]);
            if (status.reachable)
                breaker.recordSuccess();
            else
                breaker.recordFailure(status.error.value_or(lockscope::redis::RedisError{
                    lockscope::redis::ErrorKind::Io, m_nodes.at(qsizetype(i)).label(), tr("no answer")}));
            emit statusChanged(int(i), status);
        }
        emit breakerChanged(int(i), breaker.status());
    }
    // Rounds start `interval` apart; a round slowed by an unreachable node's timeout is
    // followed by the next one at once rather than by a backlog of timer events.
    const auto elapsed = std::chrono::milliseconds(round.elapsed());
    m_timer->start(std::max(std::chrono::milliseconds(0), m_interval - elapsed));
}
