#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QMap>
#include <QString>
#include <optional>
#include <utility>

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

/// Key of the fencing counter that belongs to a lock key. It shares the lock key's hash slot,
/// so both can be touched by one script on Redis Cluster: "<key>.fence" when the key already
/// has a hash tag, otherwise "{<key>}.fence". The counter has no TTL by design: it must
/// survive the lock's expiry for tokens to keep increasing.
///
/// Fences are strictly increasing across a lock's holders only while every counter survives:
/// the server must not evict it (maxmemory-policy noeviction or volatile-*, never allkeys-*:
/// the inspector flags such a node) and must keep it across a restart (AOF; with
/// appendfsync everysec a crash can lose the last second of increments, and a fence handed
/// out then may be handed out again), and nobody may delete or lower it. One counter remains
/// per distinct lock key; LockerOptions::fenceKey can map many keys to one counter.
QByteArray fenceKeyFor(const QByteArray &lockKey);

/// Pub/sub channel on which a release is announced when the Locker publishes releases
/// (LockerOptions::publishOnRelease): "<key>.released" when the key has a hash tag, otherwise
/// "{<key>}.released" (same slot as the key, like the fence counter). The message is the
/// released lock's token.
QByteArray releaseChannelFor(const QByteArray &lockKey);

/// Writer-intent key of a read/write lock key: "<key>.wwait" when the key has a hash tag,
/// otherwise "{<key>}.wwait" (same slot as the key). A writer that waits for the lock in a
/// blocking acquire keeps its value there with a short expiry (refreshed on each attempt),
/// and new readers are refused while it exists (writer preference); the writer deletes it when
/// it gets the lock or gives up, and a crashed writer's intent expires by itself.
QByteArray writerIntentKeyFor(const QByteArray &lockKey);

/// The queue keys of a fair lock key: the waiters in arrival order ("<key>.queue", a sorted set
/// scored by server time in microseconds) and their deadlines ("<key>.qexp", same members,
/// scored in Unix ms), each "{<key>}..." when the key has no hash tag (same slot as the key).
std::pair<QByteArray, QByteArray> fairQueueKeysFor(const QByteArray &lockKey);

/// A new random call id (LockValue::call): 8 bytes, base64url without padding (11 chars).
QByteArray randomCallId();

/// A new random token: 16 bytes from OpenSSL's CSPRNG, base64url without padding (22 chars).
QByteArray randomToken();

} // namespace lockscope::lock
