#include "clusterfixture.h"

#include <QProcess>
#include <QStandardPaths>
#include <thread>

namespace lockscope::test {

using namespace redis;
using namespace std::chrono_literals;

namespace {

constexpr auto kSettleTimeout = 30s;
constexpr auto kPollInterval = 50ms;
constexpr int kCreateTimeoutMs = 60'000;
constexpr int kBusPortAttempts = 4;
const QString kLabel = QStringLiteral("local cluster");

Result<std::unique_ptr<LocalRedisServer>> startNode(const ClusterOptions &options)
{
    Result<std::unique_ptr<LocalRedisServer>> last =
        fail(ErrorKind::Io, kLabel, QStringLiteral("no free port for a cluster bus"));
    for (int attempt = 0; attempt < kBusPortAttempts; ++attempt) {
        // Explicit: the default (port + 10000) fails for the ports above 55535 that the kernel
        // hands out, and may collide with another test's server.
        const quint16 busPort = LocalRedisServer::freeLoopbackPort();
        if (busPort == 0)
            break;
        LocalServerOptions server;
        server.aclUsers = options.aclUsers;
        // A relative nodes.conf lands in the server's --dir, its private temporary directory.
        // No diskless-sync delay: a replica's first sync would otherwise wait 5 s. CLUSTER SHARDS
        // shows a replica as "loading" (and CLUSTER SLOTS leaves it out) until its replication
        // offset moves, which on an idle master only the master's pings do: every second, not
        // every 10. A node pings every peer it has not heard from within half the node timeout;
        // 5 s instead of 15 spreads a replica's new role faster and still keeps a loaded test
        // machine from failing a busy node.
        server.extraArgs = {QStringLiteral("--cluster-enabled"),
                            QStringLiteral("yes"),
                            QStringLiteral("--cluster-config-file"),
                            QStringLiteral("nodes.conf"),
                            QStringLiteral("--cluster-port"),
                            QString::number(busPort),
                            QStringLiteral("--repl-diskless-sync-delay"),
                            QStringLiteral("0"),
                            QStringLiteral("--repl-ping-replica-period"),
                            QStringLiteral("1"),
                            QStringLiteral("--cluster-node-timeout"),
                            QStringLiteral("5000")};
        last = LocalRedisServer::start(server);
        // LocalRedisServer retries a taken client port itself; a taken bus port makes every one
        // of its attempts fail, so the next bus port is tried here.
        if (last || !last.error().message.contains(QLatin1String("no usable port")))
            return last;
    }
    return last;
}

/// Every value that follows a "health" key anywhere in a CLUSTER SHARDS reply.
void collectHealth(const RedisReply &reply, QStringList *health)
{
    const auto &elements = reply.elements();
    for (size_t i = 0; i < elements.size(); ++i) {
        if (elements[i].isString() && elements[i].bytes() == "health" && i + 1 < elements.size())
            *health << QString::fromUtf8(elements[i + 1].bytes());
        else if (elements[i].isArray())
            collectHealth(elements[i], health);
    }
}

QByteArray infoField(const QByteArray &info, const QByteArray &name)
{
    for (const QByteArray &line : info.split('\n'))
        if (line.startsWith(name + ':'))
            return line.mid(name.size() + 1).trimmed();
    return {};
}

} // namespace

Result<std::unique_ptr<ClusterFixture>> ClusterFixture::start(ClusterOptions options)
{
    if (options.masters < 3)
        return fail(ErrorKind::InvalidConfig, kLabel, QStringLiteral("redis-cli needs at least 3 masters"));
    // Owned from the first server on: an early return destroys the fixture and stops them all.
    std::unique_ptr<ClusterFixture> cluster(new ClusterFixture);
    const int count = options.masters * (1 + options.replicasPerMaster);
    for (int i = 0; i < count; ++i) {
        auto server = startNode(options);
        if (!server)
            return std::unexpected(server.error());
        if ((*server)->port() == 6379)
            return fail(ErrorKind::Io, kLabel, QStringLiteral("got port 6379, which tests never use"));
        cluster->m_servers.push_back(std::move(*server));
        NodeConfig admin = cluster->config(i);
        admin.clientName = QStringLiteral("lockscope-admin");
        cluster->m_admins.push_back(std::make_unique<Connection>(admin));
    }
    if (auto formed = cluster->form(options); !formed)
        return std::unexpected(formed.error());
    if (auto settled = cluster->waitUntilSettled(options); !settled)
        return std::unexpected(settled.error());
    return cluster;
}

ClusterFixture::~ClusterFixture()
{
    stop();
}

void ClusterFixture::stop()
{
    m_admins.clear();
    for (auto &server : m_servers) {
        if (server->isPaused())
            server->resume();
        server->stop();
    }
}

NodeConfig ClusterFixture::config(int i) const
{
    NodeConfig config = clientConfig(*m_servers.at(size_t(i)), ServerKind::Plain);
    config.name.clear();
    return config;
}

int ClusterFixture::indexOfPort(quint16 port) const
{
    for (size_t i = 0; i < m_servers.size(); ++i)
        if (m_servers[i]->port() == port)
            return int(i);
    return -1;
}

std::vector<qint64> ClusterFixture::pids() const
{
    std::vector<qint64> result;
    for (const auto &server : m_servers)
        result.push_back(server->pid());
    return result;
}

Result<void> ClusterFixture::form(const ClusterOptions &options)
{
    const QString cli = QStandardPaths::findExecutable(QStringLiteral("redis-cli"));
    if (cli.isEmpty())
        return fail(ErrorKind::InvalidConfig, kLabel, QStringLiteral("redis-cli not found in PATH"));
    QStringList arguments{QStringLiteral("--cluster"), QStringLiteral("create")};
    for (const auto &server : m_servers)
        arguments << QStringLiteral("127.0.0.1:%1").arg(server->port());
    arguments << QStringLiteral("--cluster-replicas") << QString::number(options.replicasPerMaster)
              << QStringLiteral("--cluster-yes");

    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.setStandardInputFile(QProcess::nullDevice());
    process.start(cli, arguments);
    const bool finished = process.waitForStarted() && process.waitForFinished(kCreateTimeoutMs);
    if (!finished) {
        process.kill();
        process.waitForFinished();
    }
    const QString output = QString::fromUtf8(process.readAll());
    if (!finished || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0)
        return fail(ErrorKind::Io, kLabel,
                    QStringLiteral("redis-cli %1 failed (%2); output:\n%3")
                        .arg(arguments.join(QLatin1Char(' ')),
                             finished ? QStringLiteral("exit code %1").arg(process.exitCode())
                                      : QStringLiteral("did not finish within %1 ms").arg(kCreateTimeoutMs),
                             output));
    return {};
}

QString ClusterFixture::pendingOn(int i, const ClusterOptions &options)
{
    Connection &node = admin(i);
    const int total = size();
    const int replicas = options.masters * options.replicasPerMaster;

    auto info = node.command({"CLUSTER", "INFO"});
    if (!info)
        return info.error().toString();
    const QByteArray state = infoField(info->bytes(), "cluster_state");
    const QByteArray known = infoField(info->bytes(), "cluster_known_nodes");
    if (state != "ok" || known.toInt() != total)
        return QStringLiteral("cluster_state:%1, cluster_known_nodes:%2 of %3")
            .arg(QString::fromUtf8(state), QString::fromUtf8(known))
            .arg(total);

    auto nodes = node.command({"CLUSTER", "NODES"});
    if (!nodes)
        return nodes.error().toString();
    int masters = 0;
    int slaves = 0;
    for (const QByteArray &line : nodes->bytes().split('\n')) {
        const QList<QByteArray> fields = line.split(' ');
        if (fields.size() < 3)
            continue;
        const QList<QByteArray> flags = fields.at(2).split(',');
        for (const char *bad : {"fail", "fail?", "handshake", "noaddr"})
            if (flags.contains(bad))
                return QStringLiteral("node %1 is %2")
                    .arg(QString::fromUtf8(fields.at(1)), QLatin1String(bad));
        masters += flags.contains("master");
        slaves += flags.contains("slave");
    }
    if (masters != options.masters || slaves != replicas)
        return QStringLiteral("%1 masters and %2 replicas known, expecting %3 and %4")
            .arg(masters)
            .arg(slaves)
            .arg(options.masters)
            .arg(replicas);

    // CLUSTER SLOTS leaves out a replica until its first sync is through ("loading").
    auto shards = node.command({"CLUSTER", "SHARDS"});
    if (!shards)
        return shards.error().toString();
    QStringList health;
    collectHealth(*shards, &health);
    if (health.size() != total || health.count(QStringLiteral("online")) != total)
        return QStringLiteral("health %1").arg(health.join(QLatin1Char(',')));
    return {};
}

Result<void> ClusterFixture::waitUntilSettled(const ClusterOptions &options)
{
    const auto deadline = std::chrono::steady_clock::now() + kSettleTimeout;
    QStringList pending;
    while (true) {
        pending.clear();
        for (int i = 0; i < size(); ++i)
            if (const QString reason = pendingOn(i, options); !reason.isEmpty())
                pending << QStringLiteral("127.0.0.1:%1: %2").arg(server(i).port()).arg(reason);
        if (pending.isEmpty())
            return {};
        if (std::chrono::steady_clock::now() >= deadline)
            break;
        std::this_thread::sleep_for(kPollInterval);
    }
    return fail(ErrorKind::Timeout, kLabel,
                QStringLiteral("the cluster did not settle within %1 s:\n%2")
                    .arg(std::chrono::seconds(kSettleTimeout).count())
                    .arg(pending.join(QLatin1Char('\n'))));
}

} // namespace lockscope::test
