#include "nodepanel.h"

#include "models/namespacemodel.h"
#include "models/nodetreemodel.h"
#include "viewstyle.h"

#include <QHeaderView>
#include <QTreeView>

NodePanel::NodePanel(NodeTreeModel *nodes, LockTableModel *locks, QWidget *parent)
    : QSplitter(Qt::Vertical, parent), m_nodes(nodes), m_namespaces(new NamespaceModel(this)),
      m_nodeTree(new QTreeView), m_namespaceView(new QTreeView)
{
    m_nodeTree->setObjectName(QStringLiteral("nodeTree"));
    m_nodeTree->setModel(m_nodes);
    m_nodeTree->setUniformRowHeights(true);
    m_nodeTree->setRootIsDecorated(true);
    m_nodeTree->setIconSize(QSize(22, 16));
    m_nodeTree->setIndentation(14);
    m_nodeTree->header()->setStretchLastSection(false);
    m_nodeTree->header()->setSectionResizeMode(NodeTreeModel::NameColumn, QHeaderView::Stretch);
    m_nodeTree->header()->setSectionResizeMode(NodeTreeModel::LatencyColumn, QHeaderView::ResizeToContents);
    useCellMargins(m_nodeTree, m_nodeTree->header());
    connect(m_nodeTree->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this] { emit groupChosen(currentGroup()); });
    // A new set of groups: all of them open, and the lock table shows every group's locks.
    connect(m_nodes, &QAbstractItemModel::modelReset, this, [this] {
        m_nodeTree->expandAll();
        m_nodeTree->setCurrentIndex(m_nodes->allGroupsIndex());
    });

    m_namespaces->setSourceModel(locks);
    m_namespaceView->setObjectName(QStringLiteral("namespaceView"));
    m_namespaceView->setModel(m_namespaces);
    m_namespaceView->setUniformRowHeights(true);
    m_namespaceView->header()->setStretchLastSection(false);
    m_namespaceView->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    if (m_namespaces->columnCount() > 1)
        m_namespaceView->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    // The "All locks" level stays open, so that the first namespaces show without a click.
    auto expandAll = [this] {
        m_namespaceView->expand(m_namespaces->allIndex());
    };
    connect(m_namespaces, &QAbstractItemModel::rowsInserted, this, expandAll);
    connect(m_namespaces, &QAbstractItemModel::modelReset, this, expandAll);
    connect(m_namespaceView->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex &current) { emit namespaceChosen(m_namespaces->path(current)); });

    addWidget(m_nodeTree);
    addWidget(m_namespaceView);
    setStretchFactor(0, 3);
    setStretchFactor(1, 2);
}

QString NodePanel::currentGroup() const
{
    return m_nodeTree->currentIndex().data(NodeTreeModel::GroupNameRole).toString();
}
