#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QMap>
#include <QRegularExpression>
#include <QString>
#include <QStringList>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace lockscope::inspect {

/// Whether the key says it holds a lock: one of its words (split at anything but ASCII letters
/// and digits, compared without case) starts or ends with "lock" or "mutex" ("lock:x",
/// "orders:lock", "{redlock}:a", "orderLock", "job-locks"), but is not "block" or "clock".
bool keyNamesLock(QByteArrayView key);

/// What one node holds under one key, as the scanner read it (MGET and PTTL in pipelined
/// batches, then TYPE and HGETALL for what is not a string).
struct RawEntry
{
    enum class Type
    {
        Missing,
        String,
        Hash,
        Other
    };
    Type type = Type::Missing;
    QString typeName; ///< the server's TYPE answer ("string", "hash", "list", ...)
    QByteArray value; ///< String: the value
    std::vector<std::pair<QByteArray, QByteArray>> fields; ///< Hash: field -> value, in server order
    qint64 pttlMs = -2; ///< PTTL: -1 = no TTL, -2 = missing, PttlNotRead = not asked for

    /// The scanner reads the PTTL of a value only when some schema may decode it (or the key
    /// is listed raw): in a keyspace of mostly other keys that halves the commands a scan sends.
    static constexpr qint64 PttlNotRead = -3;

    bool operator==(const RawEntry &) const = default;
};

/// How sure a schema is that an entry is a lock its library wrote. Ordered: a lower value is
/// less sure, so std::min of two gives the weaker reading.
enum class Confidence
{
    /// Only a bare random-looking token matched, on a key that says nothing about locks (a
    /// 32-hex value under "etag:avatar:42" reads as node-redlock, and is as likely an md5 cache
    /// entry). Shown marked as a guess; destructive actions ask for an explicit confirmation.
    Guess,
    /// The value has the library's exact token shape and something else agrees: the key names
    /// a lock or follows the library's key convention, or the value is structured (a uuid1) and
    /// its TTL is one a lock has. Very probably this library's lock, not proven.
    Likely,
    /// The value carries the library's own signature, which application data does not have by
    /// chance: LockScope's "ls1 tok=", a Redisson hash of "<uuid>:<threadId>" -> count, ShedLock's
    /// "ADDED:<instant>@<host>".
    Certain,
};

/// "guess", "likely" or "certain": the stable identifier used in `lockctl list --json`.
QString confidenceText(Confidence confidence);

/// Above this PTTL a random-token value is not what a lock usually holds: the libraries that
/// write bare tokens hold locks for seconds to minutes and renew them (node-redlock's using(),
/// go-redsync's 8 s default), while cache entries keep hours. See lockschema.cpp.
inline constexpr qint64 MaxPlausibleLockTtlMs = 60 * 60 * 1000;

/// What a schema reads out of one node's entry.
struct DecodedLock
{
    QString schema; ///< the schema's id ("lockscope", "redis-py", "redisson-rlock", ...)
    Confidence confidence = Confidence::Certain; ///< how sure the schema is (see Confidence)
    QString confidenceReason;       ///< what the confidence rests on, for people ("32 hex characters
                                    ///< on a key that does not name a lock: ...")
    QString owner;                  ///< who holds it, for people; empty when the format does not say
    QByteArray token;               ///< what identifies the holder: compared across nodes, and what a
                                    ///< compare-and-delete must match (the whole value when nothing finer)
    qint64 fence = -1;              ///< fencing value, -1 when the format has none
    int holdCount = -1;             ///< reentrant hold count (Redisson), -1 when not applicable
    QString mode;                   ///< "read" / "write" for read-write locks, empty otherwise
    QDateTime acquiredAt;           ///< when the format records it
    QString label;                  ///< free text the holder attached
    QMap<QString, QString> details; ///< anything else worth showing (host, pid, thread, metadata, expiry)

    bool operator==(const DecodedLock &) const = default;
};

/// How to find and read the locks one library writes. Implementations are immutable and
/// thread-safe: the scanner calls decode() from its worker threads.
class LockSchema
{
public:
    virtual ~LockSchema() = default;
    virtual QString id() const = 0;
    virtual QString displayName() const = 0;
    /// SCAN MATCH globs where this schema's keys live; {"*"} when any key may be one.
    virtual QStringList keyPatterns() const = 0;
    /// Decodes one node's entry, or nullopt when it is not a lock of this schema. The entry's
    /// PTTL takes part where the value alone proves little (see Confidence): -1 (no TTL) or more
    /// than MaxPlausibleLockTtlMs lowers the confidence of a random-token reading, and drops a
    /// Guess altogether. A PTTL not read (PttlNotRead) neither raises nor drops a reading.
    virtual std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const = 0;
    /// False only when decode() certainly returns nullopt (the PTTL is not read then); a
    /// cheaper test than decoding where a schema has one. Ignores the entry's PTTL.
    virtual bool mayDecode(const QByteArray &key, const RawEntry &entry) const
    {
        return decode(key, entry).has_value();
    }
    /// Commands to send after a force-release deleted `key`, so that waiters wake up
    /// (Redisson publishes an unlock message on its channel). Empty for most schemas.
    virtual std::vector<std::vector<QByteArray>> afterRelease(const QByteArray &key) const
    {
        Q_UNUSED(key);
        return {};
    }
};

/// A user-defined schema: keys matching a glob, string values matching a regular expression
/// whose named groups `owner`, `token` and `fence` say what they hold. Its locks are Likely: the
/// user vouches for the pattern, LockScope cannot check it.
struct CustomSchemaSpec
{
    QString id;
    QString displayName;
    QString keyGlob;      ///< e.g. "jobs:lock:*"
    QString valuePattern; ///< e.g. "^(?<owner>[^/]+)/(?<token>[0-9a-f]+)$"
};

/// The schemas the inspector knows, in the order they are tried: the most specific first, so
/// that a value several formats could read goes to the one that really wrote it.
class SchemaRegistry
{
public:
    /// LockScope, Redisson RLock and RReadWriteLock, ShedLock, python-redis-lock, bsm/redislock,
    /// go-redsync, node-redlock, redis-py.
    static SchemaRegistry builtins();

    /// Adds a user-defined schema (tried before the built-ins that match any key). Errors
    /// (bad glob, bad regex, no named group) are returned as text and change nothing.
    std::optional<QString> addCustom(const CustomSchemaSpec &spec);

    const std::vector<std::shared_ptr<const LockSchema>> &schemas() const { return m_schemas; }
    std::shared_ptr<const LockSchema> find(const QString &id) const;
    /// The first schema that decodes the entry, or nullopt (shown raw, never hidden).
    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const;
    /// False when no schema decodes the entry (see LockSchema::mayDecode).
    bool mayDecode(const QByteArray &key, const RawEntry &entry) const;

private:
    std::vector<std::shared_ptr<const LockSchema>> m_schemas;
};

} // namespace lockscope::inspect
