#include "lockfixture.h"

#include "lock/lockvalue.h"

#include <QDebug>
#include <QDir>
#include <QStringList>

namespace lockscope::test {

using namespace redis;

Result<std::unique_ptr<ServerSet>> ServerSet::start(int count)
{
    std::unique_ptr<ServerSet> set(new ServerSet);
    for (int i = 0; i < count; ++i) {
        auto server = startServer(ServerKind::Plain);
        if (!server)
            return std::unexpected(server.error());
        NodeConfig config = clientConfig(**server, ServerKind::Plain);
        config.name = nodeName(i) + QStringLiteral("-admin");
        config.clientName = QStringLiteral("lockscope-admin");
        auto admin = std::make_unique<Connection>(config);
        if (auto connected = admin->connect(); !connected)
            return std::unexpected(connected.error());
        set->m_servers.push_back(std::move(*server));
        set->m_admins.push_back(std::move(admin));
    }
    return set;
}

ServerSet::~ServerSet()
{
    for (auto &server : m_servers)
        if (server->isPaused())
            server->resume();
}

std::vector<NodeConfig> ServerSet::configs() const
{
    std::vector<NodeConfig> result;
    for (size_t i = 0; i < m_servers.size(); ++i) {
        NodeConfig config = clientConfig(*m_servers[i], ServerKind::Plain);
        config.name = nodeName(static_cast<int>(i));
        result.push_back(config);
    }
    return result;
}

Result<void> ServerSet::reconnect(int i)
{
    return admin(i).connect();
}

QByteArray ServerSet::get(int i, const QByteArray &key)
{
    auto reply = admin(i).command({"GET", key});
    if (!reply)
        return "<error: " + reply.error().toString().toUtf8() + '>';
    if (reply->isNil())
        return {};
    return reply->bytes();
}

qint64 ServerSet::pttl(int i, const QByteArray &key)
{
    auto reply = admin(i).command({"PTTL", key});
    if (!reply) {
        qWarning() << "PTTL failed:" << reply.error().toString();
        return -100;
    }
    return reply->integer();
}

bool ServerSet::set(int i, const QByteArray &key, const QByteArray &value, qint64 px)
{
    const QByteArray ms = QByteArray::number(px);
    auto reply =
        px > 0 ? admin(i).command({"SET", key, value, "PX", ms}) : admin(i).command({"SET", key, value});
    if (!reply || !reply->isOk()) {
        qWarning() << "SET failed:" << (reply ? reply->toDisplayString() : reply.error().toString());
        return false;
    }
    return true;
}

bool ServerSet::del(int i, const QByteArray &key)
{
    auto reply = admin(i).command({"DEL", key});
    if (!reply) {
        qWarning() << "DEL failed:" << reply.error().toString();
        return false;
    }
    return true;
}

int ServerSet::nodesWithToken(const QByteArray &key, const QByteArray &token)
{
    const QByteArray prefix = lock::LockValue::ownerPrefix(token);
    int count = 0;
    for (int i = 0; i < size(); ++i)
        count += get(i, key).startsWith(prefix);
    return count;
}

qint64 ServerSet::commandCalls(int i, const QList<QByteArray> &commands, bool completedOnly)
{
    auto info = admin(i).command({"INFO", "commandstats"});
    if (!info || !info->isString())
        return -1;
    qint64 calls = 0;
    for (const QByteArray &line : info->bytes().split('\n')) {
        const QByteArray trimmed = line.trimmed();
        const qsizetype colon = trimmed.indexOf(':');
        if (colon < 0 || !trimmed.startsWith("cmdstat_") || !commands.contains(trimmed.mid(8, colon - 8)))
            continue;
        for (const QByteArray &field : trimmed.mid(colon + 1).split(',')) {
            if (field.startsWith("calls="))
                calls += field.mid(6).toLongLong();
            else if (completedOnly && field.startsWith("failed_calls="))
                calls -= field.mid(13).toLongLong();
        }
    }
    return calls;
}

qint64 ServerSet::scriptCalls(int i, bool completedOnly)
{
    return commandCalls(i, {"eval", "evalsha", "eval_ro", "evalsha_ro"}, completedOnly);
}

int ServerSet::clientsNamed(int i, const QByteArray &clientName)
{
    auto reply = admin(i).command({"CLIENT", "LIST"});
    if (!reply) {
        qWarning() << "CLIENT LIST failed:" << reply.error().toString();
        return -1;
    }
    const QByteArray needle = " name=" + clientName + ' ';
    int count = 0;
    for (const QByteArray &line : reply->bytes().split('\n'))
        count += line.contains(needle);
    return count;
}

lock::AcquireOptions withTtl(std::chrono::milliseconds ttl, const QByteArray &token)
{
    lock::AcquireOptions options;
    options.ttl = ttl;
    options.token = token;
    options.retry = lock::RetryStrategy::none();
    return options;
}

std::vector<redis::LocalRedisServer *> ServerSet::servers() const
{
    std::vector<redis::LocalRedisServer *> list;
    for (const auto &server : m_servers)
        list.push_back(server.get());
    return list;
}

int threadCount()
{
    return static_cast<int>(
        QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size());
}

QString outcomes(const std::vector<lock::NodeVote> &votes)
{
    QStringList parts;
    for (const lock::NodeVote &vote : votes)
        parts << vote.node + QLatin1Char('=') + lock::NodeVote::outcomeName(vote.outcome);
    return parts.join(QStringLiteral(", "));
}

int voteIndex(const std::vector<lock::NodeVote> &votes, const QString &name)
{
    for (size_t i = 0; i < votes.size(); ++i)
        if (votes[i].node == name)
            return static_cast<int>(i);
    return -1;
}

ResumeOnExit::~ResumeOnExit()
{
    if (m_server.isPaused())
        m_server.resume();
}

std::unique_ptr<redis::Connection> subscribedConnection(ServerSet &servers, int i, QByteArrayView command,
                                                        QByteArrayView channel)
{
    auto connection = std::make_unique<redis::Connection>(servers.configs().at(static_cast<size_t>(i)));
    connection->append({command, channel});
    if (!connection->flush())
        return nullptr;
    auto confirmed = connection->readReply();
    if (!confirmed || !confirmed->isArray())
        return nullptr;
    return connection;
}

} // namespace lockscope::test
