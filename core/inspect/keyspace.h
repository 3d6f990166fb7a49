#pragma once

#include "redis/connection.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <atomic>
#include <chrono>
#include <functional>

namespace lockscope::inspect {

/// What a node says about keyspace notifications. LockScope never switches them on itself
/// (no CONFIG SET): when they are off it says so and offers the command to the operator.
struct NotificationSupport
{
    bool permitted = true; ///< CONFIG GET was allowed (a least-privilege user may not run it)
    QString flags;         ///< the server's notify-keyspace-events value
    bool usable = false;   ///< keyspace events for generic, string, hash and expired events are on
    QString advice;        ///< for the operator: why not usable, and the exact command to enable them

    /// The command that enables what LockScope listens to.
    static QString enableCommand() { return QStringLiteral("CONFIG SET notify-keyspace-events Kg$hx"); }
};

/// Reads notify-keyspace-events with CONFIG GET (a read). NOPERM is not an error: the result
/// says not permitted, and the inspector falls back to polling.
redis::Result<NotificationSupport> readNotificationSupport(redis::Connection &connection);

/// Listens to keyspace notifications of one node for the given key patterns on a dedicated
/// connection (PSUBSCRIBE __keyspace@<db>__:<pattern>), so the inspector can refresh a record
/// between polls. Blocking: run it on a worker thread.
class KeyspaceListener
{
public:
    using EventHandler = std::function<void(const QByteArray &key, const QByteArray &event)>;

    explicit KeyspaceListener(redis::NodeConfig config);

    /// Subscribes and calls `onEvent` for every notification until `stop` becomes true
    /// (checked every `pollInterval`). Returns an error when the connection fails; the caller
    /// decides whether to retry.
    redis::Result<void> run(const QStringList &patterns, const EventHandler &onEvent,
                            const std::atomic<bool> &stop,
                            std::chrono::milliseconds pollInterval = std::chrono::milliseconds(100));

private:
    redis::NodeConfig m_config;
};

} // namespace lockscope::inspect
