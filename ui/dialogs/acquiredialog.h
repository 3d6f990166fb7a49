#pragma once

#include "inspect/admin.h"
#include "inspect/nodegroup.h"

#include <QDialog>
#include <chrono>
#include <vector>

class DurationEdit;
class InlineMessage;
class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

/// Collects what an operator's acquire needs: key, lock kind (with a semaphore's permits or a
/// reentrant lock's owner id), TTL, a note for the owner label, the group and an optional wait.
/// Groups with a read-only node are listed but cannot be chosen (the reason is in the tooltip
/// and, if one is preselected, under the combo box). The caller runs Admin::acquire(key(),
/// ttl(), note(), wait(), {kind(), permits(), owner()}) on a worker thread.
class AcquireDialog : public QDialog
{
    Q_OBJECT

public:
    /// `currentGroup` is preselected when it is in `groups`.
    explicit AcquireDialog(const std::vector<lockscope::inspect::NodeGroup> &groups,
                           const QString &currentGroup = {}, QWidget *parent = nullptr);

    QByteArray key() const;
    /// 0 while the TTL field is not valid.
    std::chrono::milliseconds ttl() const;
    /// Free text appended to the owner label ("operator alice@box: <note>"); may be empty.
    QString note() const;
    QString group() const;
    /// 0 = one attempt; otherwise keep trying this long. 0 while the field is not valid.
    std::chrono::milliseconds wait() const;
    lockscope::lock::LockKind kind() const;
    /// Semaphore: the number of permits; 0 while the field is not valid, and for other kinds.
    int permits() const;
    /// Reentrant: the owner id as typed (without surrounding spaces); empty = a new owner id,
    /// and for other kinds.
    QByteArray owner() const;

    void setKey(const QByteArray &key);
    void setTtl(std::chrono::milliseconds ttl);
    void setWait(std::chrono::milliseconds wait);
    void setNote(const QString &note);
    void setKind(lockscope::lock::LockKind kind);
    void setPermits(int permits);
    void setOwner(const QByteArray &owner);
    /// Who acts (Operator::current() by default), for the owner label preview.
    void setOperator(const lockscope::inspect::Operator &who);

    /// Why `group` cannot take an operator's lock (read-only nodes, no nodes); empty when it can.
    static QString groupBlockedReason(const lockscope::inspect::NodeGroup &group);

private:
    void updateState();

    std::vector<lockscope::inspect::NodeGroup> m_groups;
    lockscope::inspect::Operator m_operator;
    bool m_keyEdited = false;
    QLineEdit *m_key = nullptr;
    InlineMessage *m_keyMessage = nullptr;
    DurationEdit *m_ttl = nullptr;
    InlineMessage *m_ttlMessage = nullptr;
    QLineEdit *m_note = nullptr;
    QLabel *m_ownerPreview = nullptr;
    QFormLayout *m_form = nullptr;
    QComboBox *m_kind = nullptr;
    QLabel *m_kindSummary = nullptr;
    QSpinBox *m_permits = nullptr;
    InlineMessage *m_permitsMessage = nullptr;
    QLineEdit *m_owner = nullptr;
    QComboBox *m_group = nullptr;
    QLabel *m_groupSummary = nullptr;
    InlineMessage *m_groupMessage = nullptr;
    DurationEdit *m_wait = nullptr;
    InlineMessage *m_waitMessage = nullptr;
    QPushButton *m_okButton = nullptr;
};
