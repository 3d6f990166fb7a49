#include "mainwindow.h"

#include "appsettings.h"
#include "backgroundjob.h"
#include "dialogs/connectionsdialog.h"
#include "dialogs/helpdialogs.h"
#include "eventlogwidget.h"
#include "groupsfile.h"
#include "inspect/secretstore.h"
#include "lockdetailswidget.h"
#include "lockheaderview.h"
#include "lockmonitor.h"
#include "locktext.h"
#include "lockview.h"
#include "models/lockfilterproxy.h"
#include "models/locktablemodel.h"
#include "models/nodelistmodel.h"
#include "models/nodetreemodel.h"
#include "nodeevents.h"
#include "nodemonitor.h"
#include "nodepanel.h"
#include "operatoractions.h"
#include "passwordasker.h"
#include "simulator/simulatorpanel.h"
#include "simulator/simulatorwindow.h"
#include "threadowner.h"
#include "viewstyle.h"
#include "windowstatusbar.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QScreen>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTableView>
#include <QToolBar>
#include <algorithm>
#include <vector>

using lockscope::inspect::AuditLog;
using lockscope::inspect::GroupConfig;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::SchemaRegistry;
using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;
using namespace std::chrono_literals;

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_registry(SchemaRegistry::builtins()), m_nodeModel(new NodeListModel(this)),
      m_nodeTreeModel(new NodeTreeModel(m_nodeModel, this)), m_lockModel(new LockTableModel(this)),
      m_lockProxy(new LockFilterProxy(this)),
      m_monitorThread(std::make_unique<ThreadOwner>(QStringLiteral("NodeMonitor"))),
      m_scanThread(std::make_unique<ThreadOwner>(QStringLiteral("LockMonitor"))),
      m_refreshInterval(NodeMonitor::DefaultInterval), m_autoRefreshInterval(LockMonitor::DefaultInterval)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("LockScope"));
    resize(defaultSize());
    setDockOptions(AnimatedDocks | AllowTabbedDocks);
    // The side panels run the full height; the event log sits under the lock table only.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);

    m_lockProxy->setSourceModel(m_lockModel);

    createLockView();
    createNodePanel();
    createDetailsPanel();
    createEventLog();
    createSimulatorPanel();
    createActions();
    createStatusBar();
    restoreWindowState();

    // Operator actions and keychain reads and writes, one at a time and in order.
    m_adminPool.setMaxThreadCount(1);
    m_passwords = new PasswordAsker(this, &m_adminPool);
    connect(m_passwords, &PasswordAsker::answered, this, [this] { setGroups(m_plainConfig, m_configPath); });
    connect(m_passwords, &PasswordAsker::message, this,
            [this](EventKind kind, const QString &node, const QString &text) { logEvent(kind, node, text); });
    m_monitorThread->start();
    m_scanThread->start();
    updateActions();
    updateSummary();
    updateLockCounts();
}

MainWindow::~MainWindow()
{
    // Stop the worker threads before the models they report to go away. This waits for a
    // probe, a scan batch or an admin action in flight, bounded by the nodes' timeouts.
    if (m_lockMonitor)
        m_lockMonitor->cancelScan();
    m_monitorThread.reset();
    m_scanThread.reset();
    m_adminPool.waitForDone();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    settings::windowGeometry.set(saveGeometry());
    settings::windowState.set(saveState());
    settings::lockTableHeader.set(m_lockView->header()->saveState());
    settings::lockColumnsSized.set(m_lockView->header()->userSized());
    settings::autoRefresh.set(m_autoRefreshAction->isChecked());
    settings::autoRefreshSeconds.set(m_intervalSpin->value());
    settings::simulatorGeometry.set(m_simulatorWindow->saveGeometry());
    // A run under way stops cleanly (faults reverted, locks released, keys checked) before the
    // window goes: this waits for its threads and its local nodes.
    m_simulator->shutdown();
    m_simulatorWindow->close();
    QMainWindow::closeEvent(event);
}

void MainWindow::restoreWindowState()
{
    // The first-start layout, for View > Reset Layout.
    m_defaultState = saveState();
    m_defaultHeader = m_lockView->header()->saveState();
    // The panels never take the lock table's room: docks give way below this width.
    const int em = fontMetrics().horizontalAdvance(QLatin1Char('m'));
    centralWidget()->setMinimumWidth(40 * em);

    restoreGeometry(settings::windowGeometry.get());
    restoreState(settings::windowState.get());
    m_simulatorWindow->restoreGeometry(settings::simulatorGeometry.get());
    settings::lockTableHeaderV1.remove(); // its column indexes are from before the Kind column
    const QByteArray header = settings::lockTableHeader.get();
    // Order, hidden columns and sorting come back; the widths count only when the operator
    // had sized a column, else they are fitted to the table again (a saved fit is stale).
    if (!header.isEmpty() && m_lockView->header()->restoreState(header))
        m_lockView->header()->setUserSized(settings::lockColumnsSized.get());
    // Never a layout in which the key cannot be read: such widths are fitted again.
    if (m_lockView->table()->isColumnHidden(LockTableModel::Key) ||
        m_lockView->table()->columnWidth(LockTableModel::Key) < 8 * em) {
        m_lockView->table()->setColumnHidden(LockTableModel::Key, false);
        m_lockView->header()->setUserSized(false);
    }
    m_autoRefreshAction->setChecked(settings::autoRefresh.get());
    const int secondsSaved = settings::autoRefreshSeconds.get();
    m_intervalSpin->setValue(std::clamp(secondsSaved, 1, 3600));
    m_autoRefreshInterval = m_autoRefreshAction->isChecked() ? std::chrono::seconds(m_intervalSpin->value())
                                                             : std::chrono::milliseconds(0);
}

// --- layout --------------------------------------------------------------------------------

void MainWindow::createLockView()
{
    m_lockView = new LockView(m_lockModel, m_lockProxy, m_registry);
    connect(m_lockView, &LockView::selectedLockChanged, this, &MainWindow::onSelectionChanged);
    connect(m_lockView, &LockView::countsChanged, this, &MainWindow::updateLockCounts);
    connect(m_lockView, &LockView::lockActivated, this, [this] {
        m_details->parentWidget()->show();
        m_details->parentWidget()->raise();
    });

    m_emptyLabel = new QLabel;
    m_emptyLabel->setObjectName(QStringLiteral("emptyStateLabel"));
    m_emptyLabel->setAlignment(Qt::AlignCenter);
    m_emptyLabel->setWordWrap(true);
    m_emptyLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_emptyLabel->setContentsMargins(48, 48, 48, 48);
    setEmptyMessage(tr("<p><b>No Redis nodes configured.</b></p>"
                       "<p>Add a node group with <b>File › Connections…</b>, start LockScope with node "
                       "URLs, for example<br><code>lockscope redis://cache-1:6379</code>,<br>"
                       "or with <code>--demo</code> to run three local demo nodes.</p>"));

    m_centralStack = new QStackedWidget;
    m_centralStack->addWidget(m_emptyLabel);
    m_centralStack->addWidget(m_lockView);
    setCentralWidget(m_centralStack);
}

void MainWindow::createNodePanel()
{
    m_nodePanel = new NodePanel(m_nodeTreeModel, m_lockModel);
    connect(m_nodePanel, &NodePanel::groupChosen, this, [this](const QString &group) {
        m_lockProxy->setGroupFilter(group);
        updateLockCounts();
    });
    connect(m_nodePanel, &NodePanel::namespaceChosen, this, [this](const QString &path) {
        m_lockProxy->setNamespaceFilter(path);
        updateLockCounts();
    });
    auto *dock = new QDockWidget(tr("Nodes"), this);
    dock->setObjectName(QStringLiteral("nodesDock"));
    dock->setWidget(m_nodePanel);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    // Room for a node name beside its latency or "breaker open" at the tree's second indent level.
    resizeDocks({dock}, {fontMetrics().horizontalAdvance(QLatin1Char('m')) * 20}, Qt::Horizontal);
}

void MainWindow::createDetailsPanel()
{
    m_details = new LockDetailsWidget;
    m_details->setObjectName(QStringLiteral("lockDetails"));
    auto *dock = new QDockWidget(tr("Details"), this);
    dock->setObjectName(QStringLiteral("detailsDock"));
    dock->setWidget(m_details);
    addDockWidget(Qt::RightDockWidgetArea, dock);
    // Wide enough for a token and the per-node table's value column at 1280x800.
    resizeDocks({dock}, {fontMetrics().horizontalAdvance(QLatin1Char('m')) * 24}, Qt::Horizontal);
}

void MainWindow::createEventLog()
{
    m_eventLog = new EventLogWidget;
    useCellMargins(m_eventLog, m_eventLog->header());

    auto *dock = new QDockWidget(tr("Event Log"), this);
    dock->setObjectName(QStringLiteral("eventLogDock"));
    dock->setAllowedAreas(Qt::BottomDockWidgetArea | Qt::TopDockWidgetArea | Qt::RightDockWidgetArea);
    dock->setWidget(m_eventLog);
    addDockWidget(Qt::BottomDockWidgetArea, dock);
    resizeDocks({dock}, {170}, Qt::Vertical);
}

void MainWindow::createSimulatorPanel()
{
    m_simulatorWindow = new SimulatorWindow(this);
    m_simulator = m_simulatorWindow->panel();
    connect(m_simulator, &SimulatorPanel::logMessage, this, [this](const QString &text, bool error) {
        logEvent(error ? EventKind::Error : EventKind::Info, tr("Simulator"), text);
    });
}

void MainWindow::resetLayout()
{
    restoreState(m_defaultState);
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        dock->setFloating(false);
    m_lockView->header()->restoreState(m_defaultHeader);
    m_lockView->table()->setColumnHidden(LockTableModel::Group, m_config.groups.size() < 2);
    if (isMaximized() || isFullScreen())
        showNormal();
    resize(defaultSize());
    m_lockView->header()->resetToFitted();
    settings::forgetLayout();
    logEvent(EventKind::Info, QString(), tr("Layout reset to the first-start layout"));
}

QSize MainWindow::defaultSize() const
{
    // 1280x800 at most, and inside the screen with the window manager's frame and panels.
    const QRect screen = this->screen() ? this->screen()->availableGeometry() : QRect(0, 0, 1280, 800);
    return {std::min(1280, screen.width() - 16), std::min(800, screen.height() - 40)};
}

void MainWindow::showSimulator()
{
    m_simulatorWindow->showAndRaise();
}

void MainWindow::createActions()
{
    auto icon = [](const char *name) {
        return QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1String(name)));
    };

    m_refreshAction = new QAction(icon("refresh"), tr("&Refresh"), this);
    m_refreshAction->setObjectName(QStringLiteral("refreshAction"));
    m_refreshAction->setShortcut(QKeySequence::Refresh);
    m_refreshAction->setToolTip(tr("Scan every group now (F5)"));
    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refreshLocks);

    m_autoRefreshAction = new QAction(icon("auto-refresh"), tr("&Auto-refresh"), this);
    m_autoRefreshAction->setObjectName(QStringLiteral("autoRefreshAction"));
    m_autoRefreshAction->setCheckable(true);
    m_autoRefreshAction->setChecked(true);
    m_autoRefreshAction->setToolTip(
        tr("Rescan periodically (and on keyspace events where the server sends them)"));
    m_intervalSpin = new QSpinBox;
    m_intervalSpin->setObjectName(QStringLiteral("autoRefreshInterval"));
    m_intervalSpin->setRange(1, 3600);
    m_intervalSpin->setValue(5);
    m_intervalSpin->setSuffix(tr(" s"));
    m_intervalSpin->setToolTip(tr("Auto-refresh interval"));
    auto applyInterval = [this] {
        setAutoRefreshInterval(m_autoRefreshAction->isChecked()
                                   ? std::chrono::seconds(m_intervalSpin->value())
                                   : std::chrono::milliseconds(0));
    };
    connect(m_autoRefreshAction, &QAction::toggled, this, applyInterval);
    connect(m_intervalSpin, &QSpinBox::valueChanged, this, applyInterval);

    m_operatorActions =
        new OperatorActions(this, &m_adminPool,
                            {
                                .selectedLock = [this] { return selectedLock(); },
                                .currentGroup = [this] { return m_nodePanel->currentGroup(); },
                                .selectedNodeValue = [this] { return m_details->selectedNodeValue(); },
                                .clearSelection = [this] { m_lockView->clearSelection(); },
                                .selectedHolder = [this] { return m_details->selectedHolder(); },
                            });
    m_details->setHolderActions(m_operatorActions->holderActions());
    connect(m_details, &LockDetailsWidget::selectedHolderChanged, m_operatorActions,
            &OperatorActions::update);
    connect(m_operatorActions, &OperatorActions::event, this,
            [this](EventKind kind, const QString &node, const QString &text) { logEvent(kind, node, text); });
    connect(m_operatorActions, &OperatorActions::finished, this, [this](const QString &action, bool ok) {
        emit actionFinished(action, ok);
        refreshLocks();
    });
    m_lockView->table()->addAction(m_operatorActions->copyKeyAction());
    m_lockView->setContextActions(m_operatorActions->lockMenuActions());

    m_simulatorAction = new QAction(icon("simulator"), tr("&Simulator"), this);
    QAction *simulatorAction = m_simulatorAction;
    simulatorAction->setObjectName(QStringLiteral("simulatorAction"));
    simulatorAction->setCheckable(true);
    simulatorAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    simulatorAction->setToolTip(
        tr("Contention simulator, in a window of its own: workers, faults and a safety "
           "checker on a group or on local nodes"));
    connect(simulatorAction, &QAction::triggered, this, [this](bool checked) {
        if (checked)
            showSimulator();
        else
            m_simulatorWindow->hide();
    });
    connect(m_simulatorWindow, &SimulatorWindow::visibilityChanged, simulatorAction, &QAction::setChecked);

    m_connectionsAction = new QAction(icon("connections"), tr("&Connections…"), this);
    m_connectionsAction->setObjectName(QStringLiteral("connectionsAction"));
    m_connectionsAction->setShortcut(QKeySequence::Preferences);
    connect(m_connectionsAction, &QAction::triggered, this, &MainWindow::editConnections);

    QMenu *fileMenu = menuBar()->addMenu(tr("&File"));
    fileMenu->addAction(m_connectionsAction);
    fileMenu->addSeparator();
    QAction *quit = fileMenu->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    QMenu *lockMenu = menuBar()->addMenu(tr("&Lock"));
    lockMenu->addAction(m_refreshAction);
    lockMenu->addAction(m_autoRefreshAction);
    lockMenu->addSeparator();
    lockMenu->addAction(m_operatorActions->acquireAction());
    for (QAction *action : m_operatorActions->lockMenuActions()) {
        if (action)
            lockMenu->addAction(action);
        else
            lockMenu->addSeparator();
    }

    QMenu *viewMenu = menuBar()->addMenu(tr("&View"));
    for (const char *name : {"nodesDock", "detailsDock", "eventLogDock"}) {
        if (auto *dock = findChild<QDockWidget *>(QLatin1String(name)))
            viewMenu->addAction(dock->toggleViewAction());
    }
    viewMenu->addAction(simulatorAction);
    viewMenu->addSeparator();
    QAction *resetLayout = viewMenu->addAction(tr("&Reset Layout"), this, &MainWindow::resetLayout);
    resetLayout->setObjectName(QStringLiteral("resetLayoutAction"));
    resetLayout->setToolTip(tr("Put the panels and the lock columns back where they were at first start"));
    viewMenu->addSeparator();
    QAction *clearLog = viewMenu->addAction(tr("&Clear Event Log"), m_eventLog, &QTreeWidget::clear);
    clearLog->setObjectName(QStringLiteral("clearEventLogAction"));

    QMenu *helpMenu = menuBar()->addMenu(tr("&Help"));
    QAction *gettingStarted =
        helpMenu->addAction(tr("&Getting Started"), this, &MainWindow::showGettingStarted);
    gettingStarted->setObjectName(QStringLiteral("gettingStartedAction"));
    gettingStarted->setShortcut(QKeySequence::HelpContents);
    QAction *shortcuts = helpMenu->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts);
    shortcuts->setObjectName(QStringLiteral("shortcutsAction"));
    helpMenu->addSeparator();
    QAction *about = helpMenu->addAction(tr("&About LockScope"), this, &MainWindow::showAbout);
    about->setMenuRole(QAction::AboutRole);

    QToolBar *toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolBar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->setIconSize(QSize(18, 18));
    toolbar->addAction(m_refreshAction);
    toolbar->addAction(m_autoRefreshAction);
    toolbar->addWidget(m_intervalSpin);
    toolbar->addSeparator();
    toolbar->addAction(m_operatorActions->acquireAction());
    toolbar->addAction(m_operatorActions->extendAction());
    toolbar->addAction(m_operatorActions->forceReleaseAction());
    toolbar->addSeparator();
    toolbar->addAction(m_operatorActions->lockctlAction());
    toolbar->addAction(simulatorAction);
    toolbar->addAction(m_connectionsAction);
}

void MainWindow::createStatusBar()
{
    m_statusBar = new WindowStatusBar;
    setStatusBar(m_statusBar);
}

// --- groups and monitors -------------------------------------------------------------------

void MainWindow::setSecretStore(lockscope::inspect::SecretStore *store)
{
    m_secrets = store;
    m_passwords->setStore(store);
}

void MainWindow::setGroups(const GroupConfig &config, const QString &configPath)
{
    m_plainConfig = config;
    m_configPath = configPath;
    // Passwords not in the configuration come from the store, read off the GUI thread.
    m_passwords->resolve(config, [this](const GroupConfig &resolved) { applyGroups(resolved); });
}

void MainWindow::applyGroups(const GroupConfig &config)
{
    m_groupsJobs.start();
    m_config = config;
    m_passwords->setGroups(m_plainConfig, m_config);
    m_simulator->setGroups(m_config);
    m_operatorActions->setGroups(m_config, m_configPath);

    if (m_monitor) {
        // The old monitors may be blocked on a node; they are deleted on their threads once
        // that returns, and whatever they still report is dropped by the generation check.
        m_monitor->deleteLater();
        m_monitor = nullptr;
    }
    if (m_lockMonitor) {
        m_lockMonitor->cancelScan();
        m_lockMonitor->deleteLater();
        m_lockMonitor = nullptr;
    }

    // One status row per distinct node, however many groups share it.
    QList<NodeConfig> nodes;
    QStringList keys;
    for (const NodeGroup &group : m_config.groups) {
        for (const auto &node : group.nodes) {
            if (!keys.contains(NodeListModel::nodeKey(node.config))) {
                keys << NodeListModel::nodeKey(node.config);
                nodes << node.config;
            }
        }
    }
    m_nodeModel->setNodes(nodes);
    m_nodeTreeModel->setGroups(m_config);

    // Rows of groups that are gone disappear; the others are merged at the next scan.
    QStringList shown;
    for (int row = 0; row < m_lockModel->rowCount(); ++row) {
        const QString group = m_lockModel->group(row);
        if (!shown.contains(group))
            shown << group;
    }
    for (const QString &group : shown) {
        if (!m_config.group(group))
            m_lockModel->removeGroup(group);
    }

    m_lockView->setHasGroups(!m_config.groups.empty());
    m_centralStack->setCurrentWidget(m_config.groups.empty() ? static_cast<QWidget *>(m_emptyLabel)
                                                             : m_lockView);
    m_lockView->table()->setColumnHidden(LockTableModel::Group, m_config.groups.size() < 2);
    m_lockView->header()->forgetFittedGroups();
    updateSummary();
    updateActions();
    if (m_config.groups.empty())
        return;
    startMonitors();
    logEvent(
        EventKind::Info, QString(),
        tr("Monitoring %1")
                .arg(locktext::counted(qint64(m_config.groups.size()), tr("%1 group"), tr("%1 groups"))) +
            QStringLiteral(", ") + locktext::counted(qint64(nodes.size()), tr("%1 node"), tr("%1 nodes")));
}

void MainWindow::startMonitors()
{
    // What the monitors of an older configuration still report is dropped.
    const quint64 generation = m_groupsJobs.current();
    const auto current = [this, generation](auto slot) {
        return m_groupsJobs.ifCurrent(generation, slot);
    };

    m_monitor = new NodeMonitor(m_nodeModel->nodes(), m_refreshInterval);
    m_monitorThread->adopt(m_monitor);
    connect(m_monitor, &NodeMonitor::statusChanged, this,
            current([this](int row, const NodeStatus &status) { onStatusChanged(row, status); }),
            Qt::QueuedConnection);
    connect(m_monitor, &NodeMonitor::breakerChanged, this,
            current([this](int row, const lockscope::redis::BreakerStatus &breaker) {
                m_nodeModel->updateBreaker(row, breaker);
            }),
            Qt::QueuedConnection);
    connect(m_monitor, &NodeMonitor::breakerTransition, this,
            current([this](int row, const lockscope::redis::BreakerEvent &event,
                           const lockscope::redis::BreakerStatus &breaker) {
                if (row < 0 || row >= m_nodeModel->rowCount())
                    return;
                m_nodeModel->updateBreaker(row, breaker);
                const NodeEvent line = breakerTransition(event, breaker);
                logEvent(line.kind, m_nodeModel->node(row).label(), line.text, event.at,
                         NodeListModel::breakerToolTip(breaker).join(QLatin1Char('\n')));
            }),
            Qt::QueuedConnection);
    NodeMonitor *monitor = m_monitor;
    QMetaObject::invokeMethod(
        monitor, [monitor] { monitor->start(); }, Qt::QueuedConnection);

    m_lockMonitor = new LockMonitor(m_config, m_registry);
    m_scanThread->adopt(m_lockMonitor);
    connect(m_lockMonitor, &LockMonitor::refreshStarted, this,
            current([this](quint64) { m_statusBar->scanStarted(); }), Qt::QueuedConnection);
    connect(m_lockMonitor, &LockMonitor::progress, this,
            current([this](quint64, quint64 keys) { m_statusBar->scanProgress(keys); }),
            Qt::QueuedConnection);
    connect(m_lockMonitor, &LockMonitor::groupScanned, this,
            current([this](quint64, const std::shared_ptr<GroupSnapshot> &snapshot) {
                onGroupScanned(snapshot);
            }),
            Qt::QueuedConnection);
    connect(m_lockMonitor, &LockMonitor::refreshFinished, this,
            current([this](quint64 scan, std::chrono::milliseconds elapsed, bool cancelled) {
                m_statusBar->scanFinished(elapsed, cancelled);
                emit locksRefreshed(scan, elapsed);
            }),
            Qt::QueuedConnection);
    connect(m_lockMonitor, &LockMonitor::notice, this,
            current([this](const QString &group, const QString &node, const QString &text,
                           const QString &detail) { m_eventLog->notice(group, node, text, detail); }),
            Qt::QueuedConnection);
    LockMonitor *lockMonitor = m_lockMonitor;
    const auto interval = m_autoRefreshInterval;
    QMetaObject::invokeMethod(
        lockMonitor,
        [lockMonitor, interval] {
            lockMonitor->setInterval(interval);
            lockMonitor->start();
        },
        Qt::QueuedConnection);
}

void MainWindow::refreshLocks()
{
    if (!m_lockMonitor)
        return;
    LockMonitor *monitor = m_lockMonitor;
    QMetaObject::invokeMethod(
        monitor, [monitor] { monitor->requestRefresh(); }, Qt::QueuedConnection);
}

void MainWindow::setAutoRefreshInterval(std::chrono::milliseconds interval)
{
    m_autoRefreshInterval = interval;
    m_intervalSpin->setEnabled(interval.count() > 0 || !m_autoRefreshAction->isChecked());
    if (!m_lockMonitor)
        return;
    LockMonitor *monitor = m_lockMonitor;
    QMetaObject::invokeMethod(
        monitor, [monitor, interval] { monitor->setInterval(interval); }, Qt::QueuedConnection);
}

void MainWindow::setRefreshInterval(std::chrono::milliseconds interval)
{
    m_refreshInterval = interval;
}

void MainWindow::setEmptyMessage(const QString &text)
{
    m_emptyLabel->setText(text);
}

void MainWindow::setAuditLogPath(const QString &path)
{
    m_operatorActions->setAuditLogPath(path);
}

void MainWindow::onGroupScanned(const std::shared_ptr<GroupSnapshot> &snapshot)
{
    // Said when it changes, not at every refresh; a scan that read some nodes is partial.
    for (const auto &node : snapshot->snapshot.nodes) {
        // What the ACL user may not do or read: said once per group and note.
        if (node.ok && !node.note.isEmpty())
            m_eventLog->notice(snapshot->group, node.node, node.note, {});
    }
    QString errors;
    const QString problem = scanProblem(snapshot->group, snapshot->snapshot.nodes, &errors);
    const auto said = m_scanProblems.constFind(snapshot->group);
    if (problem != (said == m_scanProblems.cend() ? QString() : *said)) {
        if (!problem.isEmpty())
            logEvent(EventKind::Error, snapshot->group, problem, {}, errors);
        else if (said != m_scanProblems.cend())
            logEvent(EventKind::Info, snapshot->group,
                     tr("Scan of group %1 complete again").arg(snapshot->group));
        m_scanProblems.insert(snapshot->group, problem);
    }
    // Only what changed since the monitor's previous scan (all of it the first time), applied
    // in slices so that the GUI thread never stalls on a big refresh.
    m_lockView->setUnlisted(snapshot->group, std::move(snapshot->unlisted), snapshot->unlistedCount);
    LockTableModel::GroupRead read{snapshot->readAt, std::move(snapshot->stale), snapshot->staleReason};
    m_lockModel->applyDelta(snapshot->group, std::move(snapshot->snapshot.records),
                            std::move(snapshot->removed), !snapshot->delta, std::move(read));
    fitColumnsForGroup(snapshot->group);
    updateLockCounts();
    updateSummary();
}

void MainWindow::fitColumnsForGroup(const QString &group)
{
    // With the first locks of each group, unless the operator sized a column (now or in an
    // earlier session); once the model has applied them: a change applied in slices is not in
    // the rows yet, and a fit now would size the columns for the other groups' rows only
    // ("demo-redlock" cut to "demo-r…" for good).
    if (m_lockModel->isApplying()) {
        QTimer::singleShot(20, this, [this, group] { fitColumnsForGroup(group); });
        return;
    }
    if (m_lockModel->rowCount() > 0)
        m_lockView->header()->fitForGroup(group);
}

// --- node status ---------------------------------------------------------------------------

void MainWindow::onStatusChanged(int row, const NodeStatus &status)
{
    if (row < 0 || row >= m_nodeModel->rowCount())
        return;
    const std::optional<NodeStatus> previous = m_nodeModel->status(row);
    m_nodeModel->updateStatus(row, status);
    if (status.error && lockscope::inspect::needsPassword(*status.error)) {
        // Asked at connect: the node refused us; every group that has it may ask once.
        const NodeConfig node = m_nodeModel->node(row);
        for (const NodeGroup &group : m_config.groups) {
            for (int i = 0; i < int(group.nodes.size()); ++i) {
                if (NodeListModel::nodeKey(group.nodes[size_t(i)].config) == NodeListModel::nodeKey(node))
                    m_passwords->ask(group.name, i, NodeListModel::errorText(*status.error));
            }
        }
    }
    if (const auto event = nodeTransition(previous, status))
        logEvent(event->kind, m_nodeModel->node(row).label(), event->text, status.checkedAt);
    updateSummary();
}

void MainWindow::logEvent(EventKind kind, const QString &node, const QString &text, const QDateTime &at,
                          const QString &detail)
{
    m_eventLog->log(kind, node, text, at, detail);
}

void MainWindow::updateSummary()
{
    m_statusBar->setNodes(m_nodeModel->upCount(), m_nodeModel->rowCount(), m_nodeModel->lastChecked());
}

void MainWindow::updateLockCounts()
{
    m_statusBar->setLocks(m_lockProxy->rowCount(), m_lockModel->rowCount(), m_lockModel->anomalyCount());
    m_lockView->updateHint();
}

// --- selection and actions -----------------------------------------------------------------

std::optional<std::pair<QString, LockRecord>> MainWindow::selectedLock() const
{
    return m_lockView->selectedLock();
}

bool MainWindow::selectLock(const QString &group, const QByteArray &key)
{
    return m_lockView->selectLock(group, key);
}

void MainWindow::onSelectionChanged()
{
    // Details shows the lock the actions act on.
    if (const int row = m_lockView->selectedRow(); row < 0) {
        m_details->setRecord(QString(), nullptr);
    } else {
        m_details->setRecord(m_lockModel->group(row), m_lockModel->record(row));
        m_details->setReadState(m_lockModel->lastReadAt(row), m_lockModel->isStale(row),
                                m_lockModel->staleReason(row));
    }
    updateActions();
}

void MainWindow::updateActions()
{
    m_refreshAction->setEnabled(!m_config.groups.empty());
    m_operatorActions->update();
}

bool MainWindow::saveGroups(const GroupConfig &config)
{
    const groupsfile::SaveReport report = groupsfile::save(config, m_configPath);
    for (const auto &line : report.lines)
        logEvent(line.kind, QString(), line.text);
    return report.ok;
}

void MainWindow::editConnections()
{
    ConnectionsDialog dialog(m_plainConfig, m_secrets, this);
    // Keychain jobs in order with the window's own, on a pool drained before the store goes.
    dialog.setStorePool(&m_adminPool);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const GroupConfig config = dialog.config();
    m_passwords->forgetAsked(); // the operator may have fixed a password: ask again where it fails
    if (!m_configPath.isEmpty()) {
        saveGroups(config);
    } else {
        logEvent(EventKind::Info, QString(),
                 tr("These groups are used for this session only (demo or command-line nodes); "
                    "export them from the Connections dialog to keep them"));
    }
    setGroups(config, m_configPath);
}

void MainWindow::showGettingStarted()
{
    const auto keys = [](const QAction *action) {
        return action->shortcut().toString(QKeySequence::NativeText);
    };
    helpdialogs::showGettingStarted(this,
                                    {keys(m_connectionsAction), keys(m_operatorActions->extendAction()),
                                     keys(m_operatorActions->forceReleaseAction()), keys(m_simulatorAction),
                                     keys(m_operatorActions->lockctlAction())});
}

void MainWindow::showShortcuts()
{
    helpdialogs::showShortcuts(this, findChildren<QAction *>());
}

void MainWindow::showAbout()
{
    helpdialogs::showAbout(this, m_operatorActions->auditLogPath());
}
