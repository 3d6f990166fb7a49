#pragma once

#include "lockrecord.h"
#include "lockschema.h"
#include "redis/nodeconfig.h"
#include "redis/rediserror.h"

#include <QByteArray>
#include <QString>
#include <optional>
#include <vector>

namespace lockscope::redis {
class Connection;
}

namespace lockscope::inspect {

// Reading one key now, on one node or on every node of a group: the one place that does it (the
// admin layer before a write, lockctl show / ttl / extend --heal, the app's re-read before an
// action). Read-only: TYPE, PTTL, GET, HGETALL, ZRANGE ... WITHSCORES and LRANGE (at most
// RawEntry::MaxElements), TIME (and GET of the fence counter when asked), one pipeline per node;
// with KeyReadOptions::companionsOf a second one reads the companion keys the same way.

/// What one node holds under a key, read now.
struct KeyRead
{
    QString node;                           ///< node label
    std::optional<redis::RedisError> error; ///< the node could not be read; `raw` is Missing then
    /// Missing: no key. String / Hash: the value. Other: another type (typeName says which, or is
    /// empty when the user may not run TYPE and the value could not be read either); a sorted
    /// set's members and a list's elements are read (RawEntry::isSortedSet(), isList()).
    RawEntry raw;
    /// The key is there but its value could not be read (an ACL without +get, +hgetall, +zrange
    /// or +lrange): the server's error; `raw` is then Other.
    QString valueError;
    /// With KeyReadOptions::fenceCounter: LockScope's fence counter of the key (fenceKeyFor()),
    /// when the node has one; its name depends on the writer's key prefix, so the highest of the
    /// names the key suggests (lock::possibleKeyPrefixes).
    std::optional<qint64> fenceCounter;

    /// The key exists on the node (whatever its type and whether its value could be read).
    bool exists() const { return !error && raw.pttlMs != -2; }
    /// As a scan shows it: unreachable with the error's text, or the raw entry (not decoded). A
    /// cluster redirect (MOVED / ASK) is a reachable node without the key, the error's text set.
    NodeEntry entry() const;
};

struct KeyReadOptions
{
    bool fenceCounter = false; ///< also read LockScope's fence counter of the key
    /// Also read the companion keys this registry's schemas name for the key (a fair lock's
    /// queue, a writer's intent) into RawEntry::companions, in one more round trip. Held by
    /// pointer for the call only.
    const SchemaRegistry *companionsOf = nullptr;
};

/// Reads `key` on `connection` (connecting when needed). A user whose ACL lacks +type still
/// gets the value: the type is then told from the GET and HGETALL replies.
KeyRead readKey(redis::Connection &connection, const QByteArray &key, const KeyReadOptions &options = {});

/// Reads `key` on every node at once, one connection each: the total time is the slowest
/// node's. In the order of `nodes`. Blocking: call it off the GUI thread.
std::vector<KeyRead> readKeyOnNodes(const std::vector<redis::NodeConfig> &nodes, const QByteArray &key,
                                    const KeyReadOptions &options = {});

/// Reads `key` on every node of a group now (readKeyOnNodes), decodes it and aggregates one
/// record, as a scan would show it; a node that cannot be read is unreachable in the record, one
/// that answers MOVED / ASK is reachable without the key and adds anomaly::ClusterRedirect. The
/// record's readAt is the moment before the reads were sent, so a countdown from it never shows
/// more time than was left. Blocking: call it off the GUI thread. Used to re-read a lock before
/// an operator acts, and by lockctl show.
LockRecord readRecord(const std::vector<redis::NodeConfig> &nodes, const QByteArray &key,
                      const SchemaRegistry &registry);

} // namespace lockscope::inspect
