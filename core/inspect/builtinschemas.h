#pragma once

// Internal to core/inspect: the built-in schemas, whose classes live in the files of their
// library family (schemas_redisson.cpp, schemas_tokens.cpp), for SchemaRegistry::builtins() in
// lockschema.cpp, and the small value checks they share.

#include "inspect/lockschema.h"

#include <QByteArrayView>
#include <algorithm>
#include <memory>

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
