#include "acquiredialog.h"

#include "actionwidgets.h"
#include "util/displaytext.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTimer>
#include <QVBoxLayout>

using lockscope::inspect::NodeGroup;
using lockscope::inspect::Operator;

namespace {

constexpr int GroupNameRole = Qt::UserRole + 1;

QString groupSummary(const NodeGroup &group)
{
    QString text =
        group.isRedlockSet()
            ? QObject::tr("%1 nodes, Redlock (quorum %2)").arg(group.nodes.size()).arg(group.quorum())
            : QObject::tr("1 node, %1")
                  .arg(group.nodes.empty() ? QString() : group.nodes.front().config.label());
    if (group.nodes.empty())
        text = QObject::tr("no nodes");
    const bool production = std::ranges::any_of(
        group.nodes, [](const lockscope::inspect::GroupNode &node) { return node.production; });
    if (production)
        text += QStringLiteral(" \u00b7 ") + QObject::tr("production");
    return text;
}

} // namespace

AcquireDialog::AcquireDialog(const std::vector<NodeGroup> &groups, const QString &currentGroup,
                             QWidget *parent)
    : QDialog(parent), m_groups(groups), m_operator(Operator::current())
{
    setWindowTitle(tr("Acquire lock"));
    const QFont mono = actionwidgets::monospaceFont();

    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Takes a LockScope lock as you, on every node of the group (a quorum on a "
                                "Redlock set). Services using the same key wait until it expires or is "
                                "released."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    layout->addSpacing(fontMetrics().height() / 2);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);

    m_group = new QComboBox(this);
    m_group->setObjectName(QStringLiteral("group"));
    auto *model = qobject_cast<QStandardItemModel *>(m_group->model());
    int preselect = -1;
    int firstUsable = -1;
    for (const NodeGroup &group : m_groups) {
        const QString reason = groupBlockedReason(group);
        m_group->addItem(reason.isEmpty() ? group.name : tr("%1 (read-only)").arg(group.name));
        const int row = m_group->count() - 1;
        m_group->setItemData(row, group.name, GroupNameRole);
        if (!reason.isEmpty()) {
            if (group.nodes.empty())
                m_group->setItemText(row, tr("%1 (no nodes)").arg(group.name));
            m_group->setItemData(row, reason, Qt::ToolTipRole);
            if (model)
                model->item(row)->setEnabled(false);
        } else if (firstUsable < 0) {
            firstUsable = row;
        }
        if (group.name == currentGroup)
            preselect = row;
    }
    m_group->setCurrentIndex(preselect >= 0 ? preselect : std::max(firstUsable, 0));
    form->addRow(tr("&Group:"), m_group);
    m_groupSummary = new QLabel(this);
    m_groupSummary->setObjectName(QStringLiteral("groupSummary"));
    form->addRow(QString(), m_groupSummary);
    m_groupMessage = new InlineMessage(this);
    m_groupMessage->setObjectName(QStringLiteral("groupMessage"));
    form->addRow(QString(), m_groupMessage);

    m_key = new QLineEdit(this);
    m_key->setObjectName(QStringLiteral("key"));
    m_key->setFont(mono);
    m_key->setPlaceholderText(tr("e.g. maintenance:orders-db"));
    m_key->setMinimumWidth(fontMetrics().averageCharWidth() * 40);
    form->addRow(tr("&Key:"), m_key);
    m_keyMessage = new InlineMessage(this);
    m_keyMessage->setObjectName(QStringLiteral("keyMessage"));
    // Room kept for the messages that come and go while typing: OK stays under the cursor.
    m_keyMessage->reserveLines(1);
    form->addRow(QString(), m_keyMessage);

    m_ttl = new DurationEdit(this);
    m_ttl->setObjectName(QStringLiteral("ttl"));
    m_ttl->setText(QStringLiteral("5m"));
    form->addRow(tr("&TTL:"), m_ttl);
    m_ttlMessage = new InlineMessage(this);
    m_ttlMessage->setObjectName(QStringLiteral("ttlMessage"));
    m_ttlMessage->reserveLines(2);
    form->addRow(QString(), m_ttlMessage);

    m_note = new QLineEdit(this);
    m_note->setObjectName(QStringLiteral("note"));
    m_note->setPlaceholderText(tr("why, for whoever finds the lock (optional)"));
    form->addRow(tr("&Note:"), m_note);
    m_ownerPreview = new QLabel(this);
    m_ownerPreview->setObjectName(QStringLiteral("ownerPreview"));
    m_ownerPreview->setTextFormat(Qt::PlainText);
    m_ownerPreview->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Owner label:"), m_ownerPreview);

    m_wait = new DurationEdit(this);
    m_wait->setObjectName(QStringLiteral("wait"));
    m_wait->setOptional(true);
    m_wait->setToolTip(tr("When the lock is held: keep trying this long. Empty: try once."));
    form->addRow(tr("&Wait:"), m_wait);
    m_waitMessage = new InlineMessage(this);
    m_waitMessage->setObjectName(QStringLiteral("waitMessage"));
    m_waitMessage->reserveLines(2);
    form->addRow(QString(), m_waitMessage);
    layout->addLayout(form);
    layout->addStretch(1);
    layout->addSpacing(fontMetrics().height() / 2);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_okButton = buttons->addButton(tr("Acquire"), QDialogButtonBox::AcceptRole);
    m_okButton->setObjectName(QStringLiteral("acquireButton"));
    m_okButton->setDefault(true);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    connect(m_key, &QLineEdit::textEdited, this, [this] { m_keyEdited = true; });
    connect(m_key, &QLineEdit::textChanged, this, &AcquireDialog::updateState);
    connect(m_ttl, &DurationEdit::durationChanged, this, &AcquireDialog::updateState);
    connect(m_wait, &DurationEdit::durationChanged, this, &AcquireDialog::updateState);
    connect(m_note, &QLineEdit::textChanged, this, &AcquireDialog::updateState);
    connect(m_group, &QComboBox::currentIndexChanged, this, &AcquireDialog::updateState);
    setMinimumWidth(fontMetrics().averageCharWidth() * 80);
    resize(minimumWidth(), height());
    updateState();
    actionwidgets::fitHeight(this);
    m_key->setFocus(Qt::OtherFocusReason);
}

QByteArray AcquireDialog::key() const
{
    // The key as the app shows keys: \xNN for bytes that are not text, \\ for a backslash.
    return lockscope::bytesFromDisplayText(m_key->text()).value_or(QByteArray());
}

std::chrono::milliseconds AcquireDialog::ttl() const
{
    return m_ttl->duration().value_or(std::chrono::milliseconds(0));
}

QString AcquireDialog::note() const
{
    return m_note->text().trimmed();
}

QString AcquireDialog::group() const
{
    return m_group->currentData(GroupNameRole).toString();
}

std::chrono::milliseconds AcquireDialog::wait() const
{
    return m_wait->duration().value_or(std::chrono::milliseconds(0));
}

void AcquireDialog::setKey(const QByteArray &key)
{
    m_key->setText(QString::fromUtf8(key));
}

void AcquireDialog::setTtl(std::chrono::milliseconds ttl)
{
    m_ttl->setDuration(ttl);
}

void AcquireDialog::setWait(std::chrono::milliseconds wait)
{
    m_wait->setDuration(wait);
}

void AcquireDialog::setNote(const QString &note)
{
    m_note->setText(note);
}

void AcquireDialog::setOperator(const Operator &who)
{
    m_operator = who;
    updateState();
}

QString AcquireDialog::groupBlockedReason(const NodeGroup &group)
{
    if (group.nodes.empty())
        return tr("Group %1 has no nodes.").arg(group.name);
    QStringList readOnly;
    for (const auto &node : group.nodes)
        if (node.readOnly)
            readOnly << node.config.label();
    if (!readOnly.isEmpty())
        return readOnly.size() == 1
                   ? tr("%1 is read-only: LockScope cannot take a lock in this group.").arg(readOnly.front())
                   : tr("%1 are read-only: LockScope cannot take a lock in this group.")
                         .arg(readOnly.join(QStringLiteral(", ")));
    return {};
}

void AcquireDialog::updateState()
{
    const int index = m_group->currentIndex();
    QString groupReason = m_groups.empty() ? tr("There are no node groups: add one first.") : QString();
    if (index >= 0 && index < int(m_groups.size())) {
        const NodeGroup &group = m_groups[std::size_t(index)];
        groupReason = groupBlockedReason(group);
        m_groupSummary->setText(groupSummary(group));
    } else {
        m_groupSummary->clear();
    }
    m_groupMessage->setMessage(groupReason, InlineMessage::Kind::Error);

    QString keyError;
    const QString keyText = m_key->text();
    QString parseError;
    const bool keyParses = lockscope::bytesFromDisplayText(keyText, &parseError).has_value();
    if (keyText.isEmpty())
        keyError = m_keyEdited ? tr("Enter the key to lock.") : QString();
    else if (!keyParses)
        keyError = tr("This key cannot be typed like that: %1.").arg(parseError);
    else if (keyText.trimmed() != keyText)
        m_keyMessage->setMessage(tr("The key starts or ends with a space: it is used as typed."),
                                 InlineMessage::Kind::Warning);
    if (keyText.isEmpty() || !keyParses || keyText.trimmed() == keyText)
        m_keyMessage->setMessage(keyError, InlineMessage::Kind::Error);

    m_ttlMessage->setMessage(m_ttl->errorText(), InlineMessage::Kind::Error);
    m_waitMessage->setMessage(m_wait->errorText(), InlineMessage::Kind::Error);
    const QString label = m_operator.label(note());
    const QString elided = m_ownerPreview->fontMetrics().elidedText(label, Qt::ElideRight,
                                                                    fontMetrics().averageCharWidth() * 60);
    m_ownerPreview->setText(elided);
    m_ownerPreview->setToolTip(elided == label ? QString() : label);

    const bool valid = groupReason.isEmpty() && !keyText.isEmpty() && keyParses &&
                       m_ttl->duration().has_value() && m_wait->duration().has_value();
    m_okButton->setEnabled(valid);
    m_okButton->setToolTip(!groupReason.isEmpty() ? groupReason : QString());
    QTimer::singleShot(0, this, [this] { actionwidgets::fitHeight(this); });
}
