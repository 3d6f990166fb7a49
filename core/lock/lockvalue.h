#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QMap>
#include <QString>
#include <optional>
#include <utility>
#include <vector>

namespace lockscope::lock {

/// The value LockScope stores under a lock key: the owner's unique token plus who holds the
/// lock, in a compact, versioned, human-readable form that `redis-cli GET` shows legibly:
///
///   ls1 tok=3q2-7wEVQm6dVY4bhv1ZBg fence=42 host=web-1 pid=4711 thr=worker-3
///       at=2026-11-23T06:00:00.123Z label=nightly%20report m.job=17
///
/// One line, fields separated by single spaces, each `name=value`. `ls1` is the format
/// version; `tok` always comes first, so that an owner check is a prefix comparison
/// ("ls1 tok=<token> ") inside Lua. Values are percent-encoded for space, '%', '=' and
/// control bytes (UTF-8 is kept as is). `fence` is the per-lock fencing counter, written by
/// the acquire script (absent when the Locker runs without fencing). On a Redlock set the
/// Locker rewrites it to the lock's fence (the highest among the granting nodes) on every
/// granting node that was behind, before the acquire returns; a node that raise did not reach
/// keeps a lower one, so the lock's fence is the highest `fence` among the nodes holding the
/// token. Owner checks never look at it. `m.<name>` fields carry caller metadata. `rw` and
/// `permits` say which lock kind a holder belongs to (read/write lock, counting semaphore);
/// `cnt` is a reentrant lock's hold count, `fair=1` marks a fair lock's holder.
/// Readers ignore unknown fields, so later versions can add fields without breaking older tools.
struct LockValue
{
    QByteArray token;
    qint64 fence = 0;
    QString host;
    qint64 pid = 0;
    QString thread;
    QDateTime acquiredAt; ///< UTC, millisecond precision
    QString label;
    QMap<QString, QString> metadata;
    /// Read/write lock holders: 'r' (a reader, "rw=r") or 'w' (the writer, "rw=w"); 0 for
    /// every other kind. See LockKind.
    char mode = 0;
    /// Counting semaphore holders: the semaphore's number of permits ("permits=N"); 0 for
    /// every other kind. Every holder of one semaphore carries the same N.
    int permits = 0;
    /// Reentrant locks: how many times the owner holds it ("cnt=N"); 0 for every other kind.
    int holds = 0;
    /// Fair locks: the holder's value says so ("fair=1"), so that a reader knows to look at the
    /// lock's queue (fairQueueKeysFor).
    bool fair = false;
    /// Written only by an acquire with a caller-chosen token (refresh, handoff,
    /// acquireOrExtend): a random id of that call, so that undoing a failed call can tell the
    /// keys it created from keys the same token already held before ("call=<id>").
    QByteArray call;

    /// The full value; without the fence field when fence is 0 (fencing off).
    QByteArray encode() const;
    /// The part before the fence: "ls1 tok=<token> ".
    static QByteArray ownerPrefix(const QByteArray &token);
    /// The part after the fence number: " host=... label=... m.x=y".
    QByteArray encodeTail() const;

    /// Parses a LockScope value; nullopt for anything else (other libraries' values), and for a
    /// value that names a known field (tok, fence, rw, permits, cnt, fair, host, pid, thr, at,
    /// label, call, one m.<name>)
    /// twice: which of the two would be the owner is ambiguous.
    static std::optional<LockValue> parse(const QByteArray &value);

    /// Percent-encoding used for tokens and fields.
    static QByteArray escape(const QByteArray &raw);
    static QByteArray unescape(const QByteArray &encoded);
};

/// Key of the fencing counter that belongs to a lock key. `lockKey` is the full key (the
/// Locker's prefix included), `prefix` the Locker's LockerOptions::keyPrefix. Like every
/// companion name below, it shares the lock key's Redis Cluster hash slot, so that one script
/// can touch both, and starts with the prefix, so that an ACL limited to the prefix
/// (`~myapp:* &myapp:*`) and a listing by prefix cover it:
///
/// - a key with a hash tag: "<key>.fence" (the tag decides the slot);
/// - otherwise, with a prefix: "<prefix>{<key>}.fence" ("myapp:{myapp:jobs}.fence"): Cluster
///   hashes only the tag, which is the whole key;
/// - otherwise "{<key>}.fence", as before prefixes applied to these names (no prefix, or one
///   that would move the tag: a prefix with a '{', a key with a '}', a key that does not start
///   with the prefix). Such a name does not start with the prefix; a prefix with a hash tag of
///   its own ("{myapp}:") avoids the question, every name is then "<key>.<suffix>".
///
/// Lockers that share a lock must use the same prefix (the names depend on where the prefix
/// ends, not only on the full key). An acquire that finds no counter under the name with the
/// prefix starts it from the one an older LockScope kept under "{<key>}.fence", so fences keep
/// rising across the rename. The counter has no TTL by design: it must survive the lock's
/// expiry for tokens to keep increasing.
///
/// Fences are strictly increasing across a lock's holders only while every counter survives:
/// the server must not evict it (maxmemory-policy noeviction or volatile-*, never allkeys-*:
/// the inspector flags such a node) and must keep it across a restart (AOF; with
/// appendfsync everysec a crash can lose the last second of increments, and a fence handed
/// out then may be handed out again), and nobody may delete or lower it. One counter remains
/// per distinct lock key; LockerOptions::fenceKey can map many keys to one counter.
QByteArray fenceKeyFor(const QByteArray &lockKey, const QByteArray &prefix = {});

/// Pub/sub channel on which a release is announced when the Locker publishes releases
/// (LockerOptions::publishOnRelease): the fence counter's name with ".released" (see
/// fenceKeyFor(): "myapp:{myapp:jobs}.released", "{jobs}.released", "{app}:jobs.released").
/// The message is the released lock's token, followed by a space and the id of the waiter the
/// release wakes when the lock's wake-up queue (waitQueueKeysFor()) has one; a message naming
/// a mutex or writer waiter "<Locker id>.<n>.x" goes to "<channel>.<Locker id>" instead, where
/// only that Locker listens.
QByteArray releaseChannelFor(const QByteArray &lockKey, const QByteArray &prefix = {});

/// Writer-intent key of a read/write lock key: the fence counter's name with ".wwait" (see
/// fenceKeyFor()). A writer that waits for the lock in a blocking acquire keeps its value there
/// with a short expiry (refreshed on each attempt), and new readers are refused while it exists
/// (writer preference); the writer deletes it when it gets the lock or gives up, and a crashed
/// writer's intent expires by itself.
QByteArray writerIntentKeyFor(const QByteArray &lockKey, const QByteArray &prefix = {});

/// The queue keys of a fair lock key: the waiters in arrival order (".queue", a sorted set
/// scored by server time in microseconds) and their deadlines (".qexp", same members, scored in
/// Unix ms), each named like the fence counter (see fenceKeyFor()).
std::pair<QByteArray, QByteArray> fairQueueKeysFor(const QByteArray &lockKey, const QByteArray &prefix = {});

/// The wake-up queue keys of a lock key (LockerOptions::wakeOnRelease): the blocking acquires
/// waiting for it (".waiters", a sorted set of waiter ids "<Locker id>.<n>.<r|x>" scored by
/// arrival in client Unix µs) and their deadlines (".wexp", same members, scored in server Unix
/// ms), each named like the fence counter (see fenceKeyFor()). A release names the first
/// waiter in its message; a waiter that stops asking drops out when its deadline passes.
std::pair<QByteArray, QByteArray> waitQueueKeysFor(const QByteArray &lockKey, const QByteArray &prefix = {});

/// For tools that read locks without knowing the Locker that wrote them: the key prefixes
/// (LockerOptions::keyPrefix) whose companion names are worth looking for next to `lockKey`:
/// the empty one first (the names before prefixes applied to them), then every leading part of
/// the key that ends in ':' or '/', the usual namespace separators, at most three
/// ("lockscope:sim:7f3a2c:k0" -> "", "lockscope:", "lockscope:sim:", "lockscope:sim:7f3a2c:").
/// A prefix that ends otherwise is not found from the lock key.
std::vector<QByteArray> possibleKeyPrefixes(const QByteArray &lockKey);

/// A new random call id (LockValue::call): 8 bytes, base64url without padding (11 chars).
QByteArray randomCallId();

/// A new random token: 16 bytes from OpenSSL's CSPRNG, base64url without padding (22 chars).
QByteArray randomToken();

} // namespace lockscope::lock
