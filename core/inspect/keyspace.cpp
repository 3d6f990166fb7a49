#include "keyspace.h"

namespace lockscope::inspect {

using redis::ErrorKind;
using redis::RedisReply;

redis::Result<NotificationSupport> readNotificationSupport(redis::Connection &connection)
{
    NotificationSupport support;
    auto reply = connection.command({"CONFIG", "GET", "notify-keyspace-events"});
    if (!reply) {
        if (reply.error().kind != ErrorKind::NoPerm)
            return std::unexpected(reply.error());
        support.permitted = false;
        support.advice =
            QStringLiteral("this user may not read notify-keyspace-events (CONFIG GET); LockScope "
                           "refreshes by polling");
        return support;
    }
    const auto &pair = reply->elements();
    if (pair.size() >= 2)
        support.flags = QString::fromUtf8(pair[1].bytes());
    const QString &f = support.flags;
    const bool all = f.contains(QLatin1Char('A'));
    QStringList missing;
    if (!f.contains(QLatin1Char('K')))
        missing << QStringLiteral("K (keyspace channel)");
    for (const auto &[flag, what] :
         {std::pair{QLatin1Char('g'), "g (DEL, EXPIRE)"}, std::pair{QLatin1Char('$'), "$ (SET)"},
          std::pair{QLatin1Char('h'), "h (HSET)"}, std::pair{QLatin1Char('x'), "x (expired)"}}) {
        if (!all && !f.contains(flag))
            missing << QLatin1String(what);
    }
    support.usable = missing.isEmpty();
    if (!support.usable) {
        support.advice =
            QStringLiteral("keyspace notifications are %1 (missing %2); LockScope refreshes by polling. "
                           "To get live updates, an administrator can run: %3")
                .arg(f.isEmpty() ? QStringLiteral("off") : QStringLiteral("\"%1\"").arg(f),
                     missing.join(QStringLiteral(", ")), NotificationSupport::enableCommand());
    }
    return support;
}

KeyspaceListener::KeyspaceListener(redis::NodeConfig config) : m_config(std::move(config)) {}

redis::Result<void> KeyspaceListener::run(const QStringList &patterns, const EventHandler &onEvent,
                                          const std::atomic<bool> &stop,
                                          std::chrono::milliseconds pollInterval)
{
    redis::Connection connection(m_config);
    if (auto connected = connection.connect(); !connected)
        return connected;
    const QByteArray channelPrefix = "__keyspace@" + QByteArray::number(m_config.db) + "__:";
    std::vector<QByteArray> command{QByteArrayLiteral("PSUBSCRIBE")};
    for (const QString &pattern : patterns)
        command.push_back(channelPrefix + pattern.toUtf8());
    connection.append(std::span<const QByteArray>(command));
    if (auto flushed = connection.flush(); !flushed)
        return flushed;
    while (!stop.load(std::memory_order_relaxed)) {
        auto message = connection.readPush(pollInterval);
        if (!message)
            return std::unexpected(message.error());
        if (!*message)
            continue;
        // ["pmessage", pattern, "__keyspace@0__:<key>", "<event>"]; confirmations are skipped.
        const auto &parts = (*message)->elements();
        if (parts.size() == 4 && parts[0].bytes() == "pmessage" && parts[2].bytes().startsWith(channelPrefix))
            onEvent(parts[2].bytes().mid(channelPrefix.size()), parts[3].bytes());
        else if ((*message)->isError())
            return std::unexpected(
                redis::RedisError::fromServerReply(connection.node(), (*message)->bytes()));
    }
    return {};
}

} // namespace lockscope::inspect
