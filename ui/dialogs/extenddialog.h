#pragma once

#include "inspect/lockrecord.h"
#include "inspect/nodegroup.h"
#include "lock/locker.h"

#include <QDialog>
#include <chrono>

class DurationEdit;
class QCheckBox;
class InlineMessage;
class QLabel;
class QPushButton;
class QRadioButton;

/// Asks how to extend a lock the operator saw: add to the TTL left, or replace it. It only
/// collects the input; the caller runs Admin::extend(record, ttl(), mode()) on a worker thread,
/// which changes the TTL only where the key still holds the value shown.
class ExtendDialog : public QDialog
{
    Q_OBJECT

public:
    ExtendDialog(const QString &groupName, const lockscope::inspect::LockRecord &record,
                 const lockscope::inspect::NodeGroup &group, QWidget *parent = nullptr);

    /// The duration entered (added or the new TTL, per mode()); 0 while it is not valid.
    std::chrono::milliseconds ttl() const;
    lockscope::lock::ExtendMode mode() const;

    void setMode(lockscope::lock::ExtendMode mode);
    void setTtl(std::chrono::milliseconds ttl);

private:
    void updateState();
    /// The TTL line and the new-TTL preview, counted down from the read (every second).
    void updateClock();

    lockscope::inspect::LockRecord m_record;
    QLabel *m_ttlLabel = nullptr;
    QCheckBox *m_guessConfirm = nullptr; ///< only when the format is a guess
    QString m_blockedReason;
    QRadioButton *m_add = nullptr;
    QRadioButton *m_replace = nullptr;
    DurationEdit *m_duration = nullptr;
    InlineMessage *m_durationMessage = nullptr;
    QLabel *m_result = nullptr;
    QPushButton *m_okButton = nullptr;
};
