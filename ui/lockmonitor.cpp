#include "lockmonitor.h"

#include "inspect/keyspace.h"
#include "redis/connection.h"
#include "uilogging.h"

#include <QElapsedTimer>
#include <QThread>
#include <QTimer>

using lockscope::inspect::GroupConfig;
using lockscope::inspect::KeyspaceListener;
using lockscope::inspect::Scanner;
using lockscope::inspect::ScanOptions;
using lockscope::inspect::ScanProgress;
using lockscope::inspect::SchemaRegistry;
using lockscope::redis::NodeConfig;

namespace {

/// A listener that lost its connection tries again after this long.
constexpr std::chrono::seconds ListenerRetry{5};

} // namespace

LockMonitor::LockMonitor(GroupConfig config, SchemaRegistry registry, QObject *parent)
    : QObject(parent), m_config(std::move(config)), m_registry(std::move(registry))
{
    qRegisterMetaType<std::shared_ptr<GroupSnapshot>>();
    qRegisterMetaType<std::chrono::milliseconds>();
}

LockMonitor::~LockMonitor()
{
    m_cancel = true;
    m_stopListeners = true;
    // The jthreads join here; a listener notices the flag within its poll interval.
}

void LockMonitor::start()
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_timer)
        return;
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, &LockMonitor::requestRefresh);
    m_eventTimer = new QTimer(this);
    m_eventTimer->setSingleShot(true);
    connect(m_eventTimer, &QTimer::timeout, this, &LockMonitor::requestRefresh);
    startListeners();
    requestRefresh();
}

void LockMonitor::setInterval(std::chrono::milliseconds interval)
{
    m_interval = interval;
    if (!m_timer)
        return;
    if (m_interval.count() <= 0)
        m_timer->stop();
    else if (!m_scanning)
        m_timer->start(m_interval);
}

void LockMonitor::requestRefresh()
{
    if (m_scanning) {
        m_pending = true;
        return;
    }
    scanAll();
}

void LockMonitor::scanAll()
{
    m_scanning = true;
    m_cancel = false;
    if (m_timer)
        m_timer->stop();
    const quint64 generation = ++m_generation;
    emit refreshStarted(generation);
    QElapsedTimer elapsed;
    elapsed.start();

    // Keys scanned so far: per group and node, summed for the signal, which goes out at most
    // ten times a second (a 300,000-key scan would otherwise post thousands of events).
    std::atomic<quint64> scannedBefore{0};
    std::atomic<qint64> lastProgressMs{-1000};
    bool cancelled = false;
    for (const auto &group : m_config.groups) {
        std::vector<NodeConfig> nodes;
        for (const auto &node : group.nodes)
            nodes.push_back(node.config);
        const Scanner scanner(std::move(nodes), m_registry);
        ScanOptions options;
        options.match = group.match;
        // Locks of libraries LockScope does not know still show (raw) when their key says lock;
        // the names of the other keys are kept for the empty table's hint.
        options.lockLikeRaw = true;
        options.keepUnlisted = KeptUnlisted;
        std::vector<std::atomic<quint64>> perNode(group.nodes.size());
        auto snapshot = std::make_shared<GroupSnapshot>();
        snapshot->group = group.name;
        snapshot->readAt = QDateTime::currentDateTimeUtc();
        snapshot->snapshot = scanner.scan(
            options, generation,
            [&](const ScanProgress &p) {
                perNode[size_t(p.node)] = p.keysScanned;
                const qint64 now = elapsed.elapsed();
                qint64 last = lastProgressMs.load();
                if (now - last < 100 || !lastProgressMs.compare_exchange_strong(last, now))
                    return;
                quint64 total = scannedBefore.load();
                for (const auto &n : perNode)
                    total += n.load();
                emit progress(generation, total);
            },
            &m_cancel);
        if (snapshot->snapshot.cancelled) {
            cancelled = true;
            break;
        }
        for (const auto &n : perNode)
            scannedBefore += n.load();
        snapshot->unlisted = std::move(snapshot->snapshot.unlisted);
        snapshot->unlistedCount = snapshot->snapshot.unlistedCount;
        toDelta(*snapshot);
        emit groupScanned(generation, snapshot);
    }
    m_lastScan = std::chrono::milliseconds(elapsed.elapsed());
    emit refreshFinished(generation, m_lastScan, cancelled);
    m_scanning = false;

    if (m_pending) {
        m_pending = false;
        // Queued, so that the GUI's requests and a quit get a turn between two scans.
        QMetaObject::invokeMethod(this, &LockMonitor::requestRefresh, Qt::QueuedConnection);
    } else if (m_interval.count() > 0) {
        m_timer->start(m_interval);
    }
}

namespace {

/// A hash of everything the table and the details show of a record, except the TTL countdown.
size_t contentHash(const lockscope::inspect::LockRecord &record)
{
    QtPrivate::QHashCombine combine;
    size_t h = qHash(record.key);
    h = combine(h, record.schema);
    h = combine(h, record.owner);
    h = combine(h, record.token);
    h = combine(h, record.fence);
    h = combine(h, record.holdCount);
    h = combine(h, record.mode);
    h = combine(h, record.held);
    h = combine(h, record.of);
    h = combine(h, record.quorum);
    for (const QString &anomaly : record.anomalies)
        h = combine(h, anomaly);
    for (const auto &node : record.nodes) {
        h = combine(h, node.reachable);
        h = combine(h, node.error);
        h = combine(h, int(node.raw.type));
        h = combine(h, node.raw.value);
        for (const auto &[field, value] : node.raw.fields) {
            h = combine(h, field);
            h = combine(h, value);
        }
        // Whether the node has a TTL is content; how much is left is the countdown's.
        h = combine(h, node.raw.pttlMs < 0 ? node.raw.pttlMs : qint64(0));
    }
    return h;
}

/// A TTL deadline that moved by less than this (plus the scan's duration: every record of a
/// scan counts from the scan's start, while its PTTL was read somewhere during the scan)
/// between two scans is the same deadline; more is an extend.
constexpr qint64 DeadlineSlackMs = 250;

} // namespace

void LockMonitor::toDelta(GroupSnapshot &group)
{
    auto &records = group.snapshot.records;
    const bool first = !m_seen.contains(group.group);
    QHash<QByteArray, Seen> &seen = m_seen[group.group];
    QHash<QByteArray, Seen> next;
    next.reserve(qsizetype(records.size()));
    std::vector<lockscope::inspect::LockRecord> changed;
    const qint64 slack = DeadlineSlackMs + qint64(group.snapshot.elapsed.count());
    for (auto &record : records) {
        Seen now;
        now.content = contentHash(record);
        now.deadlineMs = record.minPttlMs < 0 ? -1
                                              : std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    record.readAtSteady.time_since_epoch())
                                                        .count() +
                                                    record.minPttlMs;
        const auto before = seen.constFind(record.key);
        const bool same = before != seen.cend() && before->content == now.content &&
                          (before->deadlineMs < 0) == (now.deadlineMs < 0) &&
                          std::abs(before->deadlineMs - now.deadlineMs) <= slack;
        // Unchanged: keep the deadline the GUI counts down from, so that slack cannot add up.
        next.insert(record.key, same ? *before : now);
        if (first || !same)
            changed.push_back(std::move(record));
    }
    QStringList failed;
    for (const auto &node : group.snapshot.nodes) {
        if (!node.ok)
            failed << (node.error.contains(node.node) ? node.error
                                                      : QStringLiteral("%1: %2").arg(node.node, node.error));
    }
    if (!first) {
        for (auto it = seen.cbegin(); it != seen.cend(); ++it) {
            if (next.contains(it.key()))
                continue;
            if (failed.isEmpty()) {
                group.removed.push_back(it.key());
            } else {
                // Maybe only on the node that is down: kept, and sent again in full when a
                // later scan sees it (content 0 matches no hash), removed when a complete scan
                // does not.
                group.stale.push_back(it.key());
                next.insert(it.key(), Seen{0, it->deadlineMs});
            }
        }
    }
    group.staleReason = failed.join(QStringLiteral("; "));
    seen = std::move(next);
    group.delta = !first;
    // The unchanged records are freed here, on the worker thread, not on the GUI thread.
    records = std::move(changed);
}

void LockMonitor::startListeners()
{
    for (const auto &group : m_config.groups) {
        for (const auto &node : group.nodes) {
            const NodeConfig config = node.config;
            const QString groupName = group.name;
            const QStringList patterns =
                group.match.isEmpty() ? QStringList{QStringLiteral("*")} : group.match;
            m_listeners.emplace_back([this, config, groupName, patterns] {
                bool told = false;
                while (!m_stopListeners) {
                    lockscope::redis::Connection connection(config);
                    auto support = lockscope::inspect::readNotificationSupport(connection);
                    if (support && !support->usable) {
                        // Off (or CONFIG not permitted): polling only, said once. Never CONFIG SET.
                        emit notice(groupName, config.label(),
                                    support->permitted
                                        ? tr("Live updates off: keyspace notifications are disabled; "
                                             "refreshing periodically")
                                        : tr("Live updates off: this user may not read "
                                             "notify-keyspace-events; refreshing periodically"),
                                    support->permitted
                                        ? tr("To see changes as they happen, enable keyspace notifications "
                                             "on the node: %1 (LockScope never changes a server's settings "
                                             "itself).")
                                              .arg(lockscope::inspect::NotificationSupport::enableCommand())
                                        : tr("The ACL user lacks CONFIG GET permission for "
                                             "notify-keyspace-events, so LockScope cannot tell whether "
                                             "notifications are on."));
                        return;
                    }
                    if (support) {
                        KeyspaceListener listener(config);
                        auto ran = listener.run(
                            patterns, [this](const QByteArray &, const QByteArray &) { keyspaceEvent(); },
                            m_stopListeners);
                        if (ran || m_stopListeners)
                            return;
                        if (!told)
                            emit notice(groupName, config.label(),
                                        tr("Keyspace listener lost; refreshing periodically"),
                                        ran.error().toString());
                    }
                    told = true;
                    // Unreachable now; the scans report it. Try again later.
                    for (auto waited = std::chrono::milliseconds(0);
                         waited < ListenerRetry && !m_stopListeners; waited += std::chrono::milliseconds(100))
                        std::this_thread::sleep_for(std::chrono::milliseconds(100));
                }
            });
        }
    }
}

void LockMonitor::keyspaceEvent()
{
    // From a listener thread: hop to the monitor's thread, where the timer lives. A burst of
    // events arms the timer once; the delay leaves the node at least as long idle as the
    // previous scan took, and never less than 200 ms.
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (m_eventTimer->isActive())
                return;
            m_eventTimer->start(std::max(std::chrono::milliseconds(200), m_lastScan));
        },
        Qt::QueuedConnection);
}
