#include "keyread.h"

#include "lock/lockvalue.h"
#include "rawread.h"
#include "redis/connection.h"
#include "util/fanout.h"

#include <algorithm>
#include <chrono>

namespace lockscope::inspect {

using redis::Connection;
using redis::RedisError;
using redis::RedisReply;

namespace {

bool isWrongType(const RedisReply &reply)
{
    return reply.isError() && reply.bytes().startsWith("WRONGTYPE");
}

/// What readKey sends, in this order (the fence counter's GET last, when asked).
enum Reply : std::size_t
{
    TypeReply,
    PttlReply,
    GetReply,
    HgetallReply,
    ZrangeReply,
    LrangeReply,
    TimeReply,
    FenceReply
};

/// The key's type when TYPE was refused (NOPERM): told from what GET, HGETALL, ZRANGE and LRANGE
/// answered. Empty when none could read it (the value is unreadable too).
QString typeFromValues(const std::vector<RedisReply> &replies, qint64 pttl)
{
    const RedisReply &get = replies[GetReply];
    if (pttl == -2)
        return QStringLiteral("none");
    if (get.isString())
        return QStringLiteral("string");
    if (!isWrongType(get))
        return {};
    if (!replies[HgetallReply].isError())
        return QStringLiteral("hash");
    if (!replies[ZrangeReply].isError())
        return QStringLiteral("zset");
    if (!replies[LrangeReply].isError())
        return QStringLiteral("list");
    if (isWrongType(replies[HgetallReply]) && isWrongType(replies[ZrangeReply]) &&
        isWrongType(replies[LrangeReply]))
        return QStringLiteral("non-string value"); // a set, stream...: not a lock's type
    return {};
}

/// The companion keys the registry's schemas name for `raw`, read whole on `connection` in one
/// more round trip (with the first round's server time).
std::optional<RedisError> readCompanions(Connection &connection, const QByteArray &key,
                                         const SchemaRegistry &registry, RawEntry &raw)
{
    const std::vector<QByteArray> keys = registry.companionKeys(key, raw);
    if (keys.empty())
        return std::nullopt;
    std::vector<std::vector<QByteArray>> commands;
    for (const QByteArray &companion : keys) {
        for (auto &command : detail::readAnyCommands(companion))
            commands.push_back(std::move(command));
    }
    auto replies = connection.pipeline(commands);
    if (!replies)
        return replies.error();
    for (std::size_t c = 0; c < keys.size(); ++c) {
        const std::span<const RedisReply> part(replies->data() + c * detail::ReadAnyReplies,
                                               detail::ReadAnyReplies);
        raw.companions.emplace_back(keys[c], detail::rawFromReplies(part, raw.serverTimeMs));
    }
    return std::nullopt;
}

} // namespace

NodeEntry KeyRead::entry() const
{
    NodeEntry entry;
    entry.node = node;
    if (error && error->kind == redis::ErrorKind::ClusterRedirect) {
        // The node answered: it is up, the key is on another cluster node. Not "unreachable";
        // what is not read here stays Missing.
        entry.error = error->toString();
        entry.raw = raw; // the key itself when only a companion key was redirected
        return entry;
    }
    if (error) {
        entry.reachable = false;
        entry.error = error->toString();
        return entry;
    }
    entry.raw = raw;
    return entry;
}

namespace {

/// The value of the type `read.raw.typeName` names, from the replies readKey sent; a value that
/// could not be read (an ACL without its command) is never taken for one: Other, valueError set.
void takeValue(KeyRead &read, const std::vector<RedisReply> &replies)
{
    RawEntry &raw = read.raw;
    const QString &typeName = raw.typeName;
    const std::pair<const char *, Reply> readers[] = {
        {"string", GetReply}, {"hash", HgetallReply}, {"zset", ZrangeReply}, {"list", LrangeReply}};
    const auto reader =
        std::ranges::find_if(readers, [&](const auto &r) { return typeName == QLatin1String(r.first); });
    raw.type = RawEntry::Type::Other;
    if (reader == std::end(readers)) {
        if (typeName.isEmpty())
            read.valueError = RedisError::fromServerReply(read.node, replies[GetReply].bytes()).toString();
        return;
    }
    const RedisReply &value = replies[reader->second];
    if (value.isError()) {
        read.valueError = RedisError::fromServerReply(read.node, value.bytes()).toString();
        return;
    }
    switch (reader->second) {
    case GetReply:
        raw.type = RawEntry::Type::String;
        raw.value = value.bytes();
        break;
    case HgetallReply:
        raw.type = RawEntry::Type::Hash;
        for (std::size_t i = 0; i + 1 < value.elements().size(); i += 2)
            raw.fields.emplace_back(value.elements()[i].bytes(), value.elements()[i + 1].bytes());
        break;
    case ZrangeReply:
        detail::takeMembers(raw, value);
        break;
    default:
        detail::takeElements(raw, value);
        break;
    }
}

} // namespace

KeyRead readKey(Connection &connection, const QByteArray &key, const KeyReadOptions &options)
{
    KeyRead read;
    read.node = connection.node();
    std::vector<std::vector<QByteArray>> commands{
        {QByteArrayLiteral("TYPE"), key}, {QByteArrayLiteral("PTTL"), key},
        {QByteArrayLiteral("GET"), key},  {QByteArrayLiteral("HGETALL"), key},
        detail::zrangeCommand(key),       detail::lrangeCommand(key),
        {QByteArrayLiteral("TIME")},
    };
    // The counter's name depends on the writer's key prefix (lock::fenceKeyFor): every name the
    // key suggests is read, and the highest count wins (an acquire under a prefix starts its
    // counter from the unprefixed one, so the newer name never holds less).
    if (options.fenceCounter) {
        std::vector<QByteArray> fenceKeys;
        for (const QByteArray &prefix : lock::possibleKeyPrefixes(key)) {
            QByteArray name = lock::fenceKeyFor(key, prefix);
            if (std::ranges::find(fenceKeys, name) == fenceKeys.end())
                fenceKeys.push_back(std::move(name));
        }
        for (const QByteArray &name : fenceKeys)
            commands.push_back({QByteArrayLiteral("GET"), name});
    }
    auto replies = connection.pipeline(commands);
    if (!replies) {
        read.error = replies.error();
        return read;
    }
    const RedisReply &type = (*replies)[TypeReply];
    const RedisReply &pttl = (*replies)[PttlReply];
    const RedisReply &get = (*replies)[GetReply];
    if (pttl.isError()) {
        read.error = RedisError::fromServerReply(read.node, pttl.bytes());
        return read;
    }
    QString typeName;
    if (!type.isError()) {
        typeName = QString::fromUtf8(type.bytes());
    } else if (RedisError::fromServerReply(read.node, type.bytes()).kind == redis::ErrorKind::NoPerm) {
        typeName = typeFromValues(*replies, pttl.integer());
    } else {
        read.error = RedisError::fromServerReply(read.node, type.bytes());
        return read;
    }
    for (std::size_t i = FenceReply; i < replies->size(); ++i) {
        bool ok = false;
        const qint64 counter = (*replies)[i].isString() ? (*replies)[i].bytes().toLongLong(&ok) : 0;
        if (ok && (!read.fenceCounter || counter > *read.fenceCounter))
            read.fenceCounter = counter;
    }

    RawEntry &raw = read.raw;
    if (typeName == QLatin1String("none") || (typeName == QLatin1String("string") && get.isNil()))
        return read; // missing (or gone between TYPE and GET)
    raw.typeName = typeName;
    raw.pttlMs = pttl.integer();
    raw.serverTimeMs = detail::serverTimeMs((*replies)[TimeReply]);
    takeValue(read, *replies);
    if (options.companionsOf) {
        if (auto error = readCompanions(connection, key, *options.companionsOf, raw))
            read.error = std::move(error);
    }
    return read;
}

std::vector<KeyRead> readKeyOnNodes(const std::vector<redis::NodeConfig> &nodes, const QByteArray &key,
                                    const KeyReadOptions &options)
{
    std::vector<KeyRead> reads(nodes.size());
    util::forEachParallel(nodes.size(), nodes.size(), [&](std::size_t i) {
        Connection connection(nodes[i]);
        reads[i] = readKey(connection, key, options);
        reads[i].node = nodes[i].label();
    });
    return reads;
}

LockRecord readRecord(const std::vector<redis::NodeConfig> &nodes, const QByteArray &key,
                      const SchemaRegistry &registry)
{
    const QDateTime readAt = QDateTime::currentDateTimeUtc();
    const auto readAtSteady = std::chrono::steady_clock::now();
    std::vector<NodeEntry> entries;
    entries.reserve(nodes.size());
    for (const KeyRead &read : readKeyOnNodes(nodes, key, {.companionsOf = &registry})) {
        NodeEntry entry = read.entry();
        if (entry.present())
            entry.decoded = registry.decode(key, entry.raw);
        entries.push_back(std::move(entry));
    }
    const bool redirected = std::ranges::any_of(
        entries, [](const NodeEntry &entry) { return entry.reachable && !entry.error.isEmpty(); });
    LockRecord record = aggregate(key, std::move(entries));
    if (redirected)
        record.anomalies.append(QLatin1String(anomaly::ClusterRedirect));
    record.readAt = readAt;
    record.readAtSteady = readAtSteady;
    return record;
}

} // namespace lockscope::inspect
