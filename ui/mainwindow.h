#pragma once

#include "redis/nodeconfig.h"
#include "redis/nodeprobe.h"

#include <QList>
#include <QMainWindow>
#include <chrono>
#include <memory>
#include <optional>

class NodeListModel;
class NodeMonitor;
class QLabel;
class QSortFilterProxyModel;
class QStackedWidget;
class QTableView;
class QTreeWidget;
class ThreadOwner;

/// The operator window: the node table in the centre, the event log docked at the bottom, a
/// one-line summary in the status bar. Node status comes from a NodeMonitor on a worker
/// thread; this window never talks to Redis itself.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    enum class EventKind
    {
        Info,
        Up,
        Down,
        Error
    };

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Shows these nodes and starts monitoring them, replacing the previous ones.
    void setNodes(const QList<lockscope::redis::NodeConfig> &nodes);
    /// Text shown in place of the node table while there are no nodes.
    void setEmptyMessage(const QString &text);
    void setRefreshInterval(std::chrono::milliseconds interval);
    /// Appends a line to the event log. `node` may be empty for application events; `at`
    /// defaults to now.
    void logEvent(EventKind kind, const QString &node, const QString &text, const QDateTime &at = {});

    NodeListModel *nodeModel() const { return m_model; }

private:
    void createActions();
    void createEventLog();
    void onStatusChanged(int row, const lockscope::redis::NodeStatus &status);
    void logTransition(int row, const lockscope::redis::NodeStatus &status,
                       const std::optional<lockscope::redis::NodeStatus> &previous);
    void updateSummary();
    void updateColumnWidths();

    NodeListModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QStackedWidget *m_centralStack = nullptr;
    QLabel *m_emptyLabel = nullptr;
    QTableView *m_nodeTable = nullptr;
    QTreeWidget *m_eventLog = nullptr;
    QLabel *m_summaryLabel = nullptr;

    std::unique_ptr<ThreadOwner> m_monitorThread;
    /// Lives on m_monitorThread; only deleted through deleteLater() from here.
    NodeMonitor *m_monitor = nullptr;
    /// Bumped on every setNodes(); statuses of an older node list are dropped.
    quint64 m_generation = 0;
    std::chrono::milliseconds m_refreshInterval;
};
