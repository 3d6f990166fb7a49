#include "clusterslots.h"

#include "connection.h"
#include "util/logging.h"

#include <QHash>
#include <algorithm>
#include <array>
#include <optional>

namespace lockscope::redis {

namespace {

constexpr std::array<quint16, 256> makeCrc16Table()
{
    std::array<quint16, 256> table{};
    for (int byte = 0; byte < 256; ++byte) {
        quint16 crc = quint16(byte << 8);
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 0x8000) ? quint16((crc << 1) ^ 0x1021) : quint16(crc << 1);
        table[size_t(byte)] = crc;
    }
    return table;
}

constexpr std::array<quint16, 256> kCrc16Table = makeCrc16Table();

QString plural(int count, const char *singular, const char *pluralForm)
{
    return QStringLiteral("%1 %2").arg(count).arg(QLatin1String(count == 1 ? singular : pluralForm));
}

/// The value of `name` in a RESP2 map (a flat array of key, value, key, value ...).
const RedisReply *field(const RedisReply &map, QByteArrayView name)
{
    const auto &elements = map.elements();
    for (size_t i = 0; i + 1 < elements.size(); i += 2)
        if (elements[i].isString() && elements[i].bytes() == name)
            return &elements[i + 1];
    return nullptr;
}

QString text(const RedisReply *reply)
{
    return reply && (reply->isString() || reply->isStatus()) ? QString::fromUtf8(reply->bytes()) : QString();
}

/// "" is an address the cluster does not know yet, "?" a hostname that was asked for and never
/// announced: neither can be connected to.
bool usableEndpoint(const QString &endpoint)
{
    return !endpoint.isEmpty() && endpoint != QLatin1String("?");
}

std::optional<quint16> toPort(const RedisReply *reply)
{
    if (!reply)
        return std::nullopt;
    qint64 value = -1;
    if (reply->isInteger()) {
        value = reply->integer();
    } else if (reply->isString()) {
        bool ok = false;
        value = reply->bytes().toLongLong(&ok);
        if (!ok)
            return std::nullopt;
    }
    if (value < 0 || value > 65535)
        return std::nullopt;
    return quint16(value);
}

std::optional<quint16> toSlot(const RedisReply &reply)
{
    if (!reply.isInteger() || reply.integer() < 0 || reply.integer() >= kClusterSlotCount)
        return std::nullopt;
    return quint16(reply.integer());
}

bool mentions(const RedisError &error, const char *needle)
{
    return error.message.contains(QLatin1String(needle), Qt::CaseInsensitive);
}

bool isClusterDisabled(const RedisError &error)
{
    return error.kind == ErrorKind::Server && mentions(error, "cluster support disabled");
}

/// Redis 7 answers "unknown subcommand 'SHARDS'", Redis 6 "Unknown subcommand or wrong number of
/// arguments for 'SHARDS'", and a renamed CLUSTER command "unknown command".
bool isUnknownCommand(const RedisError &error)
{
    return error.kind == ErrorKind::Server &&
           (mentions(error, "unknown subcommand") || mentions(error, "unknown command"));
}

RedisError notAClusterNode(const RedisError &error)
{
    return RedisError{ErrorKind::Server, error.node,
                      QStringLiteral("not a cluster node: cluster support is disabled on this server "
                                     "(cluster-enabled no); add it as a standalone node instead (%1)")
                          .arg(error.message)};
}

std::unexpected<RedisError> malformed(const NodeConfig &from, const char *command, const QString &what)
{
    return fail(ErrorKind::Protocol, from.label(),
                QStringLiteral("unexpected %1 reply: %2").arg(QLatin1String(command), what));
}

/// Reads one node of CLUSTER SHARDS' "nodes" list.
std::optional<ClusterNode> shardsNode(const RedisReply &map, const NodeConfig &from, QString *role)
{
    if (!map.isArray())
        return std::nullopt;
    ClusterNode node;
    node.id = text(field(map, "id"));
    const QString endpoint = text(field(map, "endpoint"));
    const QString ip = text(field(map, "ip"));
    node.host = usableEndpoint(endpoint) ? endpoint : (usableEndpoint(ip) ? ip : QString());
    node.hostname = text(field(map, "hostname"));
    node.health = text(field(map, "health"));
    *role = text(field(map, "role"));
    // A TLS cluster announces "tls-port" (and "port" only when it also listens in plain text).
    const std::optional<quint16> plain = toPort(field(map, "port"));
    const std::optional<quint16> tls = toPort(field(map, "tls-port"));
    if (from.tls.enabled && tls)
        node.port = *tls;
    else if (plain)
        node.port = *plain;
    else if (tls)
        node.port = *tls;
    else
        return std::nullopt;
    return node;
}

/// Reads one node of a CLUSTER SLOTS range: [endpoint, port, id?, metadata map?].
std::optional<ClusterNode> slotsNode(const RedisReply &entry, const NodeConfig &from)
{
    const auto &parts = entry.elements();
    if (!entry.isArray() || parts.size() < 2)
        return std::nullopt;
    ClusterNode node;
    const std::optional<quint16> port = toPort(&parts[1]);
    if (!port)
        return std::nullopt;
    node.port = *port;
    if (parts.size() > 2)
        node.id = text(&parts[2]);
    const RedisReply *metadata = parts.size() > 3 && parts[3].isArray() ? &parts[3] : nullptr;
    if (metadata)
        node.hostname = text(field(*metadata, "hostname"));
    if (parts[0].isNil()) {
        // cluster-preferred-endpoint-type unknown-endpoint: the documented meaning is "the host
        // you sent CLUSTER SLOTS to" (nodes behind a load balancer).
        node.host = from.transport == NodeConfig::Transport::Tcp ? from.host : QString();
    } else {
        const QString endpoint = text(&parts[0]);
        const QString ip = metadata ? text(field(*metadata, "ip")) : QString();
        node.host = usableEndpoint(endpoint) ? endpoint : (usableEndpoint(ip) ? ip : QString());
    }
    return node;
}

/// Nodes of CLUSTER SLOTS have no id before Redis 4.0; the address identifies them then.
QString nodeKey(const ClusterNode &node)
{
    return node.id.isEmpty() ? node.address() : node.id;
}

} // namespace

quint16 crc16Xmodem(QByteArrayView data)
{
    quint16 crc = 0;
    for (const char c : data)
        crc = quint16((crc << 8) ^ kCrc16Table[size_t(((crc >> 8) ^ quint8(c)) & 0xff)]);
    return crc;
}

quint16 keyHashSlot(QByteArrayView key)
{
    const qsizetype open = key.indexOf('{');
    if (open >= 0) {
        const qsizetype close = key.sliced(open + 1).indexOf('}');
        if (close > 0) // "{}" is no tag: the whole key is hashed
            key = key.sliced(open + 1, close);
    }
    return quint16(crc16Xmodem(key) & (kClusterSlotCount - 1));
}

QString ClusterNode::address() const
{
    return QStringLiteral("%1:%2").arg(host).arg(port);
}

NodeConfig ClusterNode::connectionConfig(const NodeConfig &seed) const
{
    NodeConfig config = seed;
    config.name.clear();
    config.transport = NodeConfig::Transport::Tcp;
    config.unixPath.clear();
    config.host = host;
    config.port = port;
    if (config.tls.enabled && config.tls.serverName.isEmpty())
        config.tls.serverName = hostname;
    return config;
}

int ClusterShard::slotCount() const
{
    int count = 0;
    for (const SlotRange &range : slotRanges)
        count += range.size();
    return count;
}

std::expected<ClusterTopology, QString> ClusterTopology::fromShards(std::vector<ClusterShard> shards)
{
    for (ClusterShard &shard : shards) {
        for (const SlotRange &range : shard.slotRanges)
            if (range.first > range.last || range.last >= kClusterSlotCount)
                return std::unexpected(QStringLiteral("invalid slot range %1-%2 of %3")
                                           .arg(range.first)
                                           .arg(range.last)
                                           .arg(shard.master.address()));
        std::ranges::sort(shard.slotRanges, {}, &SlotRange::first);
        std::vector<SlotRange> merged;
        for (const SlotRange &range : shard.slotRanges) {
            if (!merged.empty() && range.first <= merged.back().last)
                return std::unexpected(QStringLiteral("slot %1 is listed twice for %2")
                                           .arg(range.first)
                                           .arg(shard.master.address()));
            if (!merged.empty() && range.first == merged.back().last + 1)
                merged.back().last = range.last;
            else
                merged.push_back(range);
        }
        shard.slotRanges = std::move(merged);
    }
    std::ranges::stable_sort(shards, [](const ClusterShard &a, const ClusterShard &b) {
        if (a.slotRanges.empty() != b.slotRanges.empty())
            return b.slotRanges.empty();
        if (!a.slotRanges.empty())
            return a.slotRanges.front().first < b.slotRanges.front().first;
        return std::pair(a.master.host, a.master.port) < std::pair(b.master.host, b.master.port);
    });

    ClusterTopology topology;
    topology.m_slotOwner.assign(kClusterSlotCount, -1);
    for (size_t index = 0; index < shards.size(); ++index) {
        for (const SlotRange &range : shards[index].slotRanges) {
            for (int slot = range.first; slot <= range.last; ++slot) {
                qint16 &owner = topology.m_slotOwner[size_t(slot)];
                if (owner >= 0)
                    return std::unexpected(
                        QStringLiteral("slot %1 is served by both %2 and %3")
                            .arg(slot)
                            .arg(shards[size_t(owner)].master.address(), shards[index].master.address()));
                owner = qint16(index);
                ++topology.m_coveredSlots;
            }
        }
    }
    topology.m_shards = std::move(shards);
    return topology;
}

const ClusterShard *ClusterTopology::shardForSlot(quint16 slot) const
{
    if (slot >= m_slotOwner.size() || m_slotOwner[slot] < 0)
        return nullptr;
    return &m_shards[size_t(m_slotOwner[slot])];
}

const ClusterNode *ClusterTopology::masterForSlot(quint16 slot) const
{
    const ClusterShard *shard = shardForSlot(slot);
    return shard ? &shard->master : nullptr;
}

const ClusterNode *ClusterTopology::masterForKey(QByteArrayView key) const
{
    return masterForSlot(keyHashSlot(key));
}

int ClusterTopology::replicaCount() const
{
    int count = 0;
    for (const ClusterShard &shard : m_shards)
        count += int(shard.replicas.size());
    return count;
}

QString ClusterTopology::describe() const
{
    const QString coverage =
        isComplete() ? QStringLiteral("%1 slots covered").arg(kClusterSlotCount)
                     : QStringLiteral("%1 of %2 slots covered").arg(m_coveredSlots).arg(kClusterSlotCount);
    return QStringLiteral("%1, %2, %3")
        .arg(plural(masterCount(), "master", "masters"), plural(replicaCount(), "replica", "replicas"),
             coverage);
}

Result<ClusterTopology> parseClusterShards(const RedisReply &reply, const NodeConfig &from)
{
    constexpr const char *command = "CLUSTER SHARDS";
    if (!reply.isArray())
        return malformed(from, command, QStringLiteral("not an array"));
    std::vector<ClusterShard> shards;
    for (const RedisReply &entry : reply.elements()) {
        const RedisReply *slotList = entry.isArray() ? field(entry, "slots") : nullptr;
        const RedisReply *nodes = entry.isArray() ? field(entry, "nodes") : nullptr;
        if (!slotList || !slotList->isArray() || !nodes || !nodes->isArray())
            return malformed(from, command, QStringLiteral("a shard without \"slots\" and \"nodes\""));
        const auto &bounds = slotList->elements();
        if (bounds.size() % 2 != 0)
            return malformed(from, command, QStringLiteral("an odd number of slot bounds"));
        ClusterShard shard;
        for (size_t i = 0; i < bounds.size(); i += 2) {
            const std::optional<quint16> first = toSlot(bounds[i]);
            const std::optional<quint16> last = toSlot(bounds[i + 1]);
            if (!first || !last || *first > *last)
                return malformed(from, command,
                                 QStringLiteral("slot range %1-%2")
                                     .arg(bounds[i].toDisplayString(), bounds[i + 1].toDisplayString()));
            shard.slotRanges.push_back({*first, *last});
        }
        // One master per shard. While a failover is under way a shard may show the failed old
        // master next to the promoted one: the one that is not failed serves the slots.
        std::vector<ClusterNode> masters;
        for (const RedisReply &map : nodes->elements()) {
            QString role;
            std::optional<ClusterNode> node = shardsNode(map, from, &role);
            if (!node)
                return malformed(from, command, QStringLiteral("a node without a port"));
            (role == QLatin1String("master") ? masters : shard.replicas).push_back(*std::move(node));
        }
        if (masters.empty()) {
            if (shard.slotRanges.empty())
                continue; // replicas whose master left the cluster: nothing to route to
            return malformed(from, command,
                             QStringLiteral("no master for slots %1-%2")
                                 .arg(shard.slotRanges.front().first)
                                 .arg(shard.slotRanges.front().last));
        }
        const auto serving = std::ranges::find_if(
            masters, [](const ClusterNode &node) { return node.health != QLatin1String("failed"); });
        const size_t chosen = serving == masters.end() ? 0 : size_t(serving - masters.begin());
        shard.master = masters[chosen];
        for (size_t i = 0; i < masters.size(); ++i)
            if (i != chosen)
                shard.replicas.push_back(masters[i]);
        shards.push_back(std::move(shard));
    }
    auto topology = ClusterTopology::fromShards(std::move(shards));
    if (!topology)
        return malformed(from, command, topology.error());
    return *std::move(topology);
}

Result<ClusterTopology> parseClusterSlots(const RedisReply &reply, const NodeConfig &from)
{
    constexpr const char *command = "CLUSTER SLOTS";
    if (!reply.isArray())
        return malformed(from, command, QStringLiteral("not an array"));
    // CLUSTER SLOTS lists one entry per contiguous range, repeating the master and its replicas
    // in each: gather the ranges per master.
    std::vector<ClusterShard> shards;
    QHash<QString, size_t> shardOfMaster;
    for (const RedisReply &entry : reply.elements()) {
        const auto &parts = entry.elements();
        if (!entry.isArray() || parts.size() < 3)
            return malformed(from, command, QStringLiteral("a range without a master"));
        const std::optional<quint16> first = toSlot(parts[0]);
        const std::optional<quint16> last = toSlot(parts[1]);
        if (!first || !last || *first > *last)
            return malformed(from, command,
                             QStringLiteral("slot range %1-%2")
                                 .arg(parts[0].toDisplayString(), parts[1].toDisplayString()));
        std::optional<ClusterNode> master = slotsNode(parts[2], from);
        if (!master)
            return malformed(from, command, QStringLiteral("a node without a port"));
        const QString key = nodeKey(*master);
        auto known = shardOfMaster.constFind(key);
        if (known == shardOfMaster.constEnd()) {
            known = shardOfMaster.insert(key, shards.size());
            shards.push_back(ClusterShard{*std::move(master), {}, {}});
        }
        ClusterShard &shard = shards[*known];
        shard.slotRanges.push_back({*first, *last});
        for (size_t i = 3; i < parts.size(); ++i) {
            std::optional<ClusterNode> replica = slotsNode(parts[i], from);
            if (!replica)
                return malformed(from, command, QStringLiteral("a node without a port"));
            const bool listed = std::ranges::any_of(
                shard.replicas, [&](const ClusterNode &node) { return nodeKey(node) == nodeKey(*replica); });
            if (!listed)
                shard.replicas.push_back(*std::move(replica));
        }
    }
    auto topology = ClusterTopology::fromShards(std::move(shards));
    if (!topology)
        return malformed(from, command, topology.error());
    return *std::move(topology);
}

Result<ClusterTopology> discoverTopology(Connection &connection)
{
    auto shards = connection.command({"CLUSTER", "SHARDS"});
    if (shards)
        return parseClusterShards(*shards, connection.config());
    if (isClusterDisabled(shards.error()))
        return std::unexpected(notAClusterNode(shards.error()));
    if (!isUnknownCommand(shards.error()) && shards.error().kind != ErrorKind::NoPerm)
        return std::unexpected(shards.error());
    qCDebug(lcRedis) << connection.node()
                     << "CLUSTER SHARDS refused, reading CLUSTER SLOTS:" << shards.error().message;
    auto slotsReply = connection.command({"CLUSTER", "SLOTS"});
    if (!slotsReply)
        return std::unexpected(isClusterDisabled(slotsReply.error()) ? notAClusterNode(slotsReply.error())
                                                                     : slotsReply.error());
    return parseClusterSlots(*slotsReply, connection.config());
}

} // namespace lockscope::redis
