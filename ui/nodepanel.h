#pragma once

#include <QSplitter>

class LockTableModel;
class NamespaceModel;
class NodeTreeModel;
class QTreeView;

/// The left panel: the node groups with their nodes (status dots, latency) above the key
/// namespaces of the locks shown. Choosing a group or a namespace filters the lock table; the
/// panel only says what was chosen.
class NodePanel : public QSplitter
{
    Q_OBJECT

public:
    /// `nodes` is the groups -> nodes model; the namespaces are counted over `locks`.
    NodePanel(NodeTreeModel *nodes, LockTableModel *locks, QWidget *parent = nullptr);

    /// The group of the current row of the node tree (a group or one of its nodes); empty for
    /// "All groups" or nothing.
    QString currentGroup() const;

signals:
    /// The operator chose a group (empty: all groups).
    void groupChosen(const QString &group);
    /// The operator chose a key namespace ("jobs:lock"; empty: all locks).
    void namespaceChosen(const QString &path);

private:
    NodeTreeModel *m_nodes;
    NamespaceModel *m_namespaces;
    QTreeView *m_nodeTree;
    QTreeView *m_namespaceView;
};
