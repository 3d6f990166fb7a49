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
