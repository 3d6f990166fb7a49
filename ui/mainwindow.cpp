#include "mainwindow.h"

#include "nodelistmodel.h"
#include "nodemonitor.h"
#include "statusdotdelegate.h"
#include "threadowner.h"
#include "uilogging.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QProxyStyle>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTableView>
#include <QTreeWidget>

using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;

namespace {

// The event log keeps the most recent entries only; an unattended window must not grow
// without bound while a flapping node logs every transition.
constexpr int MaxLogEntries = 2000;

const QColor InfoColor(0x3b, 0x7d, 0xd8);

enum LogColumn
{
    LogTimeColumn,
    LogNodeColumn,
    LogEventColumn
};

/// Wider text margins in table cells: with the styles' 3 px, a right-aligned number runs into
/// the left-aligned text of the next column ("0.10 ms7.0.15").
class CellMarginStyle : public QProxyStyle
{
public:
    int pixelMetric(PixelMetric metric, const QStyleOption *option, const QWidget *widget) const override
    {
        // The header gets the same extra margin, so that titles line up with the cells.
        if (metric == PM_FocusFrameHMargin || metric == PM_HeaderMargin)
            return QProxyStyle::pixelMetric(metric, option, widget) + 4;
        return QProxyStyle::pixelMetric(metric, option, widget);
    }
};

void useCellMargins(QAbstractItemView *view, QHeaderView *header)
{
    auto *style = new CellMarginStyle;
    style->setParent(view);
    view->setStyle(style);
    header->setStyle(style);
}

QString serverDescription(const NodeStatus &status)
{
    QStringList parts;
    if (!status.version.isEmpty())
        parts << QStringLiteral("Redis ") + status.version;
    if (!status.role.isEmpty())
        parts << status.role;
    if (!status.mode.isEmpty() && status.mode != QLatin1String("standalone") && status.mode != status.role)
        parts << status.mode;
    return parts.join(QStringLiteral(", "));
}

QString errorOf(const NodeStatus &status)
{
    return status.error ? NodeListModel::errorText(*status.error) : QObject::tr("no answer");
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_model(new NodeListModel(this)), m_proxy(new QSortFilterProxyModel(this)),
      m_monitorThread(std::make_unique<ThreadOwner>(QStringLiteral("NodeMonitor"))),
      m_refreshInterval(NodeMonitor::DefaultInterval)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("LockScope"));
    resize(1100, 700);

    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(NodeListModel::RawValueRole);
    m_proxy->setSortCaseSensitivity(Qt::CaseInsensitive);

    m_nodeTable = new QTableView;
    m_nodeTable->setObjectName(QStringLiteral("nodeTable"));
    m_nodeTable->setModel(m_proxy);
    m_nodeTable->setItemDelegateForColumn(NodeListModel::NodeColumn, new StatusDotDelegate(m_nodeTable));
    m_nodeTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_nodeTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_nodeTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_nodeTable->setAlternatingRowColors(true);
    m_nodeTable->setShowGrid(false);
    m_nodeTable->setWordWrap(false);
    m_nodeTable->setTextElideMode(Qt::ElideRight);
    m_nodeTable->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    useCellMargins(m_nodeTable, m_nodeTable->horizontalHeader());
    m_nodeTable->verticalHeader()->hide();
    m_nodeTable->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_nodeTable->verticalHeader()->setDefaultSectionSize(fontMetrics().height() * 2);
    QHeaderView *header = m_nodeTable->horizontalHeader();
    header->setHighlightSections(false);
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionResizeMode(NodeListModel::StatusColumn, QHeaderView::Stretch);
    header->setSortIndicatorClearable(true);
    // Configured order first; the operator may sort by any column, including back to none.
    m_nodeTable->setSortingEnabled(true);
    header->setSortIndicator(-1, Qt::AscendingOrder);

    m_emptyLabel = new QLabel;
    m_emptyLabel->setObjectName(QStringLiteral("emptyStateLabel"));
    m_emptyLabel->setAlignment(Qt::AlignCenter);
    m_emptyLabel->setWordWrap(true);
    m_emptyLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_emptyLabel->setContentsMargins(48, 48, 48, 48);
    setEmptyMessage(tr("<p><b>No Redis nodes configured.</b></p>"
                       "<p>Start LockScope with node URLs, for example<br>"
                       "<code>lockscope redis://cache-1:6379 rediss://user@cache-2:6380</code>,<br>"
                       "or with <code>--demo</code> to run three local demo nodes.</p>"));

    m_centralStack = new QStackedWidget;
    m_centralStack->addWidget(m_emptyLabel);
    m_centralStack->addWidget(m_nodeTable);
    setCentralWidget(m_centralStack);

    createEventLog();
    createActions();

    m_summaryLabel = new QLabel;
    m_summaryLabel->setObjectName(QStringLiteral("statusSummary"));
    statusBar()->addWidget(m_summaryLabel, 1);
    updateSummary();

    m_monitorThread->start();
}

MainWindow::~MainWindow()
{
    // Stop the monitor thread before the model it reports to goes away. This waits for a
    // probe in flight, bounded by the node's timeouts; it only happens at shutdown.
    m_monitorThread.reset();
}

void MainWindow::createEventLog()
{
    m_eventLog = new QTreeWidget;
    m_eventLog->setObjectName(QStringLiteral("eventLog"));
    m_eventLog->setColumnCount(3);
    m_eventLog->setHeaderLabels({tr("Time"), tr("Node"), tr("Event")});
    m_eventLog->setRootIsDecorated(false);
    m_eventLog->setUniformRowHeights(true);
    m_eventLog->setAlternatingRowColors(true);
    m_eventLog->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_eventLog->setWordWrap(false);
    m_eventLog->setTextElideMode(Qt::ElideRight);
    m_eventLog->header()->setStretchLastSection(true);
    useCellMargins(m_eventLog, m_eventLog->header());
    const int digitWidth = fontMetrics().horizontalAdvance(QStringLiteral("00:00:00"));
    m_eventLog->setColumnWidth(LogTimeColumn, digitWidth + 48);
    m_eventLog->setColumnWidth(LogNodeColumn, fontMetrics().horizontalAdvance(QLatin1Char('m')) * 12);

    auto *dock = new QDockWidget(tr("Event Log"), this);
    dock->setObjectName(QStringLiteral("eventLogDock"));
    dock->setAllowedAreas(Qt::BottomDockWidgetArea | Qt::TopDockWidgetArea | Qt::RightDockWidgetArea);
    dock->setWidget(m_eventLog);
    addDockWidget(Qt::BottomDockWidgetArea, dock);
    resizeDocks({dock}, {220}, Qt::Vertical);
}

void MainWindow::createActions()
{
    QMenu *fileMenu = menuBar()->addMenu(tr("&File"));
    QAction *quit = fileMenu->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    QMenu *viewMenu = menuBar()->addMenu(tr("&View"));
    auto *dock = findChild<QDockWidget *>(QStringLiteral("eventLogDock"));
    viewMenu->addAction(dock->toggleViewAction());
    QAction *clearLog = viewMenu->addAction(tr("&Clear Event Log"), m_eventLog, &QTreeWidget::clear);
    clearLog->setObjectName(QStringLiteral("clearEventLogAction"));

    QMenu *helpMenu = menuBar()->addMenu(tr("&Help"));
    QAction *about = helpMenu->addAction(tr("&About LockScope"), this, [this] {
        QMessageBox::about(this, tr("About LockScope"),
                           tr("<h3>LockScope %1</h3>"
                              "<p>Inspect, operate and simulate distributed locks on Redis.</p>"
                              "<p>Built with Qt %2.</p>")
                               .arg(QApplication::applicationVersion(), QString::fromLatin1(qVersion())));
    });
    about->setMenuRole(QAction::AboutRole);
}

void MainWindow::setNodes(const QList<NodeConfig> &nodes)
{
    const quint64 generation = ++m_generation;
    if (m_monitor) {
        // The old monitor may be blocked in a probe; it is deleted on its thread once that
        // returns, and whatever it still reports is dropped by the generation check below.
        m_monitor->deleteLater();
        m_monitor = nullptr;
    }

    m_model->setNodes(nodes);
    m_centralStack->setCurrentWidget(nodes.isEmpty() ? static_cast<QWidget *>(m_emptyLabel) : m_nodeTable);
    updateColumnWidths();
    updateSummary();
    if (nodes.isEmpty())
        return;

    m_monitor = new NodeMonitor(nodes, m_refreshInterval);
    m_monitorThread->adopt(m_monitor);
    connect(
        m_monitor, &NodeMonitor::statusChanged, this,
        [this, generation](int row, const NodeStatus &status) {
            if (generation == m_generation)
                onStatusChanged(row, status);
        },
        Qt::QueuedConnection);
    NodeMonitor *monitor = m_monitor;
    QMetaObject::invokeMethod(
        monitor, [monitor] { monitor->start(); }, Qt::QueuedConnection);

    logEvent(EventKind::Info, QString(),
             nodes.size() == 1 ? tr("Monitoring 1 node") : tr("Monitoring %1 nodes").arg(nodes.size()));
}

void MainWindow::setEmptyMessage(const QString &text)
{
    m_emptyLabel->setText(text);
}

void MainWindow::setRefreshInterval(std::chrono::milliseconds interval)
{
    m_refreshInterval = interval;
}

void MainWindow::logEvent(EventKind kind, const QString &node, const QString &text, const QDateTime &at)
{
    const QDateTime time = at.isValid() ? at.toLocalTime() : QDateTime::currentDateTime();
    auto *item = new QTreeWidgetItem;
    item->setText(LogTimeColumn, time.toString(QStringLiteral("HH:mm:ss")));
    item->setToolTip(LogTimeColumn, QLocale().toString(time, QLocale::LongFormat));
    item->setText(LogNodeColumn, node);
    item->setText(LogEventColumn, text);
    item->setToolTip(LogEventColumn, text);
    item->setData(LogTimeColumn, Qt::UserRole, int(kind));
    switch (kind) {
    case EventKind::Up:
        item->setIcon(LogTimeColumn, StatusDotDelegate::stateIcon(int(NodeListModel::State::Up)));
        break;
    case EventKind::Down:
    case EventKind::Error:
        item->setIcon(LogTimeColumn, StatusDotDelegate::stateIcon(int(NodeListModel::State::Down)));
        break;
    case EventKind::Info:
        item->setIcon(LogTimeColumn, StatusDotDelegate::dotIcon(InfoColor));
        break;
    }

    const bool atBottom = [this] {
        const QScrollBar *bar = m_eventLog->verticalScrollBar();
        return bar->value() == bar->maximum();
    }();
    m_eventLog->addTopLevelItem(item);
    while (m_eventLog->topLevelItemCount() > MaxLogEntries)
        delete m_eventLog->takeTopLevelItem(0);
    if (atBottom)
        m_eventLog->scrollToItem(item);
}

void MainWindow::onStatusChanged(int row, const NodeStatus &status)
{
    if (row < 0 || row >= m_model->rowCount())
        return;
    const std::optional<NodeStatus> previous = m_model->status(row);
    m_model->updateStatus(row, status);
    logTransition(row, status, previous);
    updateSummary();
}

void MainWindow::logTransition(int row, const NodeStatus &status, const std::optional<NodeStatus> &previous)
{
    const QString node = m_model->node(row).label();
    auto log = [&](EventKind kind, const QString &text) {
        logEvent(kind, node, text, status.checkedAt);
    };
    if (status.reachable) {
        const QString server = serverDescription(status);
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
        log(EventKind::Down, tr("Down: %1").arg(errorOf(status)));
    } else if (previous->reachable) {
        log(EventKind::Down, tr("Went down: %1").arg(errorOf(status)));
    } else if (previous->error && status.error && previous->error->kind != status.error->kind) {
        // Still down, for another reason (e.g. refused after a restart began, or a timeout
        // once the host stopped answering): worth a line, unlike a repeat of the same error.
        log(EventKind::Down, tr("Still down: %1").arg(errorOf(status)));
    }
}

void MainWindow::updateSummary()
{
    const int total = m_model->rowCount();
    if (total == 0) {
        m_summaryLabel->setText(tr("No nodes"));
        return;
    }
    const QString nodes = total == 1 ? tr("%1 of 1 node up").arg(m_model->upCount())
                                     : tr("%1 of %2 nodes up").arg(m_model->upCount()).arg(total);
    const QDateTime checked = m_model->lastChecked();
    if (checked.isNull()) {
        m_summaryLabel->setText(nodes + QStringLiteral(" · ") + tr("checking…"));
        return;
    }
    m_summaryLabel->setText(
        nodes + QStringLiteral(" · ") +
        tr("last check %1").arg(checked.toLocalTime().toString(QStringLiteral("HH:mm:ss"))));
}

void MainWindow::updateColumnWidths()
{
    const QFontMetrics metrics = m_nodeTable->fontMetrics();
    const int padding = metrics.horizontalAdvance(QLatin1Char('m')) * 2;
    auto widthFor = [&](int column, const QString &sample) {
        int width = metrics.horizontalAdvance(sample);
        for (int row = 0; row < m_model->rowCount(); ++row)
            width = std::max(width, metrics.horizontalAdvance(
                                        m_model->index(row, column).data(Qt::DisplayRole).toString()));
        return width + padding;
    };
    // Widths fit the widest value the column can take, so that values appearing with the
    // first probe never get elided; the status column takes the rest.
    m_nodeTable->setColumnWidth(NodeListModel::NodeColumn,
                                widthFor(NodeListModel::NodeColumn, tr("Node")) + 32);
    m_nodeTable->setColumnWidth(NodeListModel::AddressColumn,
                                widthFor(NodeListModel::AddressColumn, QStringLiteral("127.0.0.1:65535")));
    m_nodeTable->setColumnWidth(NodeListModel::LatencyColumn,
                                widthFor(NodeListModel::LatencyColumn, QStringLiteral("000.00 ms")));
    m_nodeTable->setColumnWidth(NodeListModel::VersionColumn,
                                widthFor(NodeListModel::VersionColumn, QStringLiteral("00.00.00")));
    m_nodeTable->setColumnWidth(NodeListModel::RoleColumn,
                                widthFor(NodeListModel::RoleColumn, QStringLiteral("replica (cluster)")));
    m_nodeTable->setColumnWidth(NodeListModel::CheckedColumn,
                                widthFor(NodeListModel::CheckedColumn, tr("Last Checked")));
}
