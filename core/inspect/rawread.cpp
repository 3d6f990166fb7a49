#include "rawread.h"

#include <cmath>
#include <limits>

namespace lockscope::inspect::detail {

using redis::RedisReply;

namespace {

const QByteArray &maxIndex()
{
    static const QByteArray index = QByteArray::number(RawEntry::MaxElements);
    return index;
}

/// A score as Redis writes it: a decimal, "inf" or "-inf".
double parseScore(const QByteArray &text)
{
    if (text == "inf" || text == "+inf")
        return std::numeric_limits<double>::infinity();
    if (text == "-inf")
        return -std::numeric_limits<double>::infinity();
    bool ok = false;
    const double score = text.toDouble(&ok);
    return ok ? score : std::numeric_limits<double>::quiet_NaN();
}

} // namespace

std::vector<QByteArray> zrangeCommand(const QByteArray &key)
{
    return {QByteArrayLiteral("ZRANGE"), key, QByteArrayLiteral("0"), maxIndex(),
            QByteArrayLiteral("WITHSCORES")};
}

std::vector<QByteArray> lrangeCommand(const QByteArray &key)
{
    return {QByteArrayLiteral("LRANGE"), key, QByteArrayLiteral("0"), maxIndex()};
}

bool takeMembers(RawEntry &raw, const RedisReply &reply)
{
    if (!reply.isArray())
        return false;
    const auto &elements = reply.elements();
    const std::size_t pairs = elements.size() / 2;
    const std::size_t kept = std::min<std::size_t>(pairs, RawEntry::MaxElements);
    raw.members.clear();
    raw.members.reserve(kept);
    for (std::size_t i = 0; i < kept; ++i)
        raw.members.emplace_back(elements[2 * i].bytes(), parseScore(elements[2 * i + 1].bytes()));
    raw.truncated = pairs > kept;
    return true;
}

bool takeElements(RawEntry &raw, const RedisReply &reply)
{
    if (!reply.isArray())
        return false;
    const auto &elements = reply.elements();
    const std::size_t kept = std::min<std::size_t>(elements.size(), RawEntry::MaxElements);
    raw.elements.clear();
    raw.elements.reserve(kept);
    for (std::size_t i = 0; i < kept; ++i)
        raw.elements.push_back(elements[i].bytes());
    raw.truncated = elements.size() > kept;
    return true;
}

qint64 serverTimeMs(const RedisReply &reply)
{
    if (!reply.isArray() || reply.elements().size() != 2)
        return 0;
    bool secondsOk = false;
    bool microsOk = false;
    const qint64 seconds = reply.elements()[0].bytes().toLongLong(&secondsOk);
    const qint64 micros = reply.elements()[1].bytes().toLongLong(&microsOk);
    return secondsOk && microsOk ? seconds * 1000 + micros / 1000 : 0;
}

std::vector<std::vector<QByteArray>> readAnyCommands(const QByteArray &key)
{
    return {{QByteArrayLiteral("TYPE"), key},
            {QByteArrayLiteral("PTTL"), key},
            {QByteArrayLiteral("GET"), key},
            {QByteArrayLiteral("HGETALL"), key},
            zrangeCommand(key),
            lrangeCommand(key)};
}

RawEntry rawFromReplies(std::span<const RedisReply> replies, qint64 timeMs)
{
    RawEntry raw;
    const RedisReply &type = replies[0];
    const RedisReply &pttl = replies[1];
    if (type.isError() || pttl.isError() || type.bytes() == "none" || pttl.integer() == -2)
        return raw; // Missing: not there, or not readable by this user
    raw.typeName = QString::fromUtf8(type.bytes());
    raw.pttlMs = pttl.integer();
    raw.serverTimeMs = timeMs;
    raw.type = RawEntry::Type::Other;
    if (type.bytes() == "string" && replies[2].isString()) {
        raw.type = RawEntry::Type::String;
        raw.value = replies[2].bytes();
    } else if (type.bytes() == "hash" && replies[3].isArray()) {
        raw.type = RawEntry::Type::Hash;
        const auto &elements = replies[3].elements();
        for (std::size_t i = 0; i + 1 < elements.size(); i += 2)
            raw.fields.emplace_back(elements[i].bytes(), elements[i + 1].bytes());
    } else if (type.bytes() == "zset") {
        takeMembers(raw, replies[4]);
    } else if (type.bytes() == "list") {
        takeElements(raw, replies[5]);
    }
    return raw;
}

} // namespace lockscope::inspect::detail
