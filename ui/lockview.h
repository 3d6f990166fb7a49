#pragma once

#include "inspect/lockrecord.h"
#include "inspect/lockschema.h"

#include <QHash>
#include <QList>
#include <QTimer>
#include <QWidget>
#include <optional>
#include <utility>
#include <vector>

class LockFilterProxy;
class LockHeaderView;
class LockTableModel;
class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;

/// The centre of the window: the filter bar (text or glob, schema, anomalies only) over the lock
/// table, with its header (LockHeaderView), a countdown that repaints only the TTL and age
/// columns, and, over an empty table, a hint that says why it is empty (no locks, or no lock
/// matching the filter while scanned keys that no lock format reads do).
class LockView : public QWidget
{
    Q_OBJECT

public:
    /// `model` and `proxy` (over `model`) outlive the view.
    LockView(LockTableModel *model, LockFilterProxy *proxy,
             const lockscope::inspect::SchemaRegistry &registry, QWidget *parent = nullptr);

    QTableView *table() const { return m_table; }
    LockHeaderView *header() const { return m_header; }

    /// The keys the last scan of `group` read but did not list (up to LockMonitor::KeptUnlisted)
    /// and how many there were.
    void setUnlisted(const QString &group, std::vector<QByteArray> keys, quint64 count);
    /// Whether any group is configured: without one, an empty table says nothing.
    void setHasGroups(bool hasGroups);
    /// Shows the empty table's hint, or hides it when the table has rows.
    void updateHint();

    /// The lock the operator chose: the current row when it is selected (group, record as shown).
    std::optional<std::pair<QString, lockscope::inspect::LockRecord>> selectedLock() const;
    /// Selects the row of `key` in `group`; false when it is not shown.
    bool selectLock(const QString &group, const QByteArray &key);
    void clearSelection();
    /// The model row of selectedLock(), or -1.
    int selectedRow() const;
    /// The table's context menu on a lock, in order (a null entry is a separator).
    void setContextActions(const QList<QAction *> &actions) { m_contextActions = actions; }

signals:
    /// Another lock was chosen, none is, or the chosen one's row changed (at most once per
    /// event-loop turn during a refresh).
    void selectedLockChanged();
    /// Rows came or went, or the model's counts changed: the counts shown may be stale.
    void countsChanged();
    /// A lock row was double-clicked.
    void lockActivated();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    struct Unlisted
    {
        std::vector<QByteArray> keys;
        quint64 count = 0;
    };

    LockTableModel *m_model;
    LockFilterProxy *m_proxy;
    QLineEdit *m_filter = nullptr;
    QComboBox *m_schemaFilter = nullptr;
    QCheckBox *m_anomaliesOnly = nullptr;
    QTableView *m_table = nullptr;
    LockHeaderView *m_header = nullptr;
    QLabel *m_hint = nullptr; ///< made on first need, over the table's viewport
    QHash<QString, Unlisted> m_unlisted;
    bool m_hasGroups = false;
    QList<QAction *> m_contextActions;
    QTimer m_selectionTouched; ///< coalesces selectedLockChanged() during a refresh
};
