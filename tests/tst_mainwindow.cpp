// The operator window against real redis-server processes: node status, the lock table, and
// the operator's workflow driven through the window's own actions and dialogs (add a group in
// the Connections dialog, refresh, select a lock, extend, force-release), checked in Redis.
#include "actionwidgets.h"
#include "dialogs/connectionsdialog.h"
#include "dialogs/extenddialog.h"
#include "dialogs/forcereleasedialog.h"
#include "dialogs/holderdialog.h"
#include "dialogs/lockctlcommanddialog.h"
#include "dialogs/passwordprompt.h"
#include "groupsfile.h"
#include "inspect/secretstore.h"
#include "lock/locker.h"
#include "lockdetailswidget.h"
#include "mainwindow.h"
#include "models/lockfilterproxy.h"
#include "models/locktablemodel.h"
#include "models/nodelistmodel.h"
#include "rawvalueview.h"
#include "redis/connection.h"
#include "redis/localserver.h"
#include "themecolors.h"
#include "widgettest.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QContextMenuEvent>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QScopeGuard>
#include <QScreen>
#include <QSettings>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QTreeWidget>
#include <algorithm>
#include <functional>

using namespace std::chrono_literals;
using lockscope::inspect::GroupConfig;
using lockscope::inspect::GroupNode;
using lockscope::inspect::NodeGroup;
using lockscope::redis::Connection;
using lockscope::redis::LocalRedisServer;
using lockscope::redis::NodeConfig;
using widgettest::child;
using widgettest::type;
using widgettest::whenModal;

namespace {

constexpr int ProbeTimeoutMs = 10'000;

bool logHas(const QTreeWidget *log, const QString &node, const QString &prefix)
{
    for (int i = 0; i < log->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *item = log->topLevelItem(i);
        if (item->text(1) == node && item->text(2).startsWith(prefix))
            return true;
    }
    return false;
}

QString logText(const QTreeWidget *log)
{
    QStringList lines;
    for (int i = 0; i < log->topLevelItemCount(); ++i)
        lines << log->topLevelItem(i)->text(1) + QStringLiteral(": ") + log->topLevelItem(i)->text(2);
    return lines.join(QLatin1Char('\n'));
}

NodeGroup groupOf(const QString &name, const std::vector<NodeConfig> &nodes, bool readOnly = false)
{
    NodeGroup group;
    group.name = name;
    for (const NodeConfig &node : nodes)
        group.nodes.push_back(GroupNode{node, readOnly, false, {}});
    return group;
}

QByteArray value(const NodeConfig &node, const QByteArray &key)
{
    Connection connection(node);
    auto reply = connection.command({"GET", key});
    return reply ? reply->bytes() : QByteArray("<error>");
}

qint64 pttl(const NodeConfig &node, const QByteArray &key)
{
    Connection connection(node);
    auto reply = connection.command({"PTTL", key});
    return reply ? reply->integer() : -3;
}

/// The actions that act on the selected lock (toolbar, Lock menu, context menu, shortcuts).
const char *const LockActions[] = {"extendAction", "forceReleaseAction", "copyKeyAction", "copyValueAction",
                                   "lockctlAction"};

/// Three locks on `node`, "jobs:a", "jobs:b" and "jobs:c" (the table's order), with their values.
QList<std::pair<QByteArray, QByteArray>> setThreeLocks(const NodeConfig &node)
{
    QList<std::pair<QByteArray, QByteArray>> locks = {
        {"jobs:a", "ls1 tok=tokalpha fence=1 host=web-1 pid=11 label=alpha"},
        {"jobs:b", "ls1 tok=tokbravo fence=2 host=web-2 pid=22 label=bravo"},
        {"jobs:c", "ls1 tok=tokcharlie fence=3 host=web-3 pid=33 label=charlie"},
    };
    Connection connection(node);
    for (const auto &[key, lockValue] : locks) {
        if (!connection.command({"SET", key, lockValue, "PX", "600000"}))
            qFatal("cannot set %s", key.constData());
    }
    return locks;
}

/// Runs `act` and says whether it opened a modal dialog (rejected at once): for checks that a
/// key does nothing, where an unexpected exec() would otherwise never return.
bool opensModal(const std::function<void()> &act)
{
    bool opened = false;
    QTimer guard;
    guard.setInterval(20);
    QObject::connect(&guard, &QTimer::timeout, [&opened] {
        if (auto *dialog = qobject_cast<QDialog *>(QApplication::activeModalWidget())) {
            opened = true;
            dialog->reject();
        }
    });
    guard.start();
    act();
    QTest::qWait(100);
    return opened;
}

/// The names of the lock actions that are disabled.
QStringList disabledActions(const QObject *window)
{
    QStringList disabled;
    for (const char *name : LockActions) {
        if (!child<QAction>(window, name)->isEnabled())
            disabled << QLatin1String(name);
    }
    return disabled;
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void showsEmptyStateWithoutGroups();
    void nodeGoesUpDownAndUpAgain();
    void breakerOpensAndClosesAgain();
    void unreachableNodeShowsErrorAtOnce();
    void pausedNodeNeverBlocksTheGui();
    void operatorWorkflowThroughTheWindow();
    void forceReleaseOfAChangedValueDeletesNothing();
    void readersAreListedAndReleasedOneByOne();
    void readOnlyGroupDisablesWrites();
    void clickedLockEnablesItsActions();
    void keyboardSelectionMovesTheActions();
    void contextMenuActsOnTheRowClicked();
    void forceReleaseLeavesNothingSelected();
    void vanishedLockLeavesNothingSelected();
    void passwordIsAskedAtConnect();
    void lockColumnsFollowTheTableUntilTheOperatorSizesOne();
    void savedFitIsFittedAgain();
    void unreachableNodeKeepsItsLocksMarkedStale();
    void liveUpdatesNoticeIsSaidOncePerGroup();
    void unrecognisedKeysAreShownOrExplained();
    void layoutKeepsTheTableReadable();
    void partialScanIsCalledPartial();
    void helpMenuHasGettingStartedAndShortcuts();
    void largeValueIsShownBounded();
    void unreadableGroupsFileIsAskedAboutAndKept();

private:
    /// A new window (the saved layout of the previous one restored), as the user opens it.
    void openWindow();
    NodeConfig startServer(const QString &name = QStringLiteral("test-node"));
    void showGroups(const GroupConfig &config);
    /// Waits until the table shows `key` of `group` and selects it.
    bool waitAndSelect(const QString &group, const QByteArray &key);
    /// Waits until the table shows every lock of `locks` in `group`, selecting none.
    bool waitForLocks(const QString &group, const QList<std::pair<QByteArray, QByteArray>> &locks);
    /// The cell of `key` in `column` of the lock table (invalid when not shown).
    QModelIndex cellOf(const QString &group, const QByteArray &key, int column = LockTableModel::Owner) const;
    /// Clicks the row of `key` as the operator does. On its owner, not on the key: Ctrl+C in a
    /// view copies the current cell's text, which must not pass for Copy Key.
    bool clickLock(const QString &group, const QByteArray &key);
    /// Right-clicks the row of `key` and runs `handle` on the context menu that pops up; the
    /// menu is closed afterwards if `handle` left it open. False when no menu popped up.
    bool contextMenuOn(const QString &group, const QByteArray &key,
                       const std::function<void(QMenu *)> &handle);
    /// Makes the window the active one, as the operator's window is (shortcuts need it).
    bool activateWindow();
    /// A server with setThreeLocks(), shown as the group "jobs" in an active window. False when
    /// the window did not come up with the three locks.
    bool showJobLocks(NodeConfig &node, QList<std::pair<QByteArray, QByteArray>> &locks);
    QTableView *lockTable() const { return child<QTableView>(m_window.get(), "lockTable"); }
    QByteArray selectedKey() const;

    std::vector<std::unique_ptr<LocalRedisServer>> m_servers;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<QTemporaryDir> m_dir;
    QTreeWidget *m_log = nullptr;
    QLabel *m_summary = nullptr;
};

NodeConfig TestMainWindow::startServer(const QString &name)
{
    auto server = LocalRedisServer::start();
    if (!server)
        qFatal("cannot start redis-server: %s", qPrintable(server.error().toString()));
    m_servers.push_back(std::move(*server));
    NodeConfig config = m_servers.back()->nodeConfig();
    config.name = name;
    config.connectTimeout = 500ms;
    config.commandTimeout = 500ms;
    return config;
}

void TestMainWindow::initTestCase()
{
    // The window saves and restores its layout (QSettings): in test mode, never the user's.
    QStandardPaths::setTestModeEnabled(true);
}

void TestMainWindow::init()
{
    QSettings().clear();
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    openWindow();
    QVERIFY(m_log);
    QVERIFY(m_summary);
}

void TestMainWindow::openWindow()
{
    m_window = std::make_unique<MainWindow>();
    m_window->setRefreshInterval(200ms);
    m_window->setAutoRefreshInterval(0ms); // refreshes on request only: each step says when
    m_window->setAuditLogPath(m_dir->filePath(QStringLiteral("audit.jsonl")));
    m_window->show();
    m_log = m_window->findChild<QTreeWidget *>(QStringLiteral("eventLog"));
    m_summary = m_window->findChild<QLabel *>(QStringLiteral("statusSummary"));
}

void TestMainWindow::cleanup()
{
    m_window.reset();
    m_servers.clear();
    m_dir.reset();
}

void TestMainWindow::showGroups(const GroupConfig &config)
{
    m_window->setGroups(config, m_dir->filePath(QStringLiteral("groups.json")));
}

bool TestMainWindow::waitAndSelect(const QString &group, const QByteArray &key)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 10'000) {
        if (m_window->selectLock(group, key))
            return true;
        m_window->refreshLocks();
        QTest::qWait(100);
    }
    return false;
}

bool TestMainWindow::waitForLocks(const QString &group, const QList<std::pair<QByteArray, QByteArray>> &locks)
{
    const auto allShown = [&] {
        return std::all_of(locks.begin(), locks.end(),
                           [&](const auto &lock) { return cellOf(group, lock.first).isValid(); });
    };
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 10'000) {
        if (allShown())
            return true;
        m_window->refreshLocks();
        QTest::qWait(100);
    }
    return false;
}

QModelIndex TestMainWindow::cellOf(const QString &group, const QByteArray &key, int column) const
{
    return m_window->lockProxy()->mapFromSource(m_window->lockModel()->indexFor(group, key, column));
}

bool TestMainWindow::clickLock(const QString &group, const QByteArray &key)
{
    const QModelIndex cell = cellOf(group, key);
    if (!cell.isValid())
        return false;
    QTableView *table = lockTable();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(cell).center());
    return true;
}

bool TestMainWindow::contextMenuOn(const QString &group, const QByteArray &key,
                                   const std::function<void(QMenu *)> &handle)
{
    const QModelIndex cell = cellOf(group, key);
    if (!cell.isValid())
        return false;
    QTableView *table = lockTable();
    const QPoint pos = table->visualRect(cell).center();
    // A right press selects the row; the platform then sends the context-menu event, which
    // QTest's mouse events do not bring.
    QTest::mouseClick(table->viewport(), Qt::RightButton, {}, pos);
    bool shown = false;
    QTimer poll;
    poll.setInterval(20);
    connect(&poll, &QTimer::timeout, this, [&] {
        if (auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget())) {
            poll.stop();
            shown = true;
            handle(menu);
            if (menu->isVisible())
                menu->close();
        }
    });
    poll.start();
    QContextMenuEvent event(QContextMenuEvent::Mouse, pos, table->viewport()->mapToGlobal(pos));
    QApplication::sendEvent(table->viewport(), &event);
    return shown;
}

bool TestMainWindow::activateWindow()
{
    m_window->activateWindow(); // no window manager activates it for us
    return QTest::qWaitForWindowActive(m_window.get());
}

bool TestMainWindow::showJobLocks(NodeConfig &node, QList<std::pair<QByteArray, QByteArray>> &locks)
{
    node = startServer();
    locks = setThreeLocks(node);
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("jobs"), {node}));
    showGroups(groups);
    return activateWindow() && waitForLocks(QStringLiteral("jobs"), locks);
}

QByteArray TestMainWindow::selectedKey() const
{
    const auto selected = m_window->selectedLock();
    return selected ? selected->second.key : QByteArray();
}

void TestMainWindow::showsEmptyStateWithoutGroups()
{
    auto *stack = m_window->findChild<QStackedWidget *>();
    auto *empty = m_window->findChild<QLabel *>(QStringLiteral("emptyStateLabel"));
    QVERIFY(stack);
    QVERIFY(empty);
    QCOMPARE(stack->currentWidget(), empty);
    QVERIFY(empty->text().contains(QStringLiteral("--demo")));
    QCOMPARE(m_summary->text(), QStringLiteral("No nodes"));
    QCOMPARE(m_window->windowTitle(), QStringLiteral("LockScope"));
    // Nothing to act on yet.
    QVERIFY(!child<QAction>(m_window.get(), "forceReleaseAction")->isEnabled());
    QVERIFY(!child<QAction>(m_window.get(), "refreshAction")->isEnabled());
}

void TestMainWindow::nodeGoesUpDownAndUpAgain()
{
    const NodeConfig config = startServer();
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("solo"), {config}));
    showGroups(groups);
    NodeListModel *model = m_window->nodeModel();
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->node(0).label(), QStringLiteral("test-node"));
    auto *tree = child<QTreeView>(m_window.get(), "nodeTree");
    // "All groups", then the group with its node.
    QCOMPARE(tree->model()->rowCount(), 2);
    const QModelIndex nodeItem = tree->model()->index(0, 0, tree->model()->index(1, 0));
    const auto text = [&](int column) {
        return nodeItem.siblingAtColumn(column).data().toString();
    };
    const auto toolTip = [&] {
        return nodeItem.data(Qt::ToolTipRole).toString();
    };
    QVERIFY(text(0).startsWith(QStringLiteral("test-node")));

    QTRY_VERIFY_WITH_TIMEOUT(model->state(0) == NodeListModel::State::Up, ProbeTimeoutMs);
    QVERIFY(text(1).endsWith(QStringLiteral(" ms")));
    QVERIFY2(toolTip().contains(QStringLiteral("Redis 7")), qPrintable(toolTip()));
    QVERIFY2(m_summary->text().startsWith(QStringLiteral("1 of 1 node up · last check ")),
             qPrintable(m_summary->text()));
    QVERIFY(logHas(m_log, QStringLiteral("test-node"), QStringLiteral("Up")));

    m_servers.back()->kill();
    QTRY_VERIFY_WITH_TIMEOUT(model->state(0) == NodeListModel::State::Down, ProbeTimeoutMs);
    QCOMPARE(text(1), QStringLiteral("down"));
    QVERIFY2(toolTip().contains(QStringLiteral("Down: ")), qPrintable(toolTip()));
    QVERIFY2(m_summary->text().startsWith(QStringLiteral("0 of 1 node up")), qPrintable(m_summary->text()));
    QTRY_VERIFY(logHas(m_log, QStringLiteral("test-node"), QStringLiteral("Went down: ")));

    QVERIFY(m_servers.back()->restart().has_value());
    QTRY_VERIFY_WITH_TIMEOUT(model->state(0) == NodeListModel::State::Up, ProbeTimeoutMs);
    QTRY_VERIFY(logHas(m_log, QStringLiteral("test-node"), QStringLiteral("Came back up")));
}

void TestMainWindow::breakerOpensAndClosesAgain()
{
    const NodeConfig config = startServer();
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("solo"), {config}));
    showGroups(groups);
    NodeListModel *model = m_window->nodeModel();
    auto *tree = child<QTreeView>(m_window.get(), "nodeTree");
    const QModelIndex nodeItem = tree->model()->index(0, 0, tree->model()->index(1, 0));
    const auto statusText = [&] {
        return model->index(0, NodeListModel::StatusColumn).data().toString();
    };
    const auto listTip = [&] {
        return model->index(0, NodeListModel::StatusColumn).data(Qt::ToolTipRole).toString();
    };
    QTRY_VERIFY_WITH_TIMEOUT(model->state(0) == NodeListModel::State::Up, ProbeTimeoutMs);
    QVERIFY(model->breaker(0).has_value());
    QCOMPARE(model->breaker(0)->state, lockscope::redis::BreakerState::Closed);
    QCOMPARE(statusText(), QStringLiteral("Up"));

    // Three refused probes, 200 ms apart, open it.
    m_servers.back()->kill();
    QTRY_VERIFY_WITH_TIMEOUT(model->breaker(0)->state == lockscope::redis::BreakerState::Open,
                             ProbeTimeoutMs);
    QVERIFY2(statusText().startsWith(QStringLiteral("Breaker open until ")), qPrintable(statusText()));
    QVERIFY2(statusText().contains(QStringLiteral("refused"), Qt::CaseInsensitive), qPrintable(statusText()));
    QVERIFY2(listTip().contains(QStringLiteral("Circuit breaker: open until ")), qPrintable(listTip()));
    QVERIFY2(listTip().contains(QStringLiteral("after 3 failures")), qPrintable(listTip()));
    QVERIFY2(listTip().contains(QStringLiteral("Last failure (read ")), qPrintable(listTip()));
    QCOMPARE(nodeItem.siblingAtColumn(1).data().toString(), QStringLiteral("breaker open"));
    QVERIFY2(nodeItem.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Circuit breaker: open")),
             qPrintable(nodeItem.data(Qt::ToolTipRole).toString()));
    QTRY_VERIFY2(logHas(m_log, QStringLiteral("test-node"),
                        QStringLiteral("Circuit breaker open after 3 failures: connection refused")),
                 qPrintable(logText(m_log)));

    // Back: after the cool-down (5 s) one probe goes through and closes it.
    QVERIFY(m_servers.back()->restart().has_value());
    QTRY_VERIFY_WITH_TIMEOUT(model->breaker(0)->state == lockscope::redis::BreakerState::Closed,
                             ProbeTimeoutMs);
    QTRY_VERIFY(model->state(0) == NodeListModel::State::Up);
    QCOMPARE(statusText(), QStringLiteral("Up"));
    QVERIFY2(logHas(m_log, QStringLiteral("test-node"),
                    QStringLiteral("Circuit breaker half-open: cool-down over, probing")),
             qPrintable(logText(m_log)));
    QTRY_VERIFY2(logHas(m_log, QStringLiteral("test-node"), QStringLiteral("Circuit breaker closed again")),
                 qPrintable(logText(m_log)));
}

void TestMainWindow::unreachableNodeShowsErrorAtOnce()
{
    // A port nobody listens on: take a server's port, then stop the server.
    const NodeConfig config = startServer();
    m_servers.back()->kill();
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("solo"), {config}));
    showGroups(groups);
    NodeListModel *model = m_window->nodeModel();
    QTRY_VERIFY_WITH_TIMEOUT(model->state(0) == NodeListModel::State::Down, ProbeTimeoutMs);
    QTRY_VERIFY(logHas(m_log, QStringLiteral("test-node"), QStringLiteral("Down: ")));
    QVERIFY2(logText(m_log).contains(QStringLiteral("refused"), Qt::CaseInsensitive),
             qPrintable(logText(m_log)));
    // The failed scan is reported too, naming the node, with the error in the tooltip; once,
    // not at every refresh.
    m_window->refreshLocks();
    QTRY_VERIFY_WITH_TIMEOUT(
        logHas(m_log, QStringLiteral("solo"), QStringLiteral("Scan of group solo failed: test-node")),
        ProbeTimeoutMs);
    const auto scanLines = [this] {
        QList<QTreeWidgetItem *> lines;
        for (int i = 0; i < m_log->topLevelItemCount(); ++i) {
            if (m_log->topLevelItem(i)->text(2).startsWith(QStringLiteral("Scan of group solo")))
                lines << m_log->topLevelItem(i);
        }
        return lines;
    };
    QVERIFY2(scanLines().front()->toolTip(2).contains(QStringLiteral("refused"), Qt::CaseInsensitive),
             qPrintable(scanLines().front()->toolTip(2)));
    QSignalSpy refreshed(m_window.get(), &MainWindow::locksRefreshed);
    m_window->refreshLocks();
    QTRY_VERIFY_WITH_TIMEOUT(!refreshed.isEmpty(), ProbeTimeoutMs);
    m_window->refreshLocks();
    QTRY_VERIFY_WITH_TIMEOUT(refreshed.size() >= 2, ProbeTimeoutMs);
    QCOMPARE(scanLines().size(), 1);
}

void TestMainWindow::pausedNodeNeverBlocksTheGui()
{
    const NodeConfig config = startServer();
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("solo"), {config}));
    showGroups(groups);
    NodeListModel *model = m_window->nodeModel();
    QTRY_VERIFY_WITH_TIMEOUT(model->state(0) == NodeListModel::State::Up, ProbeTimeoutMs);

    QVERIFY(m_servers.back()->pause());
    // Probes and scans of the paused node now block for the command timeout, on worker
    // threads. The GUI event loop must keep turning meanwhile.
    QElapsedTimer clock;
    qint64 last = 0;
    qint64 longestGap = 0;
    int ticks = 0;
    QTimer ticker;
    ticker.setInterval(10);
    connect(&ticker, &QTimer::timeout, this, [&] {
        const qint64 now = clock.elapsed();
        longestGap = std::max(longestGap, now - last);
        last = now;
        ++ticks;
    });
    clock.start();
    ticker.start();
    m_window->refreshLocks();
    QTRY_VERIFY_WITH_TIMEOUT(model->state(0) == NodeListModel::State::Down, ProbeTimeoutMs);
    ticker.stop();
    // Stall figures are reported, not asserted: timing targets belong in benchmarks
    // (scripts/bench-gui-stall.sh), not on a noisy CI machine.
    qInfo("GUI event loop: %d ticks over %lld ms, longest gap %lld ms", ticks, clock.elapsed(), longestGap);
    QVERIFY2(ticks >= 10, qPrintable(QStringLiteral("the GUI event loop turned only %1 times").arg(ticks)));
    QVERIFY(m_servers.back()->resume());
}

void TestMainWindow::operatorWorkflowThroughTheWindow()
{
    std::vector<NodeConfig> nodes;
    for (int i = 1; i <= 3; ++i)
        nodes.push_back(startServer(QStringLiteral("pay-%1").arg(i)));
    const QByteArray key = "orders:42";
    const QByteArray lockValue =
        "ls1 tok=Zm9vYmFyYmF6cXV4MTIzNA fence=7 host=web-1 pid=42 thr=main label=checkout";
    for (const NodeConfig &node : nodes) {
        Connection connection(node);
        QVERIFY(connection.command({"SET", key, lockValue, "PX", "30000"}));
        QVERIFY(connection.command({"SET", "{orders:42}.fence", "7"}));
    }

    // 1. Add the group in the Connections dialog, as an operator would: three nodes by URL,
    //    the first one marked production.
    showGroups(GroupConfig{});
    bool dialogDone = false;
    whenModal<ConnectionsDialog>([&](ConnectionsDialog *dialog) {
        QTest::mouseClick(child<QPushButton>(dialog, "addGroupButton"), Qt::LeftButton);
        type(child<QLineEdit>(dialog, "groupNameEdit"), QStringLiteral("payments"));
        for (size_t i = 0; i < nodes.size(); ++i) {
            // A new node is added to the selected group.
            auto *groupTree = child<QTreeWidget>(dialog, "groupTree");
            groupTree->setCurrentItem(groupTree->topLevelItem(0));
            QTest::mouseClick(child<QPushButton>(dialog, "addNodeButton"), Qt::LeftButton);
            type(child<QLineEdit>(dialog, "urlEdit"),
                 QStringLiteral("redis://127.0.0.1:%1?name=%2").arg(nodes[i].port).arg(nodes[i].name));
            if (i == 0)
                child<QCheckBox>(dialog, "productionCheck")->setChecked(true);
        }
        QPushButton *ok = child<QDialogButtonBox>(dialog, "buttonBox")->button(QDialogButtonBox::Ok);
        QVERIFY(ok->isEnabled());
        QTest::mouseClick(ok, Qt::LeftButton);
        dialogDone = true;
    });
    child<QAction>(m_window.get(), "connectionsAction")->trigger();
    QVERIFY(dialogDone);
    const NodeGroup *payments = m_window->groups().group(QStringLiteral("payments"));
    QVERIFY(payments);
    QCOMPARE(payments->nodes.size(), size_t(3));
    QVERIFY(payments->nodes[0].production);
    // Saved where the window was told to save.
    QVERIFY(QFile::exists(m_dir->filePath(QStringLiteral("groups.json"))));

    // 2. The lock appears, held on 3 of 3; select it.
    QVERIFY(waitAndSelect(QStringLiteral("payments"), key));
    auto selected = m_window->selectedLock();
    QVERIFY(selected);
    QCOMPARE(selected->second.held, 3);
    QCOMPARE(selected->second.fence, qint64(7));
    QVERIFY(child<QAction>(m_window.get(), "extendAction")->isEnabled());

    // 3. Extend: replace the TTL with 10 minutes, owner-checked.
    QSignalSpy finished(m_window.get(), &MainWindow::actionFinished);
    whenModal<ExtendDialog>([](ExtendDialog *dialog) {
        child<QRadioButton>(dialog, "replaceMode")->setChecked(true);
        type(child<DurationEdit>(dialog, "duration"), QStringLiteral("10m"));
        QTest::mouseClick(child<QPushButton>(dialog, "extendButton"), Qt::LeftButton);
    });
    child<QAction>(m_window.get(), "extendAction")->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10'000);
    QVERIFY2(finished.at(0).at(1).toBool(), qPrintable(logText(m_log)));
    for (const NodeConfig &node : nodes)
        QVERIFY2(pttl(node, key) > 60'000, qPrintable(node.label()));

    // 4. Force-release: a production node holds it, so the key must be typed.
    QVERIFY(waitAndSelect(QStringLiteral("payments"), key));
    bool typedKeyAsked = false;
    whenModal<ForceReleaseDialog>([&](ForceReleaseDialog *dialog) {
        QPushButton *release = child<QPushButton>(dialog, "releaseButton");
        QVERIFY(!release->isEnabled());
        type(child<QLineEdit>(dialog, "typedKey"), QString::fromUtf8(key));
        typedKeyAsked = true;
        QVERIFY(release->isEnabled());
        QTest::mouseClick(release, Qt::LeftButton);
    });
    child<QAction>(m_window.get(), "forceReleaseAction")->trigger();
    QVERIFY(typedKeyAsked);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 10'000);
    QVERIFY2(finished.at(1).at(1).toBool(), qPrintable(logText(m_log)));
    for (const NodeConfig &node : nodes) {
        Connection connection(node);
        QCOMPARE(connection.command({"EXISTS", key})->integer(), qint64(0));
        // The fencing counter moved past the released holder's token.
        QVERIFY(connection.command({"GET", "{orders:42}.fence"})->bytes().toLongLong() > 7);
    }
    // The table follows: the lock disappears at the refresh after the action.
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->lockModel()->indexFor(QStringLiteral("payments"), key).isValid(),
                             10'000);

    // Every write was audited, one line per node and action.
    QFile audit(m_dir->filePath(QStringLiteral("audit.jsonl")));
    QVERIFY(audit.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = audit.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 6);
    QVERIFY(lines.first().contains("\"extend\""));
    QVERIFY(lines.last().contains("\"force-release\""));
}

void TestMainWindow::forceReleaseOfAChangedValueDeletesNothing()
{
    const NodeConfig node = startServer();
    const QByteArray key = "jobs:nightly";
    {
        Connection connection(node);
        QVERIFY(connection.command({"SET", key, "ls1 tok=first fence=1 label=a", "PX", "60000"}));
    }
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("jobs"), {node}));
    showGroups(groups);
    QVERIFY(waitAndSelect(QStringLiteral("jobs"), key));

    // Another holder takes the key after the operator saw it (and before a refresh).
    {
        Connection connection(node);
        QVERIFY(connection.command({"SET", key, "ls1 tok=second fence=2 label=b", "PX", "60000"}));
    }
    QSignalSpy finished(m_window.get(), &MainWindow::actionFinished);
    whenModal<ForceReleaseDialog>([](ForceReleaseDialog *dialog) {
        QPushButton *release = child<QPushButton>(dialog, "releaseButton");
        QVERIFY(release->isEnabled()); // not production: no typed key
        QTest::mouseClick(release, Qt::LeftButton);
    });
    child<QAction>(m_window.get(), "forceReleaseAction")->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10'000);
    QVERIFY(!finished.at(0).at(1).toBool());
    QCOMPARE(value(node, key), QByteArray("ls1 tok=second fence=2 label=b"));
    QVERIFY2(logText(m_log).contains(QStringLiteral("changed")), qPrintable(logText(m_log)));
}

void TestMainWindow::readersAreListedAndReleasedOneByOne()
{
    const NodeConfig node = startServer();
    const QByteArray key = "catalog:prices";
    lockscope::lock::Locker locker({node});
    std::vector<QByteArray> tokens;
    for (int i = 0; i < 3; ++i) {
        lockscope::lock::AcquireOptions options;
        options.kind = lockscope::lock::LockKind::Read;
        options.ttl = 60s;
        options.thread = QStringLiteral("reader-%1").arg(i);
        const auto lock = locker.tryAcquire(key, options);
        QVERIFY(lock.has_value());
        tokens.push_back(lock->token);
    }
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("catalog"), {node}));
    showGroups(groups);
    QVERIFY(activateWindow());
    QVERIFY(waitForLocks(QStringLiteral("catalog"), {{key, QByteArray()}}));

    // One row for the lock, whatever the number of readers; its kind counts them.
    QCOMPARE(m_window->lockModel()->rowCount(), 1);
    QCOMPARE(cellOf(QStringLiteral("catalog"), key, LockTableModel::Kind).data().toString(),
             QStringLiteral("read ×3"));
    QVERIFY(clickLock(QStringLiteral("catalog"), key));
    auto *holders = child<QTableWidget>(m_window.get(), "holders");
    QTRY_VERIFY(holders->isVisible());
    QCOMPARE(holders->rowCount(), 3);
    for (int row = 0; row < 3; ++row)
        QCOMPARE(holders->item(row, LockDetailsWidget::HolderWhoColumn)->text(), QStringLiteral("reader"));

    // Nothing picked in Details: the holder actions say what to do.
    auto *releaseHolder = child<QAction>(m_window.get(), "releaseHolderAction");
    auto *extendHolder = child<QAction>(m_window.get(), "extendHolderAction");
    QVERIFY(!releaseHolder->isEnabled());
    QVERIFY2(releaseHolder->toolTip().contains(QStringLiteral("Pick a holder")),
             qPrintable(releaseHolder->toolTip()));

    // The operator clicks the second reader, then its Release button.
    const auto clickHolder = [&](int row) {
        QTest::mouseClick(
            holders->viewport(), Qt::LeftButton, {},
            holders->visualItemRect(holders->item(row, LockDetailsWidget::HolderOwnerColumn)).center());
    };
    clickHolder(1);
    const auto picked = m_window->details()->selectedHolder();
    QVERIFY(picked.has_value());
    QVERIFY(releaseHolder->isEnabled());
    QVERIFY(extendHolder->isEnabled());
    QSignalSpy finished(m_window.get(), &MainWindow::actionFinished);
    QString shownToken;
    whenModal<HolderDialog>([&](HolderDialog *dialog) {
        shownToken = child<QLabel>(dialog, "tokenLabel")->text();
        QTest::mouseClick(child<QPushButton>(dialog, "okButton"), Qt::LeftButton);
    });
    QTest::mouseClick(child<QToolButton>(m_window.get(), "releaseHolderActionButton"), Qt::LeftButton);
    QCOMPARE(shownToken, QString::fromLatin1(picked->token));
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10'000);
    QVERIFY2(finished.at(0).at(1).toBool(), qPrintable(logText(m_log)));
    // Redis: that reader alone is gone; the two others keep their entries and deadlines.
    Connection connection(node);
    const auto members = connection.command({"ZRANGE", key, "0", "-1"});
    QVERIFY(members.has_value());
    QCOMPARE(members->elements().size(), std::size_t(2));
    for (std::size_t i = 0; i < members->elements().size(); ++i)
        QVERIFY(!members->elements()[i].bytes().contains("tok=" + picked->token + ' '));
    QVERIFY(connection.command({"PTTL", key})->integer() > 30'000);

    // Extend the first remaining reader to 5 minutes, picked with the mouse after the refresh.
    QTRY_VERIFY_WITH_TIMEOUT(holders->rowCount() == 2, 10'000);
    QVERIFY(activateWindow());
    clickHolder(0);
    const auto second = m_window->details()->selectedHolder();
    QVERIFY(second.has_value());
    whenModal<HolderDialog>([](HolderDialog *dialog) {
        type(child<DurationEdit>(dialog, "duration"), QStringLiteral("5m"));
        QTest::mouseClick(child<QPushButton>(dialog, "okButton"), Qt::LeftButton);
    });
    QTest::mouseClick(child<QToolButton>(m_window.get(), "extendHolderActionButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 10'000);
    QVERIFY2(finished.at(1).at(1).toBool(), qPrintable(logText(m_log)));
    const auto time = connection.command({"TIME"});
    QVERIFY(time.has_value());
    const qint64 nowMs =
        time->elements()[0].bytes().toLongLong() * 1000 + time->elements()[1].bytes().toLongLong() / 1000;
    const auto after = connection.command({"ZRANGE", key, "0", "-1", "WITHSCORES"});
    QVERIFY(after.has_value());
    QCOMPARE(after->elements().size(), std::size_t(4));
    for (std::size_t i = 0; i < after->elements().size(); i += 2) {
        const qint64 left = qint64(after->elements()[i + 1].bytes().toDouble()) - nowMs;
        if (after->elements()[i].bytes().contains("tok=" + second->token + ' '))
            QVERIFY2(left > 4 * 60'000 && left <= 5 * 60'000, QByteArray::number(left));
        else
            QVERIFY2(left <= 60'000, QByteArray::number(left)); // the other reader: untouched
    }
    QVERIFY(connection.command({"PTTL", key})->integer() > 4 * 60'000); // the key outlives it

    // Both writes were audited.
    QFile audit(m_dir->filePath(QStringLiteral("audit.jsonl")));
    QVERIFY(audit.open(QIODevice::ReadOnly));
    const QByteArray lines = audit.readAll();
    QVERIFY(lines.contains("\"force-release-holder\""));
    QVERIFY(lines.contains("\"extend-holder\""));
}

void TestMainWindow::readOnlyGroupDisablesWrites()
{
    const NodeConfig node = startServer();
    const QByteArray key = "jobs:ro";
    {
        Connection connection(node);
        QVERIFY(connection.command({"SET", key, "ls1 tok=ro fence=1", "PX", "60000"}));
    }
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("replica"), {node}, /*readOnly=*/true));
    showGroups(groups);
    QVERIFY(waitAndSelect(QStringLiteral("replica"), key));
    QAction *forceRelease = child<QAction>(m_window.get(), "forceReleaseAction");
    QAction *extend = child<QAction>(m_window.get(), "extendAction");
    QVERIFY(!forceRelease->isEnabled());
    QVERIFY(!extend->isEnabled());
    QVERIFY2(forceRelease->toolTip().contains(QStringLiteral("read-only")),
             qPrintable(forceRelease->toolTip()));
    QVERIFY(!child<QAction>(m_window.get(), "acquireAction")->isEnabled());
    QVERIFY(child<QAction>(m_window.get(), "copyKeyAction")->isEnabled());
    // Triggered anyway (a shortcut racing the state): nothing happens, nothing is written.
    forceRelease->trigger();
    QTest::qWait(200);
    QVERIFY(!QApplication::activeModalWidget());
    QCOMPARE(value(node, key), QByteArray("ls1 tok=ro fence=1"));
}

void TestMainWindow::clickedLockEnablesItsActions()
{
    // Issue 11: a row selected with the mouse left every lock action disabled ("Select a lock
    // first") while the row was highlighted and the details showed it.
    NodeConfig node;
    QList<std::pair<QByteArray, QByteArray>> locks;
    QVERIFY(showJobLocks(node, locks));
    const QString group = QStringLiteral("jobs");
    QCOMPARE(disabledActions(m_window.get()).size(), int(std::size(LockActions))); // nothing selected

    QVERIFY(clickLock(group, "jobs:b"));
    QCOMPARE(selectedKey(), QByteArray("jobs:b"));
    QCOMPARE(disabledActions(m_window.get()), QStringList());
    auto *forceRelease = child<QAction>(m_window.get(), "forceReleaseAction");
    auto *extend = child<QAction>(m_window.get(), "extendAction");
    QVERIFY2(!forceRelease->toolTip().contains(QStringLiteral("Select a lock first")),
             qPrintable(forceRelease->toolTip()));
    auto *toolbar = child<QToolBar>(m_window.get(), "mainToolBar");
    for (const char *name : {"extendAction", "forceReleaseAction", "lockctlAction"})
        QVERIFY2(toolbar->widgetForAction(child<QAction>(m_window.get(), name))->isEnabled(), name);

    // The shortcuts act on the clicked lock.
    QTableView *table = lockTable();
    QCOMPARE(QApplication::focusWidget(), table);
    QApplication::clipboard()->clear();
    QTest::keyClick(table, Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("jobs:b"));
    QString shown;
    const auto cancelRelease = [&](ForceReleaseDialog *dialog) {
        shown = child<QLabel>(dialog, "keyLabel")->text();
        QTest::mouseClick(child<QPushButton>(dialog, "cancelButton"), Qt::LeftButton);
    };
    whenModal<ForceReleaseDialog>(cancelRelease);
    QTest::keyClick(table, Qt::Key_Delete);
    QCOMPARE(shown, QStringLiteral("jobs:b"));
    QVERIFY(activateWindow()); // as a window manager does when a dialog closes
    shown.clear();
    const auto cancelExtend = [&](ExtendDialog *dialog) {
        shown = child<QLabel>(dialog, "keyLabel")->text();
        dialog->reject();
    };
    whenModal<ExtendDialog>(cancelExtend);
    QTest::keyClick(table, Qt::Key_E, Qt::ControlModifier);
    QCOMPARE(shown, QStringLiteral("jobs:b"));
    QVERIFY(activateWindow());
    QTest::keyClick(table, Qt::Key_L, Qt::ControlModifier);
    auto *commands = m_window->findChild<LockctlCommandDialog *>();
    QVERIFY(commands);
    QVERIFY2(commands->windowTitle().contains(QStringLiteral("jobs:b")), qPrintable(commands->windowTitle()));
    commands->close();

    // The toolbar's buttons, clicked.
    shown.clear();
    whenModal<ForceReleaseDialog>(cancelRelease);
    QTest::mouseClick(toolbar->widgetForAction(forceRelease), Qt::LeftButton);
    QCOMPARE(shown, QStringLiteral("jobs:b"));
    QVERIFY(activateWindow());

    // The Lock menu, opened from the menu bar.
    QMenuBar *bar = m_window->menuBar();
    QAction *lockMenuAction = nullptr;
    for (QAction *action : bar->actions()) {
        if (action->menu() && action->text() == QStringLiteral("&Lock"))
            lockMenuAction = action;
    }
    QVERIFY(lockMenuAction);
    QMenu *lockMenu = lockMenuAction->menu();
    QTest::mouseClick(bar, Qt::LeftButton, {}, bar->actionGeometry(lockMenuAction).center());
    QTRY_VERIFY(lockMenu->isVisible());
    for (const char *name : LockActions) {
        QAction *action = child<QAction>(m_window.get(), name);
        QVERIFY2(lockMenu->actions().contains(action) && action->isEnabled(), name);
    }
    shown.clear();
    whenModal<ExtendDialog>(cancelExtend);
    QTest::mouseClick(lockMenu, Qt::LeftButton, {}, lockMenu->actionGeometry(extend).center());
    QCOMPARE(shown, QStringLiteral("jobs:b"));
    QTRY_VERIFY(!lockMenu->isVisible());

    // Every dialog was cancelled: nothing was written.
    for (const auto &[key, lockValue] : locks)
        QCOMPARE(value(node, key), lockValue);
}

void TestMainWindow::keyboardSelectionMovesTheActions()
{
    NodeConfig node;
    QList<std::pair<QByteArray, QByteArray>> locks;
    QVERIFY(showJobLocks(node, locks));
    const QString group = QStringLiteral("jobs");
    QVERIFY(clickLock(group, "jobs:a"));
    QTableView *table = lockTable();
    QCOMPARE(QApplication::focusWidget(), table);

    // Each key moves the selection, and the actions (and Ctrl+C) follow it.
    const std::pair<QKeyCombination, QByteArray> steps[] = {
        {Qt::Key_Down, "jobs:b"},
        {Qt::Key_Down, "jobs:c"},
        {Qt::Key_Up, "jobs:b"},
        {QKeyCombination(Qt::ControlModifier, Qt::Key_Home), "jobs:a"},
        {QKeyCombination(Qt::ControlModifier, Qt::Key_End), "jobs:c"},
        {Qt::Key_Home, "jobs:c"}, // the first column of the same row
    };
    for (const auto &[keys, expected] : steps) {
        QTest::keyClick(table, keys.key(), keys.keyboardModifiers());
        QCOMPARE(selectedKey(), expected);
        QCOMPARE(disabledActions(m_window.get()), QStringList());
        QApplication::clipboard()->clear();
        QTest::keyClick(table, Qt::Key_C, Qt::ControlModifier);
        QCOMPARE(QApplication::clipboard()->text(), QString::fromUtf8(expected));
    }
}

void TestMainWindow::contextMenuActsOnTheRowClicked()
{
    NodeConfig node;
    QList<std::pair<QByteArray, QByteArray>> locks;
    QVERIFY(showJobLocks(node, locks));
    const QString group = QStringLiteral("jobs");
    QVERIFY(clickLock(group, "jobs:a"));

    // A right click on another row: the menu's actions are enabled, for that row.
    QStringList offered;
    QStringList disabled;
    QApplication::clipboard()->clear();
    QVERIFY(contextMenuOn(group, "jobs:c", [&](QMenu *menu) {
        for (QAction *action : menu->actions()) {
            if (action->isSeparator())
                continue;
            offered << action->objectName();
            if (!action->isEnabled())
                disabled << action->objectName();
        }
        QAction *copyKey = child<QAction>(m_window.get(), "copyKeyAction");
        QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(copyKey).center());
    }));
    QCOMPARE(offered.size(), int(std::size(LockActions)));
    QCOMPARE(disabled, QStringList());
    QCOMPARE(selectedKey(), QByteArray("jobs:c"));
    QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("jobs:c"));

    // Force Release from the menu of a third row names that row's lock.
    QString shown;
    whenModal<ForceReleaseDialog>([&](ForceReleaseDialog *dialog) {
        shown = child<QLabel>(dialog, "keyLabel")->text();
        QTest::mouseClick(child<QPushButton>(dialog, "cancelButton"), Qt::LeftButton);
    });
    QVERIFY(contextMenuOn(group, "jobs:b", [&](QMenu *menu) {
        QAction *forceRelease = child<QAction>(m_window.get(), "forceReleaseAction");
        QTest::mouseClick(menu, Qt::LeftButton, {}, menu->actionGeometry(forceRelease).center());
    }));
    QCOMPARE(shown, QStringLiteral("jobs:b"));
    for (const auto &[key, lockValue] : locks)
        QCOMPARE(value(node, key), lockValue);
}

void TestMainWindow::forceReleaseLeavesNothingSelected()
{
    // Issue 11: after a force-release the selection moved to the neighbouring lock, with Force
    // Release enabled on it; a second Del acted on a lock the operator never chose.
    NodeConfig node;
    QList<std::pair<QByteArray, QByteArray>> locks;
    QVERIFY(showJobLocks(node, locks));
    const QString group = QStringLiteral("jobs");
    QVERIFY(clickLock(group, "jobs:b"));
    QTableView *table = lockTable();

    QSignalSpy finished(m_window.get(), &MainWindow::actionFinished);
    bool released = false;
    whenModal<ForceReleaseDialog>([&](ForceReleaseDialog *dialog) {
        released = child<QLabel>(dialog, "keyLabel")->text() == QStringLiteral("jobs:b");
        QTest::mouseClick(child<QPushButton>(dialog, "releaseButton"), Qt::LeftButton);
    });
    QTest::keyClick(table, Qt::Key_Delete);
    QVERIFY(released);
    QVERIFY(activateWindow());
    // At once nothing is selected, so that nothing is acted on by accident...
    QCOMPARE(selectedKey(), QByteArray());
    QVERIFY(!child<QAction>(m_window.get(), "forceReleaseAction")->isEnabled());
    QVERIFY(!opensModal([&] { QTest::keyClick(table, Qt::Key_Delete); }));

    // ...nor once the release is done and the row gone.
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10'000);
    QVERIFY2(finished.at(0).at(1).toBool(), qPrintable(logText(m_log)));
    QTRY_VERIFY_WITH_TIMEOUT(!cellOf(group, "jobs:b").isValid(), 10'000);
    QVERIFY(cellOf(group, "jobs:a").isValid() && cellOf(group, "jobs:c").isValid());
    QCOMPARE(selectedKey(), QByteArray());
    QCOMPARE(disabledActions(m_window.get()).size(), int(std::size(LockActions)));
    QVERIFY(!opensModal([&] { QTest::keyClick(table, Qt::Key_Delete); }));
    QCOMPARE(value(node, "jobs:a"), locks[0].second);
    QCOMPARE(value(node, "jobs:b"), QByteArray());
    QCOMPARE(value(node, "jobs:c"), locks[2].second);

    // The operator picks the next lock themselves.
    QVERIFY(clickLock(group, "jobs:c"));
    QCOMPARE(selectedKey(), QByteArray("jobs:c"));
    QVERIFY(child<QAction>(m_window.get(), "forceReleaseAction")->isEnabled());
}

void TestMainWindow::vanishedLockLeavesNothingSelected()
{
    // The selected lock leaves the table without the operator (it expired, its holder released
    // it, a filter hides it): the selection goes with it, to no other lock.
    NodeConfig node;
    QList<std::pair<QByteArray, QByteArray>> locks;
    QVERIFY(showJobLocks(node, locks));
    const QString group = QStringLiteral("jobs");
    QVERIFY(clickLock(group, "jobs:b"));
    QTableView *table = lockTable();
    {
        Connection connection(node);
        QVERIFY(connection.command({"DEL", "jobs:b"}));
    }
    m_window->refreshLocks();
    QTRY_VERIFY_WITH_TIMEOUT(!cellOf(group, "jobs:b").isValid(), 10'000);
    QCOMPARE(selectedKey(), QByteArray());
    QCOMPARE(disabledActions(m_window.get()).size(), int(std::size(LockActions)));
    QVERIFY(!opensModal([&] { QTest::keyClick(table, Qt::Key_Delete); }));

    QVERIFY(clickLock(group, "jobs:a"));
    QCOMPARE(selectedKey(), QByteArray("jobs:a"));
    type(child<QLineEdit>(m_window.get(), "lockFilter"), QStringLiteral("jobs:c"));
    QTRY_VERIFY(!cellOf(group, "jobs:a").isValid());
    QCOMPARE(selectedKey(), QByteArray());
    QCOMPARE(disabledActions(m_window.get()).size(), int(std::size(LockActions)));
    QVERIFY(!opensModal([&] { QTest::keyClick(table, Qt::Key_Delete); }));
    QCOMPARE(value(node, "jobs:a"), locks[0].second);
    QCOMPARE(value(node, "jobs:c"), locks[2].second);
}

void TestMainWindow::passwordIsAskedAtConnect()
{
    // A node that wants a password, saved without one, and no keychain: the window asks at
    // connect, keeps the answer for the session, and the node's locks appear.
    lockscope::redis::LocalServerOptions options;
    options.requirePass = QStringLiteral("s3cret-pass");
    auto server = LocalRedisServer::start(options);
    QVERIFY2(server.has_value(), server ? "" : qPrintable(server.error().toString()));
    NodeConfig node = (*server)->nodeConfig();
    node.name = QStringLiteral("guarded");
    node.password.clear();
    {
        NodeConfig admin = node;
        admin.password = options.requirePass;
        Connection connection(admin);
        QVERIFY(connection.command({"SET", "jobs:guarded", "ls1 tok=g fence=1", "PX", "60000"}));
    }
    lockscope::inspect::SessionSecretStore secrets; // no persistent store: session only
    m_window->setSecretStore(&secrets);

    bool asked = false;
    whenModal<PasswordPrompt>([&](PasswordPrompt *prompt) {
        asked = true;
        QVERIFY(!child<QCheckBox>(prompt, "rememberCheck")->isVisible()); // nothing to remember it in
        // Nothing was typed yet: why it asks, as information, not a red failure.
        auto *reason = child<QLabel>(prompt, "promptError");
        QVERIFY2(reason->text().startsWith(QStringLiteral("The node asks for a password")),
                 qPrintable(reason->text()));
        QVERIFY(!reason->text().contains(QStringLiteral("failed"), Qt::CaseInsensitive));
        QVERIFY(reason->palette().color(reason->foregroundRole()) != theme::danger(reason->palette()));
        type(child<QLineEdit>(prompt, "passwordEdit"), QStringLiteral("s3cret-pass"));
        QTest::mouseClick(child<QDialogButtonBox>(prompt, "buttonBox")->button(QDialogButtonBox::Ok),
                          Qt::LeftButton);
    });
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("guarded"), {node}));
    showGroups(groups);
    QTRY_VERIFY_WITH_TIMEOUT(asked, ProbeTimeoutMs);
    QVERIFY(waitAndSelect(QStringLiteral("guarded"), "jobs:guarded"));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->nodeModel()->state(0) == NodeListModel::State::Up, ProbeTimeoutMs);
    // In the session store, never in the configuration or its file.
    QCOMPARE(
        secrets.read(lockscope::inspect::secretKey(QStringLiteral("guarded"), node))->value_or(QString()),
        QStringLiteral("s3cret-pass"));
    QVERIFY(m_window->groups().groups[0].nodes[0].config.password.isEmpty());
    m_window.reset(); // before the store it points to
}

// "Can't tell" is not "no lock": the locks of a single-node group whose node stops answering
// stay in the table, marked stale with the time they were last read, and are ordinary rows
// again once the node answers. Nothing is written to the node meanwhile.
void TestMainWindow::unreachableNodeKeepsItsLocksMarkedStale()
{
    NodeConfig node;
    QList<std::pair<QByteArray, QByteArray>> locks;
    QVERIFY(showJobLocks(node, locks));
    QVERIFY(clickLock(QStringLiteral("jobs"), "jobs:b"));
    LockTableModel *model = m_window->lockModel();
    const auto rowOf = [&](const QByteArray &key) {
        return model->indexFor(QStringLiteral("jobs"), key).row();
    };
    const QDateTime readBefore = model->lastReadAt(rowOf("jobs:b"));

    QVERIFY(m_servers.back()->pause()); // SIGSTOP: connects succeed, nothing answers
    LocalRedisServer *paused = m_servers.back().get();
    const auto resume = qScopeGuard([paused] { paused->resume(); });
    m_window->refreshLocks();
    QTRY_VERIFY_WITH_TIMEOUT(model->isStale(rowOf("jobs:b")), 10'000);
    for (const auto &[key, value] : locks) {
        const int row = rowOf(key);
        QVERIFY2(row >= 0, key.constData()); // still shown
        QVERIFY(model->isStale(row));
        QCOMPARE(model->lastReadAt(row), model->record(row)->readAt);
        QVERIFY(model->lastReadAt(row) <= readBefore);
        const QModelIndex ttl = cellOf(QStringLiteral("jobs"), key, LockTableModel::Ttl);
        QVERIFY2(ttl.data().toString().endsWith(QLatin1Char('?')), qPrintable(ttl.data().toString()));
        QVERIFY(cellOf(QStringLiteral("jobs"), key, LockTableModel::Key)
                    .data(Qt::FontRole)
                    .value<QFont>()
                    .italic());
        const QString tip =
            cellOf(QStringLiteral("jobs"), key, LockTableModel::Key).data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("Not confirmed since")) &&
                     tip.contains(QStringLiteral("test-node")),
                 qPrintable(tip));
    }
    // The namespace stays too, and the selected lock stays selected with Details saying it.
    QCOMPARE(selectedKey(), QByteArray("jobs:b"));
    auto *ttlLabel = m_window->findChild<QLabel *>(QStringLiteral("ttl"));
    QVERIFY(ttlLabel);
    QTRY_VERIFY2(ttlLabel->text().contains(QStringLiteral("not confirmed since")),
                 qPrintable(ttlLabel->text()));
    QVERIFY(logHas(m_log, QStringLiteral("jobs"), QStringLiteral("Scan of group jobs failed: test-node")));

    QVERIFY(m_servers.back()->resume());
    m_window->refreshLocks();
    QTRY_VERIFY_WITH_TIMEOUT(!model->isStale(rowOf("jobs:b")), 10'000);
    QTRY_VERIFY(!model->isStale(rowOf("jobs:a")) && !model->isStale(rowOf("jobs:c")));
    QVERIFY(model->lastReadAt(rowOf("jobs:b")) > readBefore);
    QTRY_VERIFY(logHas(m_log, QStringLiteral("jobs"), QStringLiteral("Scan of group jobs complete again")));
    // Nothing was written: every lock is there as it was, with its TTL.
    Connection connection(node);
    for (const auto &[key, value] : locks) {
        QCOMPARE(connection.command({"GET", key})->bytes(), value);
        QVERIFY(connection.command({"PTTL", key})->integer() > 0);
    }
    // Released while the node was down would show as removed at the next complete scan.
    QVERIFY(connection.command({"DEL", "jobs:a"}));
    m_window->refreshLocks();
    QTRY_VERIFY_WITH_TIMEOUT(rowOf("jobs:a") < 0, 10'000);
}

// "Live updates off" is said once per group, not once per node and connect; the whole advice
// (the CONFIG SET command) is in the line's tooltip.
void TestMainWindow::liveUpdatesNoticeIsSaidOncePerGroup()
{
    const NodeConfig a = startServer(QStringLiteral("quiet-a"));
    const NodeConfig b = startServer(QStringLiteral("quiet-b"));
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("quiet"), {a, b}));
    const auto noticeLines = [this] {
        QList<QTreeWidgetItem *> lines;
        for (int i = 0; i < m_log->topLevelItemCount(); ++i) {
            if (m_log->topLevelItem(i)->text(2).startsWith(QStringLiteral("Live updates off")))
                lines << m_log->topLevelItem(i);
        }
        return lines;
    };
    showGroups(groups);
    QTRY_VERIFY_WITH_TIMEOUT(!noticeLines().isEmpty(), 10'000);
    // Both nodes in one line, however far apart their notices arrive.
    QTRY_VERIFY_WITH_TIMEOUT(noticeLines().front()->text(2).contains(QStringLiteral("2 nodes")), 10'000);
    QCOMPARE(noticeLines().size(), 1);
    QTreeWidgetItem *line = noticeLines().front();
    QCOMPARE(line->text(1), QStringLiteral("quiet"));
    const QString tip = line->toolTip(2);
    QVERIFY2(tip.contains(QStringLiteral("CONFIG SET notify-keyspace-events")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("quiet-a")) && tip.contains(QStringLiteral("quiet-b")),
             qPrintable(tip));
    // Connecting again (the same groups) says nothing new.
    showGroups(groups);
    QTest::qWait(1500);
    QCOMPARE(noticeLines().size(), 1);
}

// No lock is hidden: a key whose name says lock but whose value no format reads is listed raw
// (and found with the schema filter's "Unrecognised keys"); a filter that matches only keys
// that are not locks says so in the empty table instead of showing nothing.
void TestMainWindow::unrecognisedKeysAreShownOrExplained()
{
    const NodeConfig node = startServer();
    {
        Connection connection(node);
        QVERIFY(connection.command(
            {"SET", "jobs:a", "ls1 tok=tokalpha fence=1 host=web-1 pid=11", "PX", "600000"}));
        QVERIFY(connection.command({"SET", "acme:lock:report", "held-by: reporting #7", "PX", "600000"}));
        QVERIFY(connection.command({"SET", "cache:user:1", "hello", "PX", "600000"}));
        QVERIFY(connection.command({"SET", "cache:user:2", "world", "PX", "600000"}));
    }
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("jobs"), {node}));
    showGroups(groups);
    QVERIFY(activateWindow());
    QVERIFY(waitForLocks(QStringLiteral("jobs"), {{"jobs:a", {}}, {"acme:lock:report", {}}}));
    QCOMPARE(cellOf(QStringLiteral("jobs"), "acme:lock:report", LockTableModel::Schema).data().toString(),
             QStringLiteral("raw"));
    QVERIFY(!cellOf(QStringLiteral("jobs"), "cache:user:1").isValid());

    // The schema filter's last entry: only what no format recognises.
    auto *schemas = child<QComboBox>(m_window.get(), "schemaFilter");
    schemas->setFocus();
    QTest::keyClick(schemas, Qt::Key_End);
    QCOMPARE(schemas->currentText(), QStringLiteral("Unrecognised keys (raw)"));
    QTRY_COMPARE(m_window->lockProxy()->rowCount(), 1);
    QVERIFY(cellOf(QStringLiteral("jobs"), "acme:lock:report").isValid());
    QTest::keyClick(schemas, Qt::Key_Home);
    QTRY_COMPARE(m_window->lockProxy()->rowCount(), 2);

    // A filter that matches only keys that are not locks: the empty table says why.
    auto *hint = m_window->findChild<QLabel *>(QStringLiteral("tableHint"));
    QVERIFY(!hint || hint->isHidden());
    type(child<QLineEdit>(m_window.get(), "lockFilter"), QStringLiteral("cache:*"));
    QTRY_COMPARE(m_window->lockProxy()->rowCount(), 0);
    hint = m_window->findChild<QLabel *>(QStringLiteral("tableHint"));
    QVERIFY(hint);
    QTRY_VERIFY(hint->isVisible());
    QVERIFY2(hint->text().contains(QStringLiteral("2 scanned keys match it")), qPrintable(hint->text()));
    QVERIFY2(hint->text().contains(QStringLiteral("lockctl list --match 'cache:*'")),
             qPrintable(hint->text()));
    // A filter that matches nothing at all says only that.
    type(child<QLineEdit>(m_window.get(), "lockFilter"), QStringLiteral("nothing:*"));
    QTRY_VERIFY(!hint->text().contains(QStringLiteral("scanned key")));
    QVERIFY(hint->text().contains(QStringLiteral("No lock matches")));
    type(child<QLineEdit>(m_window.get(), "lockFilter"), QString());
    QTRY_VERIFY(hint->isHidden());
}

// At 1280x800 (a window of 1280x760 under a window manager) group and schema names are shown
// whole; the simulator opens in a window of its own and takes no room from the table; the
// docks can never crush the table; View > Reset Layout restores the first-start layout; a
// saved layout in which the key cannot be read is not restored.
void TestMainWindow::layoutKeepsTheTableReadable()
{
    const NodeConfig a = startServer(QStringLiteral("payments-a"));
    const NodeConfig b = startServer(QStringLiteral("solo-node"));
    {
        Connection connection(a);
        QVERIFY(connection.command(
            {"SET", "payments:settle:eu",
             "ls1 tok=tokalpha fence=1 host=web-1 pid=11 label=invoice-run-for-december", "PX", "600000"}));
        Connection other(b);
        QVERIFY(other.command({"HSET", "redisson:inventory", "8e9a5c3e-7b1d-4c61-9a0b-3c2d9f1e4a77:1", "1"}));
        QVERIFY(other.command({"PEXPIRE", "redisson:inventory", "600000"}));
    }
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("payments-redlock"), {a}));
    groups.groups.push_back(groupOf(QStringLiteral("solo"), {b}));
    m_window->resize(1280, 760);
    showGroups(groups);
    QVERIFY(activateWindow());
    QVERIFY(waitForLocks(QStringLiteral("payments-redlock"), {{"payments:settle:eu", {}}}));
    QVERIFY(waitForLocks(QStringLiteral("solo"), {{"redisson:inventory", {}}}));
    QTableView *table = lockTable();
    QTest::qWait(100); // the fit follows the first locks
    const QFontMetrics metrics = table->fontMetrics();
    for (const auto &[group, key] :
         {std::pair{QStringLiteral("payments-redlock"), QByteArray("payments:settle:eu")},
          std::pair{QStringLiteral("solo"), QByteArray("redisson:inventory")}}) {
        for (const int column : {LockTableModel::Group, LockTableModel::Schema, LockTableModel::Key}) {
            const QString text = cellOf(group, key, column).data().toString();
            QVERIFY2(table->columnWidth(column) >=
                         metrics.horizontalAdvance(text) + metrics.averageCharWidth(),
                     qPrintable(QStringLiteral("%1 (%2 px) in a %3 px column")
                                    .arg(text)
                                    .arg(metrics.horizontalAdvance(text))
                                    .arg(table->columnWidth(column))));
        }
    }
    // The owner is cut, but says all in its tooltip.
    QVERIFY(cellOf(QStringLiteral("payments-redlock"), "payments:settle:eu", LockTableModel::Owner)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("invoice-run-for-december")));

    // The simulator: its own window; the table keeps its width.
    const int tableWidth = table->viewport()->width();
    auto *simulatorAction = child<QAction>(m_window.get(), "simulatorAction");
    simulatorAction->trigger();
    auto *simulator = child<QWidget>(m_window.get(), "simulatorWindow");
    QTRY_VERIFY(simulator->isVisible());
    QVERIFY(simulator->isWindow());
    QTest::qWait(50);
    QCOMPARE(table->viewport()->width(), tableWidth);
    simulator->close();
    QTRY_VERIFY(!simulatorAction->isChecked());

    // The docks give way before the table does.
    auto *details = child<QDockWidget>(m_window.get(), "detailsDock");
    const int detailsWidth = details->width();
    m_window->resizeDocks({details}, {1200}, Qt::Horizontal);
    QTest::qWait(50);
    const int em = m_window->fontMetrics().horizontalAdvance(QLatin1Char('m'));
    QVERIFY2(table->width() >= 40 * em - 20, qPrintable(QString::number(table->width())));
    // View > Reset Layout, from the menu.
    QAction *reset = child<QAction>(m_window.get(), "resetLayoutAction");
    reset->trigger();
    QTest::qWait(50);
    QVERIFY2(std::abs(details->width() - detailsWidth) < 3 * em,
             qPrintable(QStringLiteral("%1 vs %2").arg(details->width()).arg(detailsWidth)));

    // A saved layout in which the key cannot be read is not restored as it was.
    table->setColumnWidth(LockTableModel::Key, 12);
    m_window->close();
    QSettings().setValue(QStringLiteral("mainWindow/lockColumnsSized"), true);
    openWindow();
    m_window->resize(1280, 760);
    showGroups(groups);
    QVERIFY(waitForLocks(QStringLiteral("payments-redlock"), {{"payments:settle:eu", {}}}));
    QTRY_VERIFY2(lockTable()->columnWidth(LockTableModel::Key) >= 8 * em,
                 qPrintable(QString::number(lockTable()->columnWidth(LockTableModel::Key))));
}

// A scan that read some nodes of a group is partial, not failed, and says which node.
void TestMainWindow::partialScanIsCalledPartial()
{
    const NodeConfig up = startServer(QStringLiteral("up-node"));
    NodeConfig down = startServer(QStringLiteral("down-node"));
    m_servers.back()->kill(); // a port nobody listens on
    {
        Connection connection(up);
        QVERIFY(connection.command(
            {"SET", "jobs:a", "ls1 tok=tokalpha fence=1 host=web-1 pid=11", "PX", "600000"}));
    }
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("pair"), {up, down}));
    showGroups(groups);
    QVERIFY(waitForLocks(QStringLiteral("pair"), {{"jobs:a", {}}}));
    QTRY_VERIFY_WITH_TIMEOUT(
        logHas(m_log, QStringLiteral("pair"),
               QStringLiteral("Partial scan of group pair: 1 of 2 nodes read; down-node could not be read")),
        10'000);
    QVERIFY(!logText(m_log).contains(QStringLiteral("Scan of group pair failed")));
    // The lock read from the node that answered is shown, with the unreachable node said.
    QVERIFY(m_window->lockModel()
                ->record(m_window->lockModel()->indexFor(QStringLiteral("pair"), "jobs:a").row())
                ->anomalies.contains(QLatin1String(lockscope::inspect::anomaly::NodeUnreachable)));
}

// Help holds more than About: a short Getting Started and the keyboard shortcuts, listed from
// the actions themselves; the default window fits the screen.
void TestMainWindow::helpMenuHasGettingStartedAndShortcuts()
{
    const QRect screen = m_window->screen()->availableGeometry();
    QVERIFY2(m_window->width() <= screen.width() && m_window->height() <= screen.height(),
             qPrintable(QStringLiteral("%1x%2 on %3x%4")
                            .arg(m_window->width())
                            .arg(m_window->height())
                            .arg(screen.width())
                            .arg(screen.height())));
    QMenuBar *bar = m_window->menuBar();
    QMenu *help = nullptr;
    for (QAction *action : bar->actions()) {
        if (action->menu() && action->text() == QStringLiteral("&Help"))
            help = action->menu();
    }
    QVERIFY(help);
    QStringList items;
    for (QAction *action : help->actions())
        items << action->text();
    QVERIFY2(items.contains(QStringLiteral("&Getting Started")) &&
                 items.contains(QStringLiteral("&Keyboard Shortcuts")),
             qPrintable(items.join(QLatin1Char(','))));
    QVERIFY(activateWindow());
    QTest::keyClick(m_window.get(), Qt::Key_F1);
    auto *guide = m_window->findChild<QDialog *>(QStringLiteral("gettingStartedDialog"));
    QTRY_VERIFY(guide && guide->isVisible());
    QVERIFY(child<QTextBrowser>(guide, "gettingStartedText")
                ->toPlainText()
                .contains(QStringLiteral("Force Release")));
    guide->close();
    child<QAction>(m_window.get(), "shortcutsAction")->trigger();
    auto *list = child<QTreeWidget>(m_window.get(), "shortcutList");
    QTRY_VERIFY(list->isVisible());
    QString forceRelease;
    for (int i = 0; i < list->topLevelItemCount(); ++i) {
        if (list->topLevelItem(i)->text(0) == QStringLiteral("Force Release"))
            forceRelease = list->topLevelItem(i)->text(1);
    }
    QCOMPARE(forceRelease, QKeySequence(QKeySequence::Delete).toString(QKeySequence::NativeText));
}

// A lock value carrying a megabyte label does not freeze the window: the table, Details and
// the raw view lay out only its start and say how large it is; Show all shows the rest.
void TestMainWindow::largeValueIsShownBounded()
{
    const NodeConfig node = startServer();
    const QByteArray label(1024 * 1024, 'x');
    {
        Connection connection(node);
        QVERIFY(connection.command(
            {"SET", "jobs:huge", "ls1 tok=tokhuge fence=1 host=web-1 pid=1 label=" + label, "PX", "600000"}));
    }
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("jobs"), {node}));
    showGroups(groups);
    QVERIFY(activateWindow());
    QVERIFY(waitForLocks(QStringLiteral("jobs"), {{"jobs:huge", {}}}));
    const QString owner =
        cellOf(QStringLiteral("jobs"), "jobs:huge", LockTableModel::Owner).data().toString();
    QVERIFY2(owner.size() < 500 && owner.contains(QStringLiteral("in all")), qPrintable(owner.left(600)));
    QVERIFY(clickLock(QStringLiteral("jobs"), "jobs:huge"));
    auto *details = child<QLabel>(m_window.get(), "owner");
    QTRY_VERIFY(details->text().contains(QStringLiteral("in all")));
    QVERIFY(details->text().size() < 500);
    auto *raw = child<QPlainTextEdit>(m_window.get(), "raw");
    QTRY_VERIFY(!raw->toPlainText().isEmpty());
    QVERIFY2(raw->toPlainText().size() <= RawValueView::RawViewBytes + 16,
             qPrintable(QString::number(raw->toPlainText().size())));
    auto *cut = child<QWidget>(m_window.get(), "rawCut");
    QVERIFY(cut->isVisible());
    QVERIFY2(
        child<QLabel>(m_window.get(), "rawCutText")->text().startsWith(QStringLiteral("Showing the first")),
        qPrintable(child<QLabel>(m_window.get(), "rawCutText")->text()));
    QTest::mouseClick(child<QToolButton>(m_window.get(), "rawShowAll"), Qt::LeftButton);
    QTRY_VERIFY(raw->toPlainText().size() > label.size());
    QVERIFY(!cut->isVisible());
}

// A groups file that cannot be read: the user is asked (a GUI user sees no stderr line) and may
// start without groups; saving later sets the unreadable file aside instead of overwriting it.
void TestMainWindow::unreadableGroupsFileIsAskedAboutAndKept()
{
    const QString path = m_dir->filePath(QStringLiteral("groups.json"));
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"version\": 1, \"groups\": [ {\"name\": \"typo\" ");
    }
    const auto loaded = GroupConfig::load(path);
    QVERIFY(!loaded);

    whenModal<QMessageBox>([](QMessageBox *box) {
        QVERIFY(box->informativeText().contains(QStringLiteral("groups.json")));
        QTest::mouseClick(child<QPushButton>(box, "startWithoutGroups"), Qt::LeftButton);
    });
    QVERIFY(groupsfile::askStartWithoutGroups(nullptr, path, loaded.error()));
    whenModal<QMessageBox>(
        [](QMessageBox *box) { QTest::mouseClick(child<QPushButton>(box, "quit"), Qt::LeftButton); });
    QVERIFY(!groupsfile::askStartWithoutGroups(nullptr, path, loaded.error()));

    // Started without groups; the operator adds one and it is saved; the broken file is kept.
    m_window->setGroups(GroupConfig{}, path);
    const NodeConfig node = startServer();
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("fixed"), {node}));
    QVERIFY(m_window->saveGroups(groups));
    const auto saved = GroupConfig::load(path);
    QVERIFY2(saved.has_value(), saved ? "" : qPrintable(saved.error()));
    QCOMPARE(saved->groups.size(), std::size_t(1));
    const QStringList kept =
        QDir(m_dir->path()).entryList({QStringLiteral("groups.json.unreadable-*")}, QDir::Files);
    QCOMPARE(kept.size(), 1);
    QFile keptFile(m_dir->filePath(kept.front()));
    QVERIFY(keptFile.open(QIODevice::ReadOnly));
    QVERIFY(keptFile.readAll().contains("\"typo\""));
    QVERIFY(logText(m_log).contains(QStringLiteral("kept as")));
}

QTEST_MAIN(TestMainWindow)
void TestMainWindow::lockColumnsFollowTheTableUntilTheOperatorSizesOne()
{
    const NodeConfig node = startServer();
    const QByteArray key = "jobs:" + QByteArray(70, 'k');
    {
        Connection connection(node);
        QVERIFY(connection.command({"SET", key,
                                    "ls1 tok=abcdefghijklmnopqrstuv fence=7 label=" + QByteArray(60, 'o'),
                                    "PX", "600000"}));
    }
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("cols"), {node}));
    m_window->resize(1280, 700);
    showGroups(groups);
    QVERIFY(waitAndSelect(QStringLiteral("cols"), key));
    auto *table = m_window->findChild<QTableView *>(QStringLiteral("lockTable"));
    QVERIFY(table);
    QHeaderView *header = table->horizontalHeader();
    const auto rowWidth = [&] {
        int width = 0;
        for (int column = 0; column < header->count(); ++column)
            width += header->isSectionHidden(column) ? 0 : header->sectionSize(column);
        return width;
    };
    // Long key and owner: cut so that the row fits the table (the last column stretches to
    // its edge), the key keeping more than the others.
    QTRY_VERIFY(rowWidth() <= table->viewport()->width() + 1);
    const int narrowKey = header->sectionSize(LockTableModel::Key);
    QVERIFY(narrowKey >= header->sectionSize(LockTableModel::Owner));

    // A wider window: the columns follow.
    m_window->resize(2000, 700);
    QTRY_VERIFY(header->sectionSize(LockTableModel::Key) > narrowKey);

    // The operator sizes a column (a double-click on the key's handle fits it to its text):
    // from then on the widths are theirs, whatever the window does.
    m_window->resize(1280, 700);
    QTRY_COMPARE(header->sectionSize(LockTableModel::Key), narrowKey);
    const int handle =
        header->sectionViewportPosition(LockTableModel::Key) + header->sectionSize(LockTableModel::Key) - 1;
    QTest::mouseDClick(header->viewport(), Qt::LeftButton, {}, QPoint(handle, header->height() / 2));
    QTRY_VERIFY(header->sectionSize(LockTableModel::Key) > narrowKey);
    const int operatorKey = header->sectionSize(LockTableModel::Key);
    m_window->resize(1700, 700);
    QTest::qWait(400);
    QCOMPARE(header->sectionSize(LockTableModel::Key), operatorKey);

    // ...also in the next session: the window remembers that they were sized by hand.
    m_window->close();
    openWindow();
    m_window->resize(1700, 700);
    showGroups(groups);
    QVERIFY(waitAndSelect(QStringLiteral("cols"), key));
    header = m_window->findChild<QTableView *>(QStringLiteral("lockTable"))->horizontalHeader();
    QTest::qWait(400);
    QCOMPARE(header->sectionSize(LockTableModel::Key), operatorKey);
}

void TestMainWindow::savedFitIsFittedAgain()
{
    // Widths the window fitted itself are not the operator's: the next session fits again.
    const NodeConfig node = startServer();
    const QByteArray key = "jobs:" + QByteArray(70, 'k');
    {
        Connection connection(node);
        QVERIFY(connection.command({"SET", key, "ls1 tok=abcdefghijklmnopqrstuv fence=7", "PX", "600000"}));
    }
    GroupConfig groups;
    groups.groups.push_back(groupOf(QStringLiteral("cols"), {node}));
    m_window->resize(2000, 700);
    showGroups(groups);
    QVERIFY(waitAndSelect(QStringLiteral("cols"), key));
    QHeaderView *header = m_window->findChild<QTableView *>(QStringLiteral("lockTable"))->horizontalHeader();
    QTRY_VERIFY(header->sectionSize(LockTableModel::Key) > 0);
    const int wideKey = header->sectionSize(LockTableModel::Key);
    m_window->close();

    openWindow();
    m_window->resize(1280, 700);
    showGroups(groups);
    QVERIFY(waitAndSelect(QStringLiteral("cols"), key));
    header = m_window->findChild<QTableView *>(QStringLiteral("lockTable"))->horizontalHeader();
    QTRY_VERIFY(header->sectionSize(LockTableModel::Key) < wideKey);
}

#include "tst_mainwindow.moc"
