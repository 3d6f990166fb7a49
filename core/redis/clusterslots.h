#pragma once

#include "nodeconfig.h"
#include "rediserror.h"
#include "redisreply.h"

#include <QByteArrayView>
#include <QString>
#include <expected>
#include <vector>

namespace lockscope::redis {

class Connection;

/// Number of hash slots of a Redis Cluster.
inline constexpr int kClusterSlotCount = 16384;

/// CRC16-XMODEM (polynomial 0x1021, initial value 0, no reflection), the checksum Redis
/// Cluster hashes keys with (crc16.c in the Redis source). "123456789" gives 0x31C3.
quint16 crc16Xmodem(QByteArrayView data);

/// The hash slot Redis Cluster assigns `key` to, as CLUSTER KEYSLOT answers it: the CRC16 of
/// the key modulo 16384, or of its hash tag when it has one. The hash tag is the bytes between
/// the first '{' and the first '}' after it, when there is at least one byte between them; so
/// "{user1000}.following" hashes "user1000", "foo{}{bar}" hashes the whole key and
/// "foo{{bar}}zap" hashes "{bar". Keys are bytes: any byte value, 0x00 included, is allowed.
quint16 keyHashSlot(QByteArrayView key);

/// A contiguous range of hash slots, both ends included.
struct SlotRange
{
    quint16 first = 0;
    quint16 last = 0;

    int size() const { return int(last) - int(first) + 1; }
    bool contains(quint16 slot) const { return slot >= first && slot <= last; }
    bool operator==(const SlotRange &) const = default;
};

/// One node of a cluster as the cluster itself announces it.
struct ClusterNode
{
    QString id; ///< the 40-hex-digit node id; empty when the server is too old to report it
    /// The address to connect to: the cluster's preferred endpoint (the IP unless
    /// cluster-preferred-endpoint-type says otherwise), else the IP; for a NULL endpoint in CLUSTER
    /// SLOTS the host of the node that answered. Empty when the cluster does not know it yet.
    QString host;
    /// The port clients use over the transport of the connection the topology was read on: the
    /// TLS port when that connection used TLS and the node announces one, the plain port otherwise.
    quint16 port = 0;
    QString hostname; ///< cluster-announce-hostname, empty when the node announces none
    /// CLUSTER SHARDS' health: "online", "failed" or "loading"; empty from CLUSTER SLOTS, which
    /// leaves out the replicas that are not online.
    QString health;

    /// host:port.
    QString address() const;
    /// A configuration for connecting to this node: `seed` (the configuration the topology was
    /// read with: credentials, TLS, timeouts, guards) with this node's host and port and without
    /// the seed's display name. With TLS, the name verified is the seed's explicit server name,
    /// else the node's announced hostname, else its address.
    NodeConfig connectionConfig(const NodeConfig &seed) const;

    bool operator==(const ClusterNode &) const = default;
};

/// A master, its replicas and the slots the master serves. A master may serve no slot at all (a
/// node just added to the cluster).
struct ClusterShard
{
    ClusterNode master;
    std::vector<ClusterNode> replicas;
    std::vector<SlotRange> slotRanges; ///< sorted, adjacent ranges merged

    int slotCount() const;
    bool operator==(const ClusterShard &) const = default;
};

/// Which master serves which hash slot: a snapshot of a cluster's slot map, read with
/// discoverTopology(). A plain value type (copyable, no connections, safe to pass between
/// threads). A snapshot goes stale when slots move (resharding, failover): the router that uses
/// it must refresh it when a node answers MOVED.
class ClusterTopology
{
public:
    /// An empty topology: no shard, no slot covered.
    ClusterTopology() = default;

    /// Builds the slot map. Sorts and merges each shard's ranges, and orders the shards by their
    /// first slot (shards without slots last, by address), so two reads of the same cluster compare
    /// equal. Fails, naming the slot, when a range lies outside 0..16383, is reversed, or claims
    /// a slot that another shard (or the same shard twice) already serves.
    static std::expected<ClusterTopology, QString> fromShards(std::vector<ClusterShard> shards);

    const std::vector<ClusterShard> &shards() const { return m_shards; }
    /// The shard serving `slot`; nullptr when no master serves it (or slot >= 16384). The
    /// pointer stays valid as long as this topology object.
    const ClusterShard *shardForSlot(quint16 slot) const;
    /// The master serving `slot`; nullptr when none does. Valid as long as this object.
    const ClusterNode *masterForSlot(quint16 slot) const;
    /// masterForSlot(keyHashSlot(key)).
    const ClusterNode *masterForKey(QByteArrayView key) const;

    int masterCount() const { return int(m_shards.size()); }
    int replicaCount() const;
    /// How many of the 16384 slots a master serves.
    int coveredSlots() const { return m_coveredSlots; }
    /// Every one of the 16384 slots is served by a master.
    bool isComplete() const { return m_coveredSlots == kClusterSlotCount; }

    /// For people: "3 masters, 3 replicas, 16384 slots covered", or "... 16000 of 16384 slots
    /// covered" when some are not.
    QString describe() const;

    bool operator==(const ClusterTopology &other) const { return m_shards == other.m_shards; }

private:
    std::vector<ClusterShard> m_shards;
    std::vector<qint16> m_slotOwner; ///< shard index per slot, -1 = not served; empty = none
    int m_coveredSlots = 0;
};

/// Reads the slot map of the cluster `connection` belongs to, from that one node.
///
/// Sends `CLUSTER SHARDS` (Redis 7.0+), and `CLUSTER SLOTS` instead when the server does not
/// know SHARDS (older servers answer "unknown subcommand") or the ACL denies it (NOPERM; a user
/// may be granted only +cluster|slots). Both are read-only; the ACL needs +cluster|shards or
/// +cluster|slots. Blocks for up to two command timeouts of the connection; call it on a worker
/// thread. The connection stays usable afterwards.
///
/// Errors are values: a node that is not in cluster mode ("ERR This instance has cluster support
/// disabled") is a Server error naming the node and saying it is not a cluster node; a reply that
/// does not have the documented shape is a Protocol error; connection errors pass through.
Result<ClusterTopology> discoverTopology(Connection &connection);

/// The parsers behind discoverTopology(), for callers that already hold the reply (RESP2). `from`
/// is the configuration of the node that answered: it names the node in errors, replaces an empty
/// endpoint (the node answering leaves its own IP out when it does not know it) and tells which
/// port (plain or TLS) a node is reached on.
Result<ClusterTopology> parseClusterShards(const RedisReply &reply, const NodeConfig &from);
Result<ClusterTopology> parseClusterSlots(const RedisReply &reply, const NodeConfig &from);

} // namespace lockscope::redis
