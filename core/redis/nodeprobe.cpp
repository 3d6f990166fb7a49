#include "nodeprobe.h"

namespace lockscope::redis {

namespace {

void readHello(const RedisReply &hello, NodeStatus &status)
{
    const auto &e = hello.elements();
    for (size_t i = 0; i + 1 < e.size(); i += 2) {
        const QByteArray &key = e[i].bytes();
        const QString value = QString::fromUtf8(e[i + 1].bytes());
        if (key == "version")
            status.version = value;
        else if (key == "role")
            status.role = value;
        else if (key == "mode")
            status.mode = value;
    }
}

/// Calls `field(name, value)` for every "name:value" line of an INFO reply.
template <typename Field>
void forEachInfoField(const QByteArray &info, Field field)
{
    for (const QByteArray &line : info.split('\n')) {
        const QByteArray trimmed = line.trimmed();
        const auto colon = trimmed.indexOf(':');
        if (colon > 0)
            field(trimmed.left(colon), trimmed.mid(colon + 1));
    }
}

void readInfo(const QByteArray &info, NodeStatus &status)
{
    forEachInfoField(info, [&status](const QByteArray &key, const QByteArray &raw) {
        const QString value = QString::fromUtf8(raw);
        if (key == "redis_version")
            status.version = value;
        else if (key == "redis_mode")
            status.mode = value;
        else if (key == "role")
            status.role = value == u"slave" ? QStringLiteral("replica") : value;
    });
}

void readMemoryInfo(const QByteArray &info, NodeStatus &status)
{
    forEachInfoField(info, [&status](const QByteArray &key, const QByteArray &value) {
        if (key == "maxmemory_policy") {
            status.maxmemoryPolicy = QString::fromUtf8(value);
        } else if (key == "maxmemory") {
            bool ok = false;
            const qint64 bytes = value.toLongLong(&ok);
            if (ok)
                status.maxmemory = bytes;
        }
    });
}

} // namespace

bool NodeStatus::fenceCountersEvictable() const
{
    return maxmemoryPolicy.startsWith(u"allkeys-");
}

QString NodeStatus::fenceWarning() const
{
    if (!fenceCountersEvictable())
        return {};
    if (maxmemory == 0)
        return QStringLiteral("fence counters can be evicted once maxmemory is set (maxmemory-policy %1)")
            .arg(maxmemoryPolicy);
    return QStringLiteral("fence counters can be evicted (maxmemory-policy %1)").arg(maxmemoryPolicy);
}

NodeStatus probeNode(Connection &connection)
{
    NodeStatus status;
    status.node = connection.node();
    status.checkedAt = QDateTime::currentDateTime();
    if (!connection.isConnected()) {
        const auto connecting = std::chrono::steady_clock::now();
        if (auto connected = connection.connect(); !connected) {
            status.error = connected.error();
            return status;
        }
        status.connectTime = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - connecting);
    }
    const auto started = std::chrono::steady_clock::now();
    auto pong = connection.command({"PING"});
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (!pong) {
        status.error = pong.error();
        return status;
    }
    status.reachable = true;
    status.latency = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);

    // HELLO 2 answers version, role and mode without INFO, which least-privilege ACL users
    // often may not run (and HELLO keeps the connection on RESP2).
    if (auto hello = connection.command({"HELLO", "2"}); hello && hello->isArray()) {
        readHello(*hello, status);
    } else if (hello || hello.error().kind == ErrorKind::Server || hello.error().kind == ErrorKind::NoPerm) {
        if (auto info = connection.command({"INFO", "server"}); info && info->isString())
            readInfo(info->bytes(), status);
        if (status.role.isEmpty()) {
            if (auto role = connection.command({"ROLE"});
                role && role->isArray() && !role->elements().empty())
                status.role = QString::fromUtf8(role->elements().front().bytes());
        }
    } else {
        // The connection broke between PING and HELLO: report what the PING told.
        status.error = hello.error();
    }
    if (status.role == u"slave")
        status.role = QStringLiteral("replica");

    // INFO, not CONFIG GET: CONFIG is often renamed or denied by ACL where INFO is allowed. A
    // user without INFO just gets no warning.
    if (!status.error) {
        if (auto memory = connection.command({"INFO", "memory"}); memory && memory->isString())
            readMemoryInfo(memory->bytes(), status);
        else if (!memory && memory.error().kind != ErrorKind::Server &&
                 memory.error().kind != ErrorKind::NoPerm)
            status.error = memory.error();
    }
    return status;
}

} // namespace lockscope::redis
