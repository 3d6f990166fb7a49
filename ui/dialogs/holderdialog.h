#pragma once

#include "inspect/lockrecord.h"
#include "inspect/nodegroup.h"

#include <QDialog>
#include <chrono>

class DurationEdit;
class InlineMessage;
class QLabel;
class QPushButton;
class TypedKeyConfirmation;

/// Confirms an action on one holder of a lock of several (a reader of a read/write lock, one
/// permit of a semaphore): force-release that holder alone, or set its remaining time. Names the
/// key, the holder (owner, mode, token, its own TTL counted down from the read) and how many
/// others keep the lock; asks for the key to be typed when a production node holds it; stays
/// disabled, with the reason, when a read-only node holds it or the format cannot change one
/// holder. It only collects the decision: the caller runs Admin::forceReleaseHolder(record,
/// holder.token) or Admin::extendHolder(record, holder.token, ttl()) on a worker thread, on the
/// very record shown here.
class HolderDialog : public QDialog
{
    Q_OBJECT

public:
    enum class Action
    {
        Release,
        Extend,
    };

    HolderDialog(Action action, const QString &groupName, const lockscope::inspect::LockRecord &record,
                 const lockscope::inspect::LockHolder &holder, const lockscope::inspect::NodeGroup &group,
                 QWidget *parent = nullptr);

    Action action() const { return m_action; }
    /// Extend: the holder's new remaining time; 0 while the field is not valid (or for Release).
    std::chrono::milliseconds ttl() const;
    void setTtl(std::chrono::milliseconds ttl);

    /// Why the action cannot run on this holder from here (a read-only node, a format whose
    /// holders LockScope does not change one by one); empty when it can.
    static QString blockedReason(Action action, const lockscope::inspect::LockRecord &record,
                                 const lockscope::inspect::NodeGroup &group);

private:
    void updateState();

    Action m_action;
    lockscope::inspect::LockRecord m_record;
    QString m_blockedReason;
    TypedKeyConfirmation *m_typedKey = nullptr;
    DurationEdit *m_duration = nullptr;
    InlineMessage *m_durationMessage = nullptr;
    QPushButton *m_okButton = nullptr;
    QPushButton *m_cancelButton = nullptr;
};
