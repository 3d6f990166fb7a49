#pragma once

// Internal to core/inspect: reading sorted sets, lists, the server clock and companion keys into
// RawEntry, shared by the scanner (nodescan.cpp) and readKey (keyread.cpp).

#include "inspect/lockschema.h"
#include "redis/redisreply.h"

#include <QByteArray>
#include <span>
#include <vector>

namespace lockscope::inspect::detail {

/// ZRANGE key 0 MaxElements WITHSCORES: one member more than kept, to see that there are more.
std::vector<QByteArray> zrangeCommand(const QByteArray &key);

/// LRANGE key 0 MaxElements: one element more than kept, to see that there are more.
std::vector<QByteArray> lrangeCommand(const QByteArray &key);

/// Fills `raw.members` and `raw.truncated` from a ZRANGE ... WITHSCORES reply (RESP2: member,
/// score, member, score...). False when the reply is not one (an error, NOPERM).
bool takeMembers(RawEntry &raw, const redis::RedisReply &reply);

/// Fills `raw.elements` and `raw.truncated` from an LRANGE reply. False when it is not one.
bool takeElements(RawEntry &raw, const redis::RedisReply &reply);

/// A TIME reply (seconds, microseconds) in Unix milliseconds; 0 when it is not one (refused).
qint64 serverTimeMs(const redis::RedisReply &reply);

/// The commands that read a key of any type in one round trip: TYPE, PTTL, GET, HGETALL,
/// ZRANGE, LRANGE (the ones that do not fit the type answer WRONGTYPE, which costs nothing).
std::vector<std::vector<QByteArray>> readAnyCommands(const QByteArray &key);
inline constexpr std::size_t ReadAnyReplies = 6;

/// The entry those replies describe (ReadAnyReplies of them, in order). Missing when the key is
/// not there; Other with an empty value when its type's read was refused. No companions.
RawEntry rawFromReplies(std::span<const redis::RedisReply> replies, qint64 serverTimeMs);

} // namespace lockscope::inspect::detail
