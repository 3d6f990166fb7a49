#include "connectionpool.h"

#include <condition_variable>
#include <mutex>
#include <vector>

namespace lockscope::redis {

struct ConnectionPool::Private
{
    NodeConfig config;
    int maxSize;
    mutable std::mutex mutex;
    std::condition_variable returned;
    std::vector<std::unique_ptr<Connection>> idle; // most recently returned last
    int open = 0;                                  // idle + leased + being connected
};

ConnectionPool::ConnectionPool(NodeConfig config, int maxSize) : d(std::make_unique<Private>())
{
    d->config = std::move(config);
    d->maxSize = std::max(1, maxSize);
}

ConnectionPool::~ConnectionPool()
{
    std::lock_guard lock(d->mutex);
    Q_ASSERT_X(d->open == static_cast<int>(d->idle.size()), "ConnectionPool",
               "destroyed while connections are leased");
}

const NodeConfig &ConnectionPool::config() const
{
    return d->config;
}

int ConnectionPool::maxSize() const
{
    return d->maxSize;
}

int ConnectionPool::openCount() const
{
    std::lock_guard lock(d->mutex);
    return d->open;
}

int ConnectionPool::idleCount() const
{
    std::lock_guard lock(d->mutex);
    return static_cast<int>(d->idle.size());
}

Result<ConnectionPool::Lease> ConnectionPool::acquire()
{
    return acquire(d->config.connectTimeout);
}

ConnectionPool::Lease ConnectionPool::takeIdle()
{
    std::lock_guard lock(d->mutex);
    if (d->idle.empty())
        return {};
    std::unique_ptr<Connection> connection = std::move(d->idle.back());
    d->idle.pop_back();
    return Lease(this, std::move(connection));
}

Result<ConnectionPool::Lease> ConnectionPool::acquire(std::chrono::milliseconds wait)
{
    return acquire(wait, d->config.connectTimeout);
}

Result<ConnectionPool::Lease> ConnectionPool::acquire(std::chrono::milliseconds wait,
                                                      std::chrono::milliseconds connectTimeout)
{
    auto lease = reserve(wait);
    if (!lease || (*lease)->isConnected())
        return lease;
    // Connected without holding the pool's lock: a slow node must not block threads that only
    // want to return or reuse a connection.
    if (auto connected = (*lease)->connect(connectTimeout); !connected) {
        lease->discard();
        return std::unexpected(connected.error());
    }
    return lease;
}

Result<ConnectionPool::Lease> ConnectionPool::reserve(std::chrono::milliseconds wait)
{
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::unique_lock lock(d->mutex);
    for (;;) {
        if (!d->idle.empty()) {
            std::unique_ptr<Connection> connection = std::move(d->idle.back());
            d->idle.pop_back();
            return Lease(this, std::move(connection));
        }
        if (d->open < d->maxSize)
            break;
        if (d->returned.wait_until(lock, deadline) == std::cv_status::timeout && d->idle.empty() &&
            d->open >= d->maxSize) {
            return fail(
                ErrorKind::PoolExhausted, d->config.label(),
                QStringLiteral("all %1 connections stayed busy for %2 ms").arg(d->maxSize).arg(wait.count()));
        }
    }
    ++d->open; // the slot is ours; the connection is not connected yet
    lock.unlock();
    return Lease(this, std::make_unique<Connection>(d->config));
}

void ConnectionPool::giveBack(std::unique_ptr<Connection> connection)
{
    {
        std::lock_guard lock(d->mutex);
        // A connection that broke, or was returned mid-pipeline, is not reusable.
        if (connection && connection->isConnected() && connection->pendingReplies() == 0)
            d->idle.push_back(std::move(connection));
        else
            --d->open;
    }
    d->returned.notify_one();
}

ConnectionPool::Lease::Lease(ConnectionPool *pool, std::unique_ptr<Connection> connection)
    : m_pool(pool), m_connection(std::move(connection))
{}

ConnectionPool::Lease::Lease(Lease &&other) noexcept
    : m_pool(std::exchange(other.m_pool, nullptr)), m_connection(std::move(other.m_connection))
{}

ConnectionPool::Lease &ConnectionPool::Lease::operator=(Lease &&other) noexcept
{
    if (this != &other) {
        release();
        m_pool = std::exchange(other.m_pool, nullptr);
        m_connection = std::move(other.m_connection);
    }
    return *this;
}

ConnectionPool::Lease::~Lease()
{
    release();
}

void ConnectionPool::Lease::discard()
{
    if (m_connection)
        m_connection->close();
    release();
}

void ConnectionPool::Lease::release()
{
    if (m_pool)
        m_pool->giveBack(std::move(m_connection));
    m_pool = nullptr;
    m_connection.reset();
}

} // namespace lockscope::redis
