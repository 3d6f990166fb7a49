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
/// batches, then TYPE and HGETALL for what is not a string, ZRANGE / LRANGE for sorted sets and
/// lists, and the companion keys a schema names; see LockSchema::companionKeys).
///
/// Sorted sets and lists keep `type == Other` (their `typeName` is "zset" / "list"; isSortedSet()
/// and isList() tell them apart): the views that switch over Type show them as another type's
/// value until they learn to show members.
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
    /// Sorted set ("zset"): member -> score, in server order (ascending score), at most
    /// MaxElements of them (see truncated). A score of +inf reads as infinity.
    std::vector<std::pair<QByteArray, double>> members;
    std::vector<QByteArray> elements; ///< List ("list"): the elements from the head, at most MaxElements
    bool truncated = false;           ///< the set or list holds more than MaxElements (the rest not read)
    qint64 pttlMs = -2;               ///< PTTL: -1 = no TTL, -2 = missing, PttlNotRead = not asked for
    /// The node's clock (TIME, Unix ms) when the entry was read, to turn deadline scores into
    /// remaining time; 0 = unknown (strings are read without it, or TIME was refused).
    qint64 serverTimeMs = 0;
    /// The companion keys a schema named for this key (LockSchema::companionKeys), read with it
    /// on the same node: key -> entry (Missing when the node has none), in the order named.
    std::vector<std::pair<QByteArray, RawEntry>> companions;

    /// The scanner reads the PTTL of a value only when some schema may decode it (or the key
    /// is listed raw): in a keyspace of mostly other keys that halves the commands a scan sends.
    static constexpr qint64 PttlNotRead = -3;
    /// Sorted-set members and list elements read per key: a lock holds a handful; a bound keeps
    /// a large application set from costing a scan more than this.
    static constexpr int MaxElements = 1000;

    bool isSortedSet() const { return type == Type::Other && typeName == QLatin1String("zset"); }
    bool isList() const { return type == Type::Other && typeName == QLatin1String("list"); }
    /// The companion read under `key`, or nullptr when it was not read.
    const RawEntry *companion(const QByteArray &key) const;

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

/// One holder of a lock (or one waiter in its queue): a mutex has one, a read lock or a
/// semaphore several.
struct LockHolder
{
    QString owner;    ///< who, for people; empty when the format does not say
    QByteArray token; ///< what identifies the holder (compared across nodes)
    QByteArray raw;   ///< the exact member / field / value to compare-and-delete to remove this holder alone
    qint64 pttlMs = -1; ///< time left for this holder: -1 none (or not known), 0 expired
    int count = -1;     ///< reentrant holds or permits this entry stands for, -1 when not applicable
    qint64 fence = -1;  ///< fencing value, -1 when the format has none
    QString mode;       ///< "read" / "write" for read-write locks, empty otherwise

    bool operator==(const LockHolder &) const = default;
};

/// What a schema reads out of one node's entry.
///
/// The single-holder fields (owner, token, fence, holdCount, mode) describe the lock as before;
/// `kind`, `holders`, `permits`, `queue` and `anomalies` describe every lock kind. Through
/// SchemaRegistry::decode `kind` is never empty and `holders` has one entry for a held
/// single-holder lock, so a consumer can always read the holders.
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
    /// "mutex", "read", "write", "reentrant", "semaphore" or "fair" (see the lockKind constants).
    QString kind;
    std::vector<LockHolder> holders; ///< who holds it now; used permits of a semaphore = holders.size()
    int permits = -1;                ///< a semaphore's limit N, -1 when unknown or not a semaphore
    std::vector<LockHolder> queue;   ///< waiters in arrival order (fair locks), with their own expiry
    QStringList anomalies;           ///< what is wrong with the lock itself, in plain sentences

    bool operator==(const DecodedLock &) const = default;
};

/// DecodedLock::kind values.
namespace lockKind {
inline constexpr char Mutex[] = "mutex";
inline constexpr char Read[] = "read";
inline constexpr char Write[] = "write";
inline constexpr char Reentrant[] = "reentrant";
inline constexpr char Semaphore[] = "semaphore";
inline constexpr char Fair[] = "fair";
} // namespace lockKind

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
    /// The other keys this schema's lock at `key` spreads over (a fair lock's queue, a writer's
    /// intent), when `entry` may be such a lock: read with it on the same node and handed to
    /// decode() in RawEntry::companions. Empty for most schemas and entries. `entry` has no
    /// companions yet and may have no PTTL.
    virtual std::vector<QByteArray> companionKeys(const QByteArray &key, const RawEntry &entry) const
    {
        Q_UNUSED(key);
        Q_UNUSED(entry);
        return {};
    }
    /// The inverse: the lock keys whose companion `key` may be (several when the name is
    /// ambiguous). A scan that lists one of them does not list `key` on its own: it shows in
    /// that lock's record.
    virtual std::vector<QByteArray> companionOwners(const QByteArray &key) const
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
    /// LockScope (mutex, reentrant, read-write lock, semaphore), Redisson RLock, RFairLock,
    /// RReadWriteLock, RSemaphore and RPermitExpirableSemaphore, redis-semaphore (Mutex,
    /// Semaphore, MultiSemaphore), ShedLock, python-redis-lock, bsm/redislock, go-redsync,
    /// node-redlock, redis-py.
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
    /// Every schema's companion keys of `key` (LockSchema::companionKeys), each once.
    std::vector<QByteArray> companionKeys(const QByteArray &key, const RawEntry &entry) const;
    /// Every schema's candidate owners of `key` (LockSchema::companionOwners), each once.
    std::vector<QByteArray> companionOwners(const QByteArray &key) const;

private:
    std::vector<std::shared_ptr<const LockSchema>> m_schemas;
};

} // namespace lockscope::inspect
