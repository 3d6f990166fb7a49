#pragma once

#include "locker.h"

#include <QLoggingCategory>
#include <atomic>
#include <map>
#include <mutex>

Q_DECLARE_LOGGING_CATEGORY(lcLock)

namespace lockscope::lock {

/// The process-wide table of degraded locks (LockerOptions::degradedMode): in-process locks
/// taken when the Redis nodes cannot make a quorum. One table for the whole process, shared by
/// every Locker, keyed by the full lock key (prefix included), so that two Lockers of one
/// process exclude each other on a key as their Redis locks would.
///
/// Each holder has its own deadline on the real steady clock: a degraded lock expires after its
/// TTL as a Redis key would (expired holders are dropped whenever the key is looked at). The
/// kinds keep their rules: a mutex or fair lock has one holder; a reentrant lock one owner (the
/// same token re-enters and adds a hold); a read/write lock many readers or one writer; a
/// semaphore at most `permits` holders of one permit count. Kinds do not mix on one key
/// (KindMismatch). A multi-key request takes all its keys or none, in one step.
///
/// Thread-safe: one mutex; no call blocks on anything else, and none talks to Redis.
class LocalLocks
{
public:
    static LocalLocks &instance();

    struct Request
    {
        std::vector<QByteArray> keys; ///< full keys, sorted, each once
        LockKind kind = LockKind::Mutex;
        int permits = 0;
        QByteArray token; ///< the owner: the same token refreshes (reentrant: re-enters)
        milliseconds ttl{0};
        quint64 locker = 0; ///< the Locker that takes it (LockerStats::degradedHeld)
    };
    struct Grant
    {
        int holds = 0; ///< Reentrant: the hold count now
        SteadyClock::time_point deadline;
    };

    /// Whether any of `keys` has a holder whose TTL has not run out.
    bool isHeld(const std::vector<QByteArray> &keys);
    /// Who holds `key` ("1 writer", "2 readers", "1 of 2 permits", "1 owner"), for messages.
    QString describeHolders(const QByteArray &key);

    /// Takes all of request.keys or none. Refused: NotObtained (held), WriteLockHeld (a reader
    /// refused by a writer) or KindMismatch (another kind, another permit count).
    LockResult<Grant> acquire(const Request &request);
    /// Removes the token's holder from every key (reentrant: one hold). NotHeld when the token
    /// holds none of them (released, or expired).
    LockResult<void> release(const std::vector<QByteArray> &keys, const QByteArray &token);
    /// Sets the token's deadline on every key (Replace: now + ttl; Add: deadline + ttl). NotHeld
    /// unless the token holds all of them.
    LockResult<Grant> extend(const std::vector<QByteArray> &keys, const QByteArray &token, milliseconds ttl,
                             ExtendMode mode);
    /// The token's shortest time left over `keys`; NotHeld unless it holds all of them.
    LockResult<milliseconds> remaining(const std::vector<QByteArray> &keys, const QByteArray &token);
    /// Live grants taken through the Locker `locker` (a multi-key lock counts once).
    int heldBy(quint64 locker);

    /// A process-unique id for a Locker (never reused, unlike an address).
    static quint64 newLockerId();

private:
    LocalLocks() = default;

    struct Holder
    {
        QByteArray token;
        quint64 locker = 0;
        quint64 grant = 0; ///< one id per acquire: the entries of a multi-key lock share it
        LockKind kind = LockKind::Mutex;
        int permits = 0;
        int holds = 1;
        SteadyClock::time_point deadline;
    };
    using Holders = std::vector<Holder>;

    /// Under m_mutex: the key's live holders (expired ones dropped, an empty key removed); null
    /// when none.
    Holders *live(const QByteArray &key, SteadyClock::time_point now);
    /// Under m_mutex: why `request` may not join `holders`, or nullopt.
    static std::optional<LockError> refusal(const Request &request, const QByteArray &key,
                                            const Holders &holders);

    std::mutex m_mutex;
    std::map<QByteArray, Holders> m_keys;
    /// m_keys.size(), readable without the mutex (isHeld's fast path).
    std::atomic<size_t> m_keyCount{0};
    /// Under m_mutex, for a scope that may change m_keys: publishes its size when it ends.
    struct KeyCountSync
    {
        LocalLocks &table;
        ~KeyCountSync() { table.m_keyCount.store(table.m_keys.size(), std::memory_order_release); }
    };
    quint64 m_nextGrant = 1;
};

} // namespace lockscope::lock
