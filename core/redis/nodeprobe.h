#pragma once

#include "connection.h"

#include <QDateTime>
#include <QMetaType>
#include <chrono>
#include <optional>

namespace lockscope::redis {

/// Live status of a node as shown in `lockctl ping` and the GUI node list.
struct NodeStatus
{
    QString node;                         ///< node label
    bool reachable = false;               ///< connected and answered PING
    std::chrono::microseconds latency{0}; ///< PING round trip
    /// Connecting (TCP, TLS, AUTH / HELLO handshake) when this probe opened the connection:
    /// a server that stalls answers the handshake late and the PING after it at once, so the
    /// PING alone would show a stalled node as fast.
    std::optional<std::chrono::microseconds> connectTime;
    QString version; ///< server version, empty when not permitted
    QString role;    ///< master / replica / sentinel, empty when unknown
    QString mode;    ///< standalone / cluster / sentinel, empty when unknown
    /// INFO memory's maxmemory_policy ("noeviction", "allkeys-lru", ...); empty when the user may
    /// not run INFO or the server does not report it.
    QString maxmemoryPolicy;
    qint64 maxmemory = -1;           ///< INFO memory's maxmemory in bytes, 0 = no limit, -1 unknown
    std::optional<RedisError> error; ///< set when not reachable
    QDateTime checkedAt;

    /// Whether the node's eviction policy can evict fence counters (`{key}.fence`). They have
    /// no TTL, so the volatile-* policies (which pick among keys with a TTL) and noeviction
    /// never touch them; an allkeys-* policy can, and the counter then starts again from 1: a
    /// later holder gets a fence that an earlier holder already had.
    bool fenceCountersEvictable() const;
    /// "fence counters can be evicted (maxmemory-policy allkeys-lru)" when
    /// fenceCountersEvictable(), with a note when no maxmemory limit is set yet; empty otherwise.
    QString fenceWarning() const;
};

/// Connects if needed, measures one PING round trip, and asks the server for its version and
/// role with HELLO 2 (falling back to INFO server when HELLO is not available), then for its
/// eviction policy with INFO memory (read-only; CONFIG GET is not used, since it is often
/// renamed or denied). Works with a least-privilege ACL user: a NOPERM on HELLO/INFO leaves
/// version, role and policy empty.
NodeStatus probeNode(Connection &connection);

} // namespace lockscope::redis

Q_DECLARE_METATYPE(lockscope::redis::NodeStatus)
