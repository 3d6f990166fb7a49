#include "nodetreemodel.h"

#include "nodelistmodel.h"
#include "statusdots.h"

#include <QFont>
#include <QLocale>
#include <util/duration.h>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::NodeGroup;
using lockscope::redis::NodeStatus;

namespace {

// Internal ids: 0 on top-level rows ("All groups" and the groups); on a node row, the top-level
// row of its group (>= 1).
constexpr quintptr TopLevel = 0;

} // namespace

NodeTreeModel::NodeTreeModel(NodeListModel *nodes, QObject *parent)
    : QAbstractItemModel(parent), m_nodes(nodes)
{
    connect(m_nodes, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &topLeft, const QModelIndex &bottomRight) {
                onNodesChanged(topLeft.row(), bottomRight.row());
            });
    // Rows of the node list move on a reset or an insert: map the tree's nodes again.
    const auto remap = [this] {
        beginResetModel();
        mapNodeRows();
        endResetModel();
    };
    connect(m_nodes, &QAbstractItemModel::modelReset, this, remap);
    connect(m_nodes, &QAbstractItemModel::rowsInserted, this, remap);
    connect(m_nodes, &QAbstractItemModel::rowsRemoved, this, remap);
}

void NodeTreeModel::setGroups(const GroupConfig &config)
{
    beginResetModel();
    m_groups.clear();
    for (const NodeGroup &group : config.groups)
        m_groups.push_back(Group{group, {}});
    mapNodeRows();
    endResetModel();
}

void NodeTreeModel::mapNodeRows()
{
    for (Group &group : m_groups) {
        group.nodeRows.clear();
        for (const auto &node : group.config.nodes)
            group.nodeRows.push_back(m_nodes->rowOf(node.config));
    }
}

void NodeTreeModel::onNodesChanged(int first, int last)
{
    for (size_t g = 0; g < m_groups.size(); ++g) {
        const QModelIndex groupIndex = index(int(g) + 1, NameColumn);
        const auto &rows = m_groups[g].nodeRows;
        for (size_t n = 0; n < rows.size(); ++n) {
            if (first <= rows[n] && rows[n] <= last)
                emit dataChanged(index(int(n), NameColumn, groupIndex),
                                 index(int(n), LatencyColumn, groupIndex));
        }
    }
}

QModelIndex NodeTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    if (!parent.isValid())
        return createIndex(row, column, TopLevel);
    return createIndex(row, column, quintptr(parent.row()));
}

QModelIndex NodeTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid() || child.internalId() == TopLevel)
        return {};
    return createIndex(int(child.internalId()), NameColumn, TopLevel);
}

int NodeTreeModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid())
        return 1 + int(m_groups.size());
    if (parent.column() != NameColumn || parent.internalId() != TopLevel || parent.row() == 0)
        return 0;
    return int(m_groups[size_t(parent.row() - 1)].config.nodes.size());
}

int NodeTreeModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant NodeTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    return section == NameColumn ? tr("Group / Node") : tr("Latency");
}

QVariant NodeTreeModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    if (index.internalId() != TopLevel) {
        const Group &group = m_groups[size_t(index.internalId() - 1)];
        return nodeData(group, size_t(index.row()), index.column(), role);
    }
    if (index.row() > 0)
        return groupData(m_groups[size_t(index.row() - 1)], index.column(), role);
    switch (role) {
    case Qt::DisplayRole:
        return index.column() == NameColumn ? tr("All groups") : QVariant();
    case GroupNameRole:
        return QString();
    case NodeRowRole:
        return -1;
    default:
        return {};
    }
}

QVariant NodeTreeModel::groupData(const Group &group, int column, int role) const
{
    const NodeGroup &config = group.config;
    switch (role) {
    case Qt::DisplayRole:
        return column == NameColumn ? config.name : QVariant();
    case Qt::FontRole: {
        QFont bold;
        bold.setBold(true);
        return bold;
    }
    case Qt::ToolTipRole: {
        if (column != NameColumn)
            return {};
        QString kind =
            config.isRedlockSet()
                ? tr("Redlock set of %1 nodes, quorum %2").arg(config.nodes.size()).arg(config.quorum())
                : tr("Single node");
        if (!config.match.isEmpty())
            kind += QLatin1Char('\n') + tr("Keys: %1").arg(config.match.join(QStringLiteral(", ")));
        return config.name + QLatin1Char('\n') + kind; // the name in full
    }
    case GroupNameRole:
        return config.name;
    case NodeRowRole:
        return -1;
    default:
        return {};
    }
}

QVariant NodeTreeModel::nodeData(const Group &group, size_t n, int column, int role) const
{
    const int row = group.nodeRows[n];
    if (role == GroupNameRole)
        return group.config.name;
    if (role == NodeRowRole)
        return row;
    if (row < 0)
        return {};
    const auto &node = group.config.nodes[n];
    const auto &config = node.config;
    const std::optional<NodeStatus> status = m_nodes->status(row);
    const int state = int(m_nodes->state(row));
    switch (role) {
    case Qt::DisplayRole:
        if (column == NameColumn) {
            QStringList badges;
            if (node.production)
                badges << tr("PROD");
            if (node.readOnly)
                badges << tr("RO");
            return badges.isEmpty() ? config.label()
                                    : config.label() + QStringLiteral("  [") +
                                          badges.join(QStringLiteral("] [")) + QLatin1Char(']');
        }
        if (const auto breaker = m_nodes->breaker(row);
            breaker && breaker->state != lockscope::redis::BreakerState::Closed)
            return breaker->state == lockscope::redis::BreakerState::Open ? tr("breaker open")
                                                                          : tr("half-open");
        if (status && status->reachable)
            return lockscope::formatLatency(status->latency, QLocale());
        return status ? tr("down") : QString();
    case Qt::DecorationRole:
        return column == NameColumn ? QVariant(statusdots::nodeIcon(state, node.color)) : QVariant();
    case Qt::ForegroundRole:
        if (const auto breaker = m_nodes->breaker(row);
            column == LatencyColumn && breaker && breaker->state != lockscope::redis::BreakerState::Closed)
            return statusdots::colorFor(int(NodeListModel::State::Down));
        return column == LatencyColumn && state == int(NodeListModel::State::Down)
                   ? QVariant(statusdots::colorFor(state))
                   : QVariant();
    case Qt::ToolTipRole: {
        QStringList tip{config.label(), config.address()};
        if (status && status->reachable) {
            tip << NodeListModel::serverDescription(*status);
            if (status->fenceCountersEvictable())
                tip << NodeListModel::fenceWarningText(*status);
        } else if (status) {
            tip << tr("Down: %1").arg(NodeListModel::failureText(*status));
        } else {
            tip << tr("Checking…");
        }
        if (const auto breaker = m_nodes->breaker(row);
            breaker &&
            (breaker->state != lockscope::redis::BreakerState::Closed || breaker->consecutiveFailures > 0))
            tip << NodeListModel::breakerToolTip(*breaker);
        if (node.production)
            tip << tr("Production: force-release needs the key typed");
        if (node.readOnly)
            tip << tr("Read-only: LockScope sends no writes to this node");
        return tip.join(QLatin1Char('\n'));
    }
    default:
        return {};
    }
}
