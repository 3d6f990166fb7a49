// Lock kinds beyond the single-holder mutex: LockScope's read-write lock and semaphore, Redisson's
// RFairLock, RSemaphore and RPermitExpirableSemaphore, and the npm package redis-semaphore (5.x:
// Mutex, Semaphore, MultiSemaphore). Several of them spread one lock over several keys: they
// name those companion keys (LockSchema::companionKeys), which are read with the lock, and the
// inverse (companionOwners), so that a scan does not list a companion on its own. How they are
// told apart from the other formats: the comment on top of lockschema.cpp.

#include "inspect/builtinschemas.h"
#include "lock/lockvalue.h"

#include <QList>
#include <climits>
#include <cmath>
#include <map>
#include <set>

namespace lockscope::inspect::detail {

using lock::LockValue;

std::optional<QByteArray> lsField(const QByteArray &value, QByteArrayView name)
{
    if (!value.startsWith("ls1 "))
        return std::nullopt;
    qsizetype at = 4;
    while (at < value.size()) {
        qsizetype end = value.indexOf(' ', at);
        if (end < 0)
            end = value.size();
        const QByteArrayView field = QByteArrayView(value).sliced(at, end - at);
        if (field.size() > name.size() && field.startsWith(name) && field[name.size()] == '=')
            return LockValue::unescape(field.sliced(name.size() + 1).toByteArray());
        at = end + 1;
    }
    return std::nullopt;
}

std::optional<qint64> lsNumber(const QByteArray &value, QByteArrayView name)
{
    const auto text = lsField(value, name);
    if (!text || !allDigits(*text) || text->size() > 18)
        return std::nullopt;
    return text->toLongLong();
}

void completeKind(DecodedLock &lock, const RawEntry &entry)
{
    if (lock.kind.isEmpty())
        lock.kind = QLatin1String(lockKind::Mutex);
    const bool singleHolder =
        lock.kind == QLatin1String(lockKind::Mutex) || lock.kind == QLatin1String(lockKind::Reentrant);
    if (!singleHolder || !lock.holders.empty() || lock.token.isEmpty())
        return;
    LockHolder holder;
    holder.owner = lock.owner;
    holder.token = lock.token;
    // A compare-and-delete matches the whole string value, or a hash's holder field.
    holder.raw = entry.type == RawEntry::Type::String ? entry.value : lock.token;
    holder.pttlMs = entry.pttlMs >= 0 ? entry.pttlMs : -1;
    holder.count = lock.holdCount;
    holder.fence = lock.fence;
    holder.mode = lock.mode;
    lock.holders.push_back(std::move(holder));
}

namespace {

// --- shared -----------------------------------------------------------------------------------

/// "1.5 s" / "250 ms" / "3 min": how long ago or how long left, for the anomaly sentences.
QString spanText(qint64 ms)
{
    if (ms < 1000)
        return QStringLiteral("%1 ms").arg(ms);
    if (ms < 120 * 1000)
        return QStringLiteral("%1 s").arg(double(ms) / 1000.0, 0, 'f', 1);
    return QStringLiteral("%1 min").arg(ms / 60000);
}

/// A deadline score (Unix ms) as time left on a node whose clock read `nowMs`: -1 for +inf (no
/// expiry) or when the clock is unknown, negative values clamped to 0.
qint64 leftUntil(double deadline, qint64 nowMs)
{
    if (std::isinf(deadline) || std::isnan(deadline) || nowMs <= 0)
        return -1;
    return std::max<qint64>(0, qint64(deadline) - nowMs);
}

/// How long ago a deadline passed (0 when it has not, or the clock is unknown).
qint64 overdue(double deadline, qint64 nowMs)
{
    if (std::isinf(deadline) || std::isnan(deadline) || nowMs <= 0)
        return 0;
    return std::max<qint64>(0, nowMs - qint64(deadline));
}

/// Holder tokens sorted and joined: what the nodes of a group compare for a lock of several
/// holders (the same holders on every node read the same).
QByteArray joinedTokens(const std::vector<LockHolder> &holders)
{
    QList<QByteArray> tokens;
    for (const LockHolder &holder : holders)
        tokens << holder.token;
    std::sort(tokens.begin(), tokens.end());
    return tokens.join(',');
}

QString joinedOwners(const std::vector<LockHolder> &holders)
{
    QStringList owners;
    for (const LockHolder &holder : holders) {
        if (!holder.owner.isEmpty() && !owners.contains(holder.owner))
            owners << holder.owner;
    }
    return owners.join(QStringLiteral(", "));
}

qint64 maxFence(const std::vector<LockHolder> &holders)
{
    qint64 fence = -1;
    for (const LockHolder &holder : holders)
        fence = std::max(fence, holder.fence);
    return fence;
}

/// Whether a word of the key (split like keyNamesLock) names a semaphore: it starts or ends with
/// "semaphore", or is "sem" or "permits". Redisson stores a semaphore as a bare number, which
/// only such a key tells from a counter.
bool keyNamesSemaphore(QByteArrayView key)
{
    return anyKeyWord(key, [](QByteArrayView w) {
        const auto is = [&w](QByteArrayView p) {
            return w.compare(p, Qt::CaseInsensitive) == 0;
        };
        return startsWithWord(w, "semaphore") || endsWithWord(w, "semaphore") ||
               endsWithWord(w, "semaphores") || is("sem") || is("permits");
    });
}

/// The keys `key` may have been made from by `make` (the candidates `make` maps back to `key`).
template <typename Make>
std::vector<QByteArray> ownersMadeBy(const std::vector<QByteArray> &candidates, const QByteArray &key,
                                     Make make)
{
    std::vector<QByteArray> owners;
    for (const QByteArray &candidate : candidates) {
        if (!candidate.isEmpty() && make(candidate) == key &&
            std::ranges::find(owners, candidate) == owners.end())
            owners.push_back(candidate);
    }
    return owners;
}

/// The names `rest` may stand for inside "<prefix>:<rest>" or "<rest>:<suffix>" when the name
/// was wrapped in a hash tag or not: "{x}" -> "x" and "{x}", the usual (untagged) one first.
std::vector<QByteArray> untagged(const QByteArray &rest)
{
    if (rest.size() > 2 && rest.startsWith('{') && rest.endsWith('}'))
        return {rest.mid(1, rest.size() - 2), rest};
    return {rest};
}

// --- LockScope: read-write lock, semaphore, writer intent --------------------------------------

// A Locker names a lock's companions after its key prefix (lock::fenceKeyFor), which the
// inspector does not know. From the lock, each companion is looked for under the prefixes the
// key suggests (lock::possibleKeyPrefixes: none, and up to three leading parts ending in ':' or
// '/'), one read each; the first that is there is the lock's. From a companion, its name says
// the key ("<p>{<key>}.wwait"), and it counts as that key's only if the lookup from the key
// finds it, so that a scan never hides a companion its lock's record does not show.

/// The names `name(key, prefix)` gives the lock `key` under those prefixes, each once, the
/// unprefixed one first.
template <typename Name>
std::vector<QByteArray> lockScopeCompanions(const QByteArray &key, Name name)
{
    std::vector<QByteArray> names;
    for (const QByteArray &prefix : lock::possibleKeyPrefixes(key)) {
        QByteArray candidate = name(key, prefix);
        if (std::ranges::find(names, candidate) == names.end())
            names.push_back(std::move(candidate));
    }
    return names;
}

std::vector<QByteArray> writerIntentKeys(const QByteArray &key)
{
    return lockScopeCompanions(key, [](const QByteArray &k, const QByteArray &prefix) {
        return lock::writerIntentKeyFor(k, prefix);
    });
}

/// The names the wake-up queue (LockerOptions::wakeOnRelease) of `key` may have, for every
/// candidate prefix: its waiters, or with `deadlines` their deadlines.
std::vector<QByteArray> waitQueueNames(const QByteArray &key, bool deadlines)
{
    return lockScopeCompanions(key, [deadlines](const QByteArray &k, const QByteArray &prefix) {
        const auto [waiters, expiries] = lock::waitQueueKeysFor(k, prefix);
        return deadlines ? expiries : waiters;
    });
}

std::vector<QByteArray> fairQueueKeys(const QByteArray &key)
{
    return lockScopeCompanions(key, [](const QByteArray &k, const QByteArray &prefix) {
        return lock::fairQueueKeysFor(k, prefix).first;
    });
}

/// A fair lock's deadlines set, named as its queue.
QByteArray fairDeadlinesKey(const QByteArray &queue)
{
    return queue.chopped(6) + ".qexp";
}

/// The lock keys the LockScope companion `name` ("<rest><suffix>") may belong to: the key in
/// the hash tag when rest is "<p>{<key>}" and <key> starts with <p> ("myapp:{myapp:docs}.wwait"
/// -> "myapp:docs"; "{docs}.wwait" -> "docs"), then rest itself (a key with a hash tag of its
/// own: "{orders}:doc.wwait" -> "{orders}:doc"); each only when its lookup finds `name`.
template <typename Name>
std::vector<QByteArray> lockScopeOwners(const QByteArray &name, qsizetype suffixLength, Name companionsOf)
{
    const QByteArray rest = name.chopped(suffixLength);
    std::vector<QByteArray> owners;
    const auto consider = [&](const QByteArray &owner) {
        if (owner.isEmpty() || std::ranges::find(owners, owner) != owners.end())
            return;
        const std::vector<QByteArray> names = companionsOf(owner);
        if (std::ranges::find(names, name) != names.end())
            owners.push_back(owner);
    };
    const qsizetype open = rest.indexOf('{');
    if (open >= 0 && rest.endsWith('}')) {
        const QByteArray inner = rest.mid(open + 1, rest.size() - open - 2);
        if (inner.startsWith(rest.first(open)))
            consider(inner);
    }
    consider(rest);
    return owners;
}

/// The first of `names` (not empty) that `entry` read as a companion and the node has, else the
/// first.
QByteArray presentOrFirst(const RawEntry &entry, const std::vector<QByteArray> &names)
{
    for (const QByteArray &name : names) {
        const RawEntry *companion = entry.companion(name);
        if (companion && companion->type != RawEntry::Type::Missing)
            return name;
    }
    return names.front();
}

QString lockScopeOwner(const LockValue &v)
{
    QStringList parts;
    if (!v.host.isEmpty())
        parts << v.host;
    if (v.pid > 0)
        parts << QStringLiteral("pid %1").arg(v.pid);
    if (!v.thread.isEmpty())
        parts << v.thread;
    return parts.join(QLatin1Char(' '));
}

LockHolder lockScopeHolder(const LockValue &v, const QByteArray &raw, qint64 pttlMs)
{
    LockHolder holder;
    holder.owner = lockScopeOwner(v);
    holder.token = v.token;
    holder.raw = raw;
    holder.pttlMs = pttlMs;
    holder.fence = v.fence > 0 ? v.fence : -1;
    return holder;
}

/// One member of a LockScope read-write lock or semaphore set. value.mode ('r' / 'w') says a
/// read-write lock's holder, value.permits (the semaphore's limit as this holder saw it) a
/// semaphore's.
struct LockScopeMember
{
    LockValue value;
    QByteArray raw;
    double deadline = 0;
};

/// Whether a member's "permits=" is written as this decoder has always read it: 1 to 18 plain
/// digits, what the Locker writes. LockValue::parse reads the field with toInt, which also takes
/// a sign, surrounding whitespace ("permits=+3", "permits=3\t") and leading zeros beyond 18
/// characters; such a hand-made member stays no semaphore holder here.
bool permitsInPlainDigits(const QByteArray &raw)
{
    return lsNumber(raw, "permits").has_value();
}

class LockScopeKindsSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("lockscope-kinds"); }
    QString displayName() const override { return QStringLiteral("LockScope read-write lock / semaphore"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (entry.type == RawEntry::Type::String)
            return key.endsWith(".wwait") ? decodeWriterIntent(key, entry) : decodeFair(key, entry);
        if (!entry.isSortedSet() || entry.members.empty())
            return std::nullopt;
        if (key.endsWith(".queue"))
            return decodeFairQueue(key, entry);
        std::vector<LockScopeMember> members;
        for (const auto &[raw, score] : entry.members) {
            auto value = LockValue::parse(raw);
            if (!value || value->token.isEmpty())
                return std::nullopt;
            if (value->permits > 0 && !permitsInPlainDigits(raw))
                value->permits = 0;
            members.push_back({std::move(*value), raw, score});
        }
        // One member with neither "rw=" nor "permits=", or a mix of the two, and the set is
        // neither kind: not decoded.
        const bool rw = std::ranges::all_of(members, [](const auto &m) { return m.value.mode != 0; });
        const bool semaphore =
            std::ranges::all_of(members, [](const auto &m) { return m.value.permits > 0; });
        if (rw)
            return decodeReadWrite(key, entry, members);
        if (semaphore)
            return decodeSemaphore(entry, members);
        return std::nullopt;
    }

    bool mayDecode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (entry.type == RawEntry::Type::String)
            return entry.value.startsWith("ls1 tok=") &&
                   (key.endsWith(".wwait") || entry.value.contains(" fair=1"));
        return entry.isSortedSet() && !entry.members.empty() &&
               entry.members.front().first.startsWith("ls1 tok=");
    }

    std::vector<QByteArray> companionKeys(const QByteArray &key, const RawEntry &entry) const override
    {
        if (entry.type == RawEntry::Type::String && entry.value.startsWith("ls1 tok=") &&
            entry.value.contains(" fair=1")) {
            std::vector<QByteArray> keys;
            for (const QByteArray &queue : fairQueueKeys(key)) {
                keys.push_back(queue);
                keys.push_back(fairDeadlinesKey(queue));
            }
            return keys;
        }
        if (!entry.isSortedSet() || entry.members.empty())
            return {};
        const QByteArray &first = entry.members.front().first;
        if (!first.startsWith("ls1 tok="))
            return {};
        if (key.endsWith(".queue")) { // a fair lock's queue met without its lock: the deadlines
            if (companionOwners(key).empty())
                return {};
            return {fairDeadlinesKey(key)};
        }
        if (!first.contains(" rw="))
            return {};
        return writerIntentKeys(key);
    }

    std::vector<QByteArray> companionOwners(const QByteArray &key) const override
    {
        if (key.endsWith(".wwait"))
            return lockScopeOwners(key, 6, writerIntentKeys);
        if (key.endsWith(".queue"))
            return lockScopeOwners(key, 6, fairQueueKeys);
        // A wake-up queue lists waiter ids, not holders: it is shown with its lock, and on its
        // own it is no lock.
        if (key.endsWith(".waiters"))
            return lockScopeOwners(key, 8, [](const QByteArray &k) { return waitQueueNames(k, false); });
        if (key.endsWith(".wexp"))
            return lockScopeOwners(key, 5, [](const QByteArray &k) { return waitQueueNames(k, true); });
        if (key.endsWith(".qexp")) {
            return lockScopeOwners(key, 5, [](const QByteArray &k) {
                std::vector<QByteArray> names = fairQueueKeys(k);
                std::ranges::transform(names, names.begin(), fairDeadlinesKey);
                return names;
            });
        }
        return {};
    }

private:
    /// A fair lock's holder (a LockScope string value with "fair=1") and its queue.
    std::optional<DecodedLock> decodeFair(const QByteArray &key, const RawEntry &entry) const
    {
        const auto value = LockValue::parse(entry.value);
        if (!value || !value->fair || value->token.isEmpty())
            return std::nullopt;
        DecodedLock lock = makeLock(id(), value->token);
        lock.confidenceReason =
            QStringLiteral("LockScope's fair lock: a \"ls1 tok=... fair=1\" holder and its queue");
        lock.kind = QLatin1String(lockKind::Fair);
        lock.owner = lockScopeOwner(*value);
        lock.fence = value->fence > 0 ? value->fence : -1;
        lock.acquiredAt = value->acquiredAt;
        lock.label = value->label;
        lock.holders.push_back(lockScopeHolder(*value, entry.value, entry.pttlMs >= 0 ? entry.pttlMs : -1));
        const QByteArray queue = presentOrFirst(entry, fairQueueKeys(key));
        addFairQueue(lock, entry.companion(queue), entry.companion(fairDeadlinesKey(queue)));
        return lock;
    }

    /// A fair lock's queue met without its holder (the lock is free, the first waiter is about
    /// to take it, or the waiters are gone).
    std::optional<DecodedLock> decodeFairQueue(const QByteArray &key, const RawEntry &entry) const
    {
        const std::vector<QByteArray> owners = companionOwners(key);
        if (owners.empty())
            return std::nullopt;
        DecodedLock lock = makeLock(id(), {});
        lock.confidenceReason = QStringLiteral("the queue of a LockScope fair lock (\"<lock>.queue\")");
        lock.kind = QLatin1String(lockKind::Fair);
        lock.details.insert(QStringLiteral("lock"), QString::fromUtf8(owners.front()));
        addFairQueue(lock, &entry, entry.companion(fairDeadlinesKey(key)));
        if (lock.queue.empty())
            return std::nullopt;
        lock.token = joinedTokens(lock.queue);
        return lock;
    }

    /// The waiters in arrival order, each with the time left before it drops out.
    static void addFairQueue(DecodedLock &lock, const RawEntry *queue, const RawEntry *deadlines)
    {
        if (!queue || !queue->isSortedSet())
            return;
        for (const auto &[raw, arrival] : queue->members) {
            const auto value = LockValue::parse(raw);
            if (!value || value->token.isEmpty())
                continue;
            double deadline = std::nan("");
            if (deadlines) {
                for (const auto &[member, score] : deadlines->members) {
                    if (member == raw)
                        deadline = score;
                }
            }
            const qint64 now = deadlines ? deadlines->serverTimeMs : 0;
            LockHolder waiter = lockScopeHolder(*value, raw, leftUntil(deadline, now));
            if (std::isnan(deadline) && deadlines)
                lock.anomalies << QStringLiteral("queue entry without a deadline (%1): it never drops out")
                                      .arg(waiter.owner);
            else if (const qint64 late = overdue(deadline, now); late > 0)
                lock.anomalies << QStringLiteral("queue entry whose waiter is gone (expired %1 ago)%2")
                                      .arg(spanText(late), waiter.owner.isEmpty()
                                                               ? QString()
                                                               : QStringLiteral(" (%1)").arg(waiter.owner));
            Q_UNUSED(arrival);
            lock.queue.push_back(std::move(waiter));
        }
        if (!lock.queue.empty())
            lock.details.insert(QStringLiteral("waiting"), QString::number(lock.queue.size()));
    }

    /// A writer's intent met without its lock (the readers are gone): the writer is about to
    /// take it.
    std::optional<DecodedLock> decodeWriterIntent(const QByteArray &key, const RawEntry &entry) const
    {
        const std::vector<QByteArray> owners = companionOwners(key);
        if (owners.empty())
            return std::nullopt;
        const auto value = LockValue::parse(entry.value);
        if (!value || value->token.isEmpty())
            return std::nullopt;
        DecodedLock lock = makeLock(id(), value->token);
        lock.confidenceReason =
            QStringLiteral("a LockScope writer's intent (\"<lock>.wwait\" holding its value)");
        lock.kind = QLatin1String(lockKind::Write);
        lock.mode = QStringLiteral("write");
        LockHolder writer = lockScopeHolder(*value, entry.value, entry.pttlMs >= 0 ? entry.pttlMs : -1);
        writer.mode = QStringLiteral("write");
        lock.details.insert(QStringLiteral("lock"), QString::fromUtf8(owners.front()));
        lock.details.insert(QStringLiteral("writer waiting"), writer.owner);
        lock.queue.push_back(std::move(writer));
        return lock;
    }

    std::optional<DecodedLock> decodeReadWrite(const QByteArray &key, const RawEntry &entry,
                                               const std::vector<LockScopeMember> &members) const
    {
        DecodedLock lock = makeLock(id(), {});
        lock.confidenceReason =
            QStringLiteral("LockScope's read-write lock: a sorted set of \"ls1 tok=... rw=r|w\" holders");
        int readers = 0;
        int writers = 0;
        for (const LockScopeMember &m : members) {
            const bool writer = m.value.mode == 'w';
            (writer ? writers : readers) += 1;
            LockHolder holder = lockScopeHolder(m.value, m.raw, leftUntil(m.deadline, entry.serverTimeMs));
            holder.mode = writer ? QStringLiteral("write") : QStringLiteral("read");
            noteExpiry(lock, writer ? QStringLiteral("writer") : QStringLiteral("reader"), holder, m.deadline,
                       entry.serverTimeMs);
            lock.holders.push_back(std::move(holder));
        }
        lock.kind = QLatin1String(writers > 0 ? lockKind::Write : lockKind::Read);
        lock.mode = writers > 0 ? QStringLiteral("write") : QStringLiteral("read");
        if (writers > 1)
            lock.anomalies << QStringLiteral("%1 writers hold the lock at once").arg(writers);
        if (writers > 0 && readers > 0)
            lock.anomalies << QStringLiteral("a writer and %1 reader(s) hold the lock at once").arg(readers);
        if (entry.truncated)
            lock.anomalies << QStringLiteral("more than %1 holders: only the first were read")
                                  .arg(RawEntry::MaxElements);
        lock.acquiredAt = heldSince(members, entry.serverTimeMs);
        lock.details.insert(QStringLiteral("readers"), QString::number(readers));
        lock.details.insert(QStringLiteral("writers"), QString::number(writers));
        addWriterIntent(lock, key, entry);
        finish(lock);
        return lock;
    }

    std::optional<DecodedLock> decodeSemaphore(const RawEntry &entry,
                                               const std::vector<LockScopeMember> &members) const
    {
        DecodedLock lock = makeLock(id(), {});
        lock.confidenceReason =
            QStringLiteral("LockScope's semaphore: a sorted set of \"ls1 tok=... permits=N\" holders");
        lock.kind = QLatin1String(lockKind::Semaphore);
        std::set<qint64> limits;
        for (const LockScopeMember &m : members) {
            limits.insert(m.value.permits);
            LockHolder holder = lockScopeHolder(m.value, m.raw, leftUntil(m.deadline, entry.serverTimeMs));
            holder.count = 1;
            noteExpiry(lock, QStringLiteral("holder"), holder, m.deadline, entry.serverTimeMs);
            lock.holders.push_back(std::move(holder));
        }
        lock.permits = members.front().value.permits;
        if (limits.size() > 1) {
            QStringList seen;
            for (qint64 limit : limits)
                seen << QString::number(limit);
            lock.anomalies << QStringLiteral("the holders disagree on the number of permits (%1)")
                                  .arg(seen.join(QStringLiteral(", ")));
        }
        const auto used = qsizetype(lock.holders.size());
        if (used > lock.permits)
            lock.anomalies << QStringLiteral("%1 permits used of %2").arg(used).arg(lock.permits);
        if (entry.truncated)
            lock.anomalies << QStringLiteral("more than %1 holders: only the first were read")
                                  .arg(RawEntry::MaxElements);
        lock.details.insert(QStringLiteral("permits used"),
                            QStringLiteral("%1 of %2").arg(used).arg(lock.permits));
        lock.acquiredAt = heldSince(members, entry.serverTimeMs);
        finish(lock);
        return lock;
    }

    /// The acquire time ("at") of the lock's earliest current holder; null when no holder whose
    /// deadline has not passed recorded one. A lock of several holders has no single acquire
    /// time; the earliest current holder's is a moment since which the lock has certainly been
    /// held without a break (by holders of its kind): that holder has held it all along. Earlier
    /// holders that have left are no longer in the set, so it may have been held longer.
    /// Holders past their deadline are left out: they no longer hold the lock, the next acquire
    /// merely has not pruned them yet (noteExpiry reports them).
    static QDateTime heldSince(const std::vector<LockScopeMember> &members, qint64 nowMs)
    {
        QDateTime earliest;
        for (const LockScopeMember &m : members) {
            if (overdue(m.deadline, nowMs) > 0 || !m.value.acquiredAt.isValid())
                continue;
            if (!earliest.isValid() || m.value.acquiredAt < earliest)
                earliest = m.value.acquiredAt;
        }
        return earliest;
    }

    /// An entry without expiry, or past its deadline and still in the set: both are the
    /// operator's business (the first never frees its slot; the second is pruned by the next
    /// acquire, unless nobody acquires).
    static void noteExpiry(DecodedLock &lock, const QString &role, const LockHolder &holder, double deadline,
                           qint64 nowMs)
    {
        const QString who = holder.owner.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(holder.owner);
        if (std::isinf(deadline) && deadline > 0)
            lock.anomalies << QStringLiteral("%1 entry without expiry%2").arg(role, who);
        else if (const qint64 late = overdue(deadline, nowMs); late > 0)
            lock.anomalies << QStringLiteral("%1 entry expired %2 ago and is still in the set%3")
                                  .arg(role, spanText(late), who);
    }

    static void addWriterIntent(DecodedLock &lock, const QByteArray &key, const RawEntry &entry)
    {
        const RawEntry *intent = entry.companion(presentOrFirst(entry, writerIntentKeys(key)));
        if (!intent || intent->type != RawEntry::Type::String)
            return;
        const auto value = LockValue::parse(intent->value);
        if (!value || value->token.isEmpty())
            return;
        LockHolder writer = lockScopeHolder(*value, intent->value, intent->pttlMs >= 0 ? intent->pttlMs : -1);
        writer.mode = QStringLiteral("write");
        lock.details.insert(QStringLiteral("writer waiting"),
                            writer.owner.isEmpty() ? QString::fromUtf8(value->token) : writer.owner);
        lock.queue.push_back(std::move(writer));
    }

    static void finish(DecodedLock &lock)
    {
        lock.token = joinedTokens(lock.holders);
        lock.owner = joinedOwners(lock.holders);
        lock.fence = maxFence(lock.holders);
    }
};

// --- Redisson RFairLock ------------------------------------------------------------------------
// RedissonFairLock.java: the lock is an RLock hash "<name>"; waiters queue in the LIST
// "redisson_lock_queue:{<name>}" (their lock names "<uuid>:<threadId>", in arrival order) and the
// ZSET "redisson_lock_timeout:{<name>}" scores each by the client's wall-clock time (ms) after
// which it is considered gone. Both are deleted when the queue empties.

const QByteArray kQueuePrefix = QByteArrayLiteral("redisson_lock_queue");
const QByteArray kTimeoutPrefix = QByteArrayLiteral("redisson_lock_timeout");

QByteArray fairQueueKey(const QByteArray &name)
{
    return redissonPrefixName(kQueuePrefix, name);
}

QByteArray fairTimeoutKey(const QByteArray &name)
{
    return redissonPrefixName(kTimeoutPrefix, name);
}

/// The lock names `key` may be "<prefix>:..." of.
std::vector<QByteArray> fairLockNames(const QByteArray &key, const QByteArray &prefix)
{
    if (!key.startsWith(prefix + ':'))
        return {};
    return ownersMadeBy(untagged(key.mid(prefix.size() + 1)), key,
                        [&prefix](const QByteArray &name) { return redissonPrefixName(prefix, name); });
}

/// A waiter's "<uuid>:<threadId>" for people, or the raw text.
QString waiterOwner(const QByteArray &name)
{
    if (const auto holder = parseRedissonHolder(name, "1"))
        return redissonOwner(*holder);
    return QString::fromUtf8(name);
}

/// The waiters in queue order with the deadlines from the timeout set, and what is wrong with
/// them. `elements` empty: the order is the timeout set's (the list is gone).
void fillFairQueue(DecodedLock &lock, const RawEntry *queue, const RawEntry *timeouts)
{
    std::map<QByteArray, double> deadlines;
    qint64 nowMs = 0;
    if (timeouts && timeouts->isSortedSet()) {
        for (const auto &[member, score] : timeouts->members)
            deadlines.emplace(member, score);
        nowMs = timeouts->serverTimeMs;
    }
    std::vector<QByteArray> order;
    if (queue && queue->isList()) {
        order = queue->elements;
        nowMs = nowMs > 0 ? nowMs : queue->serverTimeMs;
    } else if (timeouts) {
        for (const auto &[member, score] : timeouts->members)
            order.push_back(member);
    }
    for (const QByteArray &name : order) {
        LockHolder waiter;
        waiter.owner = waiterOwner(name);
        waiter.token = name;
        waiter.raw = name;
        const auto deadline = deadlines.find(name);
        if (deadline == deadlines.end()) {
            lock.anomalies << QStringLiteral("queue entry %1 has no timeout").arg(waiter.owner);
        } else {
            waiter.pttlMs = leftUntil(deadline->second, nowMs);
            if (const qint64 late = overdue(deadline->second, nowMs); late > 0)
                lock.anomalies << QStringLiteral("queue entry whose waiter is gone (expired %1 ago): %2")
                                      .arg(spanText(late), waiter.owner);
        }
        lock.queue.push_back(std::move(waiter));
    }
    lock.details.insert(QStringLiteral("waiting"), QString::number(lock.queue.size()));
}

bool isRedissonLockHash(const RawEntry &entry)
{
    if (entry.type != RawEntry::Type::Hash || entry.fields.size() != 1)
        return false;
    const auto holder = parseRedissonHolder(entry.fields.front().first, entry.fields.front().second);
    return holder && !holder->writer;
}

const RawEntry *presentCompanion(const RawEntry &entry, const QByteArray &key)
{
    const RawEntry *companion = entry.companion(key);
    return companion && companion->type != RawEntry::Type::Missing ? companion : nullptr;
}

class RedissonFairLockSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redisson-fairlock"); }
    QString displayName() const override { return QStringLiteral("Redisson RFairLock"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (!isRedissonLockHash(entry))
            return std::nullopt;
        // Without waiters a fair lock is an RLock hash and nothing more: RLock reads it.
        const RawEntry *queue = presentCompanion(entry, fairQueueKey(key));
        const RawEntry *timeouts = presentCompanion(entry, fairTimeoutKey(key));
        if (!queue && !timeouts)
            return std::nullopt;
        const auto holder = parseRedissonHolder(entry.fields.front().first, entry.fields.front().second);
        DecodedLock lock = makeLock(id(), holder->field);
        lock.confidenceReason = QStringLiteral("a Redisson lock hash with its fair-lock queue (\"%1\")")
                                    .arg(QString::fromUtf8(fairQueueKey(key)));
        lock.kind = QLatin1String(lockKind::Fair);
        lock.owner = redissonOwner(*holder);
        lock.holdCount = int(std::min<qint64>(holder->count, INT_MAX));
        lock.details.insert(QStringLiteral("client"), QString::fromLatin1(holder->client));
        lock.details.insert(QStringLiteral("thread"), QString::fromLatin1(holder->thread));
        LockHolder h;
        h.owner = lock.owner;
        h.token = holder->field;
        h.raw = holder->field;
        h.pttlMs = entry.pttlMs >= 0 ? entry.pttlMs : -1;
        h.count = lock.holdCount;
        lock.holders.push_back(std::move(h));
        fillFairQueue(lock, queue, timeouts);
        if (!queue)
            lock.anomalies << QStringLiteral("waiters' timeouts without their queue list");
        return lock;
    }

    bool mayDecode(const QByteArray &, const RawEntry &entry) const override
    {
        return isRedissonLockHash(entry);
    }

    std::vector<QByteArray> companionKeys(const QByteArray &key, const RawEntry &entry) const override
    {
        if (!isRedissonLockHash(entry))
            return {};
        return {fairQueueKey(key), fairTimeoutKey(key)};
    }

    std::vector<QByteArray> companionOwners(const QByteArray &key) const override
    {
        auto names = fairLockNames(key, kQueuePrefix);
        for (QByteArray &name : fairLockNames(key, kTimeoutPrefix))
            names.push_back(std::move(name));
        return names;
    }
    // No afterRelease: RedissonFairLock wakes the first waiter on its own channel
    // "redisson_lock__channel:{name}:<its lock name>", which afterRelease(key) cannot know;
    // the waiters retry when their wait times out.
};

/// A fair lock's queue met without its lock: the lock is free (the first waiter is about to
/// take it), or its waiters are gone.
class RedissonFairQueueSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redisson-fairqueue"); }
    QString displayName() const override { return QStringLiteral("Redisson RFairLock queue"); }
    QStringList keyPatterns() const override
    {
        return {QStringLiteral("redisson_lock_queue:*"), QStringLiteral("redisson_lock_timeout:*")};
    }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        const auto queueOf = fairLockNames(key, kQueuePrefix);
        const auto timeoutsOf = fairLockNames(key, kTimeoutPrefix);
        const RawEntry *queue = nullptr;
        const RawEntry *timeouts = nullptr;
        QByteArray name;
        if (!queueOf.empty() && entry.isList() && !entry.elements.empty()) {
            name = queueOf.front();
            queue = &entry;
            timeouts = presentCompanion(entry, fairTimeoutKey(name));
        } else if (!timeoutsOf.empty() && entry.isSortedSet() && !entry.members.empty()) {
            name = timeoutsOf.front();
            timeouts = &entry;
        } else {
            return std::nullopt;
        }
        DecodedLock lock = makeLock(id(), {});
        lock.confidence = Confidence::Likely;
        lock.confidenceReason =
            QStringLiteral("Redisson's fair-lock queue naming (\"redisson_lock_queue:{<name>}\")");
        lock.kind = QLatin1String(lockKind::Fair);
        lock.details.insert(QStringLiteral("lock"), QString::fromUtf8(name));
        fillFairQueue(lock, queue, timeouts);
        lock.token = joinedTokens(lock.queue);
        // Free with waiters is a moment's state (the first takes it at its next try); stuck
        // waiters show as gone in the anomalies.
        lock.details.insert(QStringLiteral("state"),
                            QStringLiteral("free, %1 waiter(s) queued").arg(lock.queue.size()));
        if (!queue)
            lock.anomalies.prepend(QStringLiteral("waiters' timeouts without their queue list"));
        return lock;
    }

    bool mayDecode(const QByteArray &key, const RawEntry &entry) const override
    {
        return (entry.isList() || entry.isSortedSet()) &&
               (key.startsWith(kQueuePrefix + ':') || key.startsWith(kTimeoutPrefix + ':'));
    }

    std::vector<QByteArray> companionKeys(const QByteArray &key, const RawEntry &entry) const override
    {
        const auto names = fairLockNames(key, kQueuePrefix);
        if (names.empty() || !entry.isList())
            return {};
        return {fairTimeoutKey(names.front())};
    }

    /// The timeout set goes with the queue when the lock is free.
    std::vector<QByteArray> companionOwners(const QByteArray &key) const override
    {
        std::vector<QByteArray> owners;
        for (const QByteArray &name : fairLockNames(key, kTimeoutPrefix))
            owners.push_back(fairQueueKey(name));
        return owners;
    }
};

// --- Redisson RSemaphore / RPermitExpirableSemaphore ----------------------------------------------
// RedissonSemaphore.java: the key holds the number of available permits (INCRBY / DECRBY), no
// holders. RedissonPermitExpirableSemaphore.java: the same counter, and the ZSET
// suffixName(name, "timeout") = "{<name>}:timeout" of the permits taken: member = the permit id's
// 16 raw bytes (ByteBufUtil.decodeHexDump of the hex id), score = its lease deadline in the
// client's wall-clock ms, or 922337203685477 (nonExpirableTimeout) for a permit without lease.
// Its limit is available + taken (getPermits()). Waiters listen on "redisson_sc:{<name>}".

constexpr double kNonExpirable = 922337203685477.0;

QByteArray permitTimeoutsKey(const QByteArray &name)
{
    return redissonSuffixName(name, "timeout");
}

/// A counter as RedissonSemaphore writes it: a decimal integer, negative after reducePermits.
std::optional<qint64> semaphoreCount(const RawEntry &entry)
{
    if (entry.type != RawEntry::Type::String)
        return std::nullopt;
    QByteArrayView v(entry.value);
    const bool negative = v.startsWith('-');
    if (negative)
        v = v.sliced(1);
    if (!allDigits(v) || v.size() > 10)
        return std::nullopt;
    return (negative ? -1 : 1) * v.toByteArray().toLongLong();
}

/// The semaphore names `key` may be "<name>:timeout" of (only names that say semaphore: the
/// counter side reads its timeouts under those alone).
std::vector<QByteArray> permitTimeoutsOwners(const QByteArray &key)
{
    if (!key.endsWith(":timeout"))
        return {};
    auto owners = ownersMadeBy(untagged(key.chopped(8)), key, permitTimeoutsKey);
    std::erase_if(owners, [](const QByteArray &owner) { return !keyNamesSemaphore(owner); });
    return owners;
}

bool isPermitSet(const RawEntry &entry)
{
    return entry.isSortedSet() && !entry.members.empty() &&
           std::ranges::all_of(entry.members, [](const auto &m) { return m.first.size() == 16; });
}

/// The permits taken, from the timeout set, with their anomalies.
void fillPermits(DecodedLock &lock, const RawEntry &timeouts)
{
    for (const auto &[id, deadline] : timeouts.members) {
        LockHolder holder;
        holder.token = id.toHex();
        holder.owner = QStringLiteral("permit %1").arg(QString::fromLatin1(holder.token));
        holder.raw = id;
        holder.count = 1;
        if (deadline >= kNonExpirable) {
            lock.anomalies
                << QStringLiteral("%1 was taken without a lease: it never expires").arg(holder.owner);
        } else {
            holder.pttlMs = leftUntil(deadline, timeouts.serverTimeMs);
            if (const qint64 late = overdue(deadline, timeouts.serverTimeMs); late > 0)
                lock.anomalies << QStringLiteral(
                                      "%1 expired %2 ago and is not yet returned (the next acquire "
                                      "returns it)")
                                      .arg(holder.owner, spanText(late));
        }
        lock.holders.push_back(std::move(holder));
    }
}

class RedissonSemaphoreSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redisson-semaphore"); }
    QString displayName() const override { return QStringLiteral("Redisson RSemaphore"); }
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        const auto available = semaphoreCount(entry);
        if (!available || !keyNamesSemaphore(key))
            return std::nullopt;
        DecodedLock lock = makeLock(id(), entry.value);
        lock.kind = QLatin1String(lockKind::Semaphore);
        lock.details.insert(QStringLiteral("available permits"), QString::number(*available));
        lock.details.insert(QStringLiteral("channel"),
                            QString::fromUtf8(redissonPrefixName("redisson_sc", key)));
        const RawEntry *timeouts = presentCompanion(entry, permitTimeoutsKey(key));
        if (timeouts && isPermitSet(*timeouts)) {
            lock.confidence = Confidence::Likely;
            lock.confidenceReason =
                QStringLiteral("a Redisson permit counter with its set of permit leases (\"%1\")")
                    .arg(QString::fromUtf8(permitTimeoutsKey(key)));
            fillPermits(lock, *timeouts);
            lock.permits = int(std::min<qint64>(*available + qint64(lock.holders.size()), INT_MAX));
            lock.details.insert(QStringLiteral("permits used"),
                                QStringLiteral("%1 of %2").arg(lock.holders.size()).arg(lock.permits));
        } else {
            // RSemaphore records neither its holders nor its limit, only what is left.
            lock.confidence = Confidence::Guess;
            lock.confidenceReason = QStringLiteral("a number under a key that names a semaphore: Redisson's "
                                                   "RSemaphore stores its available permits so, as does "
                                                   "any counter");
        }
        return lock;
    }

    bool mayDecode(const QByteArray &key, const RawEntry &entry) const override
    {
        return semaphoreCount(entry) && keyNamesSemaphore(key);
    }

    std::vector<QByteArray> companionKeys(const QByteArray &key, const RawEntry &entry) const override
    {
        if (!mayDecode(key, entry))
            return {};
        return {permitTimeoutsKey(key)};
    }

    std::vector<QByteArray> companionOwners(const QByteArray &key) const override
    {
        return permitTimeoutsOwners(key);
    }
};

/// A permit-lease set met without its counter (or under a name that does not say semaphore).
class RedissonPermitTimeoutsSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redisson-permits"); }
    QString displayName() const override
    {
        return QStringLiteral("Redisson RPermitExpirableSemaphore leases");
    }
    // "*", not "*:timeout": a scan lists undecoded keys under a schema's own patterns, and
    // "session:timeout" is not Redisson's.
    QStringList keyPatterns() const override { return {QStringLiteral("*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (!key.endsWith(":timeout") || !isPermitSet(entry))
            return std::nullopt;
        const auto names = ownersMadeBy(untagged(key.chopped(8)), key, permitTimeoutsKey);
        if (names.empty())
            return std::nullopt;
        DecodedLock lock = makeLock(id(), {});
        lock.confidence = Confidence::Likely;
        lock.confidenceReason = QStringLiteral("16-byte permit ids scored by lease deadline under Redisson's "
                                               "\"{<name>}:timeout\" naming");
        lock.kind = QLatin1String(lockKind::Semaphore);
        lock.details.insert(QStringLiteral("semaphore"), QString::fromUtf8(names.front()));
        fillPermits(lock, entry);
        lock.token = joinedTokens(lock.holders);
        return lock;
    }

    bool mayDecode(const QByteArray &key, const RawEntry &entry) const override
    {
        return key.endsWith(":timeout") && entry.isSortedSet();
    }
};

// --- npm redis-semaphore 5.x ---------------------------------------------------------------------
// RedisMutex.js: SET "mutex:<key>" <identifier> PX lockTimeout NX. RedisSemaphore.js and
// semaphore/acquire/lua.js: ZSET "semaphore:<key>", member <identifier>, score = the client's
// Date.now() at acquire or refresh; the key's PEXPIRE is lockTimeout; expired members
// (score < now - lockTimeout) are removed by the next acquire. RedisMultiSemaphore.js and
// multiSemaphore/acquire/lua.js: the same set, <permits> members "<identifier>_<i>" (i from 0).
// The identifier is crypto.randomUUID() (Lock.js), "-<suffix>" appended with identifierSuffix.
// The limit and lockTimeout are not stored.

/// A lowercase uuid (crypto.randomUUID writes version 4), optionally "-<suffix>".
bool isRedisSemaphoreIdentifier(QByteArrayView v)
{
    if (v.size() < 36 || !isUuidText(v.first(36)) || (v.size() > 36 && (v.size() == 37 || v[36] != '-')))
        return false;
    return std::none_of(v.begin(), v.begin() + 36, [](char c) { return c >= 'A' && c <= 'F'; });
}

/// A set member: the identifier and its permit index (-1 for a Semaphore's single member).
std::optional<std::pair<QByteArray, int>> parseSemaphoreMember(const QByteArray &member)
{
    if (isRedisSemaphoreIdentifier(member))
        return std::pair{member, -1};
    const qsizetype underscore = member.lastIndexOf('_');
    if (underscore < 36 || !allDigits(QByteArrayView(member).sliced(underscore + 1)) ||
        member.size() - underscore > 7 ||
        !isRedisSemaphoreIdentifier(QByteArrayView(member).first(underscore)))
        return std::nullopt;
    return std::pair{member.left(underscore), member.mid(underscore + 1).toInt()};
}

class RedisSemaphoreSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redis-semaphore"); }
    QString displayName() const override { return QStringLiteral("redis-semaphore Semaphore"); }
    QStringList keyPatterns() const override { return {QStringLiteral("semaphore:*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (!mayDecode(key, entry) || entry.members.empty())
            return std::nullopt;
        std::map<QByteArray, int> permitsOf; // identifier -> members
        std::vector<std::pair<QByteArray, int>> parsed;
        for (const auto &[member, score] : entry.members) {
            auto id = parseSemaphoreMember(member);
            if (!id || std::isinf(score))
                return std::nullopt;
            ++permitsOf[id->first];
            parsed.push_back(std::move(*id));
        }
        DecodedLock lock = makeLock(id(), {});
        lock.confidence = Confidence::Likely;
        lock.confidenceReason = QStringLiteral("uuids scored by acquire time under redis-semaphore's "
                                               "\"semaphore:\" key prefix");
        lock.kind = QLatin1String(lockKind::Semaphore);
        // Each member expires lockTimeout after its score; the key expires lockTimeout after the
        // latest score. So a member has the key's PTTL less its lag behind the latest score,
        // whatever the clients' clocks say.
        const double latest = entry.members.back().second;
        for (std::size_t i = 0; i < parsed.size(); ++i) {
            const auto &[member, score] = entry.members[i];
            LockHolder holder;
            holder.token = parsed[i].first;
            holder.raw = member;
            holder.count = permitsOf[parsed[i].first];
            if (entry.pttlMs >= 0) {
                const qint64 left = entry.pttlMs - qint64(latest - score);
                holder.pttlMs = std::max<qint64>(0, left);
                if (left < 0)
                    lock.anomalies << QStringLiteral("entry %1 expired %2 ago: the next acquire removes it")
                                          .arg(QString::fromUtf8(member), spanText(-left));
            }
            lock.holders.push_back(std::move(holder));
        }
        lock.token = joinedTokens(lock.holders);
        lock.details.insert(QStringLiteral("permits used"), QString::number(lock.holders.size()));
        lock.details.insert(QStringLiteral("holders"), QString::number(permitsOf.size()));
        if (entry.pttlMs == -1)
            lock.anomalies << QStringLiteral(
                "the set has no expiry: its entries are removed only by the next "
                "acquire");
        return lock;
    }

    bool mayDecode(const QByteArray &key, const RawEntry &entry) const override
    {
        return key.startsWith("semaphore:") && entry.isSortedSet();
    }
};

class RedisSemaphoreMutexSchema final : public LockSchema
{
public:
    QString id() const override { return QStringLiteral("redis-semaphore-mutex"); }
    QString displayName() const override { return QStringLiteral("redis-semaphore Mutex"); }
    QStringList keyPatterns() const override { return {QStringLiteral("mutex:*")}; }

    std::optional<DecodedLock> decode(const QByteArray &key, const RawEntry &entry) const override
    {
        if (!mayDecode(key, entry))
            return std::nullopt;
        DecodedLock lock = makeLock(id(), entry.value);
        lock.confidence = Confidence::Likely;
        lock.confidenceReason = QStringLiteral("a uuid under redis-semaphore's \"mutex:\" key prefix");
        lock.kind = QLatin1String(lockKind::Mutex);
        return lock;
    }

    bool mayDecode(const QByteArray &key, const RawEntry &entry) const override
    {
        return entry.type == RawEntry::Type::String && key.startsWith("mutex:") &&
               isRedisSemaphoreIdentifier(entry.value);
    }
};

} // namespace

std::shared_ptr<const LockSchema> makeLockScopeKindsSchema()
{
    return std::make_shared<LockScopeKindsSchema>();
}

std::shared_ptr<const LockSchema> makeRedissonFairLockSchema()
{
    return std::make_shared<RedissonFairLockSchema>();
}

std::shared_ptr<const LockSchema> makeRedissonFairQueueSchema()
{
    return std::make_shared<RedissonFairQueueSchema>();
}

std::shared_ptr<const LockSchema> makeRedissonSemaphoreSchema()
{
    return std::make_shared<RedissonSemaphoreSchema>();
}

std::shared_ptr<const LockSchema> makeRedissonPermitTimeoutsSchema()
{
    return std::make_shared<RedissonPermitTimeoutsSchema>();
}

std::shared_ptr<const LockSchema> makeRedisSemaphoreSchema()
{
    return std::make_shared<RedisSemaphoreSchema>();
}

std::shared_ptr<const LockSchema> makeRedisSemaphoreMutexSchema()
{
    return std::make_shared<RedisSemaphoreMutexSchema>();
}

} // namespace lockscope::inspect::detail
