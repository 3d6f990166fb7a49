#include "nodeeditor.h"

#include "inlineerror.h"
#include "themecolors.h"

#include <QCheckBox>
#include <QColorDialog>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>

using lockscope::redis::NodeConfig;

namespace {

/// A line edit with a "…" button that opens a file (or directory) picker.
QWidget *fileField(QLineEdit *&edit, const QString &objectName, const QString &title, bool directory,
                   QWidget *parent)
{
    auto *row = new QWidget;
    auto *layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    edit = new QLineEdit;
    edit->setObjectName(objectName);
    edit->setClearButtonEnabled(true);
    auto *browse = new QToolButton;
    browse->setText(QStringLiteral("…"));
    browse->setToolTip(title);
    layout->addWidget(edit, 1);
    layout->addWidget(browse);
    QLineEdit *target = edit;
    QObject::connect(browse, &QToolButton::clicked, parent, [target, title, directory, parent] {
        const QString start = target->text().isEmpty() ? QString() : QFileInfo(target->text()).absolutePath();
        const QString chosen =
            directory ? QFileDialog::getExistingDirectory(parent, title, target->text())
                      : QFileDialog::getOpenFileName(parent, title, start,
                                                     QStringLiteral("PEM files (*.pem *.crt "
                                                                    "*.key *.cer);;All files (*)"));
        if (!chosen.isEmpty()) {
            target->setText(chosen);
            emit target->textEdited(chosen);
        }
    });
    return row;
}

bool isTcp(const NodeConfig &config)
{
    return config.transport == NodeConfig::Transport::Tcp;
}

} // namespace

QIcon NodeEditor::colorSwatch(const QString &color)
{
    // An outlined square for "no colour" read as an unticked checkbox beside every node.
    QPixmap pixmap(16, 16);
    pixmap.fill(Qt::transparent);
    if (!color.isEmpty()) {
        QPainter painter(&pixmap);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setPen(QPen(QColor(0, 0, 0, 90)));
        painter.setBrush(QColor(color));
        painter.drawEllipse(QRectF(2.5, 2.5, 11, 11));
    }
    return QIcon(pixmap);
}

NodeEditor::NodeEditor(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    QFormLayout *addressForm = nullptr;
    QFormLayout *guardsForm = nullptr;
    layout->addWidget(createAddress(addressForm));
    // Address, then the guards (what protects the node), then how to connect: at 1280x800 the
    // guards are in view without scrolling whatever TLS adds below them.
    layout->addWidget(createGuards(guardsForm));
    layout->addWidget(createAuthentication(m_authForm));
    layout->addWidget(createTls(m_tlsForm));
    layout->addStretch(1);

    // One label column for every box, so that the fields line up down the page.
    const QList<QFormLayout *> forms{addressForm, m_authForm, m_tlsForm, guardsForm};
    int labelWidth = 0;
    for (QFormLayout *form : forms)
        for (int row = 0; row < form->rowCount(); ++row)
            if (QLayoutItem *item = form->itemAt(row, QFormLayout::LabelRole); item && item->widget())
                labelWidth = std::max(labelWidth, item->widget()->sizeHint().width());
    for (QFormLayout *form : forms)
        for (int row = 0; row < form->rowCount(); ++row)
            if (QLayoutItem *item = form->itemAt(row, QFormLayout::LabelRole); item && item->widget())
                item->widget()->setMinimumWidth(labelWidth);

    connect(m_url, &QLineEdit::textEdited, this, &NodeEditor::onUrlEdited);
    connect(m_url, &QLineEdit::editingFinished, this, &NodeEditor::onUrlFinished);
    for (QLineEdit *edit : {m_name, m_host, m_port, m_user, m_caFile, m_caDir, m_certFile, m_keyFile, m_sni})
        connect(edit, &QLineEdit::textEdited, this, &NodeEditor::onFieldsEdited);
    for (QSpinBox *spin : {m_db, m_connectTimeout, m_commandTimeout})
        connect(spin, &QSpinBox::valueChanged, this, &NodeEditor::onFieldsEdited);
    connect(m_tls, &QGroupBox::toggled, this, &NodeEditor::showTlsRows);
    connect(m_tls, &QGroupBox::toggled, this, &NodeEditor::onFieldsEdited);
    connect(m_verify, &QCheckBox::toggled, this, &NodeEditor::onFieldsEdited);
    connect(m_readOnly, &QCheckBox::toggled, this, &NodeEditor::onGuardsEdited);
    connect(m_production, &QCheckBox::toggled, this, &NodeEditor::onGuardsEdited);
    connect(m_password, &QLineEdit::textEdited, this, &NodeEditor::onPasswordEdited);
    connect(m_remember, &QCheckBox::toggled, this, &NodeEditor::onRememberToggled);
    connect(m_color, &QPushButton::clicked, this, &NodeEditor::chooseColor);
    connect(m_clearColor, &QPushButton::clicked, this, &NodeEditor::clearColor);
}

// --- layout ---------------------------------------------------------------------------------

QWidget *NodeEditor::createAddress(QFormLayout *&form)
{
    auto *address = new QGroupBox(tr("Address"));
    form = new QFormLayout(address);
    m_url = new QLineEdit;
    m_url->setObjectName(QStringLiteral("urlEdit"));
    m_url->setPlaceholderText(
        QStringLiteral("redis://[user@]host:6379[/db]  or  rediss://…  or  unix:///path"));
    m_urlError = inlineerror::label(QStringLiteral("urlError"));
    form->addRow(tr("URL:"), m_url);
    form->addRow(QString(), m_urlError);
    m_name = new QLineEdit;
    m_name->setObjectName(QStringLiteral("nameEdit"));
    m_name->setPlaceholderText(tr("shown in lists; default host:port"));
    form->addRow(tr("Name:"), m_name);
    m_host = new QLineEdit;
    m_host->setObjectName(QStringLiteral("hostEdit"));
    m_host->setPlaceholderText(tr("host name, IP address, or /path/to/redis.sock"));
    m_hostError = inlineerror::label(QStringLiteral("hostError"));
    form->addRow(tr("Host:"), m_host);
    form->addRow(QString(), m_hostError);
    auto *portRow = new QWidget;
    auto *portLayout = new QHBoxLayout(portRow);
    portLayout->setContentsMargins(0, 0, 0, 0);
    m_port = new QLineEdit;
    m_port->setObjectName(QStringLiteral("portEdit"));
    m_port->setMaximumWidth(90);
    m_db = new QSpinBox;
    m_db->setObjectName(QStringLiteral("dbSpin"));
    m_db->setRange(0, 65535);
    portLayout->addWidget(m_port);
    portLayout->addSpacing(16);
    portLayout->addWidget(new QLabel(tr("Database:")));
    portLayout->addWidget(m_db);
    portLayout->addStretch(1);
    m_portError = inlineerror::label(QStringLiteral("portError"));
    form->addRow(tr("Port:"), portRow);
    form->addRow(QString(), m_portError);
    return address;
}

QWidget *NodeEditor::createGuards(QFormLayout *&form)
{
    auto *behaviour = new QGroupBox(tr("Guards and timeouts"));
    behaviour->setObjectName(QStringLiteral("guardsBox"));
    form = new QFormLayout(behaviour);
    const auto timeoutSpin = [](const QString &objectName) {
        auto *spin = new QSpinBox;
        spin->setObjectName(objectName);
        spin->setRange(1, 600000);
        spin->setSingleStep(100);
        spin->setSuffix(QStringLiteral(" ms"));
        return spin;
    };
    auto *timeoutRow = new QWidget;
    auto *timeoutLayout = new QHBoxLayout(timeoutRow);
    timeoutLayout->setContentsMargins(0, 0, 0, 0);
    m_connectTimeout = timeoutSpin(QStringLiteral("connectTimeoutSpin"));
    m_commandTimeout = timeoutSpin(QStringLiteral("commandTimeoutSpin"));
    timeoutLayout->addWidget(m_connectTimeout);
    timeoutLayout->addSpacing(16);
    timeoutLayout->addWidget(new QLabel(tr("Command:")));
    timeoutLayout->addWidget(m_commandTimeout);
    timeoutLayout->addStretch(1);
    m_readOnly = new QCheckBox(tr("Read-only: never write to this node"));
    m_readOnly->setObjectName(QStringLiteral("readOnlyCheck"));
    m_production = new QCheckBox(tr("Production: destructive actions need the key typed"));
    m_production->setObjectName(QStringLiteral("productionCheck"));
    form->addRow(QString(), m_readOnly);
    form->addRow(QString(), m_production);
    auto *colorRow = new QWidget;
    auto *colorLayout = new QHBoxLayout(colorRow);
    colorLayout->setContentsMargins(0, 0, 0, 0);
    m_color = new QPushButton(tr("Choose…"));
    m_color->setObjectName(QStringLiteral("colorButton"));
    m_clearColor = new QPushButton(tr("None"));
    m_clearColor->setObjectName(QStringLiteral("clearColorButton"));
    m_color->setToolTip(tr("A marker of your choice (e.g. red for production), shown as a dot "
                           "beside the node in the list"));
    colorLayout->addWidget(m_color);
    colorLayout->addWidget(m_clearColor);
    colorLayout->addStretch(1);
    form->addRow(tr("Colour tag:"), colorRow);
    form->addRow(tr("Connect timeout:"), timeoutRow);
    return behaviour;
}

QWidget *NodeEditor::createAuthentication(QFormLayout *&form)
{
    auto *auth = new QGroupBox(tr("Authentication"));
    form = new QFormLayout(auth);
    m_user = new QLineEdit;
    m_user->setObjectName(QStringLiteral("userEdit"));
    m_user->setPlaceholderText(tr("ACL user; empty = default"));
    form->addRow(tr("User:"), m_user);
    m_password = new QLineEdit;
    m_password->setObjectName(QStringLiteral("passwordEdit"));
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setClearButtonEnabled(true);
    form->addRow(tr("Password:"), m_password);
    m_remember = new QCheckBox(tr("Remember in keychain"));
    m_remember->setObjectName(QStringLiteral("rememberCheck"));
    form->addRow(QString(), m_remember);
    m_secretNote = theme::noteLabel(QStringLiteral("secretNote"));
    form->addRow(QString(), m_secretNote);
    return auth;
}

QWidget *NodeEditor::createTls(QFormLayout *&form)
{
    m_tls = new QGroupBox(tr("TLS"));
    m_tls->setObjectName(QStringLiteral("tlsBox"));
    m_tls->setCheckable(true);
    form = new QFormLayout(m_tls);
    form->addRow(tr("CA file:"),
                 fileField(m_caFile, QStringLiteral("caFileEdit"), tr("CA certificates (PEM)"), false, this));
    form->addRow(tr("CA directory:"), fileField(m_caDir, QStringLiteral("caDirEdit"),
                                                tr("Directory of CA certificates"), true, this));
    form->addRow(tr("Client certificate:"), fileField(m_certFile, QStringLiteral("certFileEdit"),
                                                      tr("Client certificate (PEM)"), false, this));
    form->addRow(tr("Client key:"), fileField(m_keyFile, QStringLiteral("keyFileEdit"),
                                              tr("Client private key (PEM)"), false, this));
    m_tlsError = inlineerror::label(QStringLiteral("tlsError"));
    form->addRow(QString(), m_tlsError);
    m_sni = new QLineEdit;
    m_sni->setObjectName(QStringLiteral("sniEdit"));
    m_sni->setPlaceholderText(tr("default: the host"));
    form->addRow(tr("Server name (SNI):"), m_sni);
    m_verify = new QCheckBox(tr("Verify the server certificate and name"));
    m_verify->setObjectName(QStringLiteral("verifyCheck"));
    form->addRow(QString(), m_verify);
    return m_tls;
}

void NodeEditor::showTlsRows()
{
    // Without TLS its six fields are only in the way (and push the rest out of view).
    const bool on = m_tls->isChecked();
    for (int row = 0; row < m_tlsForm->rowCount(); ++row) {
        QLayoutItem *field = m_tlsForm->itemAt(row, QFormLayout::FieldRole);
        if (!field || field->widget() != m_tlsError)
            m_tlsForm->setRowVisible(row, on);
    }
}

// --- showing --------------------------------------------------------------------------------

void NodeEditor::setEntry(const DraftNode &entry)
{
    m_entry = entry;
    load(false);
}

void NodeEditor::setErrors(const DraftNode &validated)
{
    m_entry.urlError = validated.urlError;
    m_entry.hostError = validated.hostError;
    m_entry.portError = validated.portError;
    m_entry.tlsError = validated.tlsError;
    showErrors();
}

void NodeEditor::setStorage(const Storage &storage)
{
    m_storage = storage;
    refreshSecretWidgets();
}

void NodeEditor::setStored(const std::optional<QString> &stored, bool remember)
{
    m_entry.stored = stored;
    m_entry.remember = remember;
    refreshSecretWidgets();
}

void NodeEditor::focusHost()
{
    m_host->setFocus();
    m_host->selectAll();
}

void NodeEditor::load(bool keepUrlText)
{
    m_loading = true;
    const NodeConfig &c = m_entry.node.config;
    if (!keepUrlText && m_url->text() != m_entry.urlText) {
        m_url->setText(m_entry.urlText);
        m_url->setCursorPosition(0); // the scheme and host, not the tail of a long query
    }
    m_name->setText(c.name);
    m_host->setText(isTcp(c) ? c.host : c.unixPath);
    m_port->setText(m_entry.portText);
    m_db->setValue(c.db);
    m_user->setText(c.username);
    m_password->setText(m_entry.password);
    m_tls->setChecked(c.tls.enabled);
    showTlsRows();
    m_caFile->setText(c.tls.caFile);
    m_caDir->setText(c.tls.caDir);
    m_certFile->setText(c.tls.certFile);
    m_keyFile->setText(c.tls.keyFile);
    m_sni->setText(c.tls.serverName);
    m_verify->setChecked(c.tls.verifyPeer);
    m_connectTimeout->setValue(static_cast<int>(c.connectTimeout.count()));
    m_commandTimeout->setValue(static_cast<int>(c.commandTimeout.count()));
    m_readOnly->setChecked(m_entry.node.readOnly);
    m_production->setChecked(m_entry.node.production);
    m_color->setIcon(colorSwatch(m_entry.node.color));
    m_color->setText(m_entry.node.color.isEmpty() ? tr("Choose…") : m_entry.node.color);
    m_clearColor->setEnabled(!m_entry.node.color.isEmpty());
    showErrors();
    m_loading = false;
    refreshSecretWidgets();
}

void NodeEditor::showErrors()
{
    const bool tcp = isTcp(m_entry.node.config);
    m_port->setEnabled(tcp);
    m_tls->setEnabled(tcp);
    inlineerror::show(m_urlError, m_entry.urlError);
    inlineerror::show(m_hostError, m_entry.hostError);
    inlineerror::show(m_portError, m_entry.portError);
    inlineerror::show(m_tlsError, m_entry.tlsError);
}

void NodeEditor::refreshSecretWidgets()
{
    const bool wasLoading = m_loading;
    m_loading = true;
    m_authForm->setRowVisible(m_remember, m_storage.persistent || m_storage.checking);
    m_remember->setEnabled(m_storage.persistent);
    m_remember->setChecked(m_entry.remember);
    QString note;
    if (m_storage.checking) {
        note = tr("Checking the keychain…");
    } else if (!m_storage.store) {
        note = tr("Passwords are not kept: LockScope asks for them when it connects.");
    } else if (!m_storage.persistent) {
        note =
            tr("No keychain is available%1. A password typed here is kept until LockScope quits, "
               "and asked for again at the next start.")
                .arg(m_storage.reason.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(m_storage.reason));
    } else if (m_entry.remember) {
        note = m_entry.password.isEmpty() && m_entry.stored
                   ? tr("A password is stored in the keychain; type here to replace it.")
                   : tr("Stored in the system keychain when you press OK, never in the groups file.");
    } else {
        note = m_entry.stored ? tr("The stored password is removed from the keychain when you press OK; "
                                   "LockScope will ask for it when it connects.")
                              : tr("Not stored: LockScope asks for the password when it connects.");
    }
    m_secretNote->setText(note);
    m_password->setPlaceholderText(m_entry.stored && m_entry.password.isEmpty()
                                       ? tr("stored in keychain")
                                       : tr("not set (asked at connect)"));
    m_loading = wasLoading;
}

// --- editing --------------------------------------------------------------------------------

void NodeEditor::onUrlEdited(const QString &text)
{
    if (m_loading)
        return;
    auto parsed = NodeConfig::fromUrl(text.trimmed());
    if (!parsed) {
        m_entry.urlText = text;
        m_entry.urlError = tr("URL: %1").arg(parsed.error().message);
    } else {
        if (!parsed->password.isEmpty()) {
            m_entry.password = parsed->password;
            m_entry.passwordEdited = true;
            if (m_storage.persistent && !m_entry.stored)
                m_entry.remember = true;
            parsed->password.clear();
        }
        m_entry.node.config = *parsed;
        // Kept without the password; the field shows it as typed until editing finishes.
        m_entry.urlText = ConnectionsDraft::urlFor(*parsed);
        m_entry.portText = QString::number(parsed->port);
        m_entry.urlError.clear();
        m_entry.portError.clear();
        m_entry.hostError.clear();
    }
    // Fields follow the URL; the URL text itself is left as typed.
    load(true);
    emit edited();
}

void NodeEditor::onUrlFinished()
{
    // A password typed into the URL moved to the password field: show the URL without it.
    if (!m_entry.urlError.isEmpty() || m_url->text() == m_entry.urlText)
        return;
    m_loading = true;
    m_url->setText(m_entry.urlText);
    m_loading = false;
}

void NodeEditor::onFieldsEdited()
{
    if (m_loading)
        return;
    NodeConfig c = m_entry.node.config;
    c.name = m_name->text().trimmed();
    const QString host = m_host->text().trimmed();
    if (host.startsWith(QLatin1Char('/'))) {
        c.transport = NodeConfig::Transport::Unix;
        c.unixPath = host;
    } else {
        c.transport = NodeConfig::Transport::Tcp;
        c.host = host;
        c.unixPath.clear();
    }
    c.db = m_db->value();
    c.username = m_user->text().trimmed();
    c.tls.enabled = m_tls->isChecked() && isTcp(c);
    c.tls.caFile = m_caFile->text().trimmed();
    c.tls.caDir = m_caDir->text().trimmed();
    c.tls.certFile = m_certFile->text().trimmed();
    c.tls.keyFile = m_keyFile->text().trimmed();
    c.tls.serverName = m_sni->text().trimmed();
    c.tls.verifyPeer = m_verify->isChecked();
    c.connectTimeout = std::chrono::milliseconds(m_connectTimeout->value());
    c.commandTimeout = std::chrono::milliseconds(m_commandTimeout->value());
    m_entry.portText = m_port->text().trimmed();
    bool portOk = false;
    const uint port = m_entry.portText.toUInt(&portOk);
    m_entry.portError.clear();
    if (isTcp(c)) {
        if (portOk && port >= 1 && port <= 65535)
            c.port = static_cast<quint16>(port);
        else
            m_entry.portError =
                m_entry.portText.isEmpty()
                    ? tr("Enter a port (1–65535).")
                    : tr("Port \"%1\" is not a number from 1 to 65535.").arg(m_entry.portText);
    }
    m_entry.node.config = c;
    m_entry.urlError.clear();
    m_entry.urlText = ConnectionsDraft::urlFor(c);
    m_loading = true;
    m_url->setText(m_entry.urlText);
    showErrors();
    m_loading = false;
    emit edited();
}

void NodeEditor::onGuardsEdited()
{
    if (m_loading)
        return;
    m_entry.node.readOnly = m_readOnly->isChecked();
    m_entry.node.production = m_production->isChecked();
    emit edited();
}

void NodeEditor::onPasswordEdited(const QString &text)
{
    if (m_loading)
        return;
    m_entry.password = text;
    m_entry.passwordEdited = true;
    if (!text.isEmpty() && m_storage.persistent && !m_entry.stored && !m_entry.remember) {
        // First password for this node: remembering is what most operators want; the box stays
        // visible to untick.
        m_entry.remember = true;
    }
    refreshSecretWidgets();
    emit edited();
}

void NodeEditor::onRememberToggled(bool on)
{
    if (m_loading)
        return;
    m_entry.remember = on;
    refreshSecretWidgets();
    emit edited();
}

void NodeEditor::chooseColor()
{
    const QColor chosen = QColorDialog::getColor(m_entry.node.color.isEmpty() ? QColor(0x40, 0x80, 0xd0)
                                                                              : QColor(m_entry.node.color),
                                                 this, tr("Colour tag"));
    if (!chosen.isValid())
        return;
    m_entry.node.color = chosen.name(QColor::HexRgb);
    load(false);
    emit edited();
}

void NodeEditor::clearColor()
{
    m_entry.node.color.clear();
    load(false);
    emit edited();
}
