#pragma once

#include <QByteArray>
#include <QSortFilterProxyModel>

namespace lockscope::inspect {
struct LockRecord;
}

class LockTableModel;

/// Filters and sorts a LockTableModel for the lock table.
///
/// Sorting uses LockTableModel::SortRole (compared without QVariants), with dynamicSortFilter
/// on: rows the model inserts, changes or removes are placed, re-filtered or dropped one by
/// one (binary search), so a refresh costs the proxy in proportion to what changed, never a
/// full re-sort of 100,000 rows. That works because the model's countdown emits no dataChanged
/// (Qt 6.4's proxy would revisit every row of such a range, whatever the roles): views repaint
/// the TTL column on LockTableModel::countdownTicked(). The TTL column sorts by the steady-clock
/// deadline, which only a refresh moves, so the order by TTL stays right between refreshes and
/// rows do not move under the mouse.
class LockFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit LockFilterProxy(QObject *parent = nullptr);

    void setSourceModel(QAbstractItemModel *model) override;

    /// Case-insensitive substring of key, owner or token; with `*`, `?` or `[` a Redis glob
    /// on the key (case-sensitive, as Redis matches).
    void setFilterText(const QString &text);
    QString filterText() const { return m_text; }
    bool isGlob() const { return m_glob; }
    /// Whether any filter is set.
    bool isFiltering() const;
    /// Only records no schema decodes (shown raw): the schema filter's "Unrecognised" entry.
    static constexpr char UnrecognisedSchema[] = "\x01unrecognised";
    /// Only this schema id (empty = all; UnrecognisedSchema = only undecoded keys).
    void setSchemaFilter(const QString &schema);
    QString schemaFilter() const { return m_schema; }
    void setAnomaliesOnly(bool only);
    bool anomaliesOnly() const { return m_anomaliesOnly; }
    /// Only this node group (empty = all).
    void setGroupFilter(const QString &group);
    QString groupFilter() const { return m_group; }
    /// Only keys under this namespace ("jobs" keeps "jobs:x" and "jobs:lock:y"; empty = all).
    void setNamespaceFilter(const QString &prefix);
    QString namespaceFilter() const { return m_namespace; }

    /// The source model (nullptr before setSourceModel).
    const LockTableModel *lockModel() const { return m_model; }
    /// The record and group at a proxy index (nullptr / empty when there is none).
    const lockscope::inspect::LockRecord *record(const QModelIndex &proxyIndex) const;
    QString group(const QModelIndex &proxyIndex) const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    /// Re-filters (rows enter and leave without a reset) and re-sorts (a layout change, so
    /// selection and current index stay on their rows).
    void resync();

    LockTableModel *m_model = nullptr;
    QString m_text;
    QByteArray m_globPattern;
    bool m_glob = false;
    QString m_schema;
    bool m_anomaliesOnly = false;
    QString m_group;
    QString m_namespace;
    QByteArray m_namespacePrefix; ///< "<namespace>:"
};
