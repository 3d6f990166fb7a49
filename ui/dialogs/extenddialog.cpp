#include "extenddialog.h"

#include "actionwidgets.h"
#include "locktext.h"
#include "models/locktablemodel.h"
#include "util/displaytext.h"
#include "util/duration.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QRadioButton>
#include <QTimer>
#include <QVBoxLayout>

using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeGroup;
using lockscope::lock::ExtendMode;

ExtendDialog::ExtendDialog(const QString &groupName, const LockRecord &record, const NodeGroup &group,
                           QWidget *parent)
    : QDialog(parent), m_record(record), m_blockedReason(actionwidgets::writeBlockedReason(record, group))
{
    setWindowTitle(tr("Extend lock \u2014 %1").arg(groupName));
    const QFont mono = actionwidgets::monospaceFont();
    const int valueWidth = fontMetrics().averageCharWidth() * 60;

    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Owner-checked: the TTL changes only on the nodes where the key still holds "
                                "the value shown here. If the lock changed hands since, nothing is changed "
                                "there."),
                             this);
    intro->setObjectName(QStringLiteral("explanation"));
    intro->setWordWrap(true);
    layout->addWidget(intro);
    layout->addSpacing(fontMetrics().height() / 2);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    form->addRow(tr("Group:"), new QLabel(groupName, this));
    QLabel *key = actionwidgets::elidedLabel(lockscope::displayText(record.key), mono, valueWidth, this);
    key->setObjectName(QStringLiteral("keyLabel"));
    form->addRow(tr("Key:"), key);
    QLabel *owner = actionwidgets::elidedLabel(locktext::ownerText(record), font(), valueWidth, this);
    owner->setObjectName(QStringLiteral("ownerLabel"));
    form->addRow(tr("Owner:"), owner);
    m_ttlLabel = new QLabel(this);
    m_ttlLabel->setObjectName(QStringLiteral("ttlLabel"));
    m_ttlLabel->setWordWrap(true);
    form->addRow(tr("Current TTL:"), m_ttlLabel);
    form->addRow(tr("Held on:"), new QLabel(tr("%1 of %2 nodes").arg(record.held).arg(record.of), this));

    auto *modeRow = new QHBoxLayout;
    m_add = new QRadioButton(tr("&Add to the TTL left"), this);
    m_add->setObjectName(QStringLiteral("addMode"));
    m_replace = new QRadioButton(tr("&Replace the TTL"), this);
    m_replace->setObjectName(QStringLiteral("replaceMode"));
    auto *modes = new QButtonGroup(this);
    modes->addButton(m_add);
    modes->addButton(m_replace);
    m_add->setChecked(true);
    modeRow->addWidget(m_add);
    modeRow->addWidget(m_replace);
    modeRow->addStretch(1);
    form->addRow(tr("Extend:"), modeRow);

    m_duration = new DurationEdit(this);
    m_duration->setObjectName(QStringLiteral("duration"));
    m_duration->setText(QStringLiteral("1m"));
    form->addRow(tr("&Duration:"), m_duration);
    m_durationMessage = new InlineMessage(this);
    m_durationMessage->setObjectName(QStringLiteral("durationMessage"));
    m_durationMessage->reserveLines(2); // the dialog keeps its size while the operator types
    form->addRow(QString(), m_durationMessage);
    m_result = new QLabel(this);
    m_result->setObjectName(QStringLiteral("resultLabel"));
    form->addRow(tr("New TTL:"), m_result);
    layout->addLayout(form);

    if (record.confidence == lockscope::inspect::Confidence::Guess) {
        // Maybe not a lock at all: the operator says it is before anything is written.
        auto *guess = new InlineMessage(this);
        guess->setObjectName(QStringLiteral("guessMessage"));
        guess->setMessage(tr("The lock format is only a guess: %1").arg(record.confidenceReason),
                          InlineMessage::Kind::Warning);
        layout->addWidget(guess);
        m_guessConfirm = new QCheckBox(tr("I checked: this key is a %1 lock").arg(record.schema), this);
        m_guessConfirm->setObjectName(QStringLiteral("guessConfirm"));
        layout->addWidget(m_guessConfirm);
        connect(m_guessConfirm, &QCheckBox::toggled, this, &ExtendDialog::updateState);
    }

    auto *blocked = new InlineMessage(this);
    blocked->setObjectName(QStringLiteral("blockedMessage"));
    blocked->setMessage(m_blockedReason, InlineMessage::Kind::Error);
    layout->addWidget(blocked);
    layout->addStretch(1);
    layout->addSpacing(fontMetrics().height() / 2);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_okButton = buttons->addButton(tr("Extend"), QDialogButtonBox::AcceptRole);
    m_okButton->setObjectName(QStringLiteral("extendButton"));
    m_okButton->setDefault(true);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    connect(m_duration, &DurationEdit::durationChanged, this, &ExtendDialog::updateState);
    auto *clock = new QTimer(this);
    clock->setInterval(1000);
    connect(clock, &QTimer::timeout, this, &ExtendDialog::updateClock);
    clock->start();
    connect(m_add, &QRadioButton::toggled, this, &ExtendDialog::updateState);
    setMinimumWidth(fontMetrics().averageCharWidth() * 85);
    resize(minimumWidth(), height());
    updateState();
    actionwidgets::fitHeight(this);
    m_duration->setFocus(Qt::OtherFocusReason);
    m_duration->selectAll();
}

std::chrono::milliseconds ExtendDialog::ttl() const
{
    return m_duration->duration().value_or(std::chrono::milliseconds(0));
}

ExtendMode ExtendDialog::mode() const
{
    return m_add->isChecked() ? ExtendMode::Add : ExtendMode::Replace;
}

void ExtendDialog::setMode(ExtendMode mode)
{
    (mode == ExtendMode::Add ? m_add : m_replace)->setChecked(true);
}

void ExtendDialog::setTtl(std::chrono::milliseconds ttl)
{
    m_duration->setDuration(ttl);
}

void ExtendDialog::updateClock()
{
    const auto now = std::chrono::steady_clock::now();
    m_ttlLabel->setText(locktext::ttlNow(m_record, now) + QStringLiteral(" \u00b7 ") +
                        locktext::readAt(m_record.readAt));
    const auto duration = m_duration->duration();
    const qint64 left = locktext::remainingMs(m_record, now);
    if (!duration) {
        m_result->setText(QStringLiteral("-"));
    } else if (m_record.minPttlMs == -1) {
        m_result->setText(
            tr("%1 (the key has no TTL now: it will expire then)").arg(lockscope::formatDuration(*duration)));
    } else if (mode() == ExtendMode::Add && left > 0) {
        // From the TTL left now (counted down from the read), not the one read back then.
        const auto total = *duration + std::chrono::milliseconds(left);
        m_result->setText(tr("about %1, until about %2 (%3 left now + %4)")
                              .arg(LockTableModel::formatCountdown(total.count()),
                                   locktext::clockTime(QDateTime::currentDateTime().addMSecs(total.count())),
                                   LockTableModel::formatCountdown(left),
                                   lockscope::formatDuration(*duration)));
    } else {
        m_result->setText(
            tr("%1 from when you confirm, until about %2")
                .arg(lockscope::formatDuration(*duration),
                     locktext::clockTime(QDateTime::currentDateTime().addMSecs(duration->count()))));
    }
}

void ExtendDialog::updateState()
{
    const auto duration = m_duration->duration();
    m_durationMessage->setMessage(m_duration->errorText(), InlineMessage::Kind::Error);
    updateClock();
    const bool confirmed = !m_guessConfirm || m_guessConfirm->isChecked();
    m_okButton->setEnabled(duration.has_value() && m_blockedReason.isEmpty() && confirmed);
    m_okButton->setToolTip(!m_blockedReason.isEmpty() ? m_blockedReason
                           : !confirmed               ? tr("Confirm above that the key is a lock.")
                                                      : QString());
    QTimer::singleShot(0, this, [this] { actionwidgets::fitHeight(this); });
}
