#pragma once

#include "connection.h"

#include <chrono>
#include <memory>

namespace lockscope::redis {

/// A bounded pool of connections to one node that any thread may borrow from.
///
/// At most maxSize connections are ever open; a caller that finds none free waits (up to the
/// given time) for one to be returned instead of opening another, so a burst of threads
/// cannot open hundreds of sockets. Connections are created lazily and returned idle ones are
/// reused most-recently-used first. A connection that broke while leased is dropped on return.
/// The pool must outlive every lease.
class ConnectionPool
{
public:
    explicit ConnectionPool(NodeConfig config, int maxSize = 8);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool &) = delete;
    ConnectionPool &operator=(const ConnectionPool &) = delete;

    /// Exclusive use of one connection; returns it to the pool when destroyed.
    class Lease
    {
    public:
        Lease() = default;
        Lease(Lease &&other) noexcept;
        Lease &operator=(Lease &&other) noexcept;
        ~Lease();

        Connection &operator*() const { return *m_connection; }
        Connection *operator->() const { return m_connection.get(); }
        Connection *get() const { return m_connection.get(); }
        explicit operator bool() const { return m_connection != nullptr; }
        /// Closes the connection instead of returning it (e.g. after a protocol error).
        void discard();

    private:
        friend class ConnectionPool;
        Lease(ConnectionPool *pool, std::unique_ptr<Connection> connection);
        void release();
        ConnectionPool *m_pool = nullptr;
        std::unique_ptr<Connection> m_connection;
    };

    /// Borrows a connection, connecting a new one if the pool is below its bound. Waits at
    /// most `wait` for a busy one to come back (PoolExhausted error after that). Connect
    /// errors are returned as they are.
    Result<Lease> acquire(std::chrono::milliseconds wait);
    /// Same, waiting at most the node's connect timeout.
    Result<Lease> acquire();
    /// Same, but a new connection must be up within `connectTimeout` (instead of the node's).
    Result<Lease> acquire(std::chrono::milliseconds wait, std::chrono::milliseconds connectTimeout);
    /// A slot without connecting: an idle connection, or (below the bound) a new one that is
    /// not connected yet, or a busy one returned within `wait`. The caller connects a new one
    /// (Connection::connect with its own bound) or it connects with the node's connect timeout
    /// on first use. Lets a caller that needs several pools take all its slots first, in a
    /// fixed order, and spend connect time only afterwards.
    Result<Lease> reserve(std::chrono::milliseconds wait);
    /// An idle, already connected lease, or an empty one at once: never connects or waits.
    Lease takeIdle();

    const NodeConfig &config() const;
    int maxSize() const;
    /// Connections currently open (idle + leased).
    int openCount() const;
    int idleCount() const;

private:
    void giveBack(std::unique_ptr<Connection> connection);
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace lockscope::redis
