#include "nodeevents.h"

#include "models/nodelistmodel.h"

#include <QCoreApplication>

using lockscope::redis::NodeStatus;
using Kind = EventLogWidget::Kind;

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("NodeEvents", text);
}

} // namespace

std::optional<NodeEvent> nodeTransition(const std::optional<NodeStatus> &previous, const NodeStatus &status)
{
    if (status.reachable) {
        const QString server = NodeListModel::serverDescription(status);
        if (!previous)
            return NodeEvent{Kind::Up, server.isEmpty() ? tr("Up") : tr("Up (%1)").arg(server)};
        if (!previous->reachable)
            return NodeEvent{Kind::Up,
                             server.isEmpty() ? tr("Came back up") : tr("Came back up (%1)").arg(server)};
        if (previous->role != status.role && !previous->role.isEmpty() && !status.role.isEmpty())
            return NodeEvent{Kind::Info, tr("Role changed from %1 to %2").arg(previous->role, status.role)};
        if (previous->version != status.version && !previous->version.isEmpty() && !status.version.isEmpty())
            return NodeEvent{
                Kind::Info,
                tr("Server version changed from %1 to %2").arg(previous->version, status.version)};
        return std::nullopt;
    }
    const QString failure = NodeListModel::failureText(status);
    if (!previous)
        return NodeEvent{Kind::Down, tr("Down: %1").arg(failure)};
    if (previous->reachable)
        return NodeEvent{Kind::Down, tr("Went down: %1").arg(failure)};
    if (previous->error && status.error && previous->error->kind != status.error->kind)
        return NodeEvent{Kind::Down, tr("Still down: %1").arg(failure)};
    return std::nullopt;
}

NodeEvent breakerTransition(const lockscope::redis::BreakerEvent &event,
                            const lockscope::redis::BreakerStatus &breaker)
{
    using lockscope::redis::BreakerState;
    switch (event.to) {
    case BreakerState::Open:
        if (event.from == BreakerState::HalfOpen)
            return NodeEvent{Kind::Down,
                             tr("Circuit breaker open again, the probe failed: %1").arg(event.cause)};
        return NodeEvent{Kind::Down,
                         (breaker.consecutiveFailures == 1 ? tr("Circuit breaker open after 1 failure: %2")
                                                           : tr("Circuit breaker open after %1 failures: %2"))
                             .arg(breaker.consecutiveFailures)
                             .arg(event.cause)};
    case BreakerState::HalfOpen:
        return NodeEvent{Kind::Info, tr("Circuit breaker half-open: cool-down over, probing")};
    case BreakerState::Closed:
        return NodeEvent{Kind::Up, tr("Circuit breaker closed again")};
    }
    return NodeEvent{Kind::Info, lockscope::redis::breakerStateName(event.to)};
}

QString scanProblem(const QString &group, const std::vector<lockscope::inspect::NodeScanResult> &nodes,
                    QString *detail)
{
    QStringList failed;
    QStringList errors;
    for (const auto &node : nodes) {
        if (!node.ok) {
            failed << node.node;
            errors << node.error;
        }
    }
    if (detail)
        *detail = errors.join(QLatin1Char('\n'));
    if (failed.isEmpty())
        return {};
    if (failed.size() == qsizetype(nodes.size()))
        return tr("Scan of group %1 failed: %2 could not be read; its locks stay as last read, marked stale")
            .arg(group, failed.join(QStringLiteral(", ")));
    return tr("Partial scan of group %1: %2 of %3 nodes read; %4 could not be read")
        .arg(group)
        .arg(qsizetype(nodes.size()) - failed.size())
        .arg(nodes.size())
        .arg(failed.join(QStringLiteral(", ")));
}
