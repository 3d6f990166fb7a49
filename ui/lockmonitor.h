#pragma once

#include "inspect/nodegroup.h"
#include "inspect/scanner.h"

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QString>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

class QTimer;

/// One group's scan, handed from the worker thread to the GUI (which may move the records out).
struct GroupSnapshot
{
    QString group;
    /// With `delta`, snapshot.records holds only the records that are new or changed since the
    /// monitor's previous scan of the group (content, or a TTL that moved), and `removed` the
    /// keys that are gone; without, it is the group's whole snapshot (its first scan).
    lockscope::inspect::Snapshot snapshot;
    std::vector<QByteArray> removed;
    bool delta = false;
    /// Keys the previous scan showed that this one did not, while a node of the group could not
    /// be read: gone, or only on the node that is down. "Can't tell" is not "no lock": the GUI
    /// keeps their last rows, marked stale, instead of removing them.
    std::vector<QByteArray> stale;
    QString staleReason; ///< which nodes could not be read, and why ("node1: connection refused")
    QDateTime readAt;    ///< when this scan of the group started (wall clock)
    /// Keys the scan read that no schema decodes and that are not lock-like, so not listed (up
    /// to LockMonitor::KeptUnlisted of them): for "keys matched your filter, none is a lock".
    std::vector<QByteArray> unlisted;
    quint64 unlistedCount = 0;
};
Q_DECLARE_METATYPE(std::shared_ptr<GroupSnapshot>)

/// Reads the locks of every configured group, on a worker thread.
///
/// Lives on a QThread it does not own (see ThreadOwner). A refresh scans the groups one after
/// another (each scan reads all nodes of the group in parallel) and hands each snapshot to the
/// GUI as soon as it is complete; the GUI only talks to it through queued calls and signals.
/// Refreshes come from the auto-refresh timer, from requestRefresh(), and, where a node
/// already publishes keyspace notifications, from those events (coalesced, and never more
/// often than every other scan's duration, so a busy keyspace cannot keep the node scanning).
/// Requests arriving during a scan are merged into one scan after it.
class LockMonitor : public QObject
{
    Q_OBJECT

public:
    static constexpr std::chrono::milliseconds DefaultInterval{5000};
    /// Names of unlisted keys kept per group and scan (GroupSnapshot::unlisted).
    static constexpr std::size_t KeptUnlisted = 20'000;

    LockMonitor(lockscope::inspect::GroupConfig config, lockscope::inspect::SchemaRegistry registry,
                QObject *parent = nullptr);
    ~LockMonitor() override;

    /// Starts the keyspace listeners and the first refresh. Call on the worker thread.
    void start();
    /// Scans every group now, or once more after the scan in progress. Worker thread.
    void requestRefresh();
    /// 0 = no automatic refresh. Worker thread.
    void setInterval(std::chrono::milliseconds interval);

    /// Any thread: makes the scan in progress stop at its next batch (its snapshot is dropped).
    void cancelScan() { m_cancel = true; }

signals:
    void refreshStarted(quint64 generation);
    /// Keys SCAN returned so far in this refresh, over all nodes of all groups (throttled).
    void progress(quint64 generation, quint64 keysScanned);
    void groupScanned(quint64 generation, const std::shared_ptr<GroupSnapshot> &snapshot);
    void refreshFinished(quint64 generation, std::chrono::milliseconds elapsed, bool cancelled);
    /// Something the operator should know (keyspace notifications off, a listener lost): `text`
    /// in short, the same for every node it concerns (so that the GUI can say it once per
    /// group), `detail` in full (what to do about it).
    void notice(const QString &group, const QString &node, const QString &text, const QString &detail);

private:
    void scanAll();
    void startListeners();
    /// From listener threads: a watched key changed somewhere.
    void keyspaceEvent();

    lockscope::inspect::GroupConfig m_config;
    lockscope::inspect::SchemaRegistry m_registry;
    std::chrono::milliseconds m_interval = DefaultInterval;
    QTimer *m_timer = nullptr;
    QTimer *m_eventTimer = nullptr;
    bool m_scanning = false;
    bool m_pending = false;
    std::chrono::milliseconds m_lastScan{0};
    quint64 m_generation = 0;
    std::atomic<bool> m_cancel{false};
    std::atomic<bool> m_stopListeners{false};
    std::vector<std::jthread> m_listeners;
    /// What the previous scan of each group showed, per key: a hash of everything displayed
    /// and the TTL deadline, so that a refresh hands the GUI only what changed.
    struct Seen
    {
        size_t content = 0;
        qint64 deadlineMs = -1; ///< steady-clock ms when the lock expires; -1 without TTL
    };
    QHash<QString, QHash<QByteArray, Seen>> m_seen;
    /// Turns a full snapshot into a delta against m_seen (and updates m_seen).
    void toDelta(GroupSnapshot &snapshot);
};
