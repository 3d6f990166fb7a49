#include "lockfilterproxy.h"

#include "locktablemodel.h"
#include "util/glob.h"

using lockscope::inspect::LockRecord;

LockFilterProxy::LockFilterProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(LockTableModel::SortRole);
    // A role the countdown never signals: a tick must not make the proxy re-filter.
    setFilterRole(LockTableModel::AnomaliesRole);
    // Dynamic: rows the model inserts or changes are placed by binary search, so a refresh
    // costs the proxy in proportion to what changed. The countdown emits no dataChanged (see
    // LockTableModel::countdownTicked), so a tick costs it nothing.
    setDynamicSortFilter(true);
    setSortCaseSensitivity(Qt::CaseInsensitive);
}

void LockFilterProxy::setSourceModel(QAbstractItemModel *model)
{
    m_model = qobject_cast<LockTableModel *>(model);
    Q_ASSERT_X(!model || m_model, "LockFilterProxy", "the source model must be a LockTableModel");
    QSortFilterProxyModel::setSourceModel(model);
}

void LockFilterProxy::setFilterText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    m_glob = m_text.contains(QLatin1Char('*')) || m_text.contains(QLatin1Char('?')) ||
             m_text.contains(QLatin1Char('['));
    m_globPattern = m_glob ? m_text.toUtf8() : QByteArray();
    resync();
}

void LockFilterProxy::setSchemaFilter(const QString &schema)
{
    if (schema == m_schema)
        return;
    m_schema = schema;
    resync();
}

void LockFilterProxy::setAnomaliesOnly(bool only)
{
    if (only == m_anomaliesOnly)
        return;
    m_anomaliesOnly = only;
    resync();
}

void LockFilterProxy::setGroupFilter(const QString &group)
{
    if (group == m_group)
        return;
    m_group = group;
    resync();
}

void LockFilterProxy::setNamespaceFilter(const QString &prefix)
{
    if (prefix == m_namespace)
        return;
    m_namespace = prefix;
    m_namespacePrefix = prefix.isEmpty() ? QByteArray() : prefix.toUtf8() + ':';
    resync();
}

const LockRecord *LockFilterProxy::record(const QModelIndex &proxyIndex) const
{
    if (!m_model || !proxyIndex.isValid() || proxyIndex.model() != this)
        return nullptr;
    return m_model->record(mapToSource(proxyIndex));
}

QString LockFilterProxy::group(const QModelIndex &proxyIndex) const
{
    if (!m_model || !proxyIndex.isValid() || proxyIndex.model() != this)
        return {};
    return m_model->group(mapToSource(proxyIndex).row());
}

bool LockFilterProxy::isFiltering() const
{
    return !m_text.isEmpty() || !m_group.isEmpty() || !m_schema.isEmpty() || m_anomaliesOnly ||
           !m_namespacePrefix.isEmpty();
}

void LockFilterProxy::resync()
{
    // A filter changed: rows enter and leave (the order of those that stay is kept).
    invalidateFilter();
}

bool LockFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (sourceParent.isValid() || !m_model)
        return false;
    if (m_text.isEmpty() && m_group.isEmpty() && m_schema.isEmpty() && !m_anomaliesOnly &&
        m_namespacePrefix.isEmpty())
        return true;
    const LockRecord *record = m_model->record(sourceRow);
    if (!record)
        return false;
    if (!m_group.isEmpty() && m_model->group(sourceRow) != m_group)
        return false;
    if (m_schema == QLatin1String(UnrecognisedSchema)) {
        if (!record->schema.isEmpty())
            return false;
    } else if (!m_schema.isEmpty() && record->schema != m_schema)
        return false;
    if (m_anomaliesOnly && record->anomalies.isEmpty())
        return false;
    if (!m_namespacePrefix.isEmpty() && !record->key.startsWith(m_namespacePrefix))
        return false;
    if (m_text.isEmpty())
        return true;
    if (m_glob)
        return lockscope::globMatch(m_globPattern, record->key);
    return m_model->keyText(sourceRow).contains(m_text, Qt::CaseInsensitive) ||
           record->owner.contains(m_text, Qt::CaseInsensitive) ||
           m_model->tokenText(sourceRow).contains(m_text, Qt::CaseInsensitive);
}

bool LockFilterProxy::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    // Called O(n log n) times on a sort and for every changed row on a refresh: no QVariants.
    if (m_model && sortRole() == LockTableModel::SortRole && left.model() == m_model &&
        right.model() == m_model && left.column() == right.column())
        return m_model->compareRows(left.row(), right.row(), left.column()) < 0;
    return QSortFilterProxyModel::lessThan(left, right);
}
