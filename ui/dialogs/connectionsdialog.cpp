#include "connectionsdialog.h"

#include "locktext.h"
#include "themecolors.h"
#include "uilogging.h"
#include "util/quorum.h"

#include <QCheckBox>
#include <QColorDialog>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <redis/connection.h>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::GroupNode;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::SecretStore;
using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;

namespace {

enum Page
{
    EmptyPage,
    GroupPage,
    NodePage
};

constexpr int GroupRole = Qt::UserRole;
constexpr int NodeRole = Qt::UserRole + 1;

QLabel *errorLabel(const QString &objectName)
{
    auto *label = new QLabel;
    label->setObjectName(objectName);
    label->setWordWrap(true);
    theme::setTextColor(label, theme::danger(label->palette()));
    label->setVisible(false);
    return label;
}

void setError(QLabel *label, const QString &text)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
}

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

/// The colour tag as a filled dot; no tag: an empty icon of the same size (the names stay lined
/// up). An outlined square for "no colour" read as an unticked checkbox beside every node.
QIcon swatch(const QString &color)
{
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

QString formatLatency(std::chrono::microseconds latency)
{
    if (latency < std::chrono::milliseconds(1))
        return QStringLiteral("%1 µs").arg(latency.count());
    return QStringLiteral("%1 ms").arg(static_cast<double>(latency.count()) / 1000.0, 0, 'f', 1);
}

} // namespace

ConnectionsDialog::ConnectionsDialog(GroupConfig config, SecretStore *secrets, QWidget *parent)
    : QDialog(parent), m_secrets(secrets)
{
    setWindowTitle(tr("Connections"));
    setObjectName(QStringLiteral("connectionsDialog"));
    for (const NodeGroup &group : config.groups) {
        GroupEntry entry;
        entry.name = group.name;
        entry.match = group.match;
        for (const GroupNode &node : group.nodes)
            entry.nodes.push_back(makeEntry(node, group.name));
        m_groups.push_back(std::move(entry));
    }
    buildUi();
    rebuildTree(m_groups.empty() ? -1 : 0, -1);
    validateAll();

    connect(&m_testWatcher, &QFutureWatcherBase::finished, this, &ConnectionsDialog::onTestFinished);
    connect(&m_statusWatcher, &QFutureWatcherBase::finished, this, &ConnectionsDialog::onStoreStatus);
    connect(&m_saveWatcher, &QFutureWatcherBase::finished, this, &ConnectionsDialog::onSecretsSaved);

    if (m_secrets) {
        // Which passwords the store already holds, and whether it is a keychain at all: both
        // may wait on D-Bus, so off the GUI thread.
        QStringList keys;
        for (const GroupEntry &group : m_groups)
            for (const NodeEntry &node : group.nodes)
                keys << node.originalKey;
        SecretStore *store = m_secrets;
        m_statusWatcher.setFuture(QtConcurrent::run([store, keys] {
            StoreStatus status;
            status.persistent = store->available() && store->persistent();
            if (!status.persistent)
                status.reason = store->available() ? QString() : store->unavailableReason();
            for (const QString &key : keys) {
                if (auto stored = store->read(key); stored && *stored)
                    status.passwords.insert(key, **stored);
            }
            return status;
        }));
    }
    refreshSecretWidgets();
}

ConnectionsDialog::~ConnectionsDialog()
{
    // These two use the store, which the caller owns: finish before it can go away (bounded by
    // the store's own timeout). A running connection test only holds copies and is left to run.
    m_statusWatcher.waitForFinished();
    m_saveWatcher.waitForFinished();
}

ConnectionsDialog::NodeEntry ConnectionsDialog::makeEntry(const GroupNode &node, const QString &group) const
{
    NodeEntry entry;
    entry.node = node;
    if (!node.config.password.isEmpty()) {
        // A configuration handed in with a password (an import with secrets): it goes to the
        // store at OK, never back into config().
        entry.password = node.config.password;
        entry.passwordEdited = true;
        entry.remember = true;
        entry.node.config.password.clear();
    }
    entry.urlText = urlFor(entry.node.config);
    entry.portText = QString::number(entry.node.config.port);
    entry.originalKey = lockscope::inspect::secretKey(group, entry.node.config);
    return entry;
}

QString ConnectionsDialog::urlFor(const NodeConfig &config)
{
    NodeConfig copy = config;
    copy.password.clear();
    return copy.toUrl(false);
}

QString ConnectionsDialog::nodeTitle(const NodeEntry &entry, int index)
{
    const NodeConfig &c = entry.node.config;
    if (!c.name.isEmpty())
        return c.name; // the address is in the tooltip and the editor
    if ((c.transport == NodeConfig::Transport::Tcp && c.host.isEmpty()) ||
        (c.transport == NodeConfig::Transport::Unix && c.unixPath.isEmpty()))
        return tr("Node %1").arg(index + 1);
    return c.address();
}

// --- layout ---------------------------------------------------------------------------------

void ConnectionsDialog::buildUi()
{
    auto *splitter = new QSplitter(Qt::Horizontal);
    splitter->setChildrenCollapsible(false);

    // Left: the groups and their nodes.
    auto *left = new QWidget;
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    m_tree = new QTreeWidget;
    m_tree->setObjectName(QStringLiteral("groupTree"));
    m_tree->setHeaderHidden(true);
    m_tree->setRootIsDecorated(true);
    m_tree->setUniformRowHeights(true);
    leftLayout->addWidget(m_tree, 1);
    auto *treeButtons = new QGridLayout;
    m_addGroup = new QPushButton(tr("Add group"));
    m_addGroup->setObjectName(QStringLiteral("addGroupButton"));
    m_addNode = new QPushButton(tr("Add node"));
    m_addNode->setObjectName(QStringLiteral("addNodeButton"));
    m_addNode->setToolTip(tr("Add a node to the selected group (several nodes make a Redlock set)"));
    m_duplicate = new QPushButton(tr("Duplicate"));
    m_duplicate->setObjectName(QStringLiteral("duplicateButton"));
    m_remove = new QPushButton(tr("Remove"));
    m_remove->setObjectName(QStringLiteral("removeButton"));
    treeButtons->addWidget(m_addGroup, 0, 0);
    treeButtons->addWidget(m_addNode, 0, 1);
    treeButtons->addWidget(m_duplicate, 1, 0);
    treeButtons->addWidget(m_remove, 1, 1);
    leftLayout->addLayout(treeButtons);
    auto *fileButtons = new QHBoxLayout;
    auto *importButton = new QPushButton(tr("Import…"));
    importButton->setObjectName(QStringLiteral("importButton"));
    importButton->setToolTip(tr("Add the groups of a JSON file; groups with the same name are replaced"));
    auto *exportButton = new QPushButton(tr("Export…"));
    exportButton->setObjectName(QStringLiteral("exportButton"));
    exportButton->setToolTip(tr("Save the groups as JSON, without passwords"));
    fileButtons->addWidget(importButton);
    fileButtons->addWidget(exportButton);
    leftLayout->addLayout(fileButtons);
    splitter->addWidget(left);

    // Right: the editor of the selection.
    m_pages = new QStackedWidget;
    auto *empty = new QLabel(tr("Select a group or a node, or add a group."));
    empty->setAlignment(Qt::AlignCenter);
    empty->setForegroundRole(QPalette::PlaceholderText);
    m_pages->addWidget(empty);
    m_pages->addWidget(buildGroupPage());
    // The node's fields scroll; the connection test stays in view below them.
    auto *nodePage = new QWidget;
    auto *nodeLayout = new QVBoxLayout(nodePage);
    nodeLayout->setContentsMargins(0, 0, 0, 0);
    auto *scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(buildNodePage());
    nodeLayout->addWidget(scroll, 1);
    auto *testRow = new QHBoxLayout;
    testRow->setContentsMargins(9, 0, 9, 0);
    testRow->addWidget(m_test, 0, Qt::AlignTop);
    testRow->addWidget(m_testResult, 1);
    nodeLayout->addLayout(testRow);
    m_pages->addWidget(nodePage);
    splitter->addWidget(m_pages);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({360, 680});

    m_status = theme::noteLabel(QStringLiteral("statusLabel"));
    m_problems = errorLabel(QStringLiteral("problemsLabel"));
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_buttons->setObjectName(QStringLiteral("buttonBox"));

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_status);
    layout->addWidget(m_problems);
    layout->addWidget(m_buttons);
    // Fits a 1280x800 screen with its panels; the node page puts the guards where they are in
    // view at this height.
    resize(1060, 720);

    connect(m_tree, &QTreeWidget::currentItemChanged, this, &ConnectionsDialog::showSelection);
    connect(m_addGroup, &QPushButton::clicked, this, &ConnectionsDialog::addGroup);
    connect(m_addNode, &QPushButton::clicked, this, &ConnectionsDialog::addNode);
    connect(m_duplicate, &QPushButton::clicked, this, &ConnectionsDialog::duplicateSelected);
    connect(m_remove, &QPushButton::clicked, this, &ConnectionsDialog::removeSelected);
    connect(importButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import groups"), QString(),
                                                          tr("JSON files (*.json);;All files (*)"));
        if (!path.isEmpty())
            importFrom(path);
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export groups"), QStringLiteral("groups.json"), tr("JSON files (*.json)"));
        if (!path.isEmpty())
            exportTo(path);
    });
    connect(m_buttons, &QDialogButtonBox::accepted, this, &ConnectionsDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &ConnectionsDialog::reject);
}

QWidget *ConnectionsDialog::buildGroupPage()
{
    auto *page = new QWidget;
    auto *form = new QFormLayout(page);
    m_groupName = new QLineEdit;
    m_groupName->setObjectName(QStringLiteral("groupNameEdit"));
    m_groupName->setPlaceholderText(tr("e.g. payments"));
    m_groupNameError = errorLabel(QStringLiteral("groupNameError"));
    form->addRow(tr("Group name:"), m_groupName);
    form->addRow(QString(), m_groupNameError);
    m_groupSummary = theme::noteLabel(QStringLiteral("groupSummary"));
    form->addRow(QString(), m_groupSummary);
    connect(m_groupName, &QLineEdit::textEdited, this, &ConnectionsDialog::onGroupNameEdited);
    return page;
}

QWidget *ConnectionsDialog::createGuards()
{
    auto *behaviour = new QGroupBox(tr("Guards and timeouts"));
    behaviour->setObjectName(QStringLiteral("guardsBox"));
    auto *behaviourForm = new QFormLayout(behaviour);
    m_guardsForm = behaviourForm;
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
    behaviourForm->addRow(QString(), m_readOnly);
    behaviourForm->addRow(QString(), m_production);
    auto *colorRow = new QWidget;
    auto *colorLayout = new QHBoxLayout(colorRow);
    colorLayout->setContentsMargins(0, 0, 0, 0);
    m_color = new QPushButton(tr("Choose…"));
    m_color->setObjectName(QStringLiteral("colorButton"));
    m_clearColor = new QPushButton(tr("None"));
    m_clearColor->setObjectName(QStringLiteral("clearColorButton"));
    const QString colorTip = tr("A marker of your choice (e.g. red for production), shown as a dot "
                                "beside the node in the list");
    m_color->setToolTip(colorTip);
    colorLayout->addWidget(m_color);
    colorLayout->addWidget(m_clearColor);
    colorLayout->addStretch(1);
    behaviourForm->addRow(tr("Colour tag:"), colorRow);
    behaviourForm->addRow(tr("Connect timeout:"), timeoutRow);
    return behaviour;
}

QWidget *ConnectionsDialog::buildNodePage()
{
    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);

    auto *address = new QGroupBox(tr("Address"));
    auto *addressForm = new QFormLayout(address);
    m_url = new QLineEdit;
    m_url->setObjectName(QStringLiteral("urlEdit"));
    m_url->setPlaceholderText(
        QStringLiteral("redis://[user@]host:6379[/db]  or  rediss://…  or  unix:///path"));
    m_urlError = errorLabel(QStringLiteral("urlError"));
    addressForm->addRow(tr("URL:"), m_url);
    addressForm->addRow(QString(), m_urlError);
    m_name = new QLineEdit;
    m_name->setObjectName(QStringLiteral("nameEdit"));
    m_name->setPlaceholderText(tr("shown in lists; default host:port"));
    addressForm->addRow(tr("Name:"), m_name);
    m_host = new QLineEdit;
    m_host->setObjectName(QStringLiteral("hostEdit"));
    m_host->setPlaceholderText(tr("host name, IP address, or /path/to/redis.sock"));
    m_hostError = errorLabel(QStringLiteral("hostError"));
    addressForm->addRow(tr("Host:"), m_host);
    addressForm->addRow(QString(), m_hostError);
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
    m_portError = errorLabel(QStringLiteral("portError"));
    addressForm->addRow(tr("Port:"), portRow);
    addressForm->addRow(QString(), m_portError);
    layout->addWidget(address);

    auto *auth = new QGroupBox(tr("Authentication"));
    auto *authForm = new QFormLayout(auth);
    // Address, then the guards (what protects the node), then how to connect: at 1280x800 the
    // guards are in view without scrolling whatever TLS adds below them.
    layout->addWidget(createGuards());
    m_user = new QLineEdit;
    m_user->setObjectName(QStringLiteral("userEdit"));
    m_user->setPlaceholderText(tr("ACL user; empty = default"));
    authForm->addRow(tr("User:"), m_user);
    m_password = new QLineEdit;
    m_password->setObjectName(QStringLiteral("passwordEdit"));
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setClearButtonEnabled(true);
    authForm->addRow(tr("Password:"), m_password);
    m_remember = new QCheckBox(tr("Remember in keychain"));
    m_remember->setObjectName(QStringLiteral("rememberCheck"));
    authForm->addRow(QString(), m_remember);
    m_secretNote = theme::noteLabel(QStringLiteral("secretNote"));
    authForm->addRow(QString(), m_secretNote);
    layout->addWidget(auth);

    m_tls = new QGroupBox(tr("TLS"));
    m_tls->setObjectName(QStringLiteral("tlsBox"));
    m_tls->setCheckable(true);
    auto *tlsForm = new QFormLayout(m_tls);
    tlsForm->addRow(tr("CA file:"), fileField(m_caFile, QStringLiteral("caFileEdit"),
                                              tr("CA certificates (PEM)"), false, this));
    tlsForm->addRow(tr("CA directory:"), fileField(m_caDir, QStringLiteral("caDirEdit"),
                                                   tr("Directory of CA certificates"), true, this));
    tlsForm->addRow(tr("Client certificate:"), fileField(m_certFile, QStringLiteral("certFileEdit"),
                                                         tr("Client certificate (PEM)"), false, this));
    tlsForm->addRow(tr("Client key:"), fileField(m_keyFile, QStringLiteral("keyFileEdit"),
                                                 tr("Client private key (PEM)"), false, this));
    m_tlsError = errorLabel(QStringLiteral("tlsError"));
    tlsForm->addRow(QString(), m_tlsError);
    m_sni = new QLineEdit;
    m_sni->setObjectName(QStringLiteral("sniEdit"));
    m_sni->setPlaceholderText(tr("default: the host"));
    tlsForm->addRow(tr("Server name (SNI):"), m_sni);
    m_verify = new QCheckBox(tr("Verify the server certificate and name"));
    m_verify->setObjectName(QStringLiteral("verifyCheck"));
    tlsForm->addRow(QString(), m_verify);
    m_tlsForm = tlsForm;
    layout->addWidget(m_tls);

    m_test = new QPushButton(tr("Test connection"));
    m_test->setObjectName(QStringLiteral("testButton"));
    m_testResult = new QLabel;
    m_testResult->setObjectName(QStringLiteral("testResult"));
    m_testResult->setWordWrap(true);
    m_testResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addStretch(1);

    // One label column for every box, so that the fields line up down the page.
    const QList<QFormLayout *> forms{addressForm, authForm, tlsForm, m_guardsForm};
    int labelWidth = 0;
    for (QFormLayout *form : forms)
        for (int row = 0; row < form->rowCount(); ++row)
            if (QLayoutItem *item = form->itemAt(row, QFormLayout::LabelRole); item && item->widget())
                labelWidth = std::max(labelWidth, item->widget()->sizeHint().width());
    for (QFormLayout *form : forms)
        for (int row = 0; row < form->rowCount(); ++row)
            if (QLayoutItem *item = form->itemAt(row, QFormLayout::LabelRole); item && item->widget())
                item->widget()->setMinimumWidth(labelWidth);
    m_authForm = authForm;

    connect(m_url, &QLineEdit::textEdited, this, &ConnectionsDialog::onUrlEdited);
    connect(m_url, &QLineEdit::editingFinished, this, [this] {
        // A password typed into the URL moved to the password field: show the URL without it.
        NodeEntry *entry = currentNode();
        if (!entry || !entry->urlError.isEmpty())
            return;
        if (m_url->text() != entry->urlText) {
            m_loading = true;
            m_url->setText(entry->urlText);
            m_loading = false;
        }
    });
    for (QLineEdit *edit : {m_name, m_host, m_port, m_user, m_caFile, m_caDir, m_certFile, m_keyFile, m_sni})
        connect(edit, &QLineEdit::textEdited, this, &ConnectionsDialog::onFieldsEdited);
    for (QSpinBox *spin : {m_db, m_connectTimeout, m_commandTimeout})
        connect(spin, &QSpinBox::valueChanged, this, &ConnectionsDialog::onFieldsEdited);
    connect(m_tls, &QGroupBox::toggled, this, &ConnectionsDialog::showTlsRows);
    connect(m_tls, &QGroupBox::toggled, this, &ConnectionsDialog::onFieldsEdited);
    connect(m_verify, &QCheckBox::toggled, this, &ConnectionsDialog::onFieldsEdited);
    connect(m_readOnly, &QCheckBox::toggled, this, &ConnectionsDialog::onGuardsEdited);
    connect(m_production, &QCheckBox::toggled, this, &ConnectionsDialog::onGuardsEdited);
    connect(m_password, &QLineEdit::textEdited, this, &ConnectionsDialog::onPasswordEdited);
    connect(m_remember, &QCheckBox::toggled, this, [this](bool on) {
        if (m_loading)
            return;
        if (NodeEntry *entry = currentNode()) {
            entry->remember = on;
            refreshSecretWidgets();
        }
    });
    connect(m_color, &QPushButton::clicked, this, &ConnectionsDialog::chooseColor);
    connect(m_clearColor, &QPushButton::clicked, this, [this] {
        if (NodeEntry *entry = currentNode()) {
            entry->node.color.clear();
            loadNode();
            updateTreeItem(m_group, m_node);
        }
    });
    connect(m_test, &QPushButton::clicked, this, &ConnectionsDialog::testConnection);
    return page;
}

// --- tree and selection ---------------------------------------------------------------------

void ConnectionsDialog::rebuildTree(int selectGroup, int selectNode)
{
    m_loading = true;
    m_tree->clear();
    QTreeWidgetItem *select = nullptr;
    for (int g = 0; g < static_cast<int>(m_groups.size()); ++g) {
        auto *groupItem = new QTreeWidgetItem(m_tree);
        groupItem->setData(0, GroupRole, g);
        groupItem->setData(0, NodeRole, -1);
        if (g == selectGroup && selectNode < 0)
            select = groupItem;
        for (int n = 0; n < static_cast<int>(m_groups[static_cast<std::size_t>(g)].nodes.size()); ++n) {
            auto *nodeItem = new QTreeWidgetItem(groupItem);
            nodeItem->setData(0, GroupRole, g);
            nodeItem->setData(0, NodeRole, n);
            if (g == selectGroup && n == selectNode)
                select = nodeItem;
        }
    }
    m_tree->expandAll();
    for (int g = 0; g < static_cast<int>(m_groups.size()); ++g) {
        updateTreeItem(g, -1);
        for (int n = 0; n < static_cast<int>(m_groups[static_cast<std::size_t>(g)].nodes.size()); ++n)
            updateTreeItem(g, n);
    }
    m_loading = false;
    m_tree->setCurrentItem(select);
    showSelection();
}

void ConnectionsDialog::updateTreeItem(int group, int node)
{
    if (group < 0 || group >= m_tree->topLevelItemCount())
        return;
    QTreeWidgetItem *item = m_tree->topLevelItem(group);
    const GroupEntry &g = m_groups[static_cast<std::size_t>(group)];
    if (node < 0) {
        const QString kind =
            g.nodes.size() > 1
                ? tr("Redlock %1 of %2").arg(lockscope::quorumOf(int(g.nodes.size()))).arg(g.nodes.size())
                : QString();
        const QString name = g.name.isEmpty() ? tr("(unnamed group)") : g.name;
        item->setText(0, kind.isEmpty() ? name : QStringLiteral("%1   —  %2").arg(name, kind));
        QFont font = item->font(0);
        font.setBold(true);
        item->setFont(0, font);
        const bool bad = !g.nameError.isEmpty();
        item->setForeground(0, bad ? QBrush(QColor(0xe0, 0x43, 0x43)) : QBrush());
        item->setToolTip(0, g.nameError);
        return;
    }
    if (node >= item->childCount())
        return;
    QTreeWidgetItem *child = item->child(node);
    const NodeEntry &entry = g.nodes[static_cast<std::size_t>(node)];
    QStringList badges;
    if (entry.node.config.tls.enabled)
        badges << tr("TLS");
    if (entry.node.production)
        badges << tr("prod");
    if (entry.node.readOnly)
        badges << tr("read-only");
    QString text = nodeTitle(entry, node);
    if (!badges.isEmpty())
        text += QStringLiteral("  · %1").arg(badges.join(QStringLiteral(" · ")));
    child->setText(0, text);
    child->setIcon(0, swatch(entry.node.color));
    child->setForeground(0, entry.hasError() ? QBrush(QColor(0xe0, 0x43, 0x43)) : QBrush());
    QStringList errors;
    for (const QString &e : {entry.urlError, entry.hostError, entry.portError, entry.tlsError})
        if (!e.isEmpty())
            errors << e;
    QString tip = errors.isEmpty() ? urlFor(entry.node.config) : errors.join(QLatin1Char('\n'));
    if (!entry.node.color.isEmpty())
        tip +=
            QLatin1Char('\n') + tr("The dot is the node's colour tag (%1), set under \"Guards and timeouts\"")
                                    .arg(entry.node.color);
    child->setToolTip(0, tip);
}

void ConnectionsDialog::showSelection()
{
    if (m_loading)
        return;
    QTreeWidgetItem *item = m_tree->currentItem();
    m_group = item ? item->data(0, GroupRole).toInt() : -1;
    m_node = item ? item->data(0, NodeRole).toInt() : -1;
    m_addNode->setEnabled(m_group >= 0);
    m_duplicate->setEnabled(m_group >= 0);
    m_remove->setEnabled(m_group >= 0);
    m_duplicate->setText(m_node >= 0 ? tr("Duplicate node") : tr("Duplicate group"));
    m_remove->setText(m_node >= 0 ? tr("Remove node") : tr("Remove group"));
    if (m_group < 0) {
        m_pages->setCurrentIndex(EmptyPage);
    } else if (m_node < 0) {
        loadGroup();
        m_pages->setCurrentIndex(GroupPage);
    } else {
        loadNode();
        m_pages->setCurrentIndex(NodePage);
    }
}

ConnectionsDialog::GroupEntry *ConnectionsDialog::currentGroup()
{
    if (m_group < 0 || m_group >= static_cast<int>(m_groups.size()))
        return nullptr;
    return &m_groups[static_cast<std::size_t>(m_group)];
}

ConnectionsDialog::NodeEntry *ConnectionsDialog::currentNode()
{
    GroupEntry *group = currentGroup();
    if (!group || m_node < 0 || m_node >= static_cast<int>(group->nodes.size()))
        return nullptr;
    return &group->nodes[static_cast<std::size_t>(m_node)];
}

void ConnectionsDialog::loadGroup()
{
    const GroupEntry *group = currentGroup();
    if (!group)
        return;
    m_loading = true;
    m_groupName->setText(group->name);
    setError(m_groupNameError, group->nameError);
    const int n = static_cast<int>(group->nodes.size());
    if (n == 0)
        m_groupSummary->setText(tr("No nodes yet: add one with \"Add node\"."));
    else if (n == 1)
        m_groupSummary->setText(
            tr("One node: locks are taken on it alone. Add nodes to make a Redlock set."));
    else
        m_groupSummary->setText(
            tr("A Redlock set of %1 independent nodes: a lock is held when %2 of them agree.")
                .arg(n)
                .arg(lockscope::quorumOf(int(n))));
    m_loading = false;
}

void ConnectionsDialog::showTlsRows()
{
    // Without TLS its six fields are only in the way (and push the rest out of view).
    const bool on = m_tls->isChecked();
    for (int row = 0; row < m_tlsForm->rowCount(); ++row) {
        QLayoutItem *field = m_tlsForm->itemAt(row, QFormLayout::FieldRole);
        if (!field || field->widget() != m_tlsError)
            m_tlsForm->setRowVisible(row, on);
    }
}

void ConnectionsDialog::loadNode()
{
    const NodeEntry *entry = currentNode();
    if (!entry)
        return;
    m_loading = true;
    const NodeConfig &c = entry->node.config;
    if (!m_keepUrlText && m_url->text() != entry->urlText) {
        m_url->setText(entry->urlText);
        m_url->setCursorPosition(0); // the scheme and host, not the tail of a long query
    }
    m_name->setText(c.name);
    m_host->setText(c.transport == NodeConfig::Transport::Unix ? c.unixPath : c.host);
    m_port->setText(entry->portText);
    m_port->setEnabled(c.transport == NodeConfig::Transport::Tcp);
    m_db->setValue(c.db);
    m_user->setText(c.username);
    m_password->setText(entry->password);
    m_tls->setChecked(c.tls.enabled);
    m_tls->setEnabled(c.transport == NodeConfig::Transport::Tcp);
    showTlsRows();
    m_caFile->setText(c.tls.caFile);
    m_caDir->setText(c.tls.caDir);
    m_certFile->setText(c.tls.certFile);
    m_keyFile->setText(c.tls.keyFile);
    m_sni->setText(c.tls.serverName);
    m_verify->setChecked(c.tls.verifyPeer);
    m_connectTimeout->setValue(static_cast<int>(c.connectTimeout.count()));
    m_commandTimeout->setValue(static_cast<int>(c.commandTimeout.count()));
    m_readOnly->setChecked(entry->node.readOnly);
    m_production->setChecked(entry->node.production);
    m_color->setIcon(swatch(entry->node.color));
    m_color->setText(entry->node.color.isEmpty() ? tr("Choose…") : entry->node.color);
    m_clearColor->setEnabled(!entry->node.color.isEmpty());
    setError(m_urlError, entry->urlError);
    setError(m_hostError, entry->hostError);
    setError(m_portError, entry->portError);
    setError(m_tlsError, entry->tlsError);
    m_test->setEnabled(!entry->hasError());
    const QString label = c.label();
    if (m_testedNode != label) {
        m_testResult->clear();
        theme::setTextColor(m_testResult, QColor());
    }
    m_loading = false;
    refreshSecretWidgets();
}

void ConnectionsDialog::refreshSecretWidgets()
{
    const NodeEntry *entry = currentNode();
    if (!entry)
        return;
    m_loading = true;
    const bool checking = m_secrets && !m_storeStatus;
    const bool persistent = m_storeStatus && m_storeStatus->persistent;
    m_authForm->setRowVisible(m_remember, persistent || checking);
    m_remember->setEnabled(persistent);
    m_remember->setChecked(entry->remember);
    QString note;
    if (checking) {
        note = tr("Checking the keychain…");
    } else if (!m_secrets) {
        note = tr("Passwords are not kept: LockScope asks for them when it connects.");
    } else if (!persistent) {
        note = tr("No keychain is available%1. A password typed here is kept until LockScope quits, "
                  "and asked for again at the next start.")
                   .arg(m_storeStatus->reason.isEmpty() ? QString()
                                                        : QStringLiteral(" (%1)").arg(m_storeStatus->reason));
    } else if (entry->remember) {
        note = entry->password.isEmpty() && entry->stored
                   ? tr("A password is stored in the keychain; type here to replace it.")
                   : tr("Stored in the system keychain when you press OK, never in the groups file.");
    } else {
        note = entry->stored ? tr("The stored password is removed from the keychain when you press OK; "
                                  "LockScope will ask for it when it connects.")
                             : tr("Not stored: LockScope asks for the password when it connects.");
    }
    m_secretNote->setText(note);
    m_password->setPlaceholderText(entry->stored && entry->password.isEmpty()
                                       ? tr("stored in keychain")
                                       : tr("not set (asked at connect)"));
    m_loading = false;
}

// --- editing --------------------------------------------------------------------------------

void ConnectionsDialog::onUrlEdited(const QString &text)
{
    if (m_loading)
        return;
    NodeEntry *entry = currentNode();
    if (!entry)
        return;
    auto parsed = NodeConfig::fromUrl(text.trimmed());
    if (!parsed) {
        entry->urlText = text;
        entry->urlError = tr("URL: %1").arg(parsed.error().message);
    } else {
        if (!parsed->password.isEmpty()) {
            entry->password = parsed->password;
            entry->passwordEdited = true;
            if (m_storeStatus && m_storeStatus->persistent && !entry->stored)
                entry->remember = true;
            parsed->password.clear();
        }
        entry->node.config = *parsed;
        // Kept without the password; the field shows it as typed until editing finishes.
        entry->urlText = urlFor(*parsed);
        entry->portText = QString::number(parsed->port);
        entry->urlError.clear();
        entry->portError.clear();
        entry->hostError.clear();
    }
    validateAll();
    // Fields follow the URL; the URL text itself is left as typed.
    m_keepUrlText = true;
    loadNode();
    m_keepUrlText = false;
    updateTreeItem(m_group, m_node);
}

void ConnectionsDialog::onFieldsEdited()
{
    if (m_loading)
        return;
    NodeEntry *entry = currentNode();
    if (!entry)
        return;
    NodeConfig c = entry->node.config;
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
    c.tls.enabled = m_tls->isChecked() && c.transport == NodeConfig::Transport::Tcp;
    c.tls.caFile = m_caFile->text().trimmed();
    c.tls.caDir = m_caDir->text().trimmed();
    c.tls.certFile = m_certFile->text().trimmed();
    c.tls.keyFile = m_keyFile->text().trimmed();
    c.tls.serverName = m_sni->text().trimmed();
    c.tls.verifyPeer = m_verify->isChecked();
    c.connectTimeout = std::chrono::milliseconds(m_connectTimeout->value());
    c.commandTimeout = std::chrono::milliseconds(m_commandTimeout->value());
    entry->portText = m_port->text().trimmed();
    bool portOk = false;
    const uint port = entry->portText.toUInt(&portOk);
    if (c.transport == NodeConfig::Transport::Tcp) {
        if (portOk && port >= 1 && port <= 65535) {
            c.port = static_cast<quint16>(port);
            entry->portError.clear();
        } else {
            entry->portError = entry->portText.isEmpty()
                                   ? tr("Enter a port (1–65535).")
                                   : tr("Port \"%1\" is not a number from 1 to 65535.").arg(entry->portText);
        }
    } else {
        entry->portError.clear();
    }
    entry->node.config = c;
    entry->urlError.clear();
    entry->urlText = urlFor(c);
    validateAll();
    m_loading = true;
    m_url->setText(entry->urlText);
    m_port->setEnabled(c.transport == NodeConfig::Transport::Tcp);
    m_tls->setEnabled(c.transport == NodeConfig::Transport::Tcp);
    setError(m_urlError, entry->urlError);
    setError(m_hostError, entry->hostError);
    setError(m_portError, entry->portError);
    setError(m_tlsError, entry->tlsError);
    m_test->setEnabled(!entry->hasError());
    m_loading = false;
    updateTreeItem(m_group, m_node);
}

void ConnectionsDialog::onGuardsEdited()
{
    if (m_loading)
        return;
    if (NodeEntry *entry = currentNode()) {
        entry->node.readOnly = m_readOnly->isChecked();
        entry->node.production = m_production->isChecked();
        updateTreeItem(m_group, m_node);
    }
}

void ConnectionsDialog::onPasswordEdited(const QString &text)
{
    if (m_loading)
        return;
    if (NodeEntry *entry = currentNode()) {
        entry->password = text;
        entry->passwordEdited = true;
        if (!text.isEmpty() && m_storeStatus && m_storeStatus->persistent && !entry->stored &&
            !entry->remember) {
            // First password for this node: remembering is what most operators want; the box
            // stays visible to untick.
            entry->remember = true;
        }
        refreshSecretWidgets();
    }
}

void ConnectionsDialog::onGroupNameEdited(const QString &text)
{
    if (m_loading)
        return;
    if (GroupEntry *group = currentGroup()) {
        group->name = text.trimmed();
        validateAll();
        setError(m_groupNameError, group->nameError);
        updateTreeItem(m_group, -1);
    }
}

void ConnectionsDialog::chooseColor()
{
    NodeEntry *entry = currentNode();
    if (!entry)
        return;
    const QColor chosen = QColorDialog::getColor(entry->node.color.isEmpty() ? QColor(0x40, 0x80, 0xd0)
                                                                             : QColor(entry->node.color),
                                                 this, tr("Colour tag"));
    if (!chosen.isValid())
        return;
    entry->node.color = chosen.name(QColor::HexRgb);
    loadNode();
    updateTreeItem(m_group, m_node);
}

void ConnectionsDialog::addGroup()
{
    GroupEntry group;
    QString name = tr("new group");
    for (int i = 2; std::ranges::any_of(m_groups, [&](const GroupEntry &g) { return g.name == name; }); ++i)
        name = tr("new group %1").arg(i);
    group.name = name;
    m_groups.push_back(std::move(group));
    validateAll();
    rebuildTree(static_cast<int>(m_groups.size()) - 1, -1);
    m_groupName->setFocus();
    m_groupName->selectAll();
}

void ConnectionsDialog::addNode()
{
    GroupEntry *group = currentGroup();
    if (!group)
        return;
    GroupNode node;
    // A fresh node: the next free port after the group's last node, so that adding three nodes
    // in a row gives a valid Redlock set to edit.
    if (!group->nodes.empty()) {
        node.config = group->nodes.back().node.config;
        node.config.name.clear();
        if (node.config.transport == NodeConfig::Transport::Tcp && node.config.port < 65535)
            node.config.port = static_cast<quint16>(node.config.port + 1);
        node.readOnly = group->nodes.back().node.readOnly;
        node.production = group->nodes.back().node.production;
        node.color = group->nodes.back().node.color;
    }
    group->nodes.push_back(makeEntry(node, group->name));
    group->nodes.back().originalKey.clear(); // nothing stored for a new node
    validateAll();
    rebuildTree(m_group, static_cast<int>(group->nodes.size()) - 1);
    m_host->setFocus();
    m_host->selectAll();
}

void ConnectionsDialog::duplicateSelected()
{
    GroupEntry *group = currentGroup();
    if (!group)
        return;
    if (m_node >= 0) {
        NodeEntry copy = group->nodes[static_cast<std::size_t>(m_node)];
        copy.node.config.name.clear();
        copy.originalKey.clear();
        copy.stored.reset();
        copy.urlText = urlFor(copy.node.config);
        const int at = m_node + 1;
        group->nodes.insert(group->nodes.begin() + at, std::move(copy));
        validateAll();
        rebuildTree(m_group, at);
        return;
    }
    GroupEntry copy = *group;
    copy.name = tr("%1 copy").arg(group->name);
    for (NodeEntry &node : copy.nodes) {
        // The copy's passwords are stored under the copy's keys at OK.
        if (node.stored && !node.passwordEdited) {
            node.password = *node.stored;
            node.passwordEdited = true;
        }
        node.stored.reset();
        node.originalKey.clear();
    }
    const int at = m_group + 1;
    m_groups.insert(m_groups.begin() + at, std::move(copy));
    validateAll();
    rebuildTree(at, -1);
}

void ConnectionsDialog::removeSelected()
{
    GroupEntry *group = currentGroup();
    if (!group)
        return;
    const auto forget = [this](const NodeEntry &node) {
        if (node.stored && !node.originalKey.isEmpty())
            m_forgottenKeys << node.originalKey;
    };
    if (m_node >= 0) {
        forget(group->nodes[static_cast<std::size_t>(m_node)]);
        group->nodes.erase(group->nodes.begin() + m_node);
        const int next = std::min(m_node, static_cast<int>(group->nodes.size()) - 1);
        validateAll();
        rebuildTree(m_group, next);
        return;
    }
    for (const NodeEntry &node : group->nodes)
        forget(node);
    m_groups.erase(m_groups.begin() + m_group);
    validateAll();
    rebuildTree(std::min(m_group, static_cast<int>(m_groups.size()) - 1), -1);
}

// --- validation -----------------------------------------------------------------------------

void ConnectionsDialog::validateNode(const GroupEntry &group, NodeEntry &entry) const
{
    if (!entry.urlError.isEmpty())
        return; // the fields still hold the last valid values; the URL is what is wrong
    const NodeConfig &c = entry.node.config;
    entry.hostError.clear();
    if (c.transport == NodeConfig::Transport::Tcp && c.host.isEmpty())
        entry.hostError = tr("Enter a host name or address (or a socket path starting with /).");
    else if (c.transport == NodeConfig::Transport::Tcp && c.host.contains(QLatin1Char(' ')))
        entry.hostError = tr("A host name cannot contain spaces.");
    if (entry.hostError.isEmpty() && entry.portError.isEmpty()) {
        int same = 0;
        for (const NodeEntry &other : group.nodes)
            same += other.urlError.isEmpty() && lockscope::redis::sameServer(other.node.config, c);
        if (same > 1)
            entry.hostError = tr("%1 (db %2) is already in this group.").arg(c.address()).arg(c.db);
    }
    entry.tlsError.clear();
    if (c.tls.enabled && c.tls.certFile.isEmpty() != c.tls.keyFile.isEmpty())
        entry.tlsError = tr("A client certificate needs both the certificate and the key file.");
}

void ConnectionsDialog::validateAll()
{
    for (GroupEntry &group : m_groups) {
        group.nameError.clear();
        if (group.name.isEmpty())
            group.nameError = tr("Enter a name for the group.");
        else if (std::ranges::count_if(m_groups, [&](const GroupEntry &g) { return g.name == group.name; }) >
                 1)
            group.nameError = tr("Another group is already called \"%1\".").arg(group.name);
        else if (group.nodes.empty())
            group.nameError = tr("Add at least one node to \"%1\".").arg(group.name);
        for (NodeEntry &node : group.nodes)
            validateNode(group, node);
    }
    showErrors();
}

bool ConnectionsDialog::isValid() const
{
    for (const GroupEntry &group : m_groups) {
        if (!group.nameError.isEmpty())
            return false;
        for (const NodeEntry &node : group.nodes)
            if (node.hasError())
                return false;
    }
    return true;
}

void ConnectionsDialog::showErrors()
{
    QStringList problems;
    for (std::size_t g = 0; g < m_groups.size(); ++g) {
        const GroupEntry &group = m_groups[g];
        if (!group.nameError.isEmpty())
            problems << group.nameError;
        for (std::size_t n = 0; n < group.nodes.size(); ++n) {
            const NodeEntry &node = group.nodes[n];
            for (const QString &e : {node.urlError, node.hostError, node.portError, node.tlsError})
                if (!e.isEmpty())
                    problems << QStringLiteral("%1 › %2: %3")
                                    .arg(group.name, nodeTitle(node, static_cast<int>(n)), e);
        }
    }
    if (m_buttons)
        m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problems.isEmpty() && !m_saveWatcher.isRunning());
    if (m_problems) {
        // The current selection shows its own errors under the fields; this line points at
        // the others so that a disabled OK is never a mystery.
        const QString text =
            problems.isEmpty() ? QString()
            : problems.size() == 1
                ? tr("Fix before saving: %1").arg(problems.front())
                : tr("Fix %1 problems before saving, first: %2").arg(problems.size()).arg(problems.front());
        setError(m_problems, text);
    }
    if (m_tree) {
        for (int g = 0; g < static_cast<int>(m_groups.size()); ++g) {
            updateTreeItem(g, -1);
            for (int n = 0; n < static_cast<int>(m_groups[static_cast<std::size_t>(g)].nodes.size()); ++n)
                updateTreeItem(g, n);
        }
    }
}

GroupConfig ConnectionsDialog::config() const
{
    GroupConfig config;
    for (const GroupEntry &group : m_groups) {
        NodeGroup out;
        out.name = group.name;
        out.match = group.match;
        for (const NodeEntry &node : group.nodes) {
            GroupNode copy = node.node;
            copy.config.password.clear();
            out.nodes.push_back(std::move(copy));
        }
        config.groups.push_back(std::move(out));
    }
    return config;
}

// --- connection test ------------------------------------------------------------------------

void ConnectionsDialog::testConnection()
{
    const NodeEntry *entry = currentNode();
    if (!entry || entry->hasError())
        return;
    NodeConfig target = entry->node.config;
    target.password = !entry->password.isEmpty() ? entry->password : entry->stored.value_or(QString());
    m_testedNode = target.label();
    theme::setTextColor(m_testResult, QColor());
    m_testResult->setText(tr("Connecting to %1…").arg(m_testedNode));
    // The probe blocks for up to the connect timeout: never on the GUI thread. It holds only
    // copies, so closing the dialog meanwhile is safe.
    m_testWatcher.setFuture(QtConcurrent::run([target] {
        lockscope::redis::Connection connection(target);
        if (auto connected = connection.connect(); !connected) {
            NodeStatus status;
            status.node = target.label();
            status.error = connected.error();
            return status;
        }
        return lockscope::redis::probeNode(connection);
    }));
}

void ConnectionsDialog::onTestFinished()
{
    const NodeStatus status = m_testWatcher.result();
    QString text;
    if (status.reachable) {
        QStringList parts;
        parts << (status.version.isEmpty() ? tr("Redis (version not permitted)")
                                           : tr("Redis %1").arg(status.version));
        if (!status.role.isEmpty())
            parts << status.role;
        parts << tr("%1 round trip").arg(formatLatency(status.latency));
        text = tr("✔ %1: %2").arg(m_testedNode, parts.join(QStringLiteral(", ")));
        theme::setTextColor(m_testResult, theme::success(palette()));
    } else {
        const QString cause =
            status.error ? status.error->toString() : tr("%1: not reachable").arg(m_testedNode);
        text = tr("✘ %1").arg(cause);
        if (status.error && lockscope::inspect::needsPassword(*status.error))
            text += tr(" — check the user and password.");
        theme::setTextColor(m_testResult, theme::danger(palette()));
    }
    m_testResult->setText(text);
    qCInfo(lcUi) << "connection test:" << text;
}

// --- secrets --------------------------------------------------------------------------------

void ConnectionsDialog::onStoreStatus()
{
    m_storeStatus = m_statusWatcher.result();
    for (GroupEntry &group : m_groups) {
        for (NodeEntry &node : group.nodes) {
            if (node.originalKey.isEmpty())
                continue;
            const auto it = m_storeStatus->passwords.constFind(node.originalKey);
            if (it == m_storeStatus->passwords.cend())
                continue;
            node.stored = *it;
            if (!node.passwordEdited)
                node.remember = m_storeStatus->persistent;
        }
    }
    if (!m_storeStatus->persistent) {
        for (GroupEntry &group : m_groups)
            for (NodeEntry &node : group.nodes)
                node.remember = false;
    }
    refreshSecretWidgets();
}

std::vector<ConnectionsDialog::SecretOp> ConnectionsDialog::secretOps() const
{
    std::vector<SecretOp> ops;
    if (!m_secrets)
        return ops;
    const bool persistent = m_storeStatus && m_storeStatus->persistent;
    for (const QString &key : m_forgottenKeys)
        ops.push_back({SecretOp::Remove, key, {}, key});
    for (const GroupEntry &group : m_groups) {
        for (const NodeEntry &node : group.nodes) {
            const QString key = lockscope::inspect::secretKey(group.name, node.node.config);
            const QString label = node.node.config.label();
            const bool moved = !node.originalKey.isEmpty() && node.originalKey != key;
            const bool typed = node.passwordEdited && !node.password.isEmpty();
            if (typed) {
                if (persistent && node.remember) {
                    ops.push_back({SecretOp::Write, key, node.password, label});
                    if (moved && node.stored)
                        ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                } else if (persistent) {
                    // Unticked: out of the keychain, kept for this session only.
                    if (node.stored)
                        ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                    ops.push_back({SecretOp::KeepForSession, key, node.password, label});
                } else {
                    if (moved && node.stored)
                        ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                    ops.push_back({SecretOp::Write, key, node.password, label});
                }
            } else if (node.stored) {
                if (persistent && !node.remember) {
                    ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                } else if (moved) {
                    ops.push_back({SecretOp::Write, key, *node.stored, label});
                    ops.push_back({SecretOp::Remove, node.originalKey, {}, label});
                }
            }
        }
    }
    return ops;
}

void ConnectionsDialog::accept()
{
    validateAll();
    if (!isValid() || m_saveWatcher.isRunning())
        return;
    std::vector<SecretOp> ops = secretOps();
    if (ops.empty()) {
        QDialog::accept();
        return;
    }
    // Keychain writes may wait on D-Bus or an unlock prompt: off the GUI thread, OK disabled
    // meanwhile, and the dialog stays open if one fails.
    m_buttons->setEnabled(false);
    m_status->setText(tr("Saving passwords…"));
    SecretStore *store = m_secrets;
    m_saveWatcher.setFuture(QtConcurrent::run([store, ops = std::move(ops)] {
        QStringList errors;
        auto *session = dynamic_cast<lockscope::inspect::SessionSecretStore *>(store);
        for (const SecretOp &op : ops) {
            std::expected<void, QString> done;
            switch (op.kind) {
            case SecretOp::Write:
                done = store->write(op.key, op.password);
                break;
            case SecretOp::Remove:
                done = store->remove(op.key);
                break;
            case SecretOp::KeepForSession:
                if (session)
                    session->keepForSession(op.key, op.password);
                break;
            }
            if (!done)
                errors << QStringLiteral("%1: %2").arg(op.node, done.error());
        }
        return errors;
    }));
}

void ConnectionsDialog::onSecretsSaved()
{
    const QStringList errors = m_saveWatcher.result();
    m_buttons->setEnabled(true);
    m_status->clear();
    if (errors.isEmpty()) {
        QDialog::accept();
        return;
    }
    setError(m_problems, tr("Could not store a password (%1). Untick \"Remember in keychain\" to keep it for "
                            "this session only, or press OK to try again.")
                             .arg(errors.join(QStringLiteral("; "))));
    qCWarning(lcUi) << "saving passwords failed:" << errors;
}

// --- import / export ------------------------------------------------------------------------

bool ConnectionsDialog::importFrom(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        setError(m_problems, tr("Import: %1: %2").arg(path, file.errorString()));
        return false;
    }
    auto incoming = GroupConfig::fromJson(file.readAll());
    if (!incoming) {
        setError(m_problems,
                 tr("Import: %1: %2 (nothing imported)").arg(QFileInfo(path).fileName(), incoming.error()));
        return false;
    }
    QStringList replaced;
    int withPasswords = 0;
    for (const NodeGroup &group : incoming->groups) {
        GroupEntry entry;
        entry.name = group.name;
        entry.match = group.match;
        for (const GroupNode &node : group.nodes) {
            entry.nodes.push_back(makeEntry(node, group.name));
            NodeEntry &added = entry.nodes.back();
            added.remember = added.passwordEdited && m_storeStatus && m_storeStatus->persistent;
            withPasswords += added.passwordEdited;
        }
        auto it = std::ranges::find(m_groups, group.name, &GroupEntry::name);
        if (it != m_groups.end()) {
            for (const NodeEntry &old : it->nodes)
                if (old.stored && !old.originalKey.isEmpty())
                    m_forgottenKeys << old.originalKey;
            // The same node under the same name keeps its stored password.
            for (NodeEntry &node : entry.nodes) {
                for (const NodeEntry &old : it->nodes) {
                    if (old.originalKey == node.originalKey && old.stored) {
                        node.stored = old.stored;
                        node.remember = old.remember;
                        m_forgottenKeys.removeAll(old.originalKey);
                    }
                }
            }
            *it = std::move(entry);
            replaced << group.name;
        } else {
            for (NodeEntry &node : entry.nodes)
                node.originalKey.clear();
            m_groups.push_back(std::move(entry));
        }
    }
    validateAll();
    rebuildTree(m_groups.empty() ? -1 : static_cast<int>(m_groups.size()) - 1, -1);
    QString message = tr("Imported %1 from %2")
                          .arg(locktext::counted(qint64(incoming->groups.size()), tr("group"), tr("groups")),
                               QFileInfo(path).fileName());
    if (!replaced.isEmpty())
        message += tr(" (replaced: %1)").arg(replaced.join(QStringLiteral(", ")));
    if (withPasswords > 0)
        message += tr(". The file held %1: they go to the keychain (or this session) when you "
                      "press OK, never to the groups file.")
                       .arg(locktext::counted(withPasswords, tr("password"), tr("passwords")));
    m_status->setText(message + QLatin1Char('.'));
    return true;
}

bool ConnectionsDialog::exportTo(const QString &path)
{
    if (!isValid()) {
        setError(m_problems, tr("Export: fix the errors first; nothing was written."));
        return false;
    }
    const QByteArray json = config().toJson(false);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(json) != json.size()) {
        setError(m_problems, tr("Export: %1: %2").arg(path, file.errorString()));
        return false;
    }
    m_status->setText(tr("Exported %1 to %2, without passwords.")
                          .arg(locktext::counted(qint64(m_groups.size()), tr("group"), tr("groups")),
                               QFileInfo(path).fileName()));
    return true;
}
