#include "pingcommand.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QLoggingCategory>
#include <algorithm>
#include <redis/circuitbreaker.h>
#include <redis/clusterslots.h>
#include <redis/connection.h>
#include <redis/nodeprobe.h>
#include <thread>
#include <util/duration.h>
#include <util/fanout.h>
#include <vector>

namespace lockctl {

using lockscope::redis::BreakerState;
using lockscope::redis::BreakerStatus;
using lockscope::redis::CircuitBreaker;
using lockscope::redis::ClusterNode;
using lockscope::redis::ClusterTopology;
using lockscope::redis::Connection;
using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;

namespace {

// Enough to probe a large node group at once while keeping the thread count sane.
constexpr std::size_t MaxProbeThreads = 64;

QCommandLineOption countOption()
{
    return QCommandLineOption(QStringLiteral("count"), QStringLiteral("Probe every node N times in a row."),
                              QStringLiteral("N"), QStringLiteral("1"));
}

QCommandLineOption intervalOption()
{
    return QCommandLineOption(QStringLiteral("interval"),
                              QStringLiteral("With --count: time between the starts of two probes of a "
                                             "node (e.g. 50ms, 2s; default 1s)."),
                              QStringLiteral("duration"));
}

constexpr std::chrono::milliseconds DefaultInterval{1000};

QList<QCommandLineOption> pingOptions()
{
    return {jsonOption(), timeoutOption(), countOption(), intervalOption(), helpOption()};
}

QString pingHelp()
{
    return formatHelp(
        QStringLiteral("lockctl ping [options] URL..."),
        QStringLiteral(
            "Connects to every node at the same time, measures one PING round trip and asks\n"
            "for the server version, role and eviction policy (INFO memory). A WARNING column\n"
            "appears when a node's maxmemory-policy (allkeys-*) can evict fence counters.\n"
            "Down nodes get one error line each on stderr. A node in Redis Cluster mode gets its\n"
            "cluster's topology (CLUSTER SHARDS, or CLUSTER SLOTS on older servers) beneath the\n"
            "table: masters with their slot ranges, replicas under them; --json adds a \"cluster\"\n"
            "object {masters [{id, address, slots [[first,last],...], replicas [{id, address}]}],\n"
            "complete, slots_covered, warning} (\"cluster_error\" when it could not be read).\n"
            "Every node's probes go through a circuit breaker, as the lock client's calls do\n"
            "(3 consecutive failures open it for 5 s; while open, a probe is not sent). Beneath\n"
            "the table, one line per node says its breaker's state after the last probe:\n"
            "\"breaker: closed\", \"breaker: closed (1 of 3 failures: ...)\", \"breaker: open until\n"
            "18:42:05 after 3 failures (...)\"; the last failure's cause and when it was read.\n"
            "--count 4 --interval 50ms shows whether a down node would be cut off. --json adds a\n"
            "\"breaker\" object {state, consecutive_failures, last_cause, last_failure_at,\n"
            "open_until, opens, probes_not_sent}; the other fields describe the last probe sent."),
        pingOptions(),
        QStringLiteral("Exit codes: 0 all nodes up, 1 a node is down, 2 usage error or malformed URL\n"
                       "(then no node is contacted).\n"
                       "Example: lockctl ping redis://127.0.0.1:7001 rediss://redis.example:6380?ca=ca.pem"));
}

QString orDash(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("-") : text;
}

QJsonValue orNull(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

/// A node's status, and its cluster's slot map when the node is in cluster mode.
struct Probe
{
    NodeStatus status; ///< the last probe that was sent
    /// Set for a cluster node: the topology, or why it could not be read.
    std::optional<lockscope::redis::Result<ClusterTopology>> cluster;
    BreakerStatus breaker; ///< after the last probe
};

/// How often and how far apart each node is probed.
struct Schedule
{
    int count = 1;
    std::chrono::milliseconds interval = DefaultInterval;
};

void feed(CircuitBreaker &breaker, const NodeStatus &status)
{
    if (status.reachable)
        breaker.recordSuccess();
    else
        breaker.recordFailure(status.error.value_or(lockscope::redis::RedisError{
            lockscope::redis::ErrorKind::Io, status.node, QStringLiteral("no answer")}));
}

/// Until node groups know about clusters, a cluster node is read like a standalone one: said once
/// per cluster node, in the table and in the JSON.
QString clusterWarning()
{
    return QStringLiteral("LockScope treats this node as a standalone node (keys of other shards are "
                          "not visible through it) until cluster groups exist");
}

/// Every node on its own thread with its own connection: the total time is the slowest node's,
/// not the sum, and a node that times out does not delay the report of the others. A node's
/// probes go through its own breaker, as a Locker's calls do: once it is open, a probe is not
/// sent (the table keeps the last one that was), so --count shows what a client would see.
std::vector<Probe> probeAll(const std::vector<NodeConfig> &nodes, const Schedule &schedule)
{
    std::vector<Probe> probes(nodes.size());
    lockscope::util::forEachParallel(nodes.size(), MaxProbeThreads, [&](std::size_t i) {
        Connection connection(nodes[i]);
        CircuitBreaker breaker(nodes[i].label());
        NodeStatus &status = probes[i].status;
        const auto start = std::chrono::steady_clock::now();
        for (int n = 0; n < schedule.count; ++n) {
            if (n > 0)
                std::this_thread::sleep_until(start + n * schedule.interval);
            // The first call finds the breaker closed: every node gets a status for the table.
            if (!breaker.allow())
                continue;
            status = lockscope::redis::probeNode(connection);
            if (status.node.isEmpty())
                status.node = nodes[i].label();
            feed(breaker, status);
        }
        if (status.reachable && status.mode == QLatin1String("cluster"))
            probes[i].cluster = lockscope::redis::discoverTopology(connection);
        probes[i].breaker = breaker.status();
    });
    return probes;
}

QString clockTime(const QDateTime &at)
{
    return at.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
}

/// "closed", "closed (1 of 3 failures: connection refused: ...; last failure read 18:41:59)",
/// "open until 18:42:05 after 3 failures (...; last failure read 18:41:59)".
QString breakerText(const BreakerStatus &breaker)
{
    const int threshold = lockscope::redis::BreakerOptions{}.failureThreshold;
    QString cause;
    if (breaker.consecutiveFailures > 0)
        cause = QStringLiteral("%1; last failure read %2")
                    .arg(breaker.lastCause, clockTime(breaker.lastFailureAt));
    QString text;
    switch (breaker.state) {
    case BreakerState::Closed:
        text = QStringLiteral("closed");
        if (breaker.consecutiveFailures > 0)
            text += QStringLiteral(" (%1 of %2 failures: %3)")
                        .arg(breaker.consecutiveFailures)
                        .arg(threshold)
                        .arg(cause);
        break;
    case BreakerState::Open:
        text = QStringLiteral("open until %1 after %2 failure%3 (%4)")
                   .arg(clockTime(breaker.openUntil))
                   .arg(breaker.consecutiveFailures)
                   .arg(breaker.consecutiveFailures == 1 ? "" : "s", cause);
        break;
    case BreakerState::HalfOpen:
        text = QStringLiteral("half-open");
        if (breaker.consecutiveFailures > 0)
            text += QStringLiteral(" (%1 failure%2: %3)")
                        .arg(breaker.consecutiveFailures)
                        .arg(breaker.consecutiveFailures == 1 ? "" : "s", cause);
        break;
    }
    if (breaker.rejected > 0)
        text += QStringLiteral(", %1 probe%2 not sent")
                    .arg(breaker.rejected)
                    .arg(breaker.rejected == 1 ? "" : "s");
    return text;
}

QJsonValue isoOrNull(const QDateTime &at)
{
    // With the offset: a time read on one machine and shown on another must say which clock.
    return at.isValid() ? QJsonValue(at.toOffsetFromUtc(at.offsetFromUtc()).toString(Qt::ISODateWithMs))
                        : QJsonValue(QJsonValue::Null);
}

QJsonObject breakerJson(const BreakerStatus &breaker)
{
    return {{QStringLiteral("state"), lockscope::redis::breakerStateName(breaker.state)},
            {QStringLiteral("consecutive_failures"), breaker.consecutiveFailures},
            {QStringLiteral("last_cause"), orNull(breaker.lastCause)},
            {QStringLiteral("last_failure_at"), isoOrNull(breaker.lastFailureAt)},
            {QStringLiteral("open_until"), breaker.state == BreakerState::Closed
                                               ? QJsonValue(QJsonValue::Null)
                                               : isoOrNull(breaker.openUntil)},
            {QStringLiteral("opens"), qint64(breaker.opens)},
            {QStringLiteral("probes_not_sent"), qint64(breaker.rejected)}};
}

QString slotsText(const lockscope::redis::ClusterShard &shard)
{
    QStringList ranges;
    for (const auto &range : shard.slotRanges)
        ranges << (range.first == range.last ? QString::number(range.first)
                                             : QStringLiteral("%1-%2").arg(range.first).arg(range.last));
    return ranges.isEmpty() ? QStringLiteral("no slots")
                            : QStringLiteral("slots ") + ranges.join(QLatin1Char(','));
}

QString nodeText(const ClusterNode &node)
{
    QString text = node.address();
    if (!node.id.isEmpty())
        text += QStringLiteral(" (%1)").arg(node.id.left(8));
    if (!node.health.isEmpty() && node.health != QLatin1String("online"))
        text += QStringLiteral(" [%1]").arg(node.health);
    return text;
}

/// The topology under the table, one block per cluster node: masters with their slot ranges,
/// their replicas indented beneath.
QString clusterText(const Probe &probe)
{
    QString text = QStringLiteral("%1: Redis Cluster").arg(probe.status.node);
    if (!*probe.cluster)
        return text + QStringLiteral(": topology not read: %1\n").arg(probe.cluster->error().toString());
    const ClusterTopology &topology = **probe.cluster;
    text += QStringLiteral(", %1\n").arg(topology.describe());
    for (const auto &shard : topology.shards()) {
        text += QStringLiteral("  master  %1  %2\n").arg(nodeText(shard.master), slotsText(shard));
        for (const ClusterNode &replica : shard.replicas)
            text += QStringLiteral("    replica  %1\n").arg(nodeText(replica));
    }
    return text;
}

QJsonObject clusterNodeJson(const ClusterNode &node)
{
    return {{QStringLiteral("id"), orNull(node.id)},
            {QStringLiteral("address"), node.address()},
            {QStringLiteral("health"), orNull(node.health)}};
}

QJsonObject clusterJson(const ClusterTopology &topology)
{
    QJsonArray masters;
    for (const auto &shard : topology.shards()) {
        QJsonObject master = clusterNodeJson(shard.master);
        QJsonArray slotRanges;
        for (const auto &range : shard.slotRanges)
            slotRanges.append(QJsonArray{int(range.first), int(range.last)});
        master.insert(QStringLiteral("slots"), slotRanges);
        QJsonArray replicas;
        for (const ClusterNode &replica : shard.replicas)
            replicas.append(clusterNodeJson(replica));
        master.insert(QStringLiteral("replicas"), replicas);
        masters.append(master);
    }
    return {{QStringLiteral("masters"), masters},
            {QStringLiteral("complete"), topology.isComplete()},
            {QStringLiteral("slots_covered"), topology.coveredSlots()},
            {QStringLiteral("warning"), clusterWarning()}};
}

/// The PING round trip, and the connect time beside it when that was slow (100 ms or more): a
/// node that stalled answers the handshake late and the PING after it at once.
QString latencyCell(const NodeStatus &status)
{
    QString text = lockscope::formatLatency(status.latency);
    if (status.connectTime && *status.connectTime >= std::chrono::milliseconds(100))
        text += QStringLiteral(" (connect %1)")
                    .arg(lockscope::formatDuration(
                        std::chrono::duration_cast<std::chrono::milliseconds>(*status.connectTime)));
    return text;
}

QString errorLine(const NodeStatus &status)
{
    if (status.error)
        return status.error->toString();
    return QStringLiteral("%1: down").arg(status.node);
}

void printTable(const std::vector<NodeConfig> &nodes, const std::vector<Probe> &probes, Output &out)
{
    std::vector<NodeStatus> statuses;
    for (const Probe &probe : probes)
        statuses.push_back(probe.status);
    // The address column only earns its width when some node has a name of its own.
    const bool showAddress =
        std::ranges::any_of(nodes, [](const NodeConfig &n) { return !n.name.isEmpty(); });
    QStringList headers{QStringLiteral("NODE")};
    if (showAddress)
        headers << QStringLiteral("ADDRESS");
    headers << QStringLiteral("STATUS") << QStringLiteral("LATENCY") << QStringLiteral("VERSION")
            << QStringLiteral("ROLE");
    // Likewise the warning column, which only a risky eviction policy fills.
    const bool showWarning = std::ranges::any_of(
        statuses, [](const NodeStatus &s) { return s.reachable && s.fenceCountersEvictable(); });
    if (showWarning)
        headers << QStringLiteral("WARNING");
    Table table(headers);
    table.setAlignment(showAddress ? 3 : 2, Table::Align::Right);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const NodeStatus &status = statuses[i];
        QStringList row{status.node};
        if (showAddress)
            row << nodes[i].address();
        if (status.reachable)
            row << QStringLiteral("up") << latencyCell(status) << orDash(status.version)
                << orDash(status.role);
        else
            row << QStringLiteral("down") << QStringLiteral("-") << QStringLiteral("-")
                << QStringLiteral("-");
        if (showWarning)
            row << (status.reachable ? orDash(status.fenceWarning()) : QStringLiteral("-"));
        table.addRow(row);
    }
    out.write(table.render());
    out.line();
    qsizetype width = 0;
    for (const Probe &probe : probes)
        width = std::max(width, probe.status.node.size());
    for (const Probe &probe : probes)
        out.line(QStringLiteral("%1  breaker: %2")
                     .arg(probe.status.node.leftJustified(width), breakerText(probe.breaker)));
    for (const Probe &probe : probes) {
        if (!probe.cluster)
            continue;
        out.line();
        out.write(clusterText(probe));
        out.line(QStringLiteral("WARNING: %1: %2.").arg(probe.status.node, clusterWarning()));
    }
}

void printJson(const std::vector<NodeConfig> &nodes, const std::vector<Probe> &probes, Output &out)
{
    QJsonArray array;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const NodeStatus &status = probes[i].status;
        QJsonObject object{
            {QStringLiteral("node"), status.node},
            {QStringLiteral("address"), nodes[i].address()},
            {QStringLiteral("tls"), nodes[i].tls.enabled},
            {QStringLiteral("up"), status.reachable},
            {QStringLiteral("latency_ms"),
             status.reachable ? QJsonValue(double(status.latency.count()) / 1000.0) : QJsonValue()},
            {QStringLiteral("connect_ms"), status.reachable && status.connectTime
                                               ? QJsonValue(double(status.connectTime->count()) / 1000.0)
                                               : QJsonValue()},
            {QStringLiteral("version"), orNull(status.version)},
            {QStringLiteral("role"), orNull(status.role)},
            {QStringLiteral("mode"), orNull(status.mode)},
            {QStringLiteral("maxmemory_policy"), orNull(status.maxmemoryPolicy)},
            {QStringLiteral("fence_warning"), orNull(status.fenceWarning())},
            {QStringLiteral("error"), status.reachable ? QJsonValue() : QJsonValue(errorLine(status))},
            {QStringLiteral("error_kind"),
             !status.reachable && status.error ? QJsonValue(errorKindId(status.error->kind)) : QJsonValue()},
        };
        if (const auto &cluster = probes[i].cluster) {
            if (*cluster)
                object.insert(QStringLiteral("cluster"), clusterJson(**cluster));
            else
                object.insert(QStringLiteral("cluster_error"), cluster->error().toString());
        }
        object.insert(QStringLiteral("breaker"), breakerJson(probes[i].breaker));
        array.append(object);
    }
    out.json(array);
}

int runPing(Invocation &invocation)
{
    Output &out = invocation.out;
    const QString command = QStringLiteral("ping");
    QCommandLineParser parser;
    if (auto stop = parseArguments(parser, invocation.args, pingOptions(), command, pingHelp(), out))
        return *stop;
    // ping prints each node's breaker itself (state, cause, time read): the library's own
    // warning when one opens would say it twice (QT_LOGGING_RULES still overrides this).
    QLoggingCategory::setFilterRules(QStringLiteral("lockscope.breaker.warning=false"));
    const QStringList urls = parser.positionalArguments();
    if (urls.isEmpty()) {
        out.error(QStringLiteral("ping: no node URL given (see 'lockctl help ping')"));
        return exitcode::Usage;
    }
    auto nodes = parseNodeUrls(urls, command, out);
    if (!nodes || !applyTimeoutOption(parser, *nodes, command, out))
        return exitcode::Usage;

    Schedule schedule;
    bool countOk = false;
    schedule.count = parser.value(QStringLiteral("count")).toInt(&countOk);
    if (!countOk || schedule.count < 1) {
        out.error(QStringLiteral("ping: --count: expected a whole number of at least 1, got \"%1\"")
                      .arg(parser.value(QStringLiteral("count"))));
        return exitcode::Usage;
    }
    bool intervalOk = true;
    if (const auto interval = durationValue(parser, intervalOption(), command, out, intervalOk))
        schedule.interval = *interval;
    if (!intervalOk)
        return exitcode::Usage;

    const std::vector<Probe> probes = probeAll(*nodes, schedule);

    if (parser.isSet(QStringLiteral("json")))
        printJson(*nodes, probes, out);
    else
        printTable(*nodes, probes, out);
    int code = exitcode::Ok;
    for (const Probe &probe : probes) {
        const NodeStatus &status = probe.status;
        if (!status.reachable) {
            out.error(errorLine(status));
            code = exitcode::NodeFailure;
        }
    }
    return code;
}

} // namespace

Command pingCommand()
{
    return Command{
        .name = QStringLiteral("ping"),
        .summary =
            QStringLiteral("Check nodes: status, round-trip latency, server version, role and fence risks"),
        .help = pingHelp(),
        .run = runPing,
    };
}

} // namespace lockctl
