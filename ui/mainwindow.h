#pragma once

#include "backgroundjob.h"
#include "eventlogwidget.h"
#include "inspect/admin.h"
#include "inspect/lockschema.h"
#include "inspect/nodegroup.h"
#include "redis/nodeconfig.h"
#include "redis/nodeprobe.h"

#include <QDateTime>
#include <QMainWindow>
#include <QSet>
#include <QTimer>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

class LockDetailsWidget;
class LockFilterProxy;
class LockView;
class LockMonitor;
class LockTableModel;
class NodeListModel;
class NodeMonitor;
class NodePanel;
class OperatorActions;
class PasswordAsker;
class NodeTreeModel;
class QAction;
class QLabel;
class QMenu;
class QSpinBox;
class QStackedWidget;
class SimulatorPanel;
class SimulatorWindow;
class ThreadOwner;
class WindowStatusBar;
struct GroupSnapshot;

namespace lockscope::inspect {
struct LockRecord;
class SecretStore;
} // namespace lockscope::inspect

/// The operator window. Node groups and their nodes on the left (status, latency, badges),
/// the lock table in the centre with its filters, the selected lock's details on the right,
/// the event and audit log at the bottom, and a status bar with the last refresh, a progress
/// bar while a scan runs and the counts.
///
/// This window never talks to Redis itself: node probes run in a NodeMonitor, scans in a
/// LockMonitor, and operator actions (acquire, extend, force-release) on an admin thread; the
/// GUI thread only receives their results.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    using EventKind = EventLogWidget::Kind;

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Shows these groups and starts monitoring them, replacing the previous ones.
    /// `configPath` is where the Connections dialog saves changes; empty = not saved (demo
    /// groups, nodes given on the command line).
    void setGroups(const lockscope::inspect::GroupConfig &config, const QString &configPath = {});
    /// The groups as configured (passwords from the store are not in here).
    const lockscope::inspect::GroupConfig &groups() const { return m_plainConfig; }
    /// Where passwords come from and go to (keychain, else asked at connect). Not owned.
    void setSecretStore(lockscope::inspect::SecretStore *store);
    /// Text shown in place of the lock table while there are no groups.
    void setEmptyMessage(const QString &text);
    /// How often node probes run (for tests; the default is a second).
    void setRefreshInterval(std::chrono::milliseconds interval);
    /// Automatic lock refresh; 0 switches it off.
    void setAutoRefreshInterval(std::chrono::milliseconds interval);
    /// Saves `config` to the groups file (when there is one); a file there that cannot be read
    /// is first set aside as <file>.unreadable-<time>, never overwritten. False on failure (logged).
    bool saveGroups(const lockscope::inspect::GroupConfig &config);
    /// Appends a line to the event log. `node` may be empty; `at` defaults to now; `detail` (the
    /// whole story: what to do, every node's error) goes in the line's tooltip.
    void logEvent(EventKind kind, const QString &node, const QString &text, const QDateTime &at = {},
                  const QString &detail = {});
    /// Audit log file for operator actions (default AuditLog::defaultPath()).
    void setAuditLogPath(const QString &path);

    NodeListModel *nodeModel() const { return m_nodeModel; }
    LockTableModel *lockModel() const { return m_lockModel; }
    LockFilterProxy *lockProxy() const { return m_lockProxy; }
    /// The lock selected in the table, if any (a copy, as shown).
    std::optional<std::pair<QString, lockscope::inspect::LockRecord>> selectedLock() const;
    /// Selects the row of `key` in `group`; false when it is not shown.
    bool selectLock(const QString &group, const QByteArray &key);
    /// The details pane of the selected lock.
    LockDetailsWidget *details() const { return m_details; }
    /// The contention simulator, docked ("Simulator"; hidden until asked for).
    SimulatorPanel *simulator() const { return m_simulator; }
    /// Shows the simulator's dock and brings it to the front.
    void showSimulator();

public slots:
    void refreshLocks();

signals:
    /// A lock refresh finished (every group scanned, or cancelled).
    void locksRefreshed(quint64 generation, std::chrono::milliseconds elapsed);
    /// An operator action finished; `ok` as AdminResult::ok.
    void actionFinished(const QString &action, bool ok);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createLockView();
    void createNodePanel();
    void createDetailsPanel();
    void createEventLog();
    void createSimulatorPanel();
    void createStatusBar();
    void restoreWindowState();

    /// Shows `config` (passwords already filled in) and starts the monitors.
    void applyGroups(const lockscope::inspect::GroupConfig &config);
    void startMonitors();
    /// A node's new status: shown, logged when it is worth a line (nodeTransition()), and a
    /// refused password asked for ("asked at connect").
    void onStatusChanged(int row, const lockscope::redis::NodeStatus &status);
    void onGroupScanned(const std::shared_ptr<GroupSnapshot> &snapshot);
    void onSelectionChanged();
    void updateActions();
    void updateSummary();
    void updateLockCounts();
    /// Fits the lock table's columns to `group`'s first locks once the model has applied them.
    void fitColumnsForGroup(const QString &group);

    void editConnections();
    void showAbout();

    lockscope::inspect::GroupConfig m_plainConfig; ///< as configured, for the dialog and saving
    lockscope::inspect::GroupConfig m_config;      ///< with passwords from the store: what runs
    QString m_configPath;
    lockscope::inspect::SchemaRegistry m_registry;
    lockscope::inspect::SecretStore *m_secrets = nullptr;
    PasswordAsker *m_passwords = nullptr;         ///< asks for the passwords nodes refuse us
    OperatorActions *m_operatorActions = nullptr; ///< acquire, extend, force-release, copy, lockctl

    // Node status: one NodeListModel row per distinct node; the tree shows them per group.
    NodeListModel *m_nodeModel = nullptr;
    NodeTreeModel *m_nodeTreeModel = nullptr; ///< groups -> nodes, over m_nodeModel
    NodePanel *m_nodePanel = nullptr;         ///< node tree and key namespaces

    LockTableModel *m_lockModel = nullptr;
    LockFilterProxy *m_lockProxy = nullptr;
    QStackedWidget *m_centralStack = nullptr;
    QLabel *m_emptyLabel = nullptr;
    LockView *m_lockView = nullptr; ///< filter bar, lock table and its header
    LockDetailsWidget *m_details = nullptr;
    EventLogWidget *m_eventLog = nullptr;
    SimulatorPanel *m_simulator = nullptr;
    SimulatorWindow *m_simulatorWindow = nullptr;
    QAction *m_simulatorAction = nullptr;
    QByteArray m_defaultState;  ///< the docks at first start, for Reset Layout
    QByteArray m_defaultHeader; ///< the lock table's header at first start
    void resetLayout();
    QSize defaultSize() const;
    void showGettingStarted();
    void showShortcuts();

    WindowStatusBar *m_statusBar = nullptr;

    QAction *m_refreshAction = nullptr;
    QAction *m_autoRefreshAction = nullptr;
    QSpinBox *m_intervalSpin = nullptr;
    QAction *m_connectionsAction = nullptr;

    std::unique_ptr<ThreadOwner> m_monitorThread;
    std::unique_ptr<ThreadOwner> m_scanThread;
    /// Live on their threads; only deleted through deleteLater() from here.
    NodeMonitor *m_monitor = nullptr;
    LockMonitor *m_lockMonitor = nullptr;
    /// Operator actions and keychain reads and writes (one thread: in order).
    QThreadPool m_adminPool;
    /// A generation per configuration (setGroups()); what monitors and jobs report for an older
    /// one is dropped.
    JobTracker m_groupsJobs;
    std::chrono::milliseconds m_refreshInterval;
    std::chrono::milliseconds m_autoRefreshInterval;
    /// The last scan problem logged per group ("" = complete): logged again only when it changes.
    QHash<QString, QString> m_scanProblems;
};
