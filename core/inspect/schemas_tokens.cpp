// ShedLock and the random-token schemas: go-redsync, redis-py, node-redlock, bsm/redislock and
// python-redis-lock, with the confidence rating their readings get (TokenRating). How they are
// told apart from each other: the comment on top of lockschema.cpp.

#include "inspect/builtinschemas.h"
#include "lock/lockvalue.h"

#include <QStringDecoder>

namespace lockscope::inspect::detail {

namespace {

using lock::LockValue;

bool isLowerHex(char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'f');
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

bool isValidUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder(bytes);
    return !decoder.hasError();
}

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

/// Whether the writing library sets a TTL on every lock (so that none is evidence against it).
enum class TtlUse
{
    Always,  ///< node-redlock, go-redsync, bsm/redislock: SET ... PX, or PEXPIRE in the script
    Optional ///< redis-py (timeout=None) and python-redis-lock (expire=None) write none by default
};

/// How a random-token schema rates its readings (see the comment on top of lockschema.cpp). The
/// reasons are built once, here: decode() only shares them, so a snapshot of many locks holds one
/// copy of each.
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

} // namespace

std::shared_ptr<const LockSchema> makeShedLockSchema()
{
    return std::make_shared<ShedLockSchema>();
}

std::shared_ptr<const LockSchema> makePythonRedisLockSchema()
{
    return std::make_shared<PythonRedisLockSchema>();
}

std::shared_ptr<const LockSchema> makeRedsyncSchema()
{
    return std::make_shared<RedsyncSchema>();
}

std::shared_ptr<const LockSchema> makeRedisPySchema()
{
    return std::make_shared<RedisPySchema>();
}

std::shared_ptr<const LockSchema> makeNodeRedlockSchema()
{
    return std::make_shared<NodeRedlockSchema>();
}

std::shared_ptr<const LockSchema> makeBsmRedislockSchema()
{
    return std::make_shared<BsmRedislockSchema>();
}

} // namespace lockscope::inspect::detail
