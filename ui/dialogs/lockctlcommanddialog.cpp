#include "lockctlcommanddialog.h"

#include "actionwidgets.h"
#include "locktext.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QTextDocument>
#include <QTextEdit>
#include <QTimer>
#include <QVBoxLayout>
#include <cmath>
#include <memory>

using lockscope::inspect::LockRecord;

namespace {

/// A read-only, selectable command that is exactly as tall as its wrapped text at any width:
/// the whole command is visible, no scroll bar.
class CommandView : public QTextEdit
{
public:
    CommandView(const QString &text, const QFont &font, QWidget *parent) : QTextEdit(parent)
    {
        setFont(font);
        setReadOnly(true);
        setAcceptRichText(false);
        setPlainText(text);
        setWordWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
        setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        setTabChangesFocus(true);
        QSizePolicy policy(QSizePolicy::Expanding, QSizePolicy::Fixed);
        policy.setHeightForWidth(true);
        setSizePolicy(policy);
    }

    bool hasHeightForWidth() const override { return true; }

    int heightForWidth(int width) const override
    {
        const std::unique_ptr<QTextDocument> layout(document()->clone());
        layout->setDefaultFont(font());
        layout->setTextWidth(std::max(1, width - 2 * frameWidth()));
        return int(std::ceil(layout->size().height())) + 2 * frameWidth();
    }

    QSize sizeHint() const override
    {
        const int width = fontMetrics().averageCharWidth() * 70;
        return {width, heightForWidth(width)};
    }

    QSize minimumSizeHint() const override
    {
        const int width = fontMetrics().averageCharWidth() * 20;
        return {width, heightForWidth(width)};
    }
};

} // namespace

LockctlCommandDialog::LockctlCommandDialog(const QString &title, const QList<Entry> &commands,
                                           QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(title);
    const QFont mono = actionwidgets::monospaceFont();
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("The same actions with lockctl, for a terminal or a runbook:"), this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    for (int i = 0; i < commands.size(); ++i) {
        const auto &[caption, command] = commands[i];
        auto *captionLabel = new QLabel(caption, this);
        QFont bold = captionLabel->font();
        bold.setBold(true);
        captionLabel->setFont(bold);
        layout->addSpacing(i == 0 ? 4 : 10);
        layout->addWidget(captionLabel);
        if (!command.isValid()) {
            auto *message = new InlineMessage(this);
            message->setMessage(tr("No lockctl equivalent: %1.").arg(command.error),
                                InlineMessage::Kind::Information);
            layout->addWidget(message);
            m_editors << nullptr;
            continue;
        }
        auto *row = new QHBoxLayout;
        auto *editor = new CommandView(command.text, mono, this);
        editor->setObjectName(QStringLiteral("command%1").arg(i));
        row->addWidget(editor, 1);
        auto *copy = new QPushButton(QIcon::fromTheme(QStringLiteral("edit-copy")), tr("Copy"), this);
        copy->setObjectName(QStringLiteral("copy%1").arg(i));
        copy->setAutoDefault(false);
        connect(copy, &QPushButton::clicked, this, [copy, text = command.text] {
            QGuiApplication::clipboard()->setText(text);
            copy->setText(tr("Copied"));
            QTimer::singleShot(1500, copy, [copy] { copy->setText(tr("Copy")); });
        });
        row->addWidget(copy, 0, Qt::AlignTop);
        layout->addLayout(row);
        for (const QString &note : command.notes) {
            auto *noteLabel = new QLabel(note, this);
            noteLabel->setWordWrap(true);
            noteLabel->setForegroundRole(QPalette::PlaceholderText);
            layout->addWidget(noteLabel);
        }
        m_editors << editor;
    }
    layout->addStretch(1);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    setMinimumWidth(fontMetrics().averageCharWidth() * 100);
    resize(minimumWidth(), height());
    actionwidgets::fitHeight(this);
}

QList<LockctlCommandDialog::Entry>
LockctlCommandDialog::commandsForRecord(const LockctlTarget &target, const LockRecord &record,
                                        const std::optional<lockscope::inspect::LockHolder> &holder)
{
    QList<Entry> entries;
    entries << Entry{tr("Show the key on every node"), lockctlShowCommand(target, record.key)};
    entries << Entry{tr("List it with the lock table's columns"), lockctlListCommand(target, record.key)};
    if (holder) {
        const QString who = locktext::holderNoun(record, *holder);
        entries << Entry{tr("Set the picked %1's TTL to a minute (its token checked)").arg(who),
                         lockctlExtendHolderCommand(target, record, holder->token, std::chrono::minutes(1))};
        entries << Entry{tr("Force-release the picked %1 only").arg(who),
                         lockctlForceReleaseHolderCommand(target, record, holder->token)};
    } else {
        entries << Entry{
            tr("Extend it by a minute (owner-checked)"),
            lockctlExtendCommand(target, record, std::chrono::minutes(1), lockscope::lock::ExtendMode::Add)};
    }
    entries << Entry{tr("Force-release the value shown"), lockctlForceReleaseCommand(target, record, false)};
    return entries;
}

QString LockctlCommandDialog::commandText(int index) const
{
    if (index < 0 || index >= m_editors.size() || !m_editors[index])
        return {};
    return m_editors[index]->toPlainText();
}

LockctlCommandDialog *LockctlCommandDialog::showCommands(QWidget *parent, const QString &title,
                                                         const QList<Entry> &commands)
{
    auto *dialog = new LockctlCommandDialog(title, commands, parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
    return dialog;
}
