#include "keyread.h"

#include "lock/lockvalue.h"
#include "redis/connection.h"
#include "util/fanout.h"

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

/// The key's type when TYPE was refused (NOPERM): told from what GET and HGETALL answered.
/// Empty when neither could read it (the value is unreadable too).
QString typeFromValues(const RedisReply &get, const RedisReply &hgetall, qint64 pttl)
{
    if (pttl == -2)
        return QStringLiteral("none");
    if (get.isString())
        return QStringLiteral("string");
    if (isWrongType(get) && !hgetall.isError())
        return QStringLiteral("hash");
    if (isWrongType(get) && isWrongType(hgetall))
        return QStringLiteral("non-string value"); // a list, set, stream...: not a lock's type
    return {};
}

} // namespace

NodeEntry KeyRead::entry() const
{
    NodeEntry entry;
    entry.node = node;
    if (error) {
        entry.reachable = false;
        entry.error = error->toString();
        return entry;
    }
    entry.raw = raw;
    return entry;
}

KeyRead readKey(Connection &connection, const QByteArray &key, const KeyReadOptions &options)
{
    KeyRead read;
    read.node = connection.node();
    std::vector<std::vector<QByteArray>> commands{
        {QByteArrayLiteral("TYPE"), key},
        {QByteArrayLiteral("PTTL"), key},
        {QByteArrayLiteral("GET"), key},
        {QByteArrayLiteral("HGETALL"), key},
    };
    if (options.fenceCounter)
        commands.push_back({QByteArrayLiteral("GET"), lock::fenceKeyFor(key)});
    auto replies = connection.pipeline(commands);
    if (!replies) {
        read.error = replies.error();
        return read;
    }
    const RedisReply &type = (*replies)[0];
    const RedisReply &pttl = (*replies)[1];
    const RedisReply &get = (*replies)[2];
    const RedisReply &hgetall = (*replies)[3];
    if (pttl.isError()) {
        read.error = RedisError::fromServerReply(read.node, pttl.bytes());
        return read;
    }
    QString typeName;
    if (!type.isError()) {
        typeName = QString::fromUtf8(type.bytes());
    } else if (RedisError::fromServerReply(read.node, type.bytes()).kind == redis::ErrorKind::NoPerm) {
        typeName = typeFromValues(get, hgetall, pttl.integer());
    } else {
        read.error = RedisError::fromServerReply(read.node, type.bytes());
        return read;
    }
    if (options.fenceCounter && (*replies)[4].isString()) {
        bool ok = false;
        const qint64 counter = (*replies)[4].bytes().toLongLong(&ok);
        if (ok)
            read.fenceCounter = counter;
    }

    RawEntry &raw = read.raw;
    if (typeName == QLatin1String("none") || (typeName == QLatin1String("string") && get.isNil()))
        return read; // missing (or gone between TYPE and GET)
    raw.typeName = typeName;
    raw.pttlMs = pttl.integer();
    const bool string = typeName == QLatin1String("string");
    const bool hash = typeName == QLatin1String("hash");
    const RedisReply &value = hash ? hgetall : get;
    if ((string || hash) && value.isError()) {
        // There, but its value may not be read: never taken for a value.
        read.valueError = RedisError::fromServerReply(read.node, value.bytes()).toString();
        raw.type = RawEntry::Type::Other;
    } else if (string) {
        raw.type = RawEntry::Type::String;
        raw.value = get.bytes();
    } else if (hash) {
        raw.type = RawEntry::Type::Hash;
        const auto &elements = hgetall.elements();
        for (std::size_t i = 0; i + 1 < elements.size(); i += 2)
            raw.fields.emplace_back(elements[i].bytes(), elements[i + 1].bytes());
    } else {
        raw.type = RawEntry::Type::Other;
        if (typeName.isEmpty())
            read.valueError = RedisError::fromServerReply(read.node, get.bytes()).toString();
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
    for (const KeyRead &read : readKeyOnNodes(nodes, key)) {
        NodeEntry entry = read.entry();
        if (entry.present())
            entry.decoded = registry.decode(key, entry.raw);
        entries.push_back(std::move(entry));
    }
    LockRecord record = aggregate(key, std::move(entries));
    record.readAt = readAt;
    record.readAtSteady = readAtSteady;
    return record;
}

} // namespace lockscope::inspect
