#include "actionwidgets.h"

#include "util/displaytext.h"
#include "util/duration.h"

#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLayout>
#include <QLocale>
#include <QStyle>
#include <QVBoxLayout>

using lockscope::inspect::GroupNode;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeEntry;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::RawEntry;

namespace actionwidgets {

QFont monospaceFont()
{
    return QFontDatabase::systemFont(QFontDatabase::FixedFont);
}

QLabel *elidedLabel(const QString &text, const QFont &font, int width, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setFont(font);
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    const QString elided = QFontMetrics(font).elidedText(text, Qt::ElideMiddle, width);
    label->setText(elided);
    if (elided != text)
        label->setToolTip(text);
    return label;
}

const GroupNode *groupNodeFor(const NodeGroup &group, const LockRecord &record, std::size_t index)
{
    if (index >= record.nodes.size())
        return nullptr;
    const QString &label = record.nodes[index].node;
    for (const GroupNode &node : group.nodes)
        if (node.config.label() == label)
            return &node;
    if (record.nodes.size() == group.nodes.size())
        return &group.nodes[index];
    return nullptr;
}

QString writeBlockedReason(const LockRecord &record, const NodeGroup &group)
{
    QStringList readOnly;
    QStringList unknown;
    bool anyPresent = false;
    for (std::size_t i = 0; i < record.nodes.size(); ++i) {
        const NodeEntry &entry = record.nodes[i];
        if (!entry.present())
            continue;
        anyPresent = true;
        const GroupNode *node = groupNodeFor(group, record, i);
        if (!node)
            unknown << entry.node;
        else if (node->readOnly)
            readOnly << entry.node;
    }
    if (!readOnly.isEmpty())
        return readOnly.size() == 1
                   ? QObject::tr("Node %1 holds this key and is read-only: LockScope writes nothing to it.")
                         .arg(readOnly.front())
                   : QObject::tr(
                         "Nodes %1 hold this key and are read-only: LockScope writes nothing to them.")
                         .arg(readOnly.join(QStringLiteral(", ")));
    if (!unknown.isEmpty())
        return QObject::tr("The group %1 no longer has %2: refresh first.")
            .arg(group.name, unknown.join(QStringLiteral(", ")));
    if (!anyPresent)
        return QObject::tr("The key was on no node when last read: nothing to act on.");
    return {};
}

QLabel *addHeader(QBoxLayout *layout, QWidget *dialog, const QString &title, const QString &explanation,
                  bool warning)
{
    auto *header = new QHBoxLayout;
    if (warning) {
        auto *icon = new QLabel(dialog);
        const int iconSize = dialog->style()->pixelMetric(QStyle::PM_MessageBoxIconSize, nullptr, dialog);
        icon->setPixmap(dialog->style()
                            ->standardIcon(QStyle::SP_MessageBoxWarning, nullptr, dialog)
                            .pixmap(iconSize, iconSize));
        icon->setAlignment(Qt::AlignTop);
        header->addWidget(icon);
    }
    auto *intro = new QVBoxLayout;
    auto *titleLabel = new QLabel(title, dialog);
    QFont titleFont = titleLabel->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.15);
    titleLabel->setFont(titleFont);
    intro->addWidget(titleLabel);
    auto *explanationLabel = new QLabel(explanation, dialog);
    explanationLabel->setObjectName(QStringLiteral("explanation"));
    explanationLabel->setWordWrap(true);
    intro->addWidget(explanationLabel);
    header->addLayout(intro, 1);
    layout->addLayout(header);
    return explanationLabel;
}

QStringList productionNodesHolding(const LockRecord &record, const NodeGroup &group)
{
    QStringList production;
    for (std::size_t i = 0; i < record.nodes.size(); ++i) {
        const GroupNode *node = groupNodeFor(group, record, i);
        if (record.nodes[i].present() && node && node->production)
            production << record.nodes[i].node;
    }
    return production;
}

void fitHeight(QWidget *window)
{
    QLayout *layout = window->layout();
    if (!layout)
        return;
    layout->activate();
    const int needed = layout->hasHeightForWidth() ? layout->totalHeightForWidth(window->width())
                                                   : layout->totalSizeHint().height();
    window->setMinimumHeight(needed);
    // Before it is shown the dialog fits its content exactly; once shown it only grows, so a
    // size the operator chose is kept.
    if (!window->isVisible() || window->height() < needed)
        window->resize(window->width(), needed);
}

QString ttlText(qint64 pttlMs)
{
    if (pttlMs == -1)
        return QObject::tr("no TTL");
    if (pttlMs < 0)
        return QStringLiteral("-");
    return lockscope::formatDuration(std::chrono::milliseconds(pttlMs));
}

QString boundedText(const QByteArray &bytes)
{
    // Only the start is escaped and laid out: a 50 MB value must not freeze the dialog.
    return lockscope::displayTextPrefix(bytes, MaxValueChars);
}

QString valueText(const RawEntry &raw)
{
    switch (raw.type) {
    case RawEntry::Type::Missing:
        return QObject::tr("(absent)");
    case RawEntry::Type::String:
        return boundedText(raw.value);
    case RawEntry::Type::Hash: {
        QStringList parts;
        qsizetype size = 0;
        for (const auto &[field, value] : raw.fields) {
            parts << boundedText(field) + QLatin1Char('=') + boundedText(value);
            size += parts.back().size();
            if (size > MaxValueChars) {
                parts << QObject::tr("… (%1 fields)").arg(raw.fields.size());
                break;
            }
        }
        return parts.join(QStringLiteral(", "));
    }
    case RawEntry::Type::Other:
        break;
    }
    return QStringLiteral("(%1)").arg(raw.typeName);
}

} // namespace actionwidgets

// --- InlineMessage ----------------------------------------------------------------------------

InlineMessage::InlineMessage(QWidget *parent) : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_icon = new QLabel(this);
    m_icon->setAlignment(Qt::AlignTop);
    QSizePolicy iconPolicy = m_icon->sizePolicy();
    iconPolicy.setRetainSizeWhenHidden(true); // the text does not jump sideways
    m_icon->setSizePolicy(iconPolicy);
    m_text = new QLabel(this);
    m_text->setWordWrap(true);
    m_text->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_text->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setObjectName(QStringLiteral("messageText"));
    layout->addWidget(m_icon);
    layout->addWidget(m_text, 1);
    setVisible(false);
}

void InlineMessage::setMessage(const QString &text, Kind kind)
{
    m_kind = kind;
    m_text->setText(text);
    m_text->setToolTip(m_reservedLines > 0 ? text : QString());
    const QStyle::StandardPixmap pixmap = kind == Kind::Error     ? QStyle::SP_MessageBoxCritical
                                          : kind == Kind::Warning ? QStyle::SP_MessageBoxWarning
                                                                  : QStyle::SP_MessageBoxInformation;
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this);
    m_icon->setPixmap(style()->standardIcon(pixmap, nullptr, this).pixmap(size, size));
    const bool visible = !text.isEmpty() || m_reservedLines > 0;
    m_icon->setVisible(!text.isEmpty());
    // A message that is a row of a form layout hides its whole row, spacing included.
    if (QWidget *parent = parentWidget()) {
        for (QFormLayout *form : parent->findChildren<QFormLayout *>()) {
            int row = -1;
            QFormLayout::ItemRole role{};
            form->getWidgetPosition(this, &row, &role);
            if (row >= 0) {
                form->setRowVisible(row, visible);
                break;
            }
        }
    }
    setVisible(visible);
}

void InlineMessage::reserveLines(int lines)
{
    m_reservedLines = std::max(0, lines);
    // A fixed height: a word-wrapped label's height-for-width varies with the text in ways the
    // layout passes on to the dialog. A longer message is in the tooltip too.
    if (m_reservedLines > 0)
        m_text->setFixedHeight(m_reservedLines * m_text->fontMetrics().lineSpacing());
    else
        m_text->setMinimumHeight(0);
    setMessage(text(), m_kind);
}

QString InlineMessage::text() const
{
    return m_text->text();
}

// --- DurationEdit -----------------------------------------------------------------------------

DurationEdit::DurationEdit(QWidget *parent) : QLineEdit(parent)
{
    setPlaceholderText(tr("e.g. 30s, 5m, 1h"));
    setClearButtonEnabled(true);
    connect(this, &QLineEdit::textChanged, this, &DurationEdit::durationChanged);
}

void DurationEdit::setOptional(bool optional)
{
    m_optional = optional;
    setPlaceholderText(optional ? tr("none (e.g. 10s to keep trying)") : tr("e.g. 30s, 5m, 1h"));
    emit durationChanged();
}

void DurationEdit::setDuration(std::chrono::milliseconds value)
{
    setText(value.count() > 0 ? lockscope::formatDuration(value) : QString());
}

std::optional<std::chrono::milliseconds> DurationEdit::duration() const
{
    const QString trimmed = text().trimmed();
    if (trimmed.isEmpty())
        return m_optional ? std::optional(std::chrono::milliseconds(0)) : std::nullopt;
    bool bare = false;
    trimmed.toDouble(&bare);
    if (bare)
        return std::nullopt;
    const auto value = lockscope::parseDuration(trimmed);
    if (!value || value->count() <= 0)
        return std::nullopt;
    return value;
}

QString DurationEdit::errorText() const
{
    if (duration())
        return {};
    const QString trimmed = text().trimmed();
    if (trimmed.isEmpty())
        return tr("Enter a duration, e.g. 30s or 5m.");
    if (const auto value = lockscope::parseDuration(trimmed); value && value->count() <= 0)
        return tr("The duration must be longer than zero.");
    // The same words as lockctl's (one rule for what a duration is).
    QString problem = lockscope::durationProblem(trimmed);
    if (problem.isEmpty())
        return tr("Not a duration.");
    problem[0] = problem[0].toUpper();
    return problem + QLatin1Char('.');
}

TypedKeyConfirmation::TypedKeyConfirmation(const QByteArray &key, const QStringList &productionNodes,
                                           QWidget *parent)
    : QWidget(parent), m_shown(lockscope::displayText(key))
{
    setObjectName(QStringLiteral("typedKeyConfirmation"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *why = new InlineMessage(this);
    why->setObjectName(QStringLiteral("productionMessage"));
    if (!productionNodes.isEmpty())
        why->setMessage((productionNodes.size() == 1
                             ? tr("The key is on production node %1. Type the key exactly to confirm.")
                             : tr("The key is on production nodes %1. Type the key exactly to confirm."))
                            .arg(productionNodes.join(QStringLiteral(", "))),
                        InlineMessage::Kind::Warning);
    layout->addWidget(why);
    auto *form = new QFormLayout;
    m_field = new QLineEdit(this);
    m_field->setObjectName(QStringLiteral("typedKey"));
    m_field->setFont(actionwidgets::monospaceFont());
    m_field->setPlaceholderText(tr("the key, exactly as above"));
    form->addRow(tr("Type the key:"), m_field);
    layout->addLayout(form);
    m_error = new InlineMessage(this);
    m_error->reserveLines(1); // no growing while typing
    layout->addWidget(m_error);
    connect(m_field, &QLineEdit::textChanged, this, [this](const QString &typed) {
        // No complaint while what is typed so far is the start of the key.
        if (m_shown.startsWith(typed))
            m_error->clear();
        else
            m_error->setMessage(tr("This is not the key."), InlineMessage::Kind::Error);
        emit changed();
    });
}

bool TypedKeyConfirmation::confirmed() const
{
    return m_field->text() == m_shown;
}
