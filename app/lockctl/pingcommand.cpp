#include "pingcommand.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"

#include <QJsonArray>
#include <QJsonObject>
#include <algorithm>
#include <redis/clusterslots.h>
#include <redis/connection.h>
#include <redis/nodeprobe.h>
#include <util/duration.h>
#include <util/fanout.h>
#include <vector>

namespace lockctl {

using lockscope::redis::ClusterNode;
using lockscope::redis::ClusterTopology;
using lockscope::redis::Connection;
using lockscope::redis::NodeConfig;
using lockscope::redis::NodeStatus;

namespace {

// Enough to probe a large node group at once while keeping the thread count sane.
constexpr std::size_t MaxProbeThreads = 64;

QList<QCommandLineOption> pingOptions()
{
    return {jsonOption(), timeoutOption(), helpOption()};
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
            "complete, slots_covered, warning} (\"cluster_error\" when it could not be read)."),
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
    NodeStatus status;
    /// Set for a cluster node: the topology, or why it could not be read.
    std::optional<lockscope::redis::Result<ClusterTopology>> cluster;
};

/// Until node groups know about clusters, a cluster node is read like a standalone one: said once
/// per cluster node, in the table and in the JSON.
QString clusterWarning()
{
    return QStringLiteral("LockScope treats this node as a standalone node (keys of other shards are "
                          "not visible through it) until cluster groups exist");
}

/// Every node on its own thread with its own connection: the total time is the slowest node's,
/// not the sum, and a node that times out does not delay the report of the others.
std::vector<Probe> probeAll(const std::vector<NodeConfig> &nodes)
{
    std::vector<Probe> probes(nodes.size());
    lockscope::util::forEachParallel(nodes.size(), MaxProbeThreads, [&](std::size_t i) {
        Connection connection(nodes[i]);
        NodeStatus &status = probes[i].status;
        status = lockscope::redis::probeNode(connection);
        if (status.node.isEmpty())
            status.node = nodes[i].label();
        if (status.reachable && status.mode == QLatin1String("cluster"))
            probes[i].cluster = lockscope::redis::discoverTopology(connection);
    });
    return probes;
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
    const QStringList urls = parser.positionalArguments();
    if (urls.isEmpty()) {
        out.error(QStringLiteral("ping: no node URL given (see 'lockctl help ping')"));
        return exitcode::Usage;
    }
    auto nodes = parseNodeUrls(urls, command, out);
    if (!nodes || !applyTimeoutOption(parser, *nodes, command, out))
        return exitcode::Usage;

    const std::vector<Probe> probes = probeAll(*nodes);

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
