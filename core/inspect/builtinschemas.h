#pragma once

// Internal to core/inspect: the built-in schemas, whose classes live in the files of their
// library family (schemas_redisson.cpp, schemas_tokens.cpp, schemas_kinds.cpp), for
// SchemaRegistry::builtins() in
// lockschema.cpp, and the small value checks they share.

#include "inspect/lockschema.h"

#include <QByteArrayView>
#include <algorithm>
#include <memory>
#include <optional>

namespace lockscope::inspect::detail {

inline bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

inline int hexValue(char c)
{
    if (isDigit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

inline bool isAlnum(char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Whether `test` holds for a word of the key: the runs of ASCII letters and digits
/// ("jobs:orderLock-2" has the words "jobs", "orderLock" and "2").
template <typename Test>
bool anyKeyWord(QByteArrayView key, Test test)
{
    qsizetype i = 0;
    while (i < key.size()) {
        while (i < key.size() && !isAlnum(key[i]))
            ++i;
        const qsizetype start = i;
        while (i < key.size() && isAlnum(key[i]))
            ++i;
        if (i > start && test(key.sliced(start, i - start)))
            return true;
    }
    return false;
}

/// Whether `word` starts (ends) with `part`, compared without case.
inline bool startsWithWord(QByteArrayView word, QByteArrayView part)
{
    return word.size() >= part.size() && word.first(part.size()).compare(part, Qt::CaseInsensitive) == 0;
}

inline bool endsWithWord(QByteArrayView word, QByteArrayView part)
{
    return word.size() >= part.size() && word.last(part.size()).compare(part, Qt::CaseInsensitive) == 0;
}

inline bool allDigits(QByteArrayView v)
{
    return !v.isEmpty() && std::all_of(v.begin(), v.end(), isDigit);
}

/// "8743c9c0-0795-4907-87fd-6c719a6b4586" (either case): what java.util.UUID.toString() writes.
inline bool isUuidText(QByteArrayView v)
{
    if (v.size() != 36)
        return false;
    for (qsizetype i = 0; i < v.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? v[i] != '-' : hexValue(v[i]) < 0)
            return false;
    }
    return true;
}

inline DecodedLock makeLock(const QString &schema, const QByteArray &token)
{
    DecodedLock lock;
    lock.schema = schema;
    lock.token = token;
    return lock;
}

/// The value of field `name` in a LockScope value ("ls1 tok=... name=value ..."), unescaped;
/// nullopt when the value has no such field. For the fields LockValue does not know.
std::optional<QByteArray> lsField(const QByteArray &value, QByteArrayView name);

/// lsField() as a non-negative decimal number; nullopt when absent or not one.
std::optional<qint64> lsNumber(const QByteArray &value, QByteArrayView name);

/// What SchemaRegistry::decode adds to every reading: kind "mutex" when the schema set none, and
/// for a held single-holder lock (mutex, reentrant, write) without holders its one holder, from
/// the single-holder fields and the entry (its value or hash field, its PTTL).
void completeKind(DecodedLock &lock, const RawEntry &entry);

// schemas_kinds.cpp: lock kinds beyond the mutex (see the comment on top of lockschema.cpp).
std::shared_ptr<const LockSchema> makeLockScopeKindsSchema();
std::shared_ptr<const LockSchema> makeRedissonFairLockSchema();
std::shared_ptr<const LockSchema> makeRedissonFairQueueSchema();
std::shared_ptr<const LockSchema> makeRedissonSemaphoreSchema();
std::shared_ptr<const LockSchema> makeRedissonPermitTimeoutsSchema();
std::shared_ptr<const LockSchema> makeRedisSemaphoreSchema();
std::shared_ptr<const LockSchema> makeRedisSemaphoreMutexSchema();

/// One Redisson holder field "<uuid>:<threadId>[:write]" -> count (schemas_redisson.cpp).
struct RedissonHolder
{
    QByteArray field;  ///< "<uuid>:<threadId>[:write]"
    QByteArray client; ///< the Redisson instance's UUID
    QByteArray thread; ///< the Java thread id
    bool writer = false;
    qint64 count = 0;
};

/// One Redisson holder field -> count, or nullopt when it is not one.
std::optional<RedissonHolder> parseRedissonHolder(const QByteArray &field, const QByteArray &value);

/// "<uuid> thread <id>", for people.
QString redissonOwner(const RedissonHolder &holder);

/// Redisson's naming of an object's auxiliary keys and channels (RedissonObject.prefixName):
/// "<prefix>:{<name>}", or "<prefix>:<name>" when the name already holds a '{'.
QByteArray redissonPrefixName(const QByteArray &prefix, const QByteArray &name);

/// RedissonObject.suffixName: "{<name>}:<suffix>", or "<name>:<suffix>" when the name holds a '{'.
QByteArray redissonSuffixName(const QByteArray &name, const QByteArray &suffix);

// schemas_redisson.cpp: Redisson's hash layouts.
std::shared_ptr<const LockSchema> makeRedissonRwLockSchema();
std::shared_ptr<const LockSchema> makeRedissonRLockSchema();

// schemas_tokens.cpp: ShedLock and the random-token libraries.
std::shared_ptr<const LockSchema> makeShedLockSchema();
std::shared_ptr<const LockSchema> makePythonRedisLockSchema();
std::shared_ptr<const LockSchema> makeRedsyncSchema();
std::shared_ptr<const LockSchema> makeRedisPySchema();
std::shared_ptr<const LockSchema> makeNodeRedlockSchema();
std::shared_ptr<const LockSchema> makeBsmRedislockSchema();

} // namespace lockscope::inspect::detail
