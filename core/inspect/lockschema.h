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

/// What a schema reads out of one node's entry.
struct DecodedLock
{
    QString schema;                 ///< the schema's id ("lockscope", "redis-py", "redisson-rlock", ...)
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
    /// Decodes one node's entry, or nullopt when it is not a lock of this schema.
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
/// whose named groups `owner`, `token` and `fence` say what they hold.
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
