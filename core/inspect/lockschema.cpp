#include "inspect/lockschema.h"

#include "lock/lockvalue.h"
#include "util/glob.h"

#include <QHash>
#include <QStringDecoder>
#include <algorithm>
#include <array>

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
// A value that several formats could read goes to the most likely one by this order; a value
// none of them reads is not a lock as far as the built-ins can tell (decode returns nullopt and
// the caller shows it raw). Caller-chosen tokens (redis-py's acquire(token=...), bsm's
// Options.Token, redsync's WithGenValueFunc) carry no structure and cannot be recognised: a
// user-defined schema (key glob + regex) covers them, and its readings are Likely.

namespace lockscope::inspect {

namespace {

using lock::LockValue;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isLowerHex(char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'f');
}

int hexValue(char c)
{
    if (isDigit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool isAlnum(char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isBase64Std(char c)
{
    return isAlnum(c) || c == '+' || c == '/';
}

bool isBase64Url(char c)
{
    return isAlnum(c) || c == '-' || c == '_';
}

/// The last character of 16 bytes in unpadded base64 holds 2 data bits and 4 zero bits.
bool isLastCharOf16Bytes(char c)
{
    return c == 'A' || c == 'Q' || c == 'g' || c == 'w';
}

bool allDigits(QByteArrayView v)
{
    return !v.isEmpty() && std::all_of(v.begin(), v.end(), isDigit);
}

/// A strictly decimal, non-negative integer without sign or spaces.
std::optional<qint64> parseCount(QByteArrayView v)
{
    if (v.isEmpty() || v.size() > 18 || !allDigits(v))
        return std::nullopt;
    qint64 n = 0;
    for (char c : v)
        n = n * 10 + (c - '0');
    return n;
}

/// "8743c9c0-0795-4907-87fd-6c719a6b4586" (either case): what java.util.UUID.toString() writes.
bool isUuidText(QByteArrayView v)
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

bool isValidUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder(bytes);
    return !decoder.hasError();
}

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

// --- shared helpers --------------------------------------------------------------------------

DecodedLock makeLock(const QString &schema, const QByteArray &token)
{
    DecodedLock lock;
    lock.schema = schema;
    lock.token = token;
    return lock;
}

/// Redisson's channel naming (RedissonObject.prefixName): "<prefix>:{<name>}", or
/// "<prefix>:<name>" when the name already carries a hash tag.
QByteArray redissonChannel(const QByteArray &prefix, const QByteArray &key)
{
    if (key.contains('{'))
        return prefix + ':' + key;
    return prefix + ":{" + key + '}';
}

struct RedissonHolder
{
    QByteArray field;  ///< "<uuid>:<threadId>[:write]"
    QByteArray client; ///< the Redisson instance's UUID
    QByteArray thread; ///< the Java thread id
    bool writer = false;
    qint64 count = 0;
};

/// One Redisson holder field -> count, or nullopt when it is not one.
std::optional<RedissonHolder> parseRedissonHolder(const QByteArray &field, const QByteArray &value)
{
    RedissonHolder h;
    QByteArrayView rest(field);
    if (rest.endsWith(":write")) {
        h.writer = true;
        rest.chop(6);
    }
    if (rest.size() < 38 || rest[36] != ':' || !isUuidText(rest.first(36)))
        return std::nullopt;
    const QByteArrayView thread = rest.sliced(37);
    const auto count = parseCount(value);
    if (!parseCount(thread) || !count || *count < 1)
        return std::nullopt;
    h.field = field;
    h.client = rest.first(36).toByteArray();
    h.thread = thread.toByteArray();
    h.count = *count;
    return h;
}

QString redissonOwner(const RedissonHolder &h)
{
    return QStringLiteral("%1 thread %2").arg(QString::fromLatin1(h.client), QString::fromLatin1(h.thread));
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
        return lock;
    }

    bool mayDecode(const QByteArray &, const RawEntry &entry) const override
    {
        // LockValue::parse refuses anything else; parsing the rest is the expensive part.
        return entry.type == RawEntry::Type::String && entry.value.startsWith("ls1 tok=");
    }
};

// --- Redisson RReadWriteLock ------------------------------------------------------------------

class RedissonRwLockSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redisson-rwlock"); }
    QString displayName() const override { return QStringLiteral("Redisson RReadWriteLock"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (entry.type != RawEntry::Type::Hash)
            return std::nullopt;
        QByteArray mode;
        std::vector<RedissonHolder> readers;
        std::optional<RedissonHolder> writer;
        for (const auto &[field, value] : entry.fields) {
            if (field == "mode") {
                mode = value;
                continue;
            }
            auto holder = parseRedissonHolder(field, value);
            if (!holder)
                return std::nullopt;
            if (holder->writer) {
                if (writer)
                    return std::nullopt; // one writer at most
                writer = std::move(*holder);
            } else {
                readers.push_back(std::move(*holder));
            }
        }
        std::sort(readers.begin(), readers.end(),
                  [](const RedissonHolder &a, const RedissonHolder &b) { return a.field < b.field; });

        DecodedLock lock = makeLock(id(), {});
        lock.confidenceReason =
            QStringLiteral("a Redisson read-write hash: \"mode\" and \"<uuid>:<threadId>[:write]\" -> count");
        lock.mode = QString::fromLatin1(mode);
        lock.details.insert(QStringLiteral("channel"),
                            QString::fromUtf8(redissonChannel("redisson_rwlock", key)));
        if (mode == "write") {
            // The writer may also hold read locks (downgrade): those are its own fields.
            if (!writer)
                return std::nullopt;
            lock.owner = redissonOwner(*writer) + QStringLiteral(" (write)");
            lock.token = writer->field;
            lock.holdCount = static_cast<int>(std::min<qint64>(writer->count, INT_MAX));
            lock.details.insert(QStringLiteral("client"), QString::fromLatin1(writer->client));
            lock.details.insert(QStringLiteral("thread"), QString::fromLatin1(writer->thread));
            if (!readers.empty())
                lock.details.insert(QStringLiteral("readHolds"), QString::number(readers.size()));
            return lock;
        }
        if (mode == "read") {
            if (writer || readers.empty())
                return std::nullopt;
            QStringList owners;
            QList<QByteArray> fields;
            qint64 total = 0;
            for (const auto &r : readers) {
                owners << redissonOwner(r);
                fields << r.field;
                total += r.count;
            }
            lock.owner = owners.join(QStringLiteral(", "));
            lock.token = fields.join(',');
            lock.holdCount = static_cast<int>(std::min<qint64>(total, INT_MAX));
            lock.details.insert(QStringLiteral("readers"), QString::number(readers.size()));
            return lock;
        }
        return std::nullopt;
    }

    /// RedissonReadLock / RedissonWriteLock wait on "redisson_rwlock:{name}" (not the RLock
    /// channel). READ_UNLOCK_MESSAGE (1) wakes every waiter, readers and writers alike, which is
    /// what a force-release of either mode needs (UNLOCK_MESSAGE, 0, wakes only one).
    std::vector<std::vector<QByteArray>> afterRelease(const QByteArray &key) const override
    {
        return {{"PUBLISH", redissonChannel("redisson_rwlock", key), "1"}};
    }
};

// --- Redisson RLock ---------------------------------------------------------------------------

class RedissonRLockSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redisson-rlock"); }
    QString displayName() const override { return QStringLiteral("Redisson RLock"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        // RLock, RFairLock and RFencedLock: one holder field, reentrancy in its count.
        if (entry.type != RawEntry::Type::Hash || entry.fields.size() != 1)
            return std::nullopt;
        const auto holder = parseRedissonHolder(entry.fields.front().first, entry.fields.front().second);
        if (!holder || holder->writer)
            return std::nullopt;
        DecodedLock lock = makeLock(id(), holder->field);
        lock.confidenceReason = QStringLiteral("a Redisson hash: \"<uuid>:<threadId>\" -> hold count");
        lock.owner = redissonOwner(*holder);
        lock.holdCount = static_cast<int>(std::min<qint64>(holder->count, INT_MAX));
        lock.details.insert(QStringLiteral("client"), QString::fromLatin1(holder->client));
        lock.details.insert(QStringLiteral("thread"), QString::fromLatin1(holder->thread));
        lock.details.insert(QStringLiteral("channel"),
                            QString::fromUtf8(redissonChannel("redisson_lock__channel", key)));
        return lock;
    }

    /// What RedissonLock.forceUnlock does after its DEL: UNLOCK_MESSAGE (0) on the lock's
    /// channel, so that a waiter blocked on the subscription tries again at once. (In sharded
    /// pub/sub mode Redisson uses SPUBLISH; a later issue handles Redis Cluster.)
    std::vector<std::vector<QByteArray>> afterRelease(const QByteArray &key) const override
    {
        return {{"PUBLISH", redissonChannel("redisson_lock__channel", key), "0"}};
    }
};

// --- ShedLock ---------------------------------------------------------------------------------

QDateTime parseInstant(QByteArrayView text)
{
    // java.time.Instant.toString() / ShedLock's toIsoString: "2021-05-12T13:31:45.006Z", with
    // 0, 3, 6 or 9 fraction digits. Qt reads up to milliseconds; cut the rest.
    QByteArray t = text.toByteArray();
    const qsizetype dot = t.indexOf('.');
    if (dot > 0 && t.endsWith('Z')) {
        const QByteArray fraction = t.mid(dot + 1, t.size() - dot - 2);
        if (!allDigits(fraction))
            return {};
        t = t.left(dot + 1) + fraction.left(3).leftJustified(3, '0') + 'Z';
    }
    if (!t.endsWith('Z') || t.size() < 20)
        return {};
    QDateTime dt = QDateTime::fromString(QString::fromLatin1(t), Qt::ISODateWithMs);
    return dt.isValid() ? dt.toUTC() : QDateTime();
}

class ShedLockSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("shedlock"); }
    QString displayName() const override { return QStringLiteral("ShedLock"); }
    QStringList keyPatterns() const override { return {QStringLiteral("job-lock:*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        // Layouts, by provider generation:
        //   "ADDED:<instant>@<hostname>"                       (spring, jedis, quarkus)
        //   "ADDED:<instant>@<hostname>:<uuid>"                (InternalRedisLockProvider, safe update)
        //   "ADDED:<instant>@<hostname> EXP:<lockAtMostUntil>" (providers that store the expiry)
        if (entry.type != RawEntry::Type::String || !entry.value.startsWith("ADDED:"))
            return std::nullopt;
        const QByteArray &v = entry.value;
        const qsizetype at = v.indexOf('@', 6);
        if (at < 0)
            return std::nullopt;
        const QDateTime added = parseInstant(QByteArrayView(v).sliced(6, at - 6));
        if (!added.isValid())
            return std::nullopt;
        QByteArray host = v.mid(at + 1);
        QDateTime expires;
        const qsizetype exp = host.lastIndexOf(" EXP:");
        if (exp >= 0) {
            expires = parseInstant(QByteArrayView(host).sliced(exp + 5));
            if (!expires.isValid())
                return std::nullopt;
            host.truncate(exp);
        }
        QByteArray uuid;
        if (host.size() > 37 && host[host.size() - 37] == ':' && isUuidText(QByteArrayView(host).last(36))) {
            uuid = host.right(36);
            host.chop(37);
        }
        if (host.isEmpty() || !isValidUtf8(host))
            return std::nullopt;

        // The whole value is what ShedLock's safe-update scripts compare.
        DecodedLock lock = makeLock(id(), v);
        lock.confidenceReason = QStringLiteral("ShedLock's value format (\"ADDED:<instant>@<host>\")");
        lock.owner = QString::fromUtf8(host);
        lock.acquiredAt = added;
        lock.details.insert(QStringLiteral("host"), lock.owner);
        if (expires.isValid())
            lock.details.insert(QStringLiteral("expires"), expires.toString(Qt::ISODateWithMs));
        if (!uuid.isEmpty())
            lock.details.insert(QStringLiteral("uuid"), QString::fromLatin1(uuid));
        // Key "<prefix>:<env>:<name>" (prefix "job-lock" unless configured).
        if (key.startsWith("job-lock:")) {
            const qsizetype colon = key.indexOf(':', 9);
            if (colon > 9) {
                lock.details.insert(QStringLiteral("env"), QString::fromUtf8(key.mid(9, colon - 9)));
                lock.details.insert(QStringLiteral("name"), QString::fromUtf8(key.mid(colon + 1)));
            }
        }
        return lock;
    }
};

// --- the random-token formats ---------------------------------------------------------------

/// Whether `v` looks like something other than random bytes in base64: all hex digits (an md5
/// or a UUID in upper case: '-' included), or letters of one case only (a word). 16 random bytes
/// in base64 are any of these with a probability below 1e-8.
bool looksNonRandom(QByteArrayView v)
{
    const auto hexOrDash = [](char c) {
        return hexValue(c) >= 0 || c == '-';
    };
    const auto lower = [](char c) {
        return c >= 'a' && c <= 'z';
    };
    const auto upper = [](char c) {
        return c >= 'A' && c <= 'Z';
    };
    return std::all_of(v.begin(), v.end(), hexOrDash) || std::all_of(v.begin(), v.end(), lower) ||
           std::all_of(v.begin(), v.end(), upper);
}

/// go-redsync's genValue: base64.StdEncoding of 16 random bytes.
bool isRedsyncValue(QByteArrayView v)
{
    return v.size() == 24 && v.endsWith("==") && std::all_of(v.begin(), v.begin() + 22, isBase64Std) &&
           isLastCharOf16Bytes(v[21]) && !looksNonRandom(v.first(22));
}

/// 32 lowercase hex characters that are not a plain number.
bool isHex32(QByteArrayView v)
{
    return v.size() == 32 && std::all_of(v.begin(), v.end(), isLowerHex) && !allDigits(v);
}

/// uuid1 timestamps count 100 ns intervals from 1582-10-15; this is that date's Unix offset.
constexpr quint64 kUuidEpochOffset = 0x01b21dd213814000ULL;

/// Milliseconds since the Unix epoch encoded in a uuid1 hex string (already shape-checked).
qint64 uuid1UnixMs(QByteArrayView hex)
{
    auto field = [&](qsizetype from, qsizetype length) {
        quint64 n = 0;
        for (qsizetype i = from; i < from + length; ++i)
            n = (n << 4) | static_cast<quint64>(hexValue(hex[i]));
        return n;
    };
    const quint64 timeLow = field(0, 8);
    const quint64 timeMid = field(8, 4);
    const quint64 timeHigh = field(13, 3); // index 12 is the version nibble
    const quint64 ticks = (timeHigh << 48) | (timeMid << 32) | timeLow;
    if (ticks < kUuidEpochOffset)
        return -1;
    return static_cast<qint64>((ticks - kUuidEpochOffset) / 10000);
}

/// A uuid1 made since 2000 and not after tomorrow: redis-py made the token when it acquired, so
/// a timestamp in the future is random hex (a day of slack for the writer's clock).
bool isUuid1Hex(QByteArrayView v)
{
    if (!isHex32(v) || v[12] != '1' || !(v[16] == '8' || v[16] == '9' || v[16] == 'a' || v[16] == 'b'))
        return false;
    static const qint64 from = QDateTime(QDate(2000, 1, 1), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
    const qint64 to = QDateTime::currentMSecsSinceEpoch() + 24 * 60 * 60 * 1000;
    const qint64 ms = uuid1UnixMs(v);
    return ms >= from && ms < to;
}

/// bsm/redislock: 16 random bytes in unpadded base64url, then the caller's metadata.
bool isBsmValue(QByteArrayView v)
{
    return v.size() >= 22 && std::all_of(v.begin(), v.begin() + 22, isBase64Url) &&
           isLastCharOf16Bytes(v[21]) && !looksNonRandom(v.first(22));
}

} // namespace

/// Whether the key says it holds a lock: one of its words (split at anything but ASCII letters
/// and digits, compared without case) starts or ends with "lock" or "mutex" ("lock:x",
/// "orders:lock", "{redlock}:a", "orderLock", "job-locks"), but is not "block" or "clock".
bool keyNamesLock(QByteArrayView key)
{
    const auto namesLock = [](QByteArrayView w) {
        const auto starts = [&w](QByteArrayView p) {
            return w.size() >= p.size() && w.first(p.size()).compare(p, Qt::CaseInsensitive) == 0;
        };
        const auto ends = [&w](QByteArrayView p) {
            return w.size() >= p.size() && w.last(p.size()).compare(p, Qt::CaseInsensitive) == 0;
        };
        if (starts("lock") || starts("mutex") || ends("mutex") || ends("mutexes"))
            return true;
        if (ends("locks"))
            w.chop(1);
        return ends("lock") && !ends("block") && !ends("clock");
    };
    qsizetype i = 0;
    while (i < key.size()) {
        while (i < key.size() && !isAlnum(key[i]))
            ++i;
        const qsizetype start = i;
        while (i < key.size() && isAlnum(key[i]))
            ++i;
        if (i > start && namesLock(key.sliced(start, i - start)))
            return true;
    }
    return false;
}

namespace {

/// Whether the writing library sets a TTL on every lock (so that none is evidence against it).
enum class TtlUse
{
    Always,  ///< node-redlock, go-redsync, bsm/redislock: SET ... PX, or PEXPIRE in the script
    Optional ///< redis-py (timeout=None) and python-redis-lock (expire=None) write none by default
};

/// How a random-token schema rates its readings (see the comment on top). The reasons are built
/// once, here: decode() only shares them, so a snapshot of many locks holds one copy of each.
class TokenRating
{
public:
    /// `shape` and `library` name the value's shape and its writer for the reasons ("32 hex
    /// characters (16 random bytes)", "node-redlock"); `keyText` says why a key counts; a
    /// `structured` value (a uuid1) with a lock's TTL is Likely on any key.
    TokenRating(const QString &shape, const QString &library, const QString &keyText, bool structured,
                TtlUse ttl)
        : m_structured(structured), m_ttl(ttl), m_byKey(shape + QLatin1Char(' ') + keyText),
          m_byValue(shape + QStringLiteral(" with a TTL a lock has")),
          m_guess(shape + QStringLiteral(" on a key that does not name a lock: application data (a hash, "
                                         "an id, a cache entry) can look the same")),
          m_byKeyTooLong(m_byKey + QStringLiteral("; but a TTL over 1 h, longer than locks usually hold")),
          m_byKeyNoTtl(m_byKey + QStringLiteral("; but no TTL, which %1 always sets").arg(library))
    {}

    /// Sets the confidence and reason of a reading of an entry with `pttlMs`, where `keyCounts`
    /// says whether the key names a lock (or follows the library's convention). False when the
    /// reading is dropped: a Guess with an implausible TTL.
    bool rate(DecodedLock &lock, bool keyCounts, qint64 pttlMs) const
    {
        // A PTTL below -1 was not read (mayDecode) or the key is gone: no evidence either way.
        const bool tooLong = pttlMs > MaxPlausibleLockTtlMs;
        const bool noTtl = pttlMs == -1 && m_ttl == TtlUse::Always;
        if (keyCounts) {
            lock.confidence = tooLong || noTtl ? Confidence::Guess : Confidence::Likely;
            lock.confidenceReason = tooLong ? m_byKeyTooLong : noTtl ? m_byKeyNoTtl : m_byKey;
            return true;
        }
        if (m_structured && pttlMs >= 0 && !tooLong) {
            lock.confidence = Confidence::Likely;
            lock.confidenceReason = m_byValue;
            return true;
        }
        if (tooLong || noTtl)
            return false;
        lock.confidence = Confidence::Guess;
        lock.confidenceReason = m_guess;
        return true;
    }

private:
    bool m_structured;
    TtlUse m_ttl;
    QString m_byKey;
    QString m_byValue;
    QString m_guess;
    QString m_byKeyTooLong;
    QString m_byKeyNoTtl;
};

class RedsyncSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redsync"); }
    QString displayName() const override { return QStringLiteral("go-redsync"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (entry.type != RawEntry::Type::String || !isRedsyncValue(entry.value))
            return std::nullopt;
        DecodedLock lock = makeLock(id(), entry.value);
        if (!m_rating.rate(lock, keyNamesLock(key), entry.pttlMs))
            return std::nullopt;
        return lock;
    }

private:
    const TokenRating m_rating{QStringLiteral("24 characters of base64 (16 random bytes)"),
                               QStringLiteral("go-redsync"), QStringLiteral("on a key that names a lock"),
                               false, TtlUse::Always};
};

class RedisPySchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redis-py"); }
    QString displayName() const override { return QStringLiteral("redis-py Lock"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (entry.type != RawEntry::Type::String || !isUuid1Hex(entry.value))
            return std::nullopt;
        const QByteArray &v = entry.value;
        DecodedLock lock = makeLock(id(), v);
        if (!m_rating.rate(lock, keyNamesLock(key), entry.pttlMs))
            return std::nullopt;
        // uuid1 records when the token was made (= when acquire started) and the node id,
        // which is the host's MAC address unless its multicast bit says it is random.
        lock.acquiredAt = QDateTime::fromMSecsSinceEpoch(uuid1UnixMs(v), Qt::UTC);
        QStringList octets;
        for (qsizetype i = 20; i < 32; i += 2)
            octets << QString::fromLatin1(v.mid(i, 2));
        const QString node = octets.join(QLatin1Char(':'));
        lock.details.insert(QStringLiteral("node"), node);
        // redis-py records no owner: the MAC is a hint about the host, not an owner's name, so
        // it goes with the details (the owner reads "not recorded by redis-py" everywhere).
        if ((hexValue(v[21]) & 0x1) == 0)
            lock.details.insert(QStringLiteral("host MAC (from the uuid1 token)"), node);
        return lock;
    }

private:
    const TokenRating m_rating{QStringLiteral("a uuid1 in hex (uuid.uuid1().hex)"),
                               QStringLiteral("redis-py"), QStringLiteral("on a key that names a lock"), true,
                               TtlUse::Optional};
};

class NodeRedlockSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("node-redlock"); }
    QString displayName() const override { return QStringLiteral("node-redlock"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        // redis-py comes first in the registry, so a uuid1 never reaches here through it; the
        // check is repeated so that this schema used alone gives the same answer.
        if (entry.type != RawEntry::Type::String || !isHex32(entry.value) || isUuid1Hex(entry.value))
            return std::nullopt;
        DecodedLock lock = makeLock(id(), entry.value);
        if (!m_rating.rate(lock, keyNamesLock(key), entry.pttlMs))
            return std::nullopt;
        return lock;
    }

private:
    const TokenRating m_rating{QStringLiteral("32 hex characters (16 random bytes)"),
                               QStringLiteral("node-redlock"), QStringLiteral("on a key that names a lock"),
                               false, TtlUse::Always};
};

class BsmRedislockSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("bsm-redislock"); }
    QString displayName() const override { return QStringLiteral("bsm/redislock"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        const QByteArray &v = entry.value;
        if (entry.type != RawEntry::Type::String || !isBsmValue(v) || isRedsyncValue(v) ||
            LockValue::parse(v))
            return std::nullopt;
        const QByteArray metadata = v.mid(22);
        if (!metadata.isEmpty() && !isValidUtf8(metadata))
            return std::nullopt;
        // The token identifies the holder (ObtainMulti and re-obtain compare it as a prefix);
        // the library's release compares token + metadata, the whole value.
        DecodedLock lock = makeLock(id(), v.left(22));
        if (!m_rating.rate(lock, keyNamesLock(key), entry.pttlMs))
            return std::nullopt;
        lock.label = QString::fromUtf8(metadata);
        if (!metadata.isEmpty())
            lock.details.insert(QStringLiteral("metadata"), lock.label);
        return lock;
    }

private:
    const TokenRating m_rating{QStringLiteral("a token of 22 base64url characters (16 random bytes)"),
                               QStringLiteral("bsm/redislock"), QStringLiteral("on a key that names a lock"),
                               false, TtlUse::Always};
};

// --- python-redis-lock ------------------------------------------------------------------------

/// Whether another built-in reads `v` by its library's default format (those win under "lock:").
bool hasOtherDefaultFormat(const QByteArray &v)
{
    return LockValue::parse(v).has_value() || v.startsWith("ADDED:") || isRedsyncValue(v) || isHex32(v) ||
           isBsmValue(v);
}

/// python-redis-lock's default id: b64encode(urandom(18)), 24 characters without padding.
bool isPythonRedisLockDefaultId(QByteArrayView v)
{
    return v.size() == 24 && std::all_of(v.begin(), v.end(), isBase64Std) && !looksNonRandom(v);
}

/// Whether a custom id is plausible: one printable line that names a holder the way ids do,
/// with a digit or one of - _ : @ . / (a host, a pid, a worker number, a run id), and is not a
/// number, JSON, a quoted string or prose ("hello world", "running", "true").
bool isPlausibleCustomId(const QByteArray &v)
{
    if (v.isEmpty() || v.size() > 512 || allDigits(v) || v.startsWith('{') || v.startsWith('[') ||
        v.startsWith('"') || v.trimmed() != v)
        return false;
    bool identifier = false;
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            return false;
        identifier |= isDigit(c) || c == '-' || c == '_' || c == ':' || c == '@' || c == '.' || c == '/';
    }
    return identifier && isValidUtf8(v);
}

class PythonRedisLockSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("python-redis-lock"); }
    QString displayName() const override { return QStringLiteral("python-redis-lock"); }
    QStringList keyPatterns() const override { return {QStringLiteral("lock:*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (entry.type != RawEntry::Type::String || !key.startsWith("lock:") || key.size() == 5)
            return std::nullopt;
        const QByteArray &v = entry.value;
        const bool defaultId = isPythonRedisLockDefaultId(v);
        if (!defaultId && (hasOtherDefaultFormat(v) || !isPlausibleCustomId(v)))
            return std::nullopt;
        DecodedLock lock = makeLock(id(), v);
        // A default id under the library's own prefix is Likely; a custom id is free text that
        // any application's "lock:" key may hold, so only a Guess (the key does not count).
        if (!m_rating.rate(lock, defaultId, entry.pttlMs))
            return std::nullopt;
        // get_owner_id() returns the value; a custom id usually names the owner, a random one
        // does not.
        if (!defaultId) {
            lock.owner = QString::fromUtf8(v);
            lock.confidenceReason = QStringLiteral("a custom id under \"lock:\": free text that any "
                                                   "application's lock key may hold");
        }
        lock.details.insert(QStringLiteral("signal"), QString::fromUtf8(signalKey(key)));
        return lock;
    }

    /// What the library's release / reset scripts do besides the DEL: replace the signal list
    /// with one element so that a waiter blocked in BLPOP wakes up, and let it expire (4.x:
    /// signal_expire, 1000 ms by default).
    std::vector<std::vector<QByteArray>> afterRelease(const QByteArray &key) const override
    {
        if (!key.startsWith("lock:"))
            return {};
        const QByteArray signal = signalKey(key);
        return {{"DEL", signal}, {"LPUSH", signal, "1"}, {"PEXPIRE", signal, "1000"}};
    }

private:
    static QByteArray signalKey(const QByteArray &key) { return "lock-signal:" + key.mid(5); }

    const TokenRating m_rating{
        QStringLiteral("24 characters of base64 (18 random bytes)"), QStringLiteral("python-redis-lock"),
        QStringLiteral("under python-redis-lock's \"lock:\" key prefix"), false, TtlUse::Optional};
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

SchemaRegistry SchemaRegistry::builtins()
{
    SchemaRegistry registry;
    registry.m_schemas = {
        std::make_shared<LockScopeSchema>(),       std::make_shared<RedissonRwLockSchema>(),
        std::make_shared<RedissonRLockSchema>(),   std::make_shared<ShedLockSchema>(),
        std::make_shared<PythonRedisLockSchema>(), std::make_shared<RedsyncSchema>(),
        std::make_shared<RedisPySchema>(),         std::make_shared<NodeRedlockSchema>(),
        std::make_shared<BsmRedislockSchema>(),
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
        if (auto lock = schema->decode(key, entry))
            return lock;
    }
    return std::nullopt;
}

bool SchemaRegistry::mayDecode(const QByteArray &key, const RawEntry &entry) const
{
    return std::ranges::any_of(m_schemas, [&](const auto &schema) { return schema->mayDecode(key, entry); });
}

} // namespace lockscope::inspect
