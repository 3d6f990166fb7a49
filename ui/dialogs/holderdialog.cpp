#include "holderdialog.h"

#include "actionwidgets.h"
#include "inspect/admin.h"
#include "locktext.h"
#include "util/displaytext.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

using lockscope::inspect::Admin;
using lockscope::inspect::LockHolder;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeGroup;

namespace {

/// The holders of the record's majority decoding (the node the table's row speaks for).
const std::vector<LockHolder> *holdersOf(const LockRecord &record)
{
    const auto *entry = lockscope::inspect::majorityEntry(record);
    return entry && entry->decoded ? &entry->decoded->holders : nullptr;
}

} // namespace

HolderDialog::HolderDialog(Action action, const QString &groupName, const LockRecord &record,
                           const LockHolder &holder, const NodeGroup &group, QWidget *parent)
    : QDialog(parent), m_action(action), m_record(record),
      m_blockedReason(blockedReason(action, record, group))
{
    const bool release = action == Action::Release;
    const QString noun = locktext::holderNoun(record, holder);
    setWindowTitle(release ? tr("Force-release one %1 \u2014 %2").arg(noun, groupName)
                           : tr("Extend one %1 \u2014 %2").arg(noun, groupName));
    const QFont mono = actionwidgets::monospaceFont();
    const int valueWidth = fontMetrics().averageCharWidth() * 80;
    const std::vector<LockHolder> *holders = holdersOf(record);
    const int others = holders ? int(holders->size()) - 1 : 0;

    auto *layout = new QVBoxLayout(this);
    QString explanation;
    if (release) {
        explanation =
            tr("On each node, this %1's entry is removed only if it is still as shown; ").arg(noun) +
            locktext::counted(others, tr("the %1 other holder keeps the lock."),
                              tr("the %1 other holders keep the lock.")) +
            QLatin1Char(' ') +
            tr("The holder is not told: if it is still running, it may go on as if it held it.");
        if (record.schema == QLatin1String("lockscope-kinds"))
            explanation +=
                QLatin1Char(' ') + tr("The lock's fencing counter is bumped, so writes fenced with "
                                      "the old token are refused.");
    } else {
        explanation = tr("On each node where the %1 is still as shown, its deadline becomes the node's time "
                         "now plus the duration below. The other holders keep their own deadlines.")
                          .arg(noun);
    }
    actionwidgets::addHeader(layout, this,
                             release ? tr("Force-release this %1 only?").arg(noun)
                                     : tr("Set this %1's remaining time?").arg(noun),
                             explanation, /*warning=*/release);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    form->addRow(tr("Group:"), new QLabel(groupName, this));
    QLabel *keyLabel = actionwidgets::elidedLabel(lockscope::displayText(record.key), mono, valueWidth, this);
    keyLabel->setObjectName(QStringLiteral("keyLabel"));
    form->addRow(tr("Key:"), keyLabel);
    form->addRow(tr("Lock:"), new QLabel(locktext::ownerText(record), this));
    QString who = holder.owner.isEmpty() ? tr("not recorded") : locktext::shortText(holder.owner);
    if (!holder.mode.isEmpty())
        who += QStringLiteral(" (%1)").arg(holder.mode);
    QLabel *holderLabel = actionwidgets::elidedLabel(who, font(), valueWidth, this);
    holderLabel->setObjectName(QStringLiteral("holderLabel"));
    form->addRow(tr("Holder:"), holderLabel);
    QLabel *tokenLabel = actionwidgets::elidedLabel(
        holder.token.isEmpty() ? tr("(none)") : lockscope::displayText(holder.token), mono, valueWidth, this);
    tokenLabel->setObjectName(QStringLiteral("tokenLabel"));
    form->addRow(tr("Token:"), tokenLabel);
    // Its own TTL, counted down from the read every second, and when it was read.
    auto *ttlLabel = new QLabel(this);
    ttlLabel->setObjectName(QStringLiteral("ttlLabel"));
    const auto showTtl = [this, ttlLabel, holder] {
        ttlLabel->setText(locktext::holderTtlNow(m_record, holder) + QStringLiteral(" \u00b7 ") +
                          locktext::readAt(m_record.readAt));
    };
    showTtl();
    auto *clock = new QTimer(this);
    clock->setInterval(1000);
    connect(clock, &QTimer::timeout, this, showTtl);
    clock->start();
    form->addRow(tr("TTL:"), ttlLabel);
    if (holder.fence >= 0)
        form->addRow(tr("Fence:"), new QLabel(QString::number(holder.fence), this));
    if (!release) {
        m_duration = new DurationEdit(this);
        m_duration->setObjectName(QStringLiteral("duration"));
        m_duration->setText(QStringLiteral("30s"));
        form->addRow(tr("&New TTL:"), m_duration);
        m_durationMessage = new InlineMessage(this);
        m_durationMessage->reserveLines(1);
        form->addRow(QString(), m_durationMessage);
        connect(m_duration, &DurationEdit::durationChanged, this, &HolderDialog::updateState);
    }
    layout->addLayout(form);

    // Production: the key, typed (as for a force-release of the whole lock).
    if (const QStringList production = actionwidgets::productionNodesHolding(record, group);
        release && !production.isEmpty()) {
        m_typedKey = new TypedKeyConfirmation(record.key, production, this);
        layout->addWidget(m_typedKey);
        connect(m_typedKey, &TypedKeyConfirmation::changed, this, &HolderDialog::updateState);
    }

    auto *blocked = new InlineMessage(this);
    blocked->setObjectName(QStringLiteral("blockedMessage"));
    blocked->setMessage(m_blockedReason, InlineMessage::Kind::Error);
    layout->addWidget(blocked);

    layout->addStretch(1);
    auto *buttons = new QDialogButtonBox(this);
    m_cancelButton = buttons->addButton(QDialogButtonBox::Cancel);
    m_cancelButton->setObjectName(QStringLiteral("cancelButton"));
    m_okButton = buttons->addButton(release ? tr("Release %1").arg(noun) : tr("Extend %1").arg(noun),
                                    QDialogButtonBox::AcceptRole);
    m_okButton->setObjectName(QStringLiteral("okButton"));
    if (release) {
        // Enter never releases: Cancel is the default button and has the focus.
        m_okButton->setAutoDefault(false);
        m_cancelButton->setDefault(true);
    } else {
        m_okButton->setDefault(true);
    }
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    setMinimumWidth(fontMetrics().averageCharWidth() * 90);
    resize(minimumWidth(), height());
    updateState();
    actionwidgets::fitHeight(this);
    if (m_duration) {
        m_duration->setFocus(Qt::OtherFocusReason);
        m_duration->selectAll();
    } else {
        m_cancelButton->setFocus(Qt::OtherFocusReason);
    }
}

std::chrono::milliseconds HolderDialog::ttl() const
{
    return m_duration ? m_duration->duration().value_or(std::chrono::milliseconds(0))
                      : std::chrono::milliseconds(0);
}

void HolderDialog::setTtl(std::chrono::milliseconds ttl)
{
    if (m_duration)
        m_duration->setDuration(ttl);
}

QString HolderDialog::blockedReason(Action action, const LockRecord &record, const NodeGroup &group)
{
    if (const QString refusal = Admin::holderActionRefusal(record.schema, action == Action::Release);
        !refusal.isEmpty())
        return tr("Not possible for this lock: %1.").arg(refusal);
    return actionwidgets::writeBlockedReason(record, group);
}

void HolderDialog::updateState()
{
    const bool typedOk = !m_typedKey || m_typedKey->confirmed();
    bool durationOk = true;
    if (m_duration) {
        durationOk = m_duration->duration().has_value();
        m_durationMessage->setMessage(m_duration->errorText(), InlineMessage::Kind::Error);
    }
    m_okButton->setEnabled(m_blockedReason.isEmpty() && typedOk && durationOk);
    m_okButton->setToolTip(!m_blockedReason.isEmpty() ? m_blockedReason
                           : !typedOk                 ? tr("Type the key to confirm")
                           : !durationOk              ? tr("Enter a valid duration")
                                                      : QString());
    actionwidgets::fitHeight(this);
}
