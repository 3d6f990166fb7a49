#pragma once

#include "eventlogwidget.h"
#include "inspect/admin.h"
#include "inspect/lockschema.h"
#include "inspect/nodegroup.h"

#include <QList>
#include <QObject>
#include <functional>
#include <optional>
#include <utility>

class QAction;
class QThreadPool;
class QWidget;

/// The operator's actions on locks: Acquire, Extend, Force Release, Release Holder and Extend
/// Holder (one reader or permit of a lock of several), Copy Key, Copy Value and Open in lockctl. Owns their
/// QActions and keeps them enabled only when they can run (a lock selected, a group that takes writes), with
/// a tooltip saying why not; opens their dialogs; and runs the writes through core's Admin on the admin pool,
/// never on the GUI thread.
///
/// What it needs from the window comes in as a Context of callbacks, so that it knows nothing of
/// the table, the tree or the details pane.
class OperatorActions : public QObject
{
    Q_OBJECT

public:
    using SelectedLock = std::pair<QString, lockscope::inspect::LockRecord>;
    struct Context
    {
        /// The lock selected in the table (group, record as shown), if any.
        std::function<std::optional<SelectedLock>()> selectedLock;
        /// The group the operator is looking at (the node tree's current group), or empty.
        std::function<QString()> currentGroup;
        /// The value of the node picked in the details pane, or empty.
        std::function<QByteArray()> selectedNodeValue;
        /// Called when a force-release is confirmed: nothing stays selected, so that a second Del
        /// does nothing until the operator picks the next lock.
        std::function<void()> clearSelection;
        /// The holder picked in the details pane (a reader, a permit) of the selected lock, if any.
        std::function<std::optional<lockscope::inspect::LockHolder>()> selectedHolder;
    };

    /// `window` parents the dialogs; `adminPool` (one thread: actions in order) runs the writes and
    /// must outlive every action (the window drains it before it goes).
    OperatorActions(QWidget *window, QThreadPool *adminPool, Context context);

    /// The groups the actions write to (with passwords) and where they are saved (for lockctl
    /// commands that name the config file; empty = not saved).
    void setGroups(const lockscope::inspect::GroupConfig &config, const QString &configPath);
    /// Audit log file for the writes (default AuditLog::defaultPath()).
    void setAuditLogPath(const QString &path) { m_auditPath = path; }
    QString auditLogPath() const { return m_auditPath; }

    QAction *acquireAction() const { return m_acquire; }
    QAction *extendAction() const { return m_extend; }
    QAction *forceReleaseAction() const { return m_forceRelease; }
    QAction *copyKeyAction() const { return m_copyKey; }
    QAction *copyValueAction() const { return m_copyValue; }
    QAction *lockctlAction() const { return m_lockctl; }
    QAction *releaseHolderAction() const { return m_releaseHolder; }
    QAction *extendHolderAction() const { return m_extendHolder; }
    /// The actions on the holder picked in the details pane.
    QList<QAction *> holderActions() const { return {m_releaseHolder, m_extendHolder}; }
    /// The actions on the selected lock, in menu order (a null entry is a separator).
    QList<QAction *> lockMenuActions() const;

    /// Why writes are refused on this group (a read-only node, or the group is gone), or empty.
    QString readOnlyReason(const QString &group) const;

public slots:
    /// Enables the actions for the current selection and groups.
    void update();

signals:
    /// A line for the event log.
    void event(EventLogWidget::Kind kind, const QString &node, const QString &text);
    /// An action ran to its end on the admin thread; `ok` as AdminResult::ok. Redis changed (or
    /// may have): the window refreshes.
    void finished(const QString &action, bool ok);

private:
    void acquire();
    void extend();
    void forceRelease();
    /// Force-release (`release`) or extend the picked holder alone, after its dialog.
    void holderAction(bool release);
    void copyKey();
    void copyValue();
    void showLockctlCommand();
    /// The group an extend or force-release may write to; null (and logged) when it is gone or
    /// has a read-only node.
    const lockscope::inspect::NodeGroup *writableGroup(const QString &name);
    /// Runs `operation` on the admin pool and reports it in the log.
    void run(const QString &action, const QString &group, const QByteArray &key,
             std::function<lockscope::inspect::AdminResult(lockscope::inspect::Admin &)> operation);

    QWidget *m_window;
    QThreadPool *m_adminPool;
    Context m_context;
    lockscope::inspect::GroupConfig m_config;
    QString m_configPath;
    QString m_auditPath;
    lockscope::inspect::SchemaRegistry m_registry;

    QAction *m_acquire = nullptr;
    QAction *m_extend = nullptr;
    QAction *m_forceRelease = nullptr;
    QAction *m_copyKey = nullptr;
    QAction *m_copyValue = nullptr;
    QAction *m_lockctl = nullptr;
    QAction *m_releaseHolder = nullptr;
    QAction *m_extendHolder = nullptr;
};
