#include "inspect/lockschema.h"

#include "inspect/builtinschemas.h"
#include "lock/lockvalue.h"
#include "util/glob.h"

#include <QHash>
#include <algorithm>
#include <array>
#include <climits>

// How the built-in schemas tell formats apart
// ============================================
//
// Most libraries store an opaque random token, so a value alone rarely proves who wrote it.
// The registry tries the schemas in order and the first that decodes wins, so the order
// encodes "most specific first" and every schema checks the exact structure its library
// produces (lengths, alphabets and the bits an encoder leaves fixed), not just a loose shape:
//
//  1. lockscope         "ls1 tok=..." (LockValue::parse): a versioned prefix no other library
//                       writes.
//  2. redisson-rwlock   a hash with a "mode" field of "read" / "write" and holder fields
//                       "<uuid>:<threadId>[:write]" -> count. Tried before RLock because an RW
//                       hash minus its "mode" field looks like an RLock hash.
//  3. redisson-rlock    a hash with exactly one field "<uuid>:<threadId>" -> positive count.
//  4. shedlock          "ADDED:<ISO instant>@<hostname>[:<uuid>][ EXP:<ISO instant>]": the
//                       prefix and a parseable timestamp make it unmistakable, so it is decoded
//                       under any key (the key prefix "job-lock" is configurable in ShedLock).
//  5. python-redis-lock key "lock:<name>" (the library always adds the prefix) holding its
//                       owner id: by default 24 characters of standard base64 without padding
//                       (18 random bytes), or a custom id. A value under "lock:" that has the
//                       exact default format of another library below goes to that library. A
//                       custom id must read like an id (a digit or one of - _ : @ . /, one
//                       printable line): numbers, JSON, words and prose ("hello world") are
//                       application data, not claimed.
//  6. go-redsync        exactly 24 characters of standard base64 ending in "==" (16 random
//                       bytes). The last data character carries only 2 bits, so it is one of
//                       A, Q, g, w. python-redis-lock's 18-byte ids have no padding.
//  7. redis-py          32 lowercase hex characters that form a valid uuid1 (uuid.uuid1().hex):
//                       version nibble '1' at index 12, RFC 4122 variant (8, 9, a, b) at index
//                       16, and a timestamp from 2000 to tomorrow (the token is made at acquire).
//                       Random hex passes the two nibble checks with probability 1/64 and the
//                       date window with about 1/140 (in 2026), so about 1 node-redlock value in
//                       9,000 would be read as redis-py: the most likely reading of such a value.
//  8. node-redlock      32 lowercase hex characters (16 random bytes) that are not a uuid1;
//                       all-digit strings are numbers, not tokens (random hex is all digits with
//                       probability 3e-7).
//  9. bsm-redislock     22 characters of base64url (16 random bytes, no padding; the last is one
//                       of A, Q, g, w), optionally followed by the caller's metadata. Last because
//                       it matches a prefix: a LockScope token is the same shape but LockScope
//                       values start with "ls1 ", and a go-redsync value whose first 22
//                       characters happen to be base64url would otherwise read as a token with
//                       metadata "==".
//
// The base64 tokens (5, 6, 9) must also look random: not all hex digits and dashes (an md5 or
// a UUID in upper case) and not letters of one case only (a word). 16 random bytes look like
// that with a probability below 1e-8.
//
// How sure each reading is (Confidence)
// -------------------------------------
// Certain: 1-4. The value is the library's own structure, which application data does not have
// by chance. The TTL does not change that: such a lock without a TTL is the "no-ttl" anomaly,
// which the operator must see.
//
// The random-token formats (5-9) weigh what else there is besides the value's shape:
//  - the key: it names a lock (a word of it starts or ends with "lock" or "mutex": "lock:x",
//    "orders:lock", "{redlock}:a", "orderLock"; not "block" or "clock"), or it follows the
//    library's own convention (python-redis-lock's "lock:<name>" for a default id);
//  - the value's structure beyond random bytes: redis-py's uuid1;
//  - the TTL: a lock holds one of at most 1 h (MaxPlausibleLockTtlMs). More is implausible:
//    these libraries hold locks for seconds to minutes and renew them (node-redlock's using(),
//    go-redsync's 8 s default), while cache entries keep hours. No TTL is implausible for the
//    libraries that always set one (node-redlock, go-redsync, bsm); redis-py and
//    python-redis-lock write none by default, so there it is no evidence either way.
// Likely: the key counts, or the value is a uuid1 and holds a TTL of at most 1 h.
// Guess:  the shape alone (a 32-hex value under "etag:avatar:42" is as likely an md5 cache
//         entry), and python-redis-lock's custom ids, which are free text.
// Then an implausible TTL lowers Likely to Guess, and a Guess is not decoded at all: a bare token
// on a key that does not name a lock, kept for hours or forever, is what hashes, ids and cache
// entries look like, and listing it as a lock puts Force Release next to application data. Such
// a key is still listed raw under a schema's own key pattern or with --match. A key that names a
// lock keeps a Guess instead, so that a lock someone PERSISTed still shows (with "no-ttl").
// A PTTL that was not read (mayDecode) neither raises nor drops a reading, so mayDecode stays a
// superset of what decode accepts once the PTTL is known.
//
// Lock kinds beyond the mutex (schemas_kinds.cpp), tried where their structure is unmistakable:
//  0. lockscope-kinds   LockScope's read-write lock and semaphore (a sorted set of "ls1 tok=..."
//                       holder values scored by deadline, "rw=r|w" or "permits=N") and a writer's
//                       intent "<K>.wwait"; first, so that the intent is not read as a mutex.
//     redisson-fairlock an RLock hash whose queue list / timeout set ("redisson_lock_queue:{K}",
//                       "redisson_lock_timeout:{K}") was read with it; before RLock.
//     redisson-fairqueue a fair lock's queue met without its lock (the lock is free).
//     redisson-semaphore RSemaphore / RPermitExpirableSemaphore: a counter of available permits
//                       under a key that names a semaphore, with its "{K}:timeout" set of permit
//                       ids when there is one; Likely with the set, a Guess without.
//     redisson-permits  such a timeout set met without its counter.
//     redis-semaphore   npm redis-semaphore's Semaphore / MultiSemaphore: "semaphore:<key>", a
//                       sorted set of uuids ("<uuid>_<i>" for several permits) scored by acquire
//                       time; its Mutex ("mutex:<key>" holding a uuid v4) before the token
//                       formats, which would read the uuid as nothing or a guess.
// A kind's own trouble (a reader without expiry, more holders than permits, a waiter that is
// gone) is in DecodedLock::anomalies; SchemaRegistry::decode gives every reading a kind and, for
// a held single-holder lock, its one holder (detail::completeKind).
//
// A value that several formats could read goes to the most likely one by this order; a value
// none of them reads is not a lock as far as the built-ins can tell (decode returns nullopt and
// the caller shows it raw). Caller-chosen tokens (redis-py's acquire(token=...), bsm's
// Options.Token, redsync's WithGenValueFunc) carry no structure and cannot be recognised: a
// user-defined schema (key glob + regex) covers them, and its readings are Likely.
//
// Where the schemas are: LockScope's and the user-defined ones here, Redisson's in
// schemas_redisson.cpp, ShedLock and the random-token formats in schemas_tokens.cpp, the lock
// kinds (read-write locks, semaphores, fair locks) in schemas_kinds.cpp.

namespace lockscope::inspect {

using detail::isAlnum;
using detail::makeLock;

namespace {

using lock::LockValue;

/// Why `glob` is not a usable SCAN MATCH pattern, or nullopt when it is.
std::optional<QString> globError(const QString &glob)
{
    if (glob.isEmpty())
        return QStringLiteral("the key glob is empty");
    const QByteArray g = glob.toUtf8();
    for (qsizetype i = 0; i < g.size(); ++i) {
        if (g[i] == '\\') {
            if (i + 1 == g.size())
                return QStringLiteral("the key glob \"%1\" ends with a lone backslash").arg(glob);
            ++i;
        } else if (g[i] == '[') {
            qsizetype j = i + 1;
            if (j < g.size() && g[j] == '^')
                ++j;
            bool closed = false;
            for (; j < g.size(); ++j) {
                if (g[j] == '\\') {
                    ++j;
                } else if (g[j] == ']') {
                    closed = true;
                    break;
                }
            }
            if (!closed)
                return QStringLiteral("the key glob \"%1\" has a '[' without its ']'").arg(glob);
            i = j;
        }
    }
    return std::nullopt;
}

// --- LockScope -------------------------------------------------------------------------------

/// The owner text and details of one holder (host, pid, thread).
struct HolderText
{
    QString owner;
    QMap<QString, QString> details;
};

struct HolderKey
{
    QString host;
    qint64 pid;
    QString thread;
    bool operator==(const HolderKey &) const = default;
};

size_t qHash(const HolderKey &key, size_t seed = 0)
{
    return qHashMulti(seed, key.host, key.pid, key.thread);
}

/// Built once per holder on each thread and then shared (implicitly) by every lock it holds: a
/// snapshot decodes all of a process's locks, and the text and map cost more than the parse.
/// Bounded: the cache starts over when it is full.
const HolderText &holderText(const QString &host, qint64 pid, const QString &thread)
{
    constexpr qsizetype kMaxEntries = 4096;
    thread_local QHash<HolderKey, HolderText> cache;
    HolderKey key{host, pid, thread};
    if (const auto found = cache.constFind(key); found != cache.constEnd())
        return *found;
    if (cache.size() >= kMaxEntries)
        cache.clear();
    HolderText text;
    // "host pid N thread", leaving out what the holder did not record.
    const QString pidText = pid > 0 ? QString::number(pid) : QString();
    const auto add = [&text](QStringView prefix, const QString &part) {
        if (part.isEmpty())
            return;
        if (!text.owner.isEmpty())
            text.owner += QLatin1Char(' ');
        text.owner += prefix;
        text.owner += part;
    };
    add({}, host);
    add(u"pid ", pidText);
    add({}, thread);
    if (!host.isEmpty())
        text.details.insert(QStringLiteral("host"), host);
    if (!pidText.isEmpty())
        text.details.insert(QStringLiteral("pid"), pidText);
    if (!thread.isEmpty())
        text.details.insert(QStringLiteral("thread"), thread);
    return *cache.insert(std::move(key), std::move(text));
}

class LockScopeSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("lockscope"); }
    QString displayName() const override { return QStringLiteral("LockScope"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &, const RawEntry &entry) const override
    {
        if (entry.type != RawEntry::Type::String)
            return std::nullopt;
        const auto v = LockValue::parse(entry.value);
        if (!v || v->token.isEmpty())
            return std::nullopt;
        DecodedLock lock = makeLock(id(), v->token);
        lock.confidenceReason = QStringLiteral("LockScope's own value format (\"ls1 tok=...\")");
        const HolderText &holder = holderText(v->host, v->pid, v->thread);
        lock.owner = holder.owner;
        lock.details = holder.details;
        lock.fence = v->fence > 0 ? v->fence : -1;
        lock.acquiredAt = v->acquiredAt;
        lock.label = v->label;
        for (auto it = v->metadata.cbegin(); it != v->metadata.cend(); ++it)
            lock.details.insert(QStringLiteral("m.") + it.key(), it.value());
        // A reentrant lock's value carries its hold count (LockValue leaves the field to us).
        if (const auto count = detail::lsNumber(entry.value, "cnt"); count && *count > 0) {
            lock.kind = QLatin1String(lockKind::Reentrant);
            lock.holdCount = int(std::min<qint64>(*count, INT_MAX));
        }
        return lock;
    }

    bool mayDecode(const QByteArray &, const RawEntry &entry) const override
    {
        // LockValue::parse refuses anything else; parsing the rest is the expensive part.
        return entry.type == RawEntry::Type::String && entry.value.startsWith("ls1 tok=");
    }
};

// --- user-defined ---------------------------------------------------------------------------

class CustomSchema final : public LockSchema
{
public:
    CustomSchema(const CustomSchemaSpec &spec, QRegularExpression regex)
        : m_spec(spec), m_glob(spec.keyGlob.toUtf8()), m_regex(std::move(regex)),
          m_reason(
              QStringLiteral("the key glob and value pattern of the user-defined schema \"%1\"").arg(spec.id))
    {
        // Compile (and JIT) now: decode() then only reads the compiled pattern, from any thread.
        m_regex.optimize();
        const QStringList names = m_regex.namedCaptureGroups();
        for (qsizetype i = 1; i < names.size(); ++i) {
            if (!names[i].isEmpty())
                m_groups.emplace_back(i, names[i]);
        }
    }

    QString id() const override { return m_spec.id; }
    QString displayName() const override
    {
        return m_spec.displayName.isEmpty() ? m_spec.id : m_spec.displayName;
    }
    QStringList keyPatterns() const override { return {m_spec.keyGlob}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (entry.type != RawEntry::Type::String || !globMatch(m_glob, key))
            return std::nullopt;
        const QString text = QString::fromUtf8(entry.value);
        const QRegularExpressionMatch match = m_regex.match(text);
        if (!match.hasMatch())
            return std::nullopt;
        DecodedLock lock = makeLock(id(), entry.value);
        lock.confidence = Confidence::Likely;
        lock.confidenceReason = m_reason;
        for (const auto &[index, name] : m_groups) {
            if (!match.hasCaptured(index))
                continue;
            const QString captured = match.captured(index);
            if (name == QLatin1String("owner")) {
                lock.owner = captured;
            } else if (name == QLatin1String("token")) {
                lock.token = captured.toUtf8();
            } else if (name == QLatin1String("fence")) {
                bool ok = false;
                lock.fence = captured.toLongLong(&ok);
                if (!ok || lock.fence < 0)
                    return std::nullopt; // the pattern promised a number
            } else {
                lock.details.insert(name, captured);
            }
        }
        return lock;
    }

private:
    CustomSchemaSpec m_spec;
    QByteArray m_glob;
    QRegularExpression m_regex;
    QString m_reason;
    std::vector<std::pair<int, QString>> m_groups;
};

} // namespace

/// Whether the key says it holds a lock: one of its words (split at anything but ASCII letters
/// and digits, compared without case) starts or ends with "lock" or "mutex" ("lock:x",
/// "orders:lock", "{redlock}:a", "orderLock", "job-locks"), but is not "block" or "clock".
bool keyNamesLock(QByteArrayView key)
{
    return detail::anyKeyWord(key, [](QByteArrayView w) {
        const auto starts = [&w](QByteArrayView p) {
            return detail::startsWithWord(w, p);
        };
        const auto ends = [&w](QByteArrayView p) {
            return detail::endsWithWord(w, p);
        };
        if (starts("lock") || starts("mutex") || ends("mutex") || ends("mutexes"))
            return true;
        if (ends("locks"))
            w.chop(1);
        return ends("lock") && !ends("block") && !ends("clock");
    });
}

QString confidenceText(Confidence confidence)
{
    switch (confidence) {
    case Confidence::Guess:
        return QStringLiteral("guess");
    case Confidence::Likely:
        return QStringLiteral("likely");
    case Confidence::Certain:
        break;
    }
    return QStringLiteral("certain");
}
const RawEntry *RawEntry::companion(const QByteArray &key) const
{
    const auto found = std::ranges::find(companions, key, &std::pair<QByteArray, RawEntry>::first);
    return found == companions.end() ? nullptr : &found->second;
}

SchemaRegistry SchemaRegistry::builtins()
{
    SchemaRegistry registry;
    registry.m_schemas = {
        detail::makeLockScopeKindsSchema(),
        std::make_shared<LockScopeSchema>(),
        detail::makeRedissonRwLockSchema(),
        detail::makeRedissonFairLockSchema(),
        detail::makeRedissonRLockSchema(),
        detail::makeRedissonFairQueueSchema(),
        detail::makeRedissonSemaphoreSchema(),
        detail::makeRedissonPermitTimeoutsSchema(),
        detail::makeRedisSemaphoreSchema(),
        detail::makeShedLockSchema(),
        detail::makeRedisSemaphoreMutexSchema(),
        detail::makePythonRedisLockSchema(),
        detail::makeRedsyncSchema(),
        detail::makeRedisPySchema(),
        detail::makeNodeRedlockSchema(),
        detail::makeBsmRedislockSchema(),
    };
    return registry;
}

std::optional<QString> SchemaRegistry::addCustom(const CustomSchemaSpec &spec)
{
    if (spec.id.trimmed().isEmpty())
        return QStringLiteral("the schema needs an id");
    if (find(spec.id))
        return QStringLiteral("a schema with the id \"%1\" already exists").arg(spec.id);
    if (auto error = globError(spec.keyGlob))
        return error;
    if (spec.valuePattern.isEmpty())
        return QStringLiteral("the value pattern is empty");
    QRegularExpression regex(spec.valuePattern);
    if (!regex.isValid()) {
        return QStringLiteral("the value pattern is not a valid regular expression: %1 at offset %2")
            .arg(regex.errorString())
            .arg(regex.patternErrorOffset());
    }
    const QStringList names = regex.namedCaptureGroups();
    const bool hasKnownGroup = std::any_of(names.begin(), names.end(), [](const QString &name) {
        return name == QLatin1String("owner") || name == QLatin1String("token") ||
               name == QLatin1String("fence");
    });
    if (!hasKnownGroup)
        return QStringLiteral("the value pattern has none of the named groups owner, token and fence "
                              "(write them as (?<owner>...), (?<token>...), (?<fence>...))");

    // User schemas go after the earlier user schemas and before the first built-in that
    // reads any key, so that they win over the generic token formats.
    auto position = std::find_if(m_schemas.begin(), m_schemas.end(), [](const auto &schema) {
        return dynamic_cast<const CustomSchema *>(schema.get()) == nullptr &&
               schema->keyPatterns() == QStringList{QStringLiteral("*")};
    });
    m_schemas.insert(position, std::make_shared<CustomSchema>(spec, std::move(regex)));
    return std::nullopt;
}

std::shared_ptr<const LockSchema> SchemaRegistry::find(const QString &id) const
{
    for (const auto &schema : m_schemas) {
        if (schema->id() == id)
            return schema;
    }
    return nullptr;
}

std::optional<DecodedLock> SchemaRegistry::decode(const QByteArray &key, const RawEntry &entry) const
{
    for (const auto &schema : m_schemas) {
        if (auto lock = schema->decode(key, entry)) {
            detail::completeKind(*lock, entry);
            return lock;
        }
    }
    return std::nullopt;
}

std::vector<QByteArray> SchemaRegistry::companionKeys(const QByteArray &key, const RawEntry &entry) const
{
    std::vector<QByteArray> keys;
    for (const auto &schema : m_schemas) {
        for (QByteArray &companion : schema->companionKeys(key, entry)) {
            if (companion != key && std::ranges::find(keys, companion) == keys.end())
                keys.push_back(std::move(companion));
        }
    }
    return keys;
}

std::vector<QByteArray> SchemaRegistry::companionOwners(const QByteArray &key) const
{
    std::vector<QByteArray> owners;
    for (const auto &schema : m_schemas) {
        for (QByteArray &owner : schema->companionOwners(key)) {
            if (owner != key && std::ranges::find(owners, owner) == owners.end())
                owners.push_back(std::move(owner));
        }
    }
    return owners;
}

bool SchemaRegistry::mayDecode(const QByteArray &key, const RawEntry &entry) const
{
    return std::ranges::any_of(m_schemas, [&](const auto &schema) { return schema->mayDecode(key, entry); });
}

} // namespace lockscope::inspect