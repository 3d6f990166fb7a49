#include "pingcommand.h"

#include "exitcode.h"
#include "options.h"
#include "output.h"

#include <QJsonArray>
#include <QJsonObject>
#include <algorithm>
#include <redis/connection.h>
#include <redis/nodeprobe.h>
#include <util/duration.h>
#include <util/fanout.h>
#include <vector>

namespace lockctl {

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
        QStringLiteral("Connects to every node at the same time, measures one PING round trip and asks\n"
                       "for the server version, role and eviction policy (INFO memory). A WARNING column\n"
                       "appears when a node's maxmemory-policy (allkeys-*) can evict fence counters.\n"
                       "Down nodes get one error line each on stderr."),
        pingOptions(),
        QStringLiteral("Exit codes: 0 all nodes up, 1 a node is down, 2 usage error or malformed URL\n"
                       "(then no node is contacted).\n"
                       "Example: lockctl ping redis://127.0.0.1:7001 rediss://redis.example:6380?ca=ca.pem"));
}

/// Every node on its own thread with its own connection: the total time is the slowest node's,
/// not the sum, and a node that times out does not delay the report of the others.
std::vector<NodeStatus> probeAll(const std::vector<NodeConfig> &nodes)
{
    std::vector<NodeStatus> statuses(nodes.size());
    lockscope::util::forEachParallel(nodes.size(), MaxProbeThreads, [&](std::size_t i) {
        Connection connection(nodes[i]);
        statuses[i] = lockscope::redis::probeNode(connection);
        if (statuses[i].node.isEmpty())
            statuses[i].node = nodes[i].label();
    });
    return statuses;
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

QString orDash(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("-") : text;
}

QJsonValue orNull(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QString errorLine(const NodeStatus &status)
{
    if (status.error)
        return status.error->toString();
    return QStringLiteral("%1: down").arg(status.node);
}

void printTable(const std::vector<NodeConfig> &nodes, const std::vector<NodeStatus> &statuses, Output &out)
{
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
}

void printJson(const std::vector<NodeConfig> &nodes, const std::vector<NodeStatus> &statuses, Output &out)
{
    QJsonArray array;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const NodeStatus &status = statuses[i];
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

    const std::vector<NodeStatus> statuses = probeAll(*nodes);

    if (parser.isSet(QStringLiteral("json")))
        printJson(*nodes, statuses, out);
    else
        printTable(*nodes, statuses, out);
    int code = exitcode::Ok;
    for (const NodeStatus &status : statuses) {
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
