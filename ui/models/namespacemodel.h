#pragma once

#include <QAbstractItemModel>
#include <QPointer>
#include <QTimer>
#include <memory>
#include <vector>

class LockTableModel;

/// The key namespaces of the locks in a LockTableModel, as a tree for a side panel: keys split
/// on ':' ("jobs:lock:nightly" counts under "jobs" and "jobs:lock"), with the number of locks
/// under each. One top-level item, "All locks" (empty path), holds the tree.
///
/// Rebuilt shortly after the source's rows change (coalesced), and merged into the current
/// tree so that the selection and the expanded items survive a refresh. Selecting an item is
/// meant to call LockFilterProxy::setNamespaceFilter(path).
class NamespaceModel : public QAbstractItemModel
{
    Q_OBJECT

public:
    enum Column
    {
        NameColumn,
        CountColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    enum Role
    {
        PathRole = Qt::UserRole + 1, ///< QString: the namespace ("jobs:lock"); empty for "All locks"
        CountRole,                   ///< int: locks under it
    };

    explicit NamespaceModel(QObject *parent = nullptr);
    ~NamespaceModel() override;

    void setSourceModel(LockTableModel *model);
    /// Delay between a change of the source's rows and the rebuild (default 100 ms).
    void setRebuildDelay(std::chrono::milliseconds delay);

    QString path(const QModelIndex &index) const;
    QModelIndex indexForPath(const QString &path) const;
    /// The "All locks" item.
    QModelIndex allIndex() const;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

public slots:
    /// Re-reads the source now (the coalescing timer calls it; public for tests).
    void rebuild();

private:
    struct Node;

    Node *nodeOf(const QModelIndex &index) const;
    QModelIndex indexOf(const Node *node, int column = 0) const;
    void merge(Node *current, Node *fresh);
    void scheduleRebuild();

    QPointer<LockTableModel> m_source;
    std::unique_ptr<Node> m_root; ///< invisible; its only child is "All locks"
    QTimer m_rebuildTimer;
};
