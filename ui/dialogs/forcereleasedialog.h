#pragma once

#include "inspect/lockrecord.h"
#include "inspect/nodegroup.h"

#include <QDialog>

class InlineMessage;
class TypedKeyConfirmation;
class QCheckBox;
class QLineEdit;
class QPushButton;

/// Confirms a force-release: names the key, owner, TTL, token and what each node holds, keeps
/// Cancel focused and default, asks for the key to be typed when a production node holds it,
/// and stays disabled (with the reason) when a read-only node holds it. It only collects the
/// decision; the caller runs Admin::forceRelease(record, registry, unconditional()) on a
/// worker thread, on the very record shown here.
class ForceReleaseDialog : public QDialog
{
    Q_OBJECT

public:
    ForceReleaseDialog(const QString &groupName, const lockscope::inspect::LockRecord &record,
                       const lockscope::inspect::NodeGroup &group, QWidget *parent = nullptr);

    /// Delete whatever value is there at the moment of the delete (audited as force-delete).
    bool unconditional() const;

    /// A production node of the group holds the key: the operator must type it.
    static bool needsTypedKey(const lockscope::inspect::LockRecord &record,
                              const lockscope::inspect::NodeGroup &group);
    /// Why the release cannot be done from here (read-only node, node not in the group, key on
    /// no node); empty when it can.
    static QString blockedReason(const lockscope::inspect::LockRecord &record,
                                 const lockscope::inspect::NodeGroup &group);

private:
    void updateState();

    lockscope::inspect::LockRecord m_record;
    bool m_needsTypedKey = false;
    QString m_blockedReason;
    TypedKeyConfirmation *m_typedKey = nullptr;
    QCheckBox *m_unconditional = nullptr;
    InlineMessage *m_unconditionalWarning = nullptr;
    QPushButton *m_releaseButton = nullptr;
    QPushButton *m_cancelButton = nullptr;
};
