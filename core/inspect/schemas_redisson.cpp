// The Redisson schemas: RLock (also RFairLock, RFencedLock) and RReadWriteLock, hashes of
// "<uuid>:<threadId>[:write]" holder fields. How they are told apart from the other formats:
// the comment on top of lockschema.cpp.

#include "inspect/builtinschemas.h"

#include <QList>
#include <climits>

namespace lockscope::inspect::detail {

namespace {

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

QByteArray redissonChannel(const QByteArray &prefix, const QByteArray &key)
{
    return redissonPrefixName(prefix, key);
}

/// A holder of a Redisson lock, as LockHolder: the field is what a compare-and-delete matches.
LockHolder redissonLockHolder(const RedissonHolder &h, qint64 pttlMs)
{
    LockHolder holder;
    holder.owner = redissonOwner(h);
    holder.token = h.field;
    holder.raw = h.field;
    holder.pttlMs = pttlMs >= 0 ? pttlMs : -1;
    holder.count = static_cast<int>(std::min<qint64>(h.count, INT_MAX));
    holder.mode = h.writer ? QStringLiteral("write") : QStringLiteral("read");
    return holder;
}

} // namespace

QByteArray redissonPrefixName(const QByteArray &prefix, const QByteArray &name)
{
    if (name.contains('{'))
        return prefix + ':' + name;
    return prefix + ":{" + name + '}';
}

QByteArray redissonSuffixName(const QByteArray &name, const QByteArray &suffix)
{
    if (name.contains('{'))
        return name + ':' + suffix;
    return '{' + name + "}:" + suffix;
}

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

namespace {

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
            lock.kind = QStringLiteral("write");
            lock.holders.push_back(redissonLockHolder(*writer, entry.pttlMs));
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
            lock.kind = QStringLiteral("read");
            for (const auto &r : readers) {
                owners << redissonOwner(r);
                fields << r.field;
                total += r.count;
                // Each read hold also has its own timeout key ("{name}:<field>:rwlock_timeout:<n>"),
                // not read here: the hash's PTTL is the latest of them.
                lock.holders.push_back(redissonLockHolder(r, entry.pttlMs));
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
        lock.kind = QStringLiteral("reentrant");
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

} // namespace

std::shared_ptr<const LockSchema> makeRedissonRwLockSchema()
{
    return std::make_shared<RedissonRwLockSchema>();
}

std::shared_ptr<const LockSchema> makeRedissonRLockSchema()
{
    return std::make_shared<RedissonRLockSchema>();
}

} // namespace lockscope::inspect::detail
