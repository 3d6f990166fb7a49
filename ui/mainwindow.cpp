#include "mainwindow.h"

#include "appsettings.h"
#include "backgroundjob.h"
#include "dialogs/acquiredialog.h"
#include "dialogs/connectionsdialog.h"
#include "dialogs/extenddialog.h"
#include "dialogs/forcereleasedialog.h"
#include "dialogs/helpdialogs.h"
#include "dialogs/lockctlcommanddialog.h"
#include "dialogs/passwordprompt.h"
#include "eventlogwidget.h"
#include "inspect/secretstore.h"
#include "lockctlcommand.h"
#include "lockdetailswidget.h"
#include "lockheaderview.h"
#include "lockmonitor.h"
#include "locktext.h"
#include "lockview.h"
#include "models/lockfilterproxy.h"
#include "models/locktablemodel.h"
#include "models/namespacemodel.h"
#include "models/nodelistmodel.h"
#include "models/nodetreemodel.h"
#include "nodemonitor.h"
#include "passwordasker.h"
#include "simulator/simulatorpanel.h"
#include "statusdots.h"
#include "threadowner.h"
#include "uilogging.h"
#include "util/displaytext.h"
#include "util/glob.h"
#include "viewstyle.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>
#include <QTreeView>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QWidgetAction>
#include <algorithm>
#include <vector>

using lockscope::inspect::Admin;
using lockscope::inspect::AdminNode;
using lockscope::inspect::AdminResult;
using lockscope::inspect::AuditLog;
using lockscope::inspect::GroupConfig;
using lockscope::inspect::LockRecord;
using lockscope::inspect::NodeGroup;
using lockscope::inspect::Operator;
using lockscope::inspect::SchemaRegistry;
using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;
using namespace std::chrono_literals;

namespace {} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_registry(SchemaRegistry::builtins()), m_auditPath(AuditLog::defaultPath()),
      m_nodeModel(new NodeListModel(this)), m_nodeTreeModel(new NodeTreeModel(m_nodeModel, this)),
      m_lockModel(new LockTableModel(this)), m_lockProxy(new LockFilterProxy(this)),
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
    settings::lockTableHeader.set(m_lockHeader->saveState());
    settings::lockColumnsSized.set(m_lockHeader->userSized());
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
    m_defaultHeader = m_lockHeader->saveState();
    // The panels never take the lock table's room: docks give way below this width.
    const int em = fontMetrics().horizontalAdvance(QLatin1Char('m'));
    centralWidget()->setMinimumWidth(40 * em);

    restoreGeometry(settings::windowGeometry.get());
    restoreState(settings::windowState.get());
    m_simulatorWindow->restoreGeometry(settings::simulatorGeometry.get());
    const QByteArray header = settings::lockTableHeader.get();
    // Order, hidden columns and sorting come back; the widths count only when the operator
    // had sized a column, else they are fitted to the table again (a saved fit is stale).
    if (!header.isEmpty() && m_lockHeader->restoreState(header))
        m_lockHeader->setUserSized(settings::lockColumnsSized.get());
    // Never a layout in which the key cannot be read: such widths are fitted again.
    if (m_lockTable->isColumnHidden(LockTableModel::Key) ||
        m_lockTable->columnWidth(LockTableModel::Key) < 8 * em) {
        m_lockTable->setColumnHidden(LockTableModel::Key, false);
        m_lockHeader->setUserSized(false);
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
    m_lockTable = m_lockView->table();
    m_lockHeader = m_lockView->header();
    // A mouse press makes the row current before it selects it: on currentRowChanged alone the
    // clicked lock was not selected yet, and every action stayed disabled. A model reset clears
    // the selection without a signal.
    QItemSelectionModel *selection = m_lockTable->selectionModel();
    connect(selection, &QItemSelectionModel::currentRowChanged, this, &MainWindow::onSelectionChanged);
    connect(selection, &QItemSelectionModel::selectionChanged, this, &MainWindow::onSelectionChanged);
    connect(m_lockProxy, &QAbstractItemModel::modelReset, this, &MainWindow::onSelectionChanged);
    connect(m_lockTable, &QTableView::doubleClicked, this, [this] {
        m_details->parentWidget()->show();
        m_details->parentWidget()->raise();
    });
    connect(m_lockTable, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        if (!m_lockTable->indexAt(pos).isValid())
            return;
        QMenu menu(this);
        menu.addAction(m_extendAction);
        menu.addAction(m_forceReleaseAction);
        menu.addSeparator();
        menu.addAction(m_copyKeyAction);
        menu.addAction(m_copyValueAction);
        menu.addAction(m_lockctlAction);
        menu.exec(m_lockTable->viewport()->mapToGlobal(pos));
    });
    // The details follow the selected lock through refreshes: at most once per event-loop turn
    // (a refresh applies thousands of changes), and only when its row was touched.
    m_detailsTimer.setSingleShot(true);
    m_detailsTimer.setInterval(0);
    connect(&m_detailsTimer, &QTimer::timeout, this, &MainWindow::onSelectionChanged);
    connect(m_lockModel, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &topLeft, const QModelIndex &bottomRight) {
                const QModelIndex current =
                    m_lockProxy->mapToSource(m_lockTable->selectionModel()->currentIndex());
                if (current.isValid() && topLeft.row() <= current.row() && current.row() <= bottomRight.row())
                    m_detailsTimer.start();
            });
    // Rows leave the table on a refresh and on a filter change.
    connect(m_lockProxy, &QAbstractItemModel::rowsRemoved, this, [this] { m_detailsTimer.start(); });
    connect(m_lockModel, &LockTableModel::countsChanged, this, &MainWindow::updateLockCounts);
    connect(m_lockProxy, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateLockCounts);
    connect(m_lockProxy, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateLockCounts);
    connect(m_lockProxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateLockCounts);
    connect(m_lockProxy, &QAbstractItemModel::layoutChanged, this, &MainWindow::updateLockCounts);

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
    m_nodeTree = new QTreeView;
    m_nodeTree->setObjectName(QStringLiteral("nodeTree"));
    m_nodeTree->setModel(m_nodeTreeModel);
    m_nodeTree->setUniformRowHeights(true);
    m_nodeTree->setRootIsDecorated(true);
    m_nodeTree->setIconSize(QSize(22, 16));
    m_nodeTree->setIndentation(14);
    m_nodeTree->header()->setStretchLastSection(false);
    m_nodeTree->header()->setSectionResizeMode(NodeTreeModel::NameColumn, QHeaderView::Stretch);
    m_nodeTree->header()->setSectionResizeMode(NodeTreeModel::LatencyColumn, QHeaderView::ResizeToContents);
    useCellMargins(m_nodeTree, m_nodeTree->header());
    connect(m_nodeTree->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex &current) {
                m_lockProxy->setGroupFilter(current.data(NodeTreeModel::GroupNameRole).toString());
                updateLockCounts();
            });
    // A new set of groups: all of them open, and the lock table shows every group's locks.
    connect(m_nodeTreeModel, &QAbstractItemModel::modelReset, this, [this] {
        m_nodeTree->expandAll();
        m_nodeTree->setCurrentIndex(m_nodeTreeModel->allGroupsIndex());
    });

    m_namespaceModel = new NamespaceModel(this);
    m_namespaceModel->setSourceModel(m_lockModel);
    m_namespaceView = new QTreeView;
    m_namespaceView->setObjectName(QStringLiteral("namespaceView"));
    m_namespaceView->setModel(m_namespaceModel);
    m_namespaceView->setUniformRowHeights(true);
    m_namespaceView->header()->setStretchLastSection(false);
    m_namespaceView->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    if (m_namespaceModel->columnCount() > 1)
        m_namespaceView->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    // The "All locks" level stays open, so that the first namespaces show without a click.
    auto expandAll = [this] {
        m_namespaceView->expand(m_namespaceModel->allIndex());
    };
    connect(m_namespaceModel, &QAbstractItemModel::rowsInserted, this, expandAll);
    connect(m_namespaceModel, &QAbstractItemModel::modelReset, this, expandAll);
    connect(m_namespaceView->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex &current) {
                m_lockProxy->setNamespaceFilter(m_namespaceModel->path(current));
                updateLockCounts();
            });

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_nodeTree);
    splitter->addWidget(m_namespaceView);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    auto *dock = new QDockWidget(tr("Nodes"), this);
    dock->setObjectName(QStringLiteral("nodesDock"));
    dock->setWidget(splitter);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    resizeDocks({dock}, {fontMetrics().horizontalAdvance(QLatin1Char('m')) * 18}, Qt::Horizontal);
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
    m_simulator = new SimulatorPanel;
    m_simulator->setObjectName(QStringLiteral("simulatorPanel"));
    connect(m_simulator, &SimulatorPanel::logMessage, this, [this](const QString &text, bool error) {
        logEvent(error ? EventKind::Error : EventKind::Info, tr("Simulator"), text);
    });
    // A window of its own: beside the table, its form and charts crushed the lock columns.
    m_simulatorWindow = new QWidget(this, Qt::Window);
    m_simulatorWindow->setObjectName(QStringLiteral("simulatorWindow"));
    m_simulatorWindow->setWindowTitle(tr("LockScope Simulator"));
    auto *layout = new QVBoxLayout(m_simulatorWindow);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_simulator);
    const QRect screen = this->screen() ? this->screen()->availableGeometry() : QRect(0, 0, 1280, 800);
    m_simulatorWindow->resize(std::min(1100, screen.width() - 40), std::min(760, screen.height() - 60));
    m_simulatorWindow->installEventFilter(this);
}

void MainWindow::resetLayout()
{
    restoreState(m_defaultState);
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        dock->setFloating(false);
    m_lockHeader->restoreState(m_defaultHeader);
    m_lockTable->setColumnHidden(LockTableModel::Group, m_config.groups.size() < 2);
    if (isMaximized() || isFullScreen())
        showNormal();
    resize(defaultSize());
    m_lockHeader->resetToFitted();
    settings::forgetLayout();
    logEvent(EventKind::Info, QString(), tr("Layout reset to the first-start layout"));
}

QSize MainWindow::defaultSize() const
{
    // 1280x800 at most, and inside the screen with the window manager's frame and panels.
    const QRect screen = this->screen() ? this->screen()->availableGeometry() : QRect(0, 0, 1280, 800);
    return {std::min(1280, screen.width() - 16), std::min(800, screen.height() - 40)};
}

bool MainWindow::eventFilterSimulator(QEvent *event)
{
    if (event->type() == QEvent::Show || event->type() == QEvent::Hide)
        m_simulatorAction->setChecked(m_simulatorWindow->isVisible());
    return false;
}

void MainWindow::showSimulator()
{
    m_simulatorWindow->show();
    m_simulatorWindow->raise();
    m_simulatorWindow->activateWindow();
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

    m_acquireAction = new QAction(icon("acquire"), tr("&Acquire Lock…"), this);
    m_acquireAction->setObjectName(QStringLiteral("acquireAction"));
    m_acquireAction->setShortcut(QKeySequence::New);
    connect(m_acquireAction, &QAction::triggered, this, &MainWindow::acquireLock);

    m_extendAction = new QAction(icon("extend"), tr("&Extend…"), this);
    m_extendAction->setObjectName(QStringLiteral("extendAction"));
    m_extendAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(m_extendAction, &QAction::triggered, this, &MainWindow::extendLock);

    m_forceReleaseAction = new QAction(icon("force-release"), tr("&Force Release…"), this);
    m_forceReleaseAction->setObjectName(QStringLiteral("forceReleaseAction"));
    m_forceReleaseAction->setShortcut(QKeySequence::Delete);
    connect(m_forceReleaseAction, &QAction::triggered, this, &MainWindow::forceReleaseLock);

    m_copyKeyAction = new QAction(icon("copy"), tr("&Copy Key"), this);
    m_copyKeyAction->setObjectName(QStringLiteral("copyKeyAction"));
    m_copyKeyAction->setShortcut(QKeySequence::Copy);
    m_copyKeyAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_lockTable->addAction(m_copyKeyAction);
    connect(m_copyKeyAction, &QAction::triggered, this, &MainWindow::copyKey);

    m_copyValueAction = new QAction(tr("Copy &Value"), this);
    m_copyValueAction->setObjectName(QStringLiteral("copyValueAction"));
    m_copyValueAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    connect(m_copyValueAction, &QAction::triggered, this, &MainWindow::copyValue);

    m_lockctlAction = new QAction(icon("terminal"), tr("Open in &lockctl…"), this);
    m_lockctlAction->setObjectName(QStringLiteral("lockctlAction"));
    m_lockctlAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    m_lockctlAction->setToolTip(tr("Show the equivalent lockctl commands"));
    connect(m_lockctlAction, &QAction::triggered, this, &MainWindow::showLockctlCommand);

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
    lockMenu->addAction(m_acquireAction);
    lockMenu->addAction(m_extendAction);
    lockMenu->addAction(m_forceReleaseAction);
    lockMenu->addSeparator();
    lockMenu->addAction(m_copyKeyAction);
    lockMenu->addAction(m_copyValueAction);
    lockMenu->addAction(m_lockctlAction);

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
    toolbar->addAction(m_acquireAction);
    toolbar->addAction(m_extendAction);
    toolbar->addAction(m_forceReleaseAction);
    toolbar->addSeparator();
    toolbar->addAction(m_lockctlAction);
    toolbar->addAction(simulatorAction);
    toolbar->addAction(m_connectionsAction);
}

void MainWindow::createStatusBar()
{
    m_summaryLabel = new QLabel;
    m_summaryLabel->setObjectName(QStringLiteral("statusSummary"));
    m_countsLabel = new QLabel;
    m_countsLabel->setObjectName(QStringLiteral("lockCounts"));
    m_refreshLabel = new QLabel;
    m_refreshLabel->setObjectName(QStringLiteral("lastRefresh"));
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("scanProgress"));
    m_progress->setRange(0, 0);
    m_progress->setFixedWidth(fontMetrics().horizontalAdvance(QLatin1Char('m')) * 14);
    m_progress->setTextVisible(true);
    m_progress->hide();
    // Fixed sizes: a label whose text changes then costs a repaint, not a relayout of the whole
    // window (with a 100,000-row table, a relayout takes tens of milliseconds).
    const QFontMetrics metrics = fontMetrics();
    const int height = std::max(metrics.height() + 4, m_progress->sizeHint().height());
    auto fixWidth = [&](QWidget *widget, const QString &sample) {
        widget->setFixedSize(metrics.horizontalAdvance(sample) + metrics.horizontalAdvance(QLatin1Char('m')),
                             height);
    };
    fixWidth(m_summaryLabel, tr("%1 of %2 nodes up").arg(999).arg(999) + QStringLiteral(" · ") +
                                 tr("last check %1").arg(QStringLiteral("00:00:00")));
    fixWidth(m_countsLabel, tr("%L1 of %L2 locks").arg(999999).arg(999999) + QStringLiteral(" · ") +
                                tr("%L1 with anomalies").arg(999999));
    fixWidth(m_refreshLabel, tr("Refreshed %1 (%L2 ms)").arg(QStringLiteral("00:00:00")).arg(99999));
    m_countsLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_refreshLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_progress->setFixedHeight(height);
    statusBar()->addWidget(m_summaryLabel);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_countsLabel);
    statusBar()->addPermanentWidget(m_refreshLabel);
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
    if (!m_secrets) {
        applyGroups(config);
        return;
    }
    // Passwords not in the configuration come from the store (keychain, else this session's
    // answers). A keychain may take a while to answer: read it on the admin thread.
    const quint64 generation = m_groupsJobs.start();
    lockscope::inspect::SecretStore *store = m_secrets;
    struct Resolved
    {
        GroupConfig config;
        QList<PasswordAsker::Request> missing;
        QStringList errors;
    };
    runInBackground(
        &m_adminPool, this,
        [config, store] {
            GroupConfig resolved;
            QList<PasswordAsker::Request> missing;
            QStringList errors;
            for (const NodeGroup &group : config.groups) {
                auto resolution = lockscope::inspect::resolveCredentials(group, store);
                for (const int node : resolution.missing)
                    missing.append({group.name, node, tr("This node has an ACL user but no password")});
                errors << resolution.storeErrors;
                resolved.groups.push_back(std::move(resolution.group));
            }
            return Resolved{std::move(resolved), std::move(missing), std::move(errors)};
        },
        m_groupsJobs.ifCurrent(generation, [this](const Resolved &resolved) {
            for (const QString &error : resolved.errors)
                logEvent(EventKind::Info, QString(), tr("Password store: %1").arg(error));
            applyGroups(resolved.config);
            for (const PasswordAsker::Request &prompt : resolved.missing)
                m_passwords->ask(prompt.group, prompt.node, prompt.why);
        }));
}

void MainWindow::applyGroups(const GroupConfig &config)
{
    m_groupsJobs.start();
    m_config = config;
    m_passwords->setGroups(m_plainConfig, m_config);
    m_simulator->setGroups(m_config);

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
        if (!groupNamed(group))
            m_lockModel->removeGroup(group);
    }

    m_lockView->setHasGroups(!m_config.groups.empty());
    m_centralStack->setCurrentWidget(m_config.groups.empty() ? static_cast<QWidget *>(m_emptyLabel)
                                                             : m_lockView);
    m_lockTable->setColumnHidden(LockTableModel::Group, m_config.groups.size() < 2);
    m_lockHeader->forgetFittedGroups();
    updateSummary();
    updateActions();
    if (m_config.groups.empty())
        return;
    startMonitors();
    logEvent(EventKind::Info, QString(),
             tr("Monitoring %1")
                     .arg(locktext::counted(qint64(m_config.groups.size()), tr("group"), tr("groups"))) +
                 QStringLiteral(", ") + locktext::counted(qint64(nodes.size()), tr("node"), tr("nodes")));
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
    NodeMonitor *monitor = m_monitor;
    QMetaObject::invokeMethod(
        monitor, [monitor] { monitor->start(); }, Qt::QueuedConnection);

    m_lockMonitor = new LockMonitor(m_config, m_registry);
    m_scanThread->adopt(m_lockMonitor);
    connect(m_lockMonitor, &LockMonitor::refreshStarted, this, current([this](quint64) {
                m_progress->setRange(0, 0);
                m_progress->setFormat(tr("Scanning…"));
                m_progress->show();
            }),
            Qt::QueuedConnection);
    connect(m_lockMonitor, &LockMonitor::progress, this, current([this](quint64, quint64 keys) {
                m_progress->setFormat(tr("%L1 keys scanned").arg(keys));
            }),
            Qt::QueuedConnection);
    connect(m_lockMonitor, &LockMonitor::groupScanned, this,
            current([this](quint64, const std::shared_ptr<GroupSnapshot> &snapshot) {
                onGroupScanned(snapshot);
            }),
            Qt::QueuedConnection);
    connect(m_lockMonitor, &LockMonitor::refreshFinished, this,
            current([this](quint64 scan, std::chrono::milliseconds elapsed, bool cancelled) {
                m_progress->hide();
                if (!cancelled) {
                    m_lastRefresh = QDateTime::currentDateTime();
                    m_refreshLabel->setText(tr("Refreshed %1 (%L2 ms)")
                                                .arg(m_lastRefresh.toString(QStringLiteral("HH:mm:ss")))
                                                .arg(elapsed.count()));
                }
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
    m_auditPath = path;
}

void MainWindow::onGroupScanned(const std::shared_ptr<GroupSnapshot> &snapshot)
{
    // Said when it changes, not at every refresh; a scan that read some nodes is partial.
    QStringList failed;
    QStringList errors;
    const auto &nodes = snapshot->snapshot.nodes;
    for (const auto &node : nodes) {
        if (!node.ok) {
            failed << node.node;
            errors << node.error;
        } else if (!node.note.isEmpty()) {
            // What the ACL user may not do or read: said once per group and note.
            m_eventLog->notice(snapshot->group, node.node, node.note, {});
        }
    }
    QString problem;
    if (!failed.isEmpty() && int(failed.size()) == int(nodes.size()))
        problem = tr("Scan of group %1 failed: %2 could not be read; its locks stay as last read, "
                     "marked stale")
                      .arg(snapshot->group, failed.join(QStringLiteral(", ")));
    else if (!failed.isEmpty())
        problem = tr("Partial scan of group %1: %2 of %3 nodes read; %4 could not be read")
                      .arg(snapshot->group)
                      .arg(nodes.size() - failed.size())
                      .arg(nodes.size())
                      .arg(failed.join(QStringLiteral(", ")));
    const auto said = m_scanProblems.constFind(snapshot->group);
    if (problem != (said == m_scanProblems.cend() ? QString() : *said)) {
        if (!problem.isEmpty())
            logEvent(EventKind::Error, snapshot->group, problem, {}, errors.join(QLatin1Char('\n')));
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
    // With the first locks of each group, unless the operator sized a column (now or in an
    // earlier session).
    if (m_lockModel->rowCount() > 0)
        m_lockHeader->fitForGroup(snapshot->group);
    updateLockCounts();
    updateSummary();
}

bool MainWindow::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_simulatorWindow && m_simulatorAction)
        eventFilterSimulator(event);
    return QMainWindow::eventFilter(watched, event);
}

const NodeGroup *MainWindow::groupNamed(const QString &name) const
{
    return m_config.group(name);
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
    logTransition(row, status, previous);
    updateSummary();
}

void MainWindow::logTransition(int row, const NodeStatus &status, const std::optional<NodeStatus> &previous)
{
    const QString node = m_nodeModel->node(row).label();
    auto log = [&](EventKind kind, const QString &text) {
        logEvent(kind, node, text, status.checkedAt);
    };
    if (status.reachable) {
        const QString server = NodeListModel::serverDescription(status);
        if (!previous) {
            log(EventKind::Up, server.isEmpty() ? tr("Up") : tr("Up (%1)").arg(server));
        } else if (!previous->reachable) {
            log(EventKind::Up, server.isEmpty() ? tr("Came back up") : tr("Came back up (%1)").arg(server));
        } else if (previous->role != status.role && !previous->role.isEmpty() && !status.role.isEmpty()) {
            // A failover or a REPLICAOF changes who may hold locks; the operator must see it.
            log(EventKind::Info, tr("Role changed from %1 to %2").arg(previous->role, status.role));
        } else if (previous->version != status.version && !previous->version.isEmpty() &&
                   !status.version.isEmpty()) {
            log(EventKind::Info,
                tr("Server version changed from %1 to %2").arg(previous->version, status.version));
        }
        return;
    }
    if (!previous) {
        log(EventKind::Down, tr("Down: %1").arg(NodeListModel::failureText(status)));
    } else if (previous->reachable) {
        log(EventKind::Down, tr("Went down: %1").arg(NodeListModel::failureText(status)));
    } else if (previous->error && status.error && previous->error->kind != status.error->kind) {
        // Still down, for another reason (refused after a restart began, or a timeout once
        // the host stopped answering): worth a line, unlike a repeat of the same error.
        log(EventKind::Down, tr("Still down: %1").arg(NodeListModel::failureText(status)));
    }
}

void MainWindow::logEvent(EventKind kind, const QString &node, const QString &text, const QDateTime &at,
                          const QString &detail)
{
    m_eventLog->log(kind, node, text, at, detail);
}

void MainWindow::updateSummary()
{
    const int total = m_nodeModel->rowCount();
    if (total == 0) {
        m_summaryLabel->setText(tr("No nodes"));
        return;
    }
    const QString nodes = total == 1 ? tr("%1 of 1 node up").arg(m_nodeModel->upCount())
                                     : tr("%1 of %2 nodes up").arg(m_nodeModel->upCount()).arg(total);
    const QDateTime checked = m_nodeModel->lastChecked();
    m_summaryLabel->setText(
        checked.isNull()
            ? nodes + QStringLiteral(" · ") + tr("checking…")
            : nodes + QStringLiteral(" · ") +
                  tr("last check %1").arg(checked.toLocalTime().toString(QStringLiteral("HH:mm:ss"))));
}

void MainWindow::updateLockCounts()
{
    const int total = m_lockModel->rowCount();
    const int shown = m_lockProxy->rowCount();
    const int anomalies = m_lockModel->anomalyCount();
    QString text = shown == total
                       ? locktext::counted(total, tr("lock"), tr("locks"))
                       : tr("%L1 of %2").arg(shown).arg(locktext::counted(total, tr("lock"), tr("locks")));
    text += QStringLiteral(" · ") + tr("%L1 with anomalies").arg(anomalies);
    m_countsLabel->setText(text);
    m_lockView->updateHint();
}

// --- selection and actions -----------------------------------------------------------------

std::optional<std::pair<QString, LockRecord>> MainWindow::selectedLock() const
{
    const QModelIndex current = m_lockTable->selectionModel()->currentIndex();
    if (!current.isValid() || !m_lockTable->selectionModel()->isRowSelected(current.row(), current.parent()))
        return std::nullopt;
    const QModelIndex source = m_lockProxy->mapToSource(current);
    const LockRecord *record = m_lockModel->record(source.row());
    if (!record)
        return std::nullopt;
    return std::make_pair(m_lockModel->group(source.row()), *record);
}

bool MainWindow::selectLock(const QString &group, const QByteArray &key)
{
    const QModelIndex source = m_lockModel->indexFor(group, key);
    const QModelIndex index = m_lockProxy->mapFromSource(source);
    if (!index.isValid())
        return false;
    m_lockTable->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                              QItemSelectionModel::Rows);
    m_lockTable->scrollTo(index);
    return true;
}

void MainWindow::onSelectionChanged()
{
    // Details shows the lock the actions act on: the current row when it is selected (a row
    // that only has the keyboard focus, after Tab, is not a choice yet).
    const QModelIndex current = m_lockTable->selectionModel()->currentIndex();
    if (!current.isValid() ||
        !m_lockTable->selectionModel()->isRowSelected(current.row(), current.parent())) {
        m_details->setRecord(QString(), nullptr);
    } else {
        const int row = m_lockProxy->mapToSource(current).row();
        m_details->setRecord(m_lockModel->group(row), m_lockModel->record(row));
        m_details->setReadState(m_lockModel->lastReadAt(row), m_lockModel->isStale(row),
                                m_lockModel->staleReason(row));
    }
    updateActions();
}

QString MainWindow::readOnlyReason(const QString &group) const
{
    const NodeGroup *g = groupNamed(group);
    if (!g)
        return tr("The group %1 is no longer configured").arg(group);
    for (const auto &node : g->nodes) {
        if (node.readOnly)
            return tr("%1 is read-only: LockScope sends it no writes").arg(node.config.label());
    }
    return {};
}

void MainWindow::updateActions()
{
    const auto selected = selectedLock();
    const bool anyGroup = !m_config.groups.empty();
    m_refreshAction->setEnabled(anyGroup);
    bool anyWritable = false;
    for (const NodeGroup &group : m_config.groups)
        anyWritable = anyWritable || readOnlyReason(group.name).isEmpty();
    m_acquireAction->setEnabled(anyWritable);
    m_acquireAction->setToolTip(anyWritable ? tr("Take a lock as the operator (Ctrl+N)")
                                            : tr("No group accepts writes (all are read-only)"));

    const QString reason = selected ? readOnlyReason(selected->first) : QString();
    const bool writable = selected && reason.isEmpty();
    m_extendAction->setEnabled(writable);
    m_forceReleaseAction->setEnabled(writable);
    const QString none = tr("Select a lock first");
    m_extendAction->setToolTip(!selected  ? none
                               : writable ? tr("Extend the selected lock; owner-checked (Ctrl+E)")
                                          : reason);
    m_forceReleaseAction->setToolTip(!selected  ? none
                                     : writable ? tr("Delete the selected lock as shown, on every node (Del)")
                                                : reason);
    m_copyKeyAction->setEnabled(selected.has_value());
    m_copyValueAction->setEnabled(selected.has_value());
    m_lockctlAction->setEnabled(selected.has_value());
}

void MainWindow::runAdmin(const QString &action, const QString &group, const QByteArray &key,
                          std::function<AdminResult(Admin &)> operation)
{
    const NodeGroup *g = groupNamed(group);
    if (!g)
        return;
    std::vector<AdminNode> nodes;
    for (const auto &node : g->nodes)
        nodes.push_back(AdminNode{node.config, node.readOnly, node.production});
    // A value: the admin thread appends to the file named when the action started, whatever
    // setAuditLogPath() does meanwhile.
    const AuditLog audit(m_auditPath);
    ++m_actionsRunning;
    logEvent(EventKind::Audit, group, tr("%1 %2 …").arg(action, QString::fromUtf8(key)));
    runInBackground(
        &m_adminPool, this,
        [group, nodes, audit, operation = std::move(operation)] {
            AuditLog actionAudit = audit;
            Admin admin(group, nodes, Operator::current(), &actionAudit);
            return operation(admin);
        },
        [this, action, group, key](const AdminResult &result) {
            --m_actionsRunning;
            logEvent(result.ok ? EventKind::Audit : EventKind::Error, group,
                     tr("%1 %2: %3").arg(action, QString::fromUtf8(key), result.message));
            for (const auto &node : result.nodes) {
                if (node.outcome != lockscope::inspect::AdminOutcome::Done)
                    logEvent(result.ok ? EventKind::Info : EventKind::Error, node.node,
                             tr("%1: %2").arg(outcomeName(node.outcome), node.detail));
            }
            emit actionFinished(action, result.ok);
            refreshLocks();
        });
}

void MainWindow::acquireLock()
{
    QString preferred;
    if (const auto selected = selectedLock())
        preferred = selected->first;
    else if (const QModelIndex current = m_nodeTree->currentIndex(); current.isValid())
        preferred = current.data(NodeTreeModel::GroupNameRole).toString();
    AcquireDialog dialog(m_config.groups, preferred, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QByteArray key = dialog.key();
    const auto ttl = dialog.ttl();
    const QString note = dialog.note();
    const auto wait = dialog.wait();
    runAdmin(tr("Acquire"), dialog.group(), key,
             [key, ttl, note, wait](Admin &admin) { return admin.acquire(key, ttl, note, wait); });
}

const NodeGroup *MainWindow::writableGroup(const QString &name)
{
    const NodeGroup *group = groupNamed(name);
    if (!group)
        return nullptr;
    if (const QString reason = readOnlyReason(name); !reason.isEmpty()) {
        // A shortcut that raced the action's state: refuse here too (core refuses as well).
        logEvent(EventKind::Error, name, reason);
        return nullptr;
    }
    return group;
}

void MainWindow::extendLock()
{
    const auto selected = selectedLock();
    const NodeGroup *group = selected ? writableGroup(selected->first) : nullptr;
    if (!group)
        return;
    ExtendDialog dialog(selected->first, selected->second, *group, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const LockRecord record = selected->second;
    const auto ttl = dialog.ttl();
    const auto mode = dialog.mode();
    runAdmin(tr("Extend"), selected->first, record.key,
             [record, ttl, mode](Admin &admin) { return admin.extend(record, ttl, mode); });
}

void MainWindow::forceReleaseLock()
{
    const auto selected = selectedLock();
    const NodeGroup *group = selected ? writableGroup(selected->first) : nullptr;
    if (!group)
        return;
    ForceReleaseDialog dialog(selected->first, selected->second, *group, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    // The operator is done with this lock: nothing stays selected, so that a second Del does
    // nothing until they pick the next lock themselves.
    m_lockTable->selectionModel()->clear();
    const LockRecord record = selected->second;
    const bool unconditional = dialog.unconditional();
    const SchemaRegistry registry = m_registry;
    runAdmin(unconditional ? tr("Force delete") : tr("Force release"), selected->first, record.key,
             [record, unconditional, registry](Admin &admin) {
                 return admin.forceRelease(record, registry, unconditional);
             });
}

void MainWindow::copyKey()
{
    if (const auto selected = selectedLock())
        QApplication::clipboard()->setText(QString::fromUtf8(selected->second.key));
}

void MainWindow::copyValue()
{
    const auto selected = selectedLock();
    if (!selected)
        return;
    QByteArray value = m_details->selectedNodeValue();
    if (value.isEmpty()) {
        for (const auto &node : selected->second.nodes) {
            if (node.present()) {
                value = node.raw.value;
                break;
            }
        }
    }
    QApplication::clipboard()->setText(QString::fromUtf8(value));
}

void MainWindow::showLockctlCommand()
{
    const auto selected = selectedLock();
    const NodeGroup *group = selected ? groupNamed(selected->first) : nullptr;
    if (!group)
        return;
    LockctlTarget target;
    target.group = *group;
    target.saved = !m_configPath.isEmpty();
    if (target.saved && m_configPath != GroupConfig::defaultPath())
        target.configPath = m_configPath;
    LockctlCommandDialog::showCommands(this, tr("lockctl: %1").arg(QString::fromUtf8(selected->second.key)),
                                       LockctlCommandDialog::commandsForRecord(target, selected->second));
}

bool MainWindow::saveGroups(const GroupConfig &config)
{
    // A file that could not be read (LockScope started without groups after saying so) is
    // kept beside, never overwritten: it may be a hand-written file with one typo.
    if (QFileInfo::exists(m_configPath) && !GroupConfig::load(m_configPath)) {
        const QString kept = m_configPath + QStringLiteral(".unreadable-") +
                             QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
        if (!QFile::rename(m_configPath, kept)) {
            logEvent(EventKind::Error, QString(),
                     tr("Could not save the groups: the unreadable %1 could not be set aside as %2")
                         .arg(m_configPath, kept));
            return false;
        }
        logEvent(EventKind::Info, QString(), tr("The unreadable groups file was kept as %1").arg(kept));
    }
    if (auto saved = config.save(m_configPath); !saved) {
        logEvent(EventKind::Error, QString(), tr("Could not save the groups: %1").arg(saved.error()));
        return false;
    }
    logEvent(EventKind::Info, QString(), tr("Saved the groups to %1").arg(m_configPath));
    return true;
}

bool MainWindow::startWithoutUnreadableGroups(QWidget *parent, const QString &path, const QString &error)
{
    QMessageBox box(QMessageBox::Critical, tr("LockScope"), tr("The groups file could not be read."),
                    QMessageBox::NoButton, parent);
    box.setObjectName(QStringLiteral("unreadableGroupsBox"));
    box.setInformativeText(tr("%1\n\nLockScope can start without groups. The file stays as it is; if you "
                              "save groups from Connections, it is first kept beside as "
                              "%2.unreadable-<time>.")
                               .arg(error, QFileInfo(path).fileName()));
    QPushButton *start = box.addButton(tr("Start without groups"), QMessageBox::AcceptRole);
    start->setObjectName(QStringLiteral("startWithoutGroups"));
    QPushButton *quit = box.addButton(tr("Quit"), QMessageBox::RejectRole);
    quit->setObjectName(QStringLiteral("quit"));
    box.setDefaultButton(start);
    box.exec();
    return box.clickedButton() == start;
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
    helpdialogs::showGettingStarted(this, {keys(m_connectionsAction), keys(m_extendAction),
                                           keys(m_forceReleaseAction), keys(m_simulatorAction),
                                           keys(m_lockctlAction)});
}

void MainWindow::showShortcuts()
{
    helpdialogs::showShortcuts(this, findChildren<QAction *>());
}

void MainWindow::showAbout()
{
    helpdialogs::showAbout(this, m_auditPath);
}
