#pragma once

#include "lock/locker.h"
#include "lock/lockerror.h"
#include "redis/connection.h"
#include "redisfixture.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <memory>
#include <vector>

namespace lockscope::test {

/// N plain redis-server processes started by this test (free loopback ports, never 6379), each
/// with an admin connection of its own (client name "lockscope-admin") for looking at and
/// tampering with the data behind the lock library's back. The lock library's connections use
/// the harness's client name ("lockscope-test") and the node names "node0", "node1", ...
class ServerSet
{
public:
    static redis::Result<std::unique_ptr<ServerSet>> start(int count);
    ~ServerSet();
    ServerSet(const ServerSet &) = delete;
    ServerSet &operator=(const ServerSet &) = delete;

    int size() const { return static_cast<int>(m_servers.size()); }
    redis::LocalRedisServer &server(int i) { return *m_servers.at(static_cast<size_t>(i)); }
    /// Client configurations for a Locker: names "node<i>", short test timeouts.
    std::vector<redis::NodeConfig> configs() const;
    /// The servers themselves, in node order (for a simulation allowed to pause and kill them).
    std::vector<redis::LocalRedisServer *> servers() const;
    static QString nodeName(int i) { return QStringLiteral("node%1").arg(i); }

    /// The admin connection to server i. After a restart call reconnect(i).
    redis::Connection &admin(int i) { return *m_admins.at(static_cast<size_t>(i)); }
    redis::Result<void> reconnect(int i);

    /// GET on node i: the value, a null QByteArray when absent, "<error: ...>" on failure.
    QByteArray get(int i, const QByteArray &key);
    /// PTTL on node i (-2 absent, -1 no TTL, -100 on failure).
    qint64 pttl(int i, const QByteArray &key);
    /// SET on node i, with PX when px > 0. False (and a warning) on failure.
    bool set(int i, const QByteArray &key, const QByteArray &value, qint64 px = 0);
    bool del(int i, const QByteArray &key);
    /// How many nodes hold `key` with a LockScope value carrying `token`.
    int nodesWithToken(const QByteArray &key, const QByteArray &token);
    /// Connections on node i whose client name is exactly `clientName` (CLIENT LIST); -1 on failure.
    int clientsNamed(int i, const QByteArray &clientName);
    /// Calls node i has run of the `commands` named as INFO commandstats names them ("set",
    /// "evalsha", "client|pause"), from its start; -1 on failure. With `completedOnly`, calls
    /// that failed (an EVALSHA answered NOSCRIPT before the EVAL fallback) are left out. Lets a
    /// test see that a server has run what was queued for it, or that it ran no write at all.
    qint64 commandCalls(int i, const QList<QByteArray> &commands, bool completedOnly = false);
    /// commandCalls() of the script commands (EVAL, EVALSHA and their _RO forms).
    qint64 scriptCalls(int i, bool completedOnly = false);

private:
    ServerSet() = default;
    std::vector<std::unique_ptr<redis::LocalRedisServer>> m_servers;
    std::vector<std::unique_ptr<redis::Connection>> m_admins;
};

/// "ok" or the lock error's one-line form, for QVERIFY2 messages.
template <typename T>
QByteArray describe(const lock::LockResult<T> &result)
{
    return result ? QByteArray("ok") : result.error().toString().toUtf8();
}

/// One attempt (no retry) with `ttl`, and the caller's `token` when given.
lock::AcquireOptions withTtl(std::chrono::milliseconds ttl, const QByteArray &token = {});

/// "node0=granted, node1=error, ..." for failure messages.
QString outcomes(const std::vector<lock::NodeVote> &votes);

/// Position of the vote of node `name` in `votes`, -1 if none.
int voteIndex(const std::vector<lock::NodeVote> &votes, const QString &name);

/// Threads of this process (/proc/self/task): a run that joined its threads is back to where it
/// started.
int threadCount();

/// A connection of its own to node `i`, in pub/sub mode: `command` (SUBSCRIBE or PSUBSCRIBE) of
/// `channel` sent and confirmed; nullptr on failure.
std::unique_ptr<redis::Connection> subscribedConnection(ServerSet &servers, int i, QByteArrayView command,
                                                        QByteArrayView channel);

/// Resumes a paused server when the scope ends, however the test function returns.
class ResumeOnExit
{
public:
    explicit ResumeOnExit(redis::LocalRedisServer &server) : m_server(server) {}
    ~ResumeOnExit();
    ResumeOnExit(const ResumeOnExit &) = delete;
    ResumeOnExit &operator=(const ResumeOnExit &) = delete;

private:
    redis::LocalRedisServer &m_server;
};

} // namespace lockscope::test

/// Fails the current test function unless `result` holds a lock error of `expectedKind`.
#define LS_VERIFY_LOCK_ERROR(result, expectedKind)                                                           \
    do {                                                                                                     \
        const auto &lsLockResult_ = (result);                                                                \
        QVERIFY2(!lsLockResult_.has_value(), "expected a lock error, got a value");                          \
        QVERIFY2(lsLockResult_.error().kind == (expectedKind),                                               \
                 qPrintable(QStringLiteral("expected %1, got %2")                                            \
                                .arg(::lockscope::lock::LockError::kindName(expectedKind),                   \
                                     lsLockResult_.error().toString())));                                    \
    } while (false)

/// Declares `name` as a std::unique_ptr<ServerSet> of `count` started servers.
#define LS_START_SERVERS(name, count)                                                                        \
    auto name##Started_ = ::lockscope::test::ServerSet::start(count);                                        \
    QVERIFY2(name##Started_.has_value(), ::lockscope::test::describe(name##Started_).constData());           \
    std::unique_ptr<::lockscope::test::ServerSet> name = std::move(*name##Started_)
