#include "nodemonitor.h"

#include "uilogging.h"

#include <QThread>
#include <QTimer>

using lockscope::redis::Connection;
using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;

NodeMonitor::NodeMonitor(QList<NodeConfig> nodes, std::chrono::milliseconds interval, QObject *parent)
    : QObject(parent), m_nodes(std::move(nodes)), m_interval(interval)
{
    qRegisterMetaType<NodeStatus>();
}

NodeMonitor::~NodeMonitor() = default;

void NodeMonitor::start()
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_timer)
        return;
    m_connections.reserve(size_t(m_nodes.size()));
    for (const NodeConfig &config : std::as_const(m_nodes))
        m_connections.push_back(std::make_unique<Connection>(config));
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
    for (size_t i = 0; i < m_connections.size(); ++i)
        emit statusChanged(int(i), lockscope::redis::probeNode(*m_connections[i]));
    // Rounds start `interval` apart; a round slowed by an unreachable node's timeout is
    // followed by the next one at once rather than by a backlog of timer events.
    const auto elapsed = std::chrono::milliseconds(round.elapsed());
    m_timer->start(std::max(std::chrono::milliseconds(0), m_interval - elapsed));
}
