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

void readInfo(const QByteArray &info, NodeStatus &status)
{
    for (const QByteArray &line : info.split('\n')) {
        const QByteArray trimmed = line.trimmed();
        const auto colon = trimmed.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray key = trimmed.left(colon);
        const QString value = QString::fromUtf8(trimmed.mid(colon + 1));
        if (key == "redis_version")
            status.version = value;
        else if (key == "redis_mode")
            status.mode = value;
        else if (key == "role")
            status.role = value == u"slave" ? QStringLiteral("replica") : value;
    }
}

} // namespace

NodeStatus probeNode(Connection &connection)
{
    NodeStatus status;
    status.node = connection.node();
    status.checkedAt = QDateTime::currentDateTime();
    if (!connection.isConnected()) {
        if (auto connected = connection.connect(); !connected) {
            status.error = connected.error();
            return status;
        }
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
    return status;
}

} // namespace lockscope::redis
