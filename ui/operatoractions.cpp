#include "operatoractions.h"

#include "backgroundjob.h"
#include "dialogs/acquiredialog.h"
#include "dialogs/extenddialog.h"
#include "dialogs/forcereleasedialog.h"
#include "dialogs/holderdialog.h"
#include "dialogs/lockctlcommanddialog.h"
#include "lockctlcommand.h"
#include "util/displaytext.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QIcon>
#include <QMimeData>
#include <QThreadPool>

using lockscope::inspect::Admin;
using lockscope::inspect::AdminNode;
using lockscope::inspect::AdminResult;
using lockscope::inspect::AuditLog;
using lockscope::inspect::GroupConfig;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::Operator;
using lockscope::inspect::SchemaRegistry;
using Kind = EventLogWidget::Kind;

namespace {

QAction *makeAction(QObject *parent, const char *icon, const QString &text, const char *objectName,
                    const QKeySequence &shortcut)
{
    auto *action =
        icon ? new QAction(QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1String(icon))), text, parent)
             : new QAction(text, parent);
    action->setObjectName(QLatin1String(objectName));
    action->setShortcut(shortcut);
    return action;
}

} // namespace

OperatorActions::OperatorActions(QWidget *window, QThreadPool *adminPool, Context context)
    : QObject(window), m_window(window), m_adminPool(adminPool), m_context(std::move(context)),
      m_auditPath(AuditLog::defaultPath()), m_registry(SchemaRegistry::builtins())
{
    m_acquire = makeAction(this, "acquire", tr("&Acquire Lock…"), "acquireAction", QKeySequence::New);
    connect(m_acquire, &QAction::triggered, this, &OperatorActions::acquire);

    m_extend = makeAction(this, "extend", tr("&Extend…"), "extendAction", QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(m_extend, &QAction::triggered, this, &OperatorActions::extend);

    m_forceRelease =
        makeAction(this, "force-release", tr("&Force Release…"), "forceReleaseAction", QKeySequence::Delete);
    connect(m_forceRelease, &QAction::triggered, this, &OperatorActions::forceRelease);

    m_copyKey = makeAction(this, "copy", tr("&Copy Key"), "copyKeyAction", QKeySequence::Copy);
    // Ctrl+C copies the key only where the table has the focus: in a text field it copies text.
    m_copyKey->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_copyKey, &QAction::triggered, this, &OperatorActions::copyKey);

    m_copyValue = makeAction(this, nullptr, tr("Copy &Value"), "copyValueAction",
                             QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    connect(m_copyValue, &QAction::triggered, this, &OperatorActions::copyValue);

    m_lockctl = makeAction(this, "terminal", tr("Open in &lockctl…"), "lockctlAction",
                           QKeySequence(Qt::CTRL | Qt::Key_L));
    m_lockctl->setToolTip(tr("Show the equivalent lockctl commands"));
    connect(m_lockctl, &QAction::triggered, this, &OperatorActions::showLockctlCommand);

    m_releaseHolder = makeAction(this, "force-release", tr("&Release Holder…"), "releaseHolderAction", {});
    connect(m_releaseHolder, &QAction::triggered, this, [this] { holderAction(true); });
    m_extendHolder = makeAction(this, "extend", tr("E&xtend Holder…"), "extendHolderAction", {});
    connect(m_extendHolder, &QAction::triggered, this, [this] { holderAction(false); });
}

void OperatorActions::setGroups(const GroupConfig &config, const QString &configPath)
{
    m_config = config;
    m_configPath = configPath;
    update();
}

QList<QAction *> OperatorActions::lockMenuActions() const
{
    return {m_extend, m_forceRelease, nullptr, m_copyKey, m_copyValue, m_lockctl};
}

QString OperatorActions::readOnlyReason(const QString &group) const
{
    const NodeGroup *g = m_config.group(group);
    if (!g)
        return tr("The group %1 is no longer configured").arg(group);
    for (const auto &node : g->nodes) {
        if (node.readOnly)
            return tr("%1 is read-only: LockScope sends it no writes").arg(node.config.label());
    }
    return {};
}

void OperatorActions::update()
{
    const auto selected = m_context.selectedLock();
    bool anyWritable = false;
    for (const NodeGroup &group : m_config.groups)
        anyWritable = anyWritable || readOnlyReason(group.name).isEmpty();
    m_acquire->setEnabled(anyWritable);
    m_acquire->setToolTip(anyWritable ? tr("Take a lock as the operator (Ctrl+N)")
                                      : tr("No group accepts writes (all are read-only)"));

    const QString reason = selected ? readOnlyReason(selected->first) : QString();
    const bool writable = selected && reason.isEmpty();
    m_extend->setEnabled(writable);
    m_forceRelease->setEnabled(writable);
    const QString none = tr("Select a lock first");
    m_extend->setToolTip(!selected  ? none
                         : writable ? tr("Extend the selected lock; owner-checked (Ctrl+E)")
                                    : reason);
    m_forceRelease->setToolTip(!selected  ? none
                               : writable ? tr("Delete the selected lock as shown, on every node (Del)")
                                          : reason);
    // One holder of a lock of several: picked in the details pane, of a format whose holders
    // core can change one by one.
    const auto holder = selected && m_context.selectedHolder ? m_context.selectedHolder() : std::nullopt;
    for (const bool release : {true, false}) {
        QString why = !selected   ? none
                      : !holder   ? tr("Pick a holder in the Holders list of Details first")
                      : !writable ? reason
                                  : Admin::holderActionRefusal(selected->second.schema, release);
        QAction *action = release ? m_releaseHolder : m_extendHolder;
        action->setEnabled(why.isEmpty());
        action->setToolTip(!why.isEmpty() ? why
                           : release ? tr("Remove the picked holder only, as shown; the others keep the lock")
                                     : tr("Set the picked holder's remaining time; owner-checked"));
    }
    m_copyKey->setEnabled(selected.has_value());
    m_copyValue->setEnabled(selected.has_value());
    m_lockctl->setEnabled(selected.has_value());
}

void OperatorActions::run(const QString &action, const QString &group, const QByteArray &key,
                          std::function<AdminResult(Admin &)> operation)
{
    const NodeGroup *g = m_config.group(group);
    if (!g)
        return;
    std::vector<AdminNode> nodes;
    for (const auto &node : g->nodes)
        nodes.push_back(AdminNode{node.config, node.readOnly, node.production});
    // A value: the admin thread appends to the file named when the action started, whatever
    // setAuditLogPath() does meanwhile.
    const AuditLog audit(m_auditPath);
    emit event(Kind::Audit, group, tr("%1 %2 …").arg(action, lockscope::displayText(key)));
    runInBackground(
        m_adminPool, this,
        [group, nodes, audit, operation = std::move(operation)] {
            AuditLog actionAudit = audit;
            Admin admin(group, nodes, Operator::current(), &actionAudit);
            return operation(admin);
        },
        [this, action, group, key](const AdminResult &result) {
            emit event(result.ok ? Kind::Audit : Kind::Error, group,
                       tr("%1 %2: %3").arg(action, lockscope::displayText(key), result.message));
            for (const auto &node : result.nodes) {
                if (node.outcome != lockscope::inspect::AdminOutcome::Done)
                    emit event(result.ok ? Kind::Info : Kind::Error, node.node,
                               tr("%1: %2").arg(outcomeName(node.outcome), node.detail));
            }
            emit finished(action, result.ok);
        });
}

void OperatorActions::acquire()
{
    QString preferred;
    if (const auto selected = m_context.selectedLock())
        preferred = selected->first;
    else
        preferred = m_context.currentGroup();
    AcquireDialog dialog(m_config.groups, preferred, m_window);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QByteArray key = dialog.key();
    const auto ttl = dialog.ttl();
    const QString note = dialog.note();
    const auto wait = dialog.wait();
    const lockscope::inspect::AdminAcquireKind kind{dialog.kind(), dialog.permits(), dialog.owner()};
    run(tr("Acquire"), dialog.group(), key,
        [key, ttl, note, wait, kind](Admin &admin) { return admin.acquire(key, ttl, note, wait, kind); });
}

const NodeGroup *OperatorActions::writableGroup(const QString &name)
{
    const NodeGroup *group = m_config.group(name);
    if (!group)
        return nullptr;
    if (const QString reason = readOnlyReason(name); !reason.isEmpty()) {
        // A shortcut that raced the action's state: refuse here too (core refuses as well).
        emit event(Kind::Error, name, reason);
        return nullptr;
    }
    return group;
}

void OperatorActions::extend()
{
    const auto selected = m_context.selectedLock();
    const NodeGroup *group = selected ? writableGroup(selected->first) : nullptr;
    if (!group)
        return;
    ExtendDialog dialog(selected->first, selected->second, *group, m_window);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const LockRecord record = selected->second;
    const auto ttl = dialog.ttl();
    const auto mode = dialog.mode();
    run(tr("Extend"), selected->first, record.key,
        [record, ttl, mode](Admin &admin) { return admin.extend(record, ttl, mode); });
}

void OperatorActions::forceRelease()
{
    const auto selected = m_context.selectedLock();
    const NodeGroup *group = selected ? writableGroup(selected->first) : nullptr;
    if (!group)
        return;
    ForceReleaseDialog dialog(selected->first, selected->second, *group, m_window);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_context.clearSelection();
    const LockRecord record = selected->second;
    const bool unconditional = dialog.unconditional();
    const SchemaRegistry registry = m_registry;
    run(unconditional ? tr("Force delete") : tr("Force release"), selected->first, record.key,
        [record, unconditional, registry](Admin &admin) {
            return admin.forceRelease(record, registry, unconditional);
        });
}

void OperatorActions::holderAction(bool release)
{
    const auto selected = m_context.selectedLock();
    const auto holder = selected && m_context.selectedHolder ? m_context.selectedHolder() : std::nullopt;
    const NodeGroup *group = holder ? writableGroup(selected->first) : nullptr;
    if (!group)
        return;
    HolderDialog dialog(release ? HolderDialog::Action::Release : HolderDialog::Action::Extend,
                        selected->first, selected->second, *holder, *group, m_window);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const LockRecord record = selected->second;
    const QByteArray token = holder->token;
    const auto ttl = dialog.ttl();
    run(release ? tr("Release holder") : tr("Extend holder"), selected->first, record.key,
        [record, token, ttl, release](Admin &admin) {
            return release ? admin.forceReleaseHolder(record, token) : admin.extendHolder(record, token, ttl);
        });
}

namespace {

/// Puts `bytes` on the clipboard losslessly: as text in LockScope's display form (valid UTF-8 as
/// is, other bytes and control characters escaped as \xNN, which lockctl reads back to the same
/// bytes), and as the bytes themselves (application/octet-stream) for programs that take them.
void copyBytes(const QByteArray &bytes)
{
    auto *data = new QMimeData;
    data->setText(lockscope::displayText(bytes));
    data->setData(QStringLiteral("application/octet-stream"), bytes);
    QApplication::clipboard()->setMimeData(data);
}

} // namespace

void OperatorActions::copyKey()
{
    if (const auto selected = m_context.selectedLock())
        copyBytes(selected->second.key);
}

void OperatorActions::copyValue()
{
    const auto selected = m_context.selectedLock();
    if (!selected)
        return;
    QByteArray value = m_context.selectedNodeValue();
    if (value.isEmpty()) {
        for (const auto &node : selected->second.nodes) {
            if (node.present()) {
                value = node.raw.value;
                break;
            }
        }
    }
    copyBytes(value);
}

void OperatorActions::showLockctlCommand()
{
    const auto selected = m_context.selectedLock();
    const NodeGroup *group = selected ? m_config.group(selected->first) : nullptr;
    if (!group)
        return;
    LockctlTarget target;
    target.group = *group;
    target.saved = !m_configPath.isEmpty();
    if (target.saved && m_configPath != GroupConfig::defaultPath())
        target.configPath = m_configPath;
    LockctlCommandDialog::showCommands(
        m_window, tr("lockctl: %1").arg(lockscope::displayText(selected->second.key)),
        LockctlCommandDialog::commandsForRecord(
            target, selected->second, m_context.selectedHolder ? m_context.selectedHolder() : std::nullopt));
}
