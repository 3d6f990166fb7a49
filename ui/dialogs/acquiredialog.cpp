#include "acquiredialog.h"

#include "actionwidgets.h"
#include "util/displaytext.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTimer>
#include <QVBoxLayout>

using lockscope::inspect::AdminAcquireKind;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::Operator;
using lockscope::lock::LockKind;

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

/// What the chosen kind takes, in one line under the Kind box.
QString kindSummary(LockKind kind, int permits, const QByteArray &owner)
{
    switch (kind) {
    case LockKind::Mutex:
        return QObject::tr("One owner at a time.");
    case LockKind::Read:
        return QObject::tr("A reader: shares the lock with other readers, never with a writer.");
    case LockKind::Write:
        return QObject::tr("The writer: alone, once no reader holds the lock.");
    case LockKind::Semaphore:
        if (permits < 1)
            return QObject::tr("One permit of a counting semaphore.");
        if (permits == 1)
            return QObject::tr("The only permit of a semaphore of 1.");
        return QObject::tr("1 of %1 permits; every holder of the key names the same number.").arg(permits);
    case LockKind::Reentrant:
        if (owner.isEmpty())
            return QObject::tr("A new owner; acquiring again with its id (the token) adds a hold.");
        return QObject::tr("Owner %1: adds a hold when it holds the lock already.")
            .arg(lockscope::displayTextPrefix(owner, 40));
    case LockKind::Fair:
        return QObject::tr("A mutex whose waiters are served in arrival order.");
    }
    return {};
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

    m_kind = new QComboBox(this);
    m_kind->setObjectName(QStringLiteral("kind"));
    const std::pair<LockKind, QString> kinds[] = {
        {LockKind::Mutex, tr("Mutex")},         {LockKind::Read, tr("Read")},
        {LockKind::Write, tr("Write")},         {LockKind::Semaphore, tr("Semaphore")},
        {LockKind::Reentrant, tr("Reentrant")}, {LockKind::Fair, tr("Fair")},
    };
    for (const auto &[kind, text] : kinds)
        m_kind->addItem(text, static_cast<int>(kind));
    form->addRow(tr("Kin&d:"), m_kind);
    m_kindSummary = new QLabel(this);
    m_kindSummary->setObjectName(QStringLiteral("kindSummary"));
    m_kindSummary->setTextFormat(Qt::PlainText);
    form->addRow(QString(), m_kindSummary);
    m_permits = new QSpinBox(this);
    m_permits->setObjectName(QStringLiteral("permits"));
    m_permits->setRange(1, 1'000'000);
    m_permits->setToolTip(tr("The semaphore's number of permits: every holder of the key names the same "
                             "number (another number is refused while they hold it)."));
    form->addRow(tr("&Permits:"), m_permits);
    m_permitsMessage = new InlineMessage(this);
    m_permitsMessage->setObjectName(QStringLiteral("permitsMessage"));
    form->addRow(QString(), m_permitsMessage);
    m_owner = new QLineEdit(this);
    m_owner->setObjectName(QStringLiteral("owner"));
    m_owner->setFont(mono);
    m_owner->setPlaceholderText(tr("default: a new owner id"));
    m_owner->setToolTip(tr("Acquiring with the id of an owner that holds the lock adds a hold."));
    form->addRow(tr("O&wner id:"), m_owner);

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
    m_form = form;
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
    connect(m_kind, &QComboBox::currentIndexChanged, this, &AcquireDialog::updateState);
    // The box's own textChanged comes only with a valid number: its editor's says when it is
    // emptied too (and OK must wait then).
    if (auto *permitsEdit = m_permits->findChild<QLineEdit *>())
        connect(permitsEdit, &QLineEdit::textChanged, this, &AcquireDialog::updateState);
    connect(m_permits, &QSpinBox::valueChanged, this, &AcquireDialog::updateState);
    connect(m_owner, &QLineEdit::textChanged, this, &AcquireDialog::updateState);
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

LockKind AcquireDialog::kind() const
{
    return static_cast<LockKind>(m_kind->currentData().toInt());
}

int AcquireDialog::permits() const
{
    // While the box is being edited (emptied, or below 1) its value() is the last valid one.
    return kind() == LockKind::Semaphore && m_permits->hasAcceptableInput() ? m_permits->value() : 0;
}

QByteArray AcquireDialog::owner() const
{
    return kind() == LockKind::Reentrant ? m_owner->text().trimmed().toUtf8() : QByteArray();
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

void AcquireDialog::setKind(LockKind kind)
{
    if (const int index = m_kind->findData(static_cast<int>(kind)); index >= 0)
        m_kind->setCurrentIndex(index);
}

void AcquireDialog::setPermits(int permits)
{
    m_permits->setValue(permits);
}

void AcquireDialog::setOwner(const QByteArray &owner)
{
    m_owner->setText(QString::fromUtf8(owner));
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

    // Only the chosen kind's own field is there: permits for a semaphore, an owner id for a
    // reentrant lock. The rule itself is core's (AdminAcquireKind::refusal).
    const LockKind kind = this->kind();
    const bool semaphore = kind == LockKind::Semaphore;
    const bool reentrant = kind == LockKind::Reentrant;
    m_form->setRowVisible(m_permits, semaphore);
    m_permits->setEnabled(semaphore);
    m_form->setRowVisible(m_owner, reentrant);
    m_owner->setEnabled(reentrant);
    m_kindSummary->setText(kindSummary(kind, permits(), owner()));
    const QString kindRefusal = AdminAcquireKind{kind, permits(), owner()}.refusal();
    // Room for the message while a semaphore is chosen: OK stays under the cursor while typing.
    m_permitsMessage->reserveLines(semaphore ? 1 : 0);
    m_permitsMessage->setMessage(semaphore && !kindRefusal.isEmpty()
                                     ? tr("Enter the semaphore's number of permits: 1 or more.")
                                     : QString(),
                                 InlineMessage::Kind::Error);
    const QString label = m_operator.label(note());
    const QString elided = m_ownerPreview->fontMetrics().elidedText(label, Qt::ElideRight,
                                                                    fontMetrics().averageCharWidth() * 60);
    m_ownerPreview->setText(elided);
    m_ownerPreview->setToolTip(elided == label ? QString() : label);

    const bool valid = groupReason.isEmpty() && !keyText.isEmpty() && keyParses &&
                       m_ttl->duration().has_value() && m_wait->duration().has_value() &&
                       kindRefusal.isEmpty();
    m_okButton->setEnabled(valid);
    m_okButton->setToolTip(!groupReason.isEmpty() ? groupReason : QString());
    QTimer::singleShot(0, this, [this] { actionwidgets::fitHeight(this); });
}
