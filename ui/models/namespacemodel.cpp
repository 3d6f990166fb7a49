#include "namespacemodel.h"

#include "locktablemodel.h"
#include "locktext.h"

#include <QHash>
#include <QLocale>
#include <algorithm>

using lockscope::inspect::LockRecord;

struct NamespaceModel::Node
{
    QString name;
    QString path;
    int count = 0;
    int row = 0;
    Node *parent = nullptr;
    std::vector<std::unique_ptr<Node>> children; ///< sorted by name
    QHash<QString, Node *> lookup;               ///< only while building

    Node *child(const QString &childName)
    {
        if (Node *found = lookup.value(childName))
            return found;
        auto node = std::make_unique<Node>();
        node->name = childName;
        node->path = path.isEmpty() ? childName : path + QLatin1Char(':') + childName;
        node->parent = this;
        Node *raw = node.get();
        children.push_back(std::move(node));
        lookup.insert(childName, raw);
        return raw;
    }

    void finish()
    {
        lookup.clear();
        std::sort(children.begin(), children.end(),
                  [](const auto &a, const auto &b) { return a->name < b->name; });
        renumber();
        for (auto &c : children)
            c->finish();
    }

    void renumber()
    {
        for (std::size_t i = 0; i < children.size(); ++i)
            children[i]->row = int(i);
    }
};

NamespaceModel::NamespaceModel(QObject *parent) : QAbstractItemModel(parent), m_root(std::make_unique<Node>())
{
    auto all = std::make_unique<Node>();
    all->parent = m_root.get();
    m_root->children.push_back(std::move(all));
    m_rebuildTimer.setSingleShot(true);
    m_rebuildTimer.setInterval(100);
    connect(&m_rebuildTimer, &QTimer::timeout, this, &NamespaceModel::rebuild);
}

NamespaceModel::~NamespaceModel() = default;

void NamespaceModel::setSourceModel(LockTableModel *model)
{
    if (m_source)
        disconnect(m_source, nullptr, this, nullptr);
    m_source = model;
    if (model) {
        connect(model, &QAbstractItemModel::rowsInserted, this, &NamespaceModel::scheduleRebuild);
        connect(model, &QAbstractItemModel::rowsRemoved, this, &NamespaceModel::scheduleRebuild);
        connect(model, &QAbstractItemModel::modelReset, this, &NamespaceModel::scheduleRebuild);
        connect(model, &QObject::destroyed, this, &NamespaceModel::scheduleRebuild);
    }
    rebuild();
}

void NamespaceModel::setRebuildDelay(std::chrono::milliseconds delay)
{
    m_rebuildTimer.setInterval(delay);
}

void NamespaceModel::scheduleRebuild()
{
    if (!m_rebuildTimer.isActive())
        m_rebuildTimer.start();
}

void NamespaceModel::rebuild()
{
    m_rebuildTimer.stop();
    Node fresh;
    Node *all = fresh.child(QString());
    if (m_source) {
        all->count = m_source->rowCount();
        // The model counts its rows per namespace as they come and go: each distinct namespace
        // is split once here, however many rows there are.
        const QHash<QString, int> &perNamespace = m_source->namespaceCounts();
        for (auto it = perNamespace.cbegin(); it != perNamespace.cend(); ++it) {
            if (it.key().isEmpty())
                continue;
            Node *node = all;
            for (const QString &segment : it.key().split(QLatin1Char(':'))) {
                node = node->child(segment);
                node->count += it.value();
            }
        }
    }
    // Paths under "All locks" start at the first segment, not with a leading ':'.
    fresh.finish();

    Node *current = m_root->children.front().get();
    if (current->count != all->count) {
        current->count = all->count;
        emit dataChanged(indexOf(current, NameColumn), indexOf(current, CountColumn));
    }
    merge(current, all);
}

void NamespaceModel::merge(Node *current, Node *fresh)
{
    auto &now = current->children;
    auto &next = fresh->children;
    const auto inNext = [&](const QString &name) {
        const auto it = std::lower_bound(next.cbegin(), next.cend(), name,
                                         [](const auto &child, const QString &n) { return child->name < n; });
        return it != next.cend() && (*it)->name == name;
    };

    // Vanished namespaces, in contiguous ranges from the end.
    int end = int(now.size());
    while (end > 0) {
        if (inNext(now[std::size_t(end - 1)]->name)) {
            --end;
            continue;
        }
        int begin = end - 1;
        while (begin > 0 && !inNext(now[std::size_t(begin - 1)]->name))
            --begin;
        beginRemoveRows(indexOf(current), begin, end - 1);
        now.erase(now.begin() + begin, now.begin() + end);
        current->renumber();
        endRemoveRows();
        end = begin;
    }

    // New namespaces inserted in order; the ones that stay updated and merged recursively.
    std::size_t i = 0;
    std::size_t j = 0;
    while (j < next.size()) {
        if (i < now.size() && now[i]->name == next[j]->name) {
            Node *node = now[i].get();
            if (node->count != next[j]->count) {
                node->count = next[j]->count;
                emit dataChanged(indexOf(node, NameColumn), indexOf(node, CountColumn));
            }
            merge(node, next[j].get());
            ++i;
            ++j;
            continue;
        }
        std::size_t k = j;
        while (k < next.size() && (i >= now.size() || next[k]->name != now[i]->name))
            ++k;
        beginInsertRows(indexOf(current), int(i), int(i + (k - j)) - 1);
        for (std::size_t n = j; n < k; ++n) {
            next[n]->parent = current;
            now.insert(now.begin() + std::ptrdiff_t(i + (n - j)), std::move(next[n]));
        }
        current->renumber();
        endInsertRows();
        i += k - j;
        j = k;
    }
}

NamespaceModel::Node *NamespaceModel::nodeOf(const QModelIndex &index) const
{
    return index.isValid() ? static_cast<Node *>(index.internalPointer()) : m_root.get();
}

QModelIndex NamespaceModel::indexOf(const Node *node, int column) const
{
    if (!node || node == m_root.get())
        return {};
    return createIndex(node->row, column, const_cast<Node *>(node));
}

QString NamespaceModel::path(const QModelIndex &index) const
{
    return index.isValid() ? nodeOf(index)->path : QString();
}

QModelIndex NamespaceModel::allIndex() const
{
    return indexOf(m_root->children.front().get());
}

QModelIndex NamespaceModel::indexForPath(const QString &path) const
{
    const Node *node = m_root->children.front().get();
    if (path.isEmpty())
        return indexOf(node);
    for (const QString &segment : path.split(QLatin1Char(':'))) {
        const auto it =
            std::lower_bound(node->children.cbegin(), node->children.cend(), segment,
                             [](const auto &child, const QString &name) { return child->name < name; });
        if (it == node->children.cend() || (*it)->name != segment)
            return {};
        node = it->get();
    }
    return indexOf(node);
}

QModelIndex NamespaceModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    const Node *parentNode = nodeOf(parent);
    return createIndex(row, column, parentNode->children[std::size_t(row)].get());
}

QModelIndex NamespaceModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    return indexOf(nodeOf(child)->parent);
}

int NamespaceModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() && parent.column() != NameColumn)
        return 0;
    return int(nodeOf(parent)->children.size());
}

int NamespaceModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant NamespaceModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const Node *node = nodeOf(index);
    const bool all = node->parent == m_root.get();
    switch (role) {
    case Qt::DisplayRole:
        if (index.column() == CountColumn)
            return QLocale().toString(node->count);
        if (all)
            return tr("All locks");
        return node->name.isEmpty() ? tr("(empty)") : node->name;
    case Qt::ToolTipRole:
        if (all)
            return tr("%1 in all groups").arg(locktext::counted(node->count, tr("%1 lock"), tr("%1 locks")));
        return tr("%1 under %2:*")
            .arg(locktext::counted(node->count, tr("%1 lock"), tr("%1 locks")), node->path);
    case Qt::TextAlignmentRole:
        if (index.column() == CountColumn)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    case PathRole:
        return node->path;
    case CountRole:
        return node->count;
    default:
        return {};
    }
}

QVariant NamespaceModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractItemModel::headerData(section, orientation, role);
    return section == NameColumn ? tr("Namespace") : tr("Locks");
}
