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
    QString version;                      ///< server version, empty when not permitted
    QString role;                         ///< master / replica / sentinel, empty when unknown
    QString mode;                         ///< standalone / cluster / sentinel, empty when unknown
    std::optional<RedisError> error;      ///< set when not reachable
    QDateTime checkedAt;
};

/// Connects if needed, measures one PING round trip, and asks the server for its version and
/// role with HELLO 2 (falling back to INFO server when HELLO is not available). Works with a
/// least-privilege ACL user: a NOPERM on HELLO/INFO leaves version and role empty.
NodeStatus probeNode(Connection &connection);

} // namespace lockscope::redis

Q_DECLARE_METATYPE(lockscope::redis::NodeStatus)
