#include "connectionsdialog.h"

#include "backgroundjob.h"
#include "connectiontester.h"
#include "inlineerror.h"
#include "locktext.h"
#include "nodeeditor.h"
#include "themecolors.h"
#include "uilogging.h"
#include "util/quorum.h"

#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QStackedWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::SecretStore;

namespace {

enum Page
{
    EmptyPage,
    GroupPage,
    NodePage
};

constexpr int GroupRole = Qt::UserRole;
constexpr int NodeRole = Qt::UserRole + 1;

} // namespace

ConnectionsDialog::ConnectionsDialog(GroupConfig config, SecretStore *secrets, QWidget *parent)
    : QDialog(parent), m_draft(config), m_secrets(secrets), m_storePool(QThreadPool::globalInstance())
{
    setWindowTitle(tr("Connections"));
    setObjectName(QStringLiteral("connectionsDialog"));
    buildUi();
    rebuildTree(m_draft.groups().empty() ? -1 : 0, -1);
    refreshStorage();
    // From the event loop, so that setStorePool() can come first.
    if (m_secrets)
        QTimer::singleShot(0, this, &ConnectionsDialog::readStore);
}

void ConnectionsDialog::setStorePool(QThreadPool *pool)
{
    m_storePool = pool ? pool : QThreadPool::globalInstance();
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
    auto *addGroup = new QPushButton(tr("Add group"));
    addGroup->setObjectName(QStringLiteral("addGroupButton"));
    m_addNode = new QPushButton(tr("Add node"));
    m_addNode->setObjectName(QStringLiteral("addNodeButton"));
    m_addNode->setToolTip(tr("Add a node to the selected group (several nodes make a Redlock set)"));
    m_duplicate = new QPushButton(tr("Duplicate"));
    m_duplicate->setObjectName(QStringLiteral("duplicateButton"));
    m_remove = new QPushButton(tr("Remove"));
    m_remove->setObjectName(QStringLiteral("removeButton"));
    treeButtons->addWidget(addGroup, 0, 0);
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
    m_editor = new NodeEditor;
    scroll->setWidget(m_editor);
    nodeLayout->addWidget(scroll, 1);
    m_tester = new ConnectionTester;
    nodeLayout->addWidget(m_tester);
    m_pages->addWidget(nodePage);
    splitter->addWidget(m_pages);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({360, 680});

    m_status = theme::noteLabel(QStringLiteral("statusLabel"));
    m_problems = inlineerror::label(QStringLiteral("problemsLabel"));
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
    connect(addGroup, &QPushButton::clicked, this, &ConnectionsDialog::addGroup);
    connect(m_addNode, &QPushButton::clicked, this, &ConnectionsDialog::addNode);
    connect(m_duplicate, &QPushButton::clicked, this, &ConnectionsDialog::duplicateSelected);
    connect(m_remove, &QPushButton::clicked, this, &ConnectionsDialog::removeSelected);
    connect(m_editor, &NodeEditor::edited, this, &ConnectionsDialog::onNodeEdited);
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
    m_groupNameError = inlineerror::label(QStringLiteral("groupNameError"));
    form->addRow(tr("Group name:"), m_groupName);
    form->addRow(QString(), m_groupNameError);
    m_groupSummary = theme::noteLabel(QStringLiteral("groupSummary"));
    form->addRow(QString(), m_groupSummary);
    connect(m_groupName, &QLineEdit::textEdited, this, &ConnectionsDialog::onGroupNameEdited);
    return page;
}

// --- tree and selection ---------------------------------------------------------------------

void ConnectionsDialog::rebuildTree(int selectGroup, int selectNode)
{
    m_loading = true;
    m_tree->clear();
    QTreeWidgetItem *select = nullptr;
    for (int g = 0; g < m_draft.groupCount(); ++g) {
        auto *groupItem = new QTreeWidgetItem(m_tree);
        groupItem->setData(0, GroupRole, g);
        groupItem->setData(0, NodeRole, -1);
        if (g == selectGroup && selectNode < 0)
            select = groupItem;
        for (int n = 0; n < static_cast<int>(m_draft.group(g)->nodes.size()); ++n) {
            auto *nodeItem = new QTreeWidgetItem(groupItem);
            nodeItem->setData(0, GroupRole, g);
            nodeItem->setData(0, NodeRole, n);
            if (g == selectGroup && n == selectNode)
                select = nodeItem;
        }
    }
    m_tree->expandAll();
    showProblems();
    m_loading = false;
    m_tree->setCurrentItem(select);
    showSelection();
}

void ConnectionsDialog::updateTreeItem(int group, int node)
{
    const DraftGroup *g = m_draft.group(group);
    if (!g || group >= m_tree->topLevelItemCount())
        return;
    QTreeWidgetItem *item = m_tree->topLevelItem(group);
    if (node < 0) {
        const int size = static_cast<int>(g->nodes.size());
        const QString kind =
            size > 1 ? tr("Redlock %1 of %2").arg(lockscope::quorumOf(size)).arg(size) : QString();
        const QString name = g->name.isEmpty() ? tr("(unnamed group)") : g->name;
        item->setText(0, kind.isEmpty() ? name : QStringLiteral("%1   —  %2").arg(name, kind));
        QFont font = item->font(0);
        font.setBold(true);
        item->setFont(0, font);
        const bool bad = !g->nameError.isEmpty();
        item->setForeground(0, bad ? QBrush(theme::danger(palette())) : QBrush());
        item->setToolTip(0, g->nameError);
        return;
    }
    const DraftNode *entry = m_draft.node(group, node);
    if (!entry || node >= item->childCount())
        return;
    QTreeWidgetItem *child = item->child(node);
    QStringList badges;
    if (entry->node.config.tls.enabled)
        badges << tr("TLS");
    if (entry->node.production)
        badges << tr("prod");
    if (entry->node.readOnly)
        badges << tr("read-only");
    QString text = ConnectionsDraft::nodeTitle(*entry, node);
    if (!badges.isEmpty())
        text += QStringLiteral("  · %1").arg(badges.join(QStringLiteral(" · ")));
    child->setText(0, text);
    child->setIcon(0, NodeEditor::colorSwatch(entry->node.color));
    child->setForeground(0, entry->hasError() ? QBrush(theme::danger(palette())) : QBrush());
    QStringList errors;
    for (const QString &e : {entry->urlError, entry->hostError, entry->portError, entry->tlsError})
        if (!e.isEmpty())
            errors << e;
    QString tip =
        errors.isEmpty() ? ConnectionsDraft::urlFor(entry->node.config) : errors.join(QLatin1Char('\n'));
    if (!entry->node.color.isEmpty())
        tip +=
            QLatin1Char('\n') + tr("The dot is the node's colour tag (%1), set under \"Guards and timeouts\"")
                                    .arg(entry->node.color);
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
    } else if (const DraftNode *node = m_draft.node(m_group, m_node)) {
        m_editor->setEntry(*node);
        updateTester();
        m_pages->setCurrentIndex(NodePage);
    } else {
        loadGroup();
        m_pages->setCurrentIndex(GroupPage);
    }
}

void ConnectionsDialog::loadGroup()
{
    const DraftGroup *group = m_draft.group(m_group);
    if (!group)
        return;
    m_groupName->setText(group->name);
    inlineerror::show(m_groupNameError, group->nameError);
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
                .arg(lockscope::quorumOf(n)));
}

void ConnectionsDialog::updateTester()
{
    const DraftNode *node = m_draft.node(m_group, m_node);
    if (!node)
        return; // no node page: the line keeps what it says about the last node
    m_tester->setTarget(node->hasError() ? std::nullopt : std::optional(node->testTarget()));
}

// --- editing --------------------------------------------------------------------------------

void ConnectionsDialog::onNodeEdited()
{
    DraftNode *node = m_draft.node(m_group, m_node);
    if (!node)
        return;
    *node = m_editor->entry();
    m_draft.validate(); // a duplicate address is an error of the group, not of one node
    m_editor->setErrors(*node);
    showProblems();
    updateTester();
}

void ConnectionsDialog::onGroupNameEdited(const QString &text)
{
    DraftGroup *group = m_draft.group(m_group);
    if (!group)
        return;
    group->name = text.trimmed();
    m_draft.validate();
    inlineerror::show(m_groupNameError, group->nameError);
    showProblems();
}

void ConnectionsDialog::addGroup()
{
    rebuildTree(m_draft.addGroup(), -1);
    m_groupName->setFocus();
    m_groupName->selectAll();
}

void ConnectionsDialog::addNode()
{
    const int node = m_draft.addNode(m_group);
    if (node < 0)
        return;
    rebuildTree(m_group, node);
    m_editor->focusHost();
}

void ConnectionsDialog::duplicateSelected()
{
    if (m_node >= 0)
        rebuildTree(m_group, m_draft.duplicateNode(m_group, m_node));
    else if (m_group >= 0)
        rebuildTree(m_draft.duplicateGroup(m_group), -1);
}

void ConnectionsDialog::removeSelected()
{
    if (const DraftGroup *group = m_draft.group(m_group); group && m_node >= 0) {
        m_draft.removeNode(m_group, m_node);
        rebuildTree(m_group, std::min(m_node, static_cast<int>(group->nodes.size()) - 1));
    } else if (group) {
        m_draft.removeGroup(m_group);
        rebuildTree(std::min(m_group, m_draft.groupCount() - 1), -1);
    }
}

void ConnectionsDialog::showProblems()
{
    const QStringList problems = m_draft.problems();
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problems.isEmpty() && !m_saving);
    // The current selection shows its own errors under the fields; this line points at the
    // others so that a disabled OK is never a mystery.
    const QString text =
        problems.isEmpty() ? QString()
        : problems.size() == 1
            ? tr("Fix before saving: %1").arg(problems.front())
            : tr("Fix %1 problems before saving, first: %2").arg(problems.size()).arg(problems.front());
    inlineerror::show(m_problems, text);
    for (int g = 0; g < m_draft.groupCount(); ++g) {
        updateTreeItem(g, -1);
        for (int n = 0; n < static_cast<int>(m_draft.group(g)->nodes.size()); ++n)
            updateTreeItem(g, n);
    }
}

GroupConfig ConnectionsDialog::config() const
{
    return m_draft.config();
}

bool ConnectionsDialog::isValid() const
{
    return m_draft.isValid();
}

// --- secrets --------------------------------------------------------------------------------

bool ConnectionsDialog::persistentStore() const
{
    return m_storeStatus && m_storeStatus->persistent;
}

void ConnectionsDialog::refreshStorage()
{
    NodeEditor::Storage storage;
    storage.store = m_secrets != nullptr;
    storage.checking = m_secrets && !m_storeStatus;
    storage.persistent = persistentStore();
    storage.reason = m_storeStatus ? m_storeStatus->reason : QString();
    m_editor->setStorage(storage);
}

void ConnectionsDialog::readStore()
{
    // Which passwords the store already holds, and whether it is a keychain at all: both may
    // wait on D-Bus. The job holds the store and the keys only; a dialog closed meanwhile just
    // never hears the answer.
    SecretStore *store = m_secrets;
    const QStringList keys = m_draft.storedKeys();
    runInBackground(
        m_storePool, this, [store, keys] { return ConnectionsDraft::readStoreStatus(store, keys); },
        [this](const StoreStatus &status) { onStoreStatus(status); });
}

void ConnectionsDialog::onStoreStatus(const StoreStatus &status)
{
    m_storeStatus = status;
    m_draft.applyStoreStatus(status);
    refreshStorage();
    if (const DraftNode *node = m_draft.node(m_group, m_node)) {
        m_editor->setStored(node->stored, node->remember);
        updateTester(); // a stored password is what the test will use now
    }
}

void ConnectionsDialog::accept()
{
    m_draft.validate();
    showProblems();
    if (!isValid() || m_saving)
        return;
    std::vector<SecretOp> ops = m_secrets ? m_draft.secretOps(persistentStore()) : std::vector<SecretOp>();
    if (ops.empty()) {
        QDialog::accept();
        return;
    }
    // Keychain writes may wait on D-Bus or an unlock prompt: off the GUI thread. The dialog is
    // accepted when they are done (the caller saves the groups file then, and a moved password
    // must be under its new key by that time); it stays open if one fails. Meanwhile OK and Cancel
    // are disabled: a Cancel now would leave the store ahead of the groups file.
    m_saving = true;
    m_buttons->setEnabled(false);
    m_status->setText(tr("Saving passwords…"));
    SecretStore *store = m_secrets;
    runInBackground(
        m_storePool, this,
        [store, ops = std::move(ops)] { return ConnectionsDraft::applySecretOps(store, ops); },
        [this](const QStringList &errors) { onSecretsSaved(errors); });
}

void ConnectionsDialog::reject()
{
    if (m_saving)
        return; // the passwords are being written: the dialog closes (accepted) when they are
    QDialog::reject();
}

void ConnectionsDialog::onSecretsSaved(const QStringList &errors)
{
    m_saving = false;
    m_buttons->setEnabled(true);
    m_status->clear();
    if (errors.isEmpty()) {
        QDialog::accept();
        return;
    }
    showProblems();
    inlineerror::show(m_problems,
                      tr("Could not store a password (%1). Untick \"Remember in keychain\" to keep "
                         "it for this session only, or press OK to try again.")
                          .arg(errors.join(QStringLiteral("; "))));
    qCWarning(lcUi) << "saving passwords failed:" << errors;
}

// --- import / export ------------------------------------------------------------------------

bool ConnectionsDialog::importFrom(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        inlineerror::show(m_problems, tr("Import: %1: %2").arg(path, file.errorString()));
        return false;
    }
    auto incoming = GroupConfig::fromJson(file.readAll());
    if (!incoming) {
        inlineerror::show(
            m_problems,
            tr("Import: %1: %2 (nothing imported)").arg(QFileInfo(path).fileName(), incoming.error()));
        return false;
    }
    const ConnectionsDraft::Imported imported = m_draft.merge(*incoming, persistentStore());
    rebuildTree(m_draft.groupCount() - 1, -1);
    QString message =
        tr("Imported %1 from %2")
            .arg(locktext::counted(qint64(incoming->groups.size()), tr("%1 group"), tr("%1 groups")),
                 QFileInfo(path).fileName());
    if (!imported.replaced.isEmpty())
        message += tr(" (replaced: %1)").arg(imported.replaced.join(QStringLiteral(", ")));
    if (imported.withPasswords > 0)
        message += tr(". The file held %1: they go to the keychain (or this session) when you "
                      "press OK, never to the groups file.")
                       .arg(locktext::counted(imported.withPasswords, tr("%1 password"), tr("%1 passwords")));
    m_status->setText(message + QLatin1Char('.'));
    return true;
}

bool ConnectionsDialog::exportTo(const QString &path)
{
    if (!isValid()) {
        inlineerror::show(m_problems, tr("Export: fix the errors first; nothing was written."));
        return false;
    }
    const QByteArray json = config().toJson(false);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(json) != json.size()) {
        inlineerror::show(m_problems, tr("Export: %1: %2").arg(path, file.errorString()));
        return false;
    }
    m_status->setText(
        tr("Exported %1 to %2, without passwords.")
            .arg(locktext::counted(qint64(m_draft.groupCount()), tr("%1 group"), tr("%1 groups")),
                 QFileInfo(path).fileName()));
    return true;
}
