#pragma once

#include "inspect/nodegroup.h"

#include <QAbstractItemModel>
#include <vector>

class NodeListModel;

/// The node panel's tree: "All groups" first, then each group with its nodes beneath it.
///
/// A node's status comes from the NodeListModel row of that node (one row per distinct node,
/// however many groups share it; NodeMonitor feeds it): when a row changes, every tree row of
/// that node changes with it. Node rows carry the status dot with the node's colour tag as
/// their decoration, the latency (or "down") in the second column and the whole story in the
/// tooltip; group rows say what kind of group they are.
class NodeTreeModel : public QAbstractItemModel
{
    Q_OBJECT

public:
    enum Column
    {
        NameColumn,
        LatencyColumn,
        ColumnCount
    };
    enum Role
    {
        /// On every row: the group it belongs to; empty on "All groups".
        GroupNameRole = Qt::UserRole + 1,
        /// On node rows: the node's row in the NodeListModel; -1 elsewhere.
        NodeRowRole,
    };

    /// `nodes` outlives this model; it must list every node of the groups given to setGroups().
    explicit NodeTreeModel(NodeListModel *nodes, QObject *parent = nullptr);

    /// Shows these groups (a reset).
    void setGroups(const lockscope::inspect::GroupConfig &config);
    /// The "All groups" row.
    QModelIndex allGroupsIndex() const { return index(0, NameColumn); }

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    /// A group and, per node, its NodeListModel row.
    struct Group
    {
        lockscope::inspect::NodeGroup config;
        std::vector<int> nodeRows;
    };
    void mapNodeRows();
    void onNodesChanged(int first, int last);
    QVariant groupData(const Group &group, int column, int role) const;
    QVariant nodeData(const Group &group, size_t node, int column, int role) const;

    NodeListModel *m_nodes;
    std::vector<Group> m_groups;
};
