#include "forcereleasedialog.h"

#include "actionwidgets.h"
#include "locktext.h"
#include "util/displaytext.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStyle>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

using lockscope::inspect::GroupNode;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::RawEntry;

namespace {

enum NodeColumn
{
    NodeName,
    NodeTtl,
    NodeValue,
    NodeGuards,
    NodeColumnCount
};

} // namespace

ForceReleaseDialog::ForceReleaseDialog(const QString &groupName, const LockRecord &record,
                                       const NodeGroup &group, QWidget *parent)
    : QDialog(parent), m_record(record), m_needsTypedKey(needsTypedKey(record, group)),
      m_blockedReason(blockedReason(record, group))
{
    setWindowTitle(tr("Force-release lock \u2014 %1").arg(groupName));
    const QFont mono = actionwidgets::monospaceFont();
    const QString keyText = lockscope::displayText(record.key);
    const int valueWidth = fontMetrics().averageCharWidth() * 80;

    auto *layout = new QVBoxLayout(this);

    // What is about to happen, in words.
    QString explanation = tr("On each node below, the key is deleted only if it still holds the value shown. "
                             "The owner is not told: if it is still running, it may go on as if it held the "
                             "lock.");
    if (record.schema == QLatin1String("lockscope"))
        explanation +=
            QLatin1Char(' ') + tr("The lock's fencing counter is bumped, so writes fenced with the "
                                  "old token are refused.");
    else if (record.schema.startsWith(QLatin1String("redisson")))
        explanation += QLatin1Char(' ') + tr("Redisson clients waiting for it are woken up.");
    actionwidgets::addHeader(layout, this, tr("Force-release this lock?"), explanation, /*warning=*/true);

    // The lock as it was shown.
    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    form->addRow(tr("Group:"), new QLabel(groupName, this));
    QLabel *keyLabel = actionwidgets::elidedLabel(keyText, mono, valueWidth, this);
    keyLabel->setObjectName(QStringLiteral("keyLabel"));
    form->addRow(tr("Key:"), keyLabel);
    QLabel *ownerLabel = actionwidgets::elidedLabel(locktext::ownerText(record), font(), valueWidth, this);
    ownerLabel->setObjectName(QStringLiteral("ownerLabel"));
    form->addRow(tr("Owner:"), ownerLabel);
    // Counted down from the read, every second, until when, and when it was read.
    auto *ttlLabel = new QLabel(this);
    ttlLabel->setObjectName(QStringLiteral("ttlLabel"));
    const auto showTtl = [this, ttlLabel] {
        ttlLabel->setText(locktext::ttlNow(m_record) + QStringLiteral(" \u00b7 ") +
                          locktext::readAt(m_record.readAt));
    };
    showTtl();
    auto *clock = new QTimer(this);
    clock->setInterval(1000);
    connect(clock, &QTimer::timeout, this, showTtl);
    clock->start();
    form->addRow(tr("TTL:"), ttlLabel);
    QLabel *tokenLabel = actionwidgets::elidedLabel(
        record.token.isEmpty() ? tr("(none)") : lockscope::displayText(record.token), mono, valueWidth, this);
    tokenLabel->setObjectName(QStringLiteral("tokenLabel"));
    form->addRow(tr("Token:"), tokenLabel);
    QString held = tr("%1 of %2 nodes").arg(record.held).arg(record.of);
    if (!record.schema.isEmpty())
        held += QStringLiteral(", ") + record.schema +
                (record.confidence == lockscope::inspect::Confidence::Guess ? tr(" (a guess)") : QString());
    if (record.fence >= 0)
        held += QStringLiteral(", ") + tr("fence %1").arg(record.fence);
    form->addRow(tr("Held on:"), new QLabel(held, this));
    layout->addLayout(form);

    // Which node holds which value.
    auto *nodes = new QTreeWidget(this);
    nodes->setObjectName(QStringLiteral("nodeList"));
    nodes->setColumnCount(NodeColumnCount);
    nodes->setHeaderLabels({tr("Node"), tr("TTL"), tr("Value"), tr("Guards")});
    nodes->setRootIsDecorated(false);
    nodes->setUniformRowHeights(true);
    nodes->setSelectionMode(QAbstractItemView::NoSelection);
    nodes->setFocusPolicy(Qt::NoFocus);
    QStringList otherTypes;
    for (std::size_t i = 0; i < record.nodes.size(); ++i) {
        const NodeEntry &entry = record.nodes[i];
        const GroupNode *node = actionwidgets::groupNodeFor(group, record, i);
        auto *item = new QTreeWidgetItem(nodes);
        item->setText(NodeName, entry.node);
        if (!entry.reachable) {
            item->setText(NodeTtl, QStringLiteral("-"));
            item->setText(NodeValue, tr("unreachable: %1").arg(entry.error));
        } else {
            item->setText(NodeTtl,
                          entry.present() ? actionwidgets::ttlText(entry.raw.pttlMs) : QStringLiteral("-"));
            const QString value = actionwidgets::valueText(entry.raw);
            item->setText(NodeValue, value);
            item->setToolTip(NodeValue, value);
            item->setFont(NodeValue, mono);
            if (entry.raw.type == RawEntry::Type::Other)
                otherTypes << entry.node;
        }
        QStringList guards;
        if (!node)
            guards << tr("not in the group");
        else {
            if (node->production)
                guards << tr("production");
            if (node->readOnly)
                guards << tr("read-only");
        }
        item->setText(NodeGuards, guards.join(QStringLiteral(", ")));
        item->setTextAlignment(NodeTtl, Qt::AlignRight | Qt::AlignVCenter);
    }
    nodes->header()->setStretchLastSection(false);
    nodes->header()->setSectionResizeMode(NodeName, QHeaderView::ResizeToContents);
    nodes->header()->setSectionResizeMode(NodeTtl, QHeaderView::ResizeToContents);
    nodes->header()->setSectionResizeMode(NodeValue, QHeaderView::Stretch);
    nodes->header()->setSectionResizeMode(NodeGuards, QHeaderView::ResizeToContents);
    const int rows = std::clamp(int(record.nodes.size()), 1, 6);
    const int rowHeight =
        nodes->sizeHintForRow(0) > 0 ? nodes->sizeHintForRow(0) : fontMetrics().height() + 6;
    nodes->setFixedHeight(nodes->header()->sizeHint().height() + rows * rowHeight + 2 * nodes->frameWidth() +
                          2);
    layout->addWidget(nodes);

    if (!otherTypes.isEmpty()) {
        auto *otherMessage = new InlineMessage(this);
        otherMessage->setMessage(tr("%1 hold a value of another type, which cannot be compared: only an "
                                    "unconditional delete removes it there.")
                                     .arg(otherTypes.join(QStringLiteral(", "))),
                                 InlineMessage::Kind::Information);
        layout->addWidget(otherMessage);
    }

    // A format that is only a guess: maybe not a lock at all (a cache entry, an id).
    if (record.confidence == lockscope::inspect::Confidence::Guess) {
        auto *guessMessage = new InlineMessage(this);
        guessMessage->setObjectName(QStringLiteral("guessMessage"));
        guessMessage->setMessage(tr("The lock format is only a guess: %1. Make sure this key is a lock; "
                                    "type the key to confirm.")
                                     .arg(record.confidenceReason),
                                 InlineMessage::Kind::Warning);
        layout->addWidget(guessMessage);
    }

    // Production (or a guessed format): the key, typed.
    if (m_needsTypedKey) {
        m_typedKey =
            new TypedKeyConfirmation(record.key, actionwidgets::productionNodesHolding(record, group), this);
        layout->addWidget(m_typedKey);
        connect(m_typedKey, &TypedKeyConfirmation::changed, this, &ForceReleaseDialog::updateState);
    }

    m_unconditional = new QCheckBox(tr("Unconditional delete (whatever value is there now)"), this);
    m_unconditional->setObjectName(QStringLiteral("unconditional"));
    layout->addWidget(m_unconditional);
    m_unconditionalWarning = new InlineMessage(this);
    m_unconditionalWarning->setObjectName(QStringLiteral("unconditionalWarning"));
    layout->addWidget(m_unconditionalWarning);
    connect(m_unconditional, &QCheckBox::toggled, this, &ForceReleaseDialog::updateState);

    auto *blocked = new InlineMessage(this);
    blocked->setObjectName(QStringLiteral("blockedMessage"));
    blocked->setMessage(m_blockedReason, InlineMessage::Kind::Error);
    layout->addWidget(blocked);

    layout->addStretch(1);
    auto *buttons = new QDialogButtonBox(this);
    m_cancelButton = buttons->addButton(QDialogButtonBox::Cancel);
    m_cancelButton->setObjectName(QStringLiteral("cancelButton"));
    m_releaseButton = buttons->addButton(tr("Force release"), QDialogButtonBox::AcceptRole);
    m_releaseButton->setObjectName(QStringLiteral("releaseButton"));
    m_releaseButton->setIcon(QIcon::fromTheme(QStringLiteral("edit-delete"),
                                              style()->standardIcon(QStyle::SP_TrashIcon, nullptr, this)));
    // Enter never releases: Cancel is the default button and has the focus.
    m_releaseButton->setAutoDefault(false);
    m_releaseButton->setDefault(false);
    m_cancelButton->setAutoDefault(true);
    m_cancelButton->setDefault(true);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    setMinimumWidth(fontMetrics().averageCharWidth() * 100);
    resize(minimumWidth(), height());
    updateState();
    actionwidgets::fitHeight(this);
    m_cancelButton->setFocus(Qt::OtherFocusReason);
}

bool ForceReleaseDialog::unconditional() const
{
    return m_unconditional->isChecked();
}

bool ForceReleaseDialog::needsTypedKey(const LockRecord &record, const NodeGroup &group)
{
    return record.confidence == lockscope::inspect::Confidence::Guess ||
           !actionwidgets::productionNodesHolding(record, group).isEmpty();
}

QString ForceReleaseDialog::blockedReason(const LockRecord &record, const NodeGroup &group)
{
    return actionwidgets::writeBlockedReason(record, group);
}

void ForceReleaseDialog::updateState()
{
    const bool typedOk = !m_typedKey || m_typedKey->confirmed();
    if (unconditional())
        m_unconditionalWarning->setMessage(
            tr("Deletes whatever the key holds when you confirm, even if another "
               "owner took the lock since it was shown. Audited as force-delete."),
            InlineMessage::Kind::Warning);
    else
        m_unconditionalWarning->clear();

    const bool enabled = m_blockedReason.isEmpty() && typedOk;
    m_releaseButton->setEnabled(enabled);
    if (!m_blockedReason.isEmpty())
        m_releaseButton->setToolTip(m_blockedReason);
    else if (!typedOk)
        m_releaseButton->setToolTip(tr("Type the key above to confirm."));
    else
        m_releaseButton->setToolTip({});
    QTimer::singleShot(0, this, [this] { actionwidgets::fitHeight(this); });
}
