#include "passwordprompt.h"

#include "themecolors.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

PasswordPrompt::PasswordPrompt(const QString &group, const QString &node, bool persistent, QWidget *parent)
    : QDialog(parent), m_persistent(persistent)
{
    setWindowTitle(tr("Password for %1").arg(node));
    setObjectName(QStringLiteral("passwordPrompt"));
    auto *layout = new QVBoxLayout(this);
    auto *message = new QLabel(tr("The node <b>%1</b> of group <b>%2</b> needs a password.")
                                   .arg(node.toHtmlEscaped(), group.toHtmlEscaped()));
    message->setObjectName(QStringLiteral("promptMessage"));
    message->setWordWrap(true);
    layout->addWidget(message);
    auto *form = new QFormLayout;
    m_password = new QLineEdit;
    m_password->setObjectName(QStringLiteral("passwordEdit"));
    m_password->setEchoMode(QLineEdit::Password);
    form->addRow(tr("Password:"), m_password);
    layout->addLayout(form);
    m_error = new QLabel;
    m_error->setObjectName(QStringLiteral("promptError"));
    m_error->setWordWrap(true);
    m_error->setVisible(false);
    layout->addWidget(m_error);
    m_remember = new QCheckBox(tr("Remember in keychain"));
    m_remember->setObjectName(QStringLiteral("rememberCheck"));
    m_remember->setChecked(persistent);
    m_remember->setVisible(persistent);
    layout->addWidget(m_remember);
    if (!persistent) {
        auto *note = new QLabel(tr("No keychain is available: the password is kept until LockScope quits."));
        note->setObjectName(QStringLiteral("promptNote"));
        note->setWordWrap(true);
        note->setForegroundRole(QPalette::PlaceholderText);
        layout->addWidget(note);
    }
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->setObjectName(QStringLiteral("buttonBox"));
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));
    buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
    layout->addWidget(buttons);
    connect(m_password, &QLineEdit::textChanged, this, [buttons](const QString &text) {
        buttons->button(QDialogButtonBox::Ok)->setEnabled(!text.isEmpty());
    });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    setMinimumWidth(380);
    m_password->setFocus();
}

QString PasswordPrompt::password() const
{
    return m_password->text();
}

bool PasswordPrompt::remember() const
{
    return m_persistent && m_remember->isChecked();
}

void PasswordPrompt::setReason(const QString &message, const QString &detail)
{
    m_error->setText(message);
    m_error->setToolTip(detail);
    theme::setTextColor(m_error, QColor());
    m_error->setForegroundRole(QPalette::PlaceholderText);
    m_error->setVisible(!message.isEmpty());
}

void PasswordPrompt::setError(const QString &message)
{
    m_error->setForegroundRole(QPalette::WindowText);
    theme::setTextColor(m_error, theme::danger(palette()));
    m_error->setText(message);
    m_error->setVisible(!message.isEmpty());
    m_password->selectAll();
}

std::expected<void, QString> PasswordPrompt::storeAnswer(lockscope::inspect::SecretStore &store,
                                                         const QString &key, const QString &password,
                                                         bool remember)
{
    if (auto *session = dynamic_cast<lockscope::inspect::SessionSecretStore *>(&store)) {
        if (remember && session->persistent())
            return session->write(key, password);
        session->keepForSession(key, password);
        return {};
    }
    if (remember || !store.persistent())
        return store.write(key, password);
    return {};
}
