#pragma once

#include <QtGlobal>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace lockscope::sim {

/// Two critical sections on the same key that ran at the same time: the second began while
/// the first had not ended. Times in microseconds since the resource's origin.
struct Overlap
{
    int key = 0;
    int firstWorker = 0;
    int secondWorker = 0;
    qint64 firstStartUs = 0;
    qint64 secondStartUs = 0; ///< when the overlap began
    qint64 firstFence = 0;
    qint64 secondFence = 0;
};

/// The shared resource the simulated workers protect with the lock: one register per key that
/// every critical section reads at its start and writes (value + 1) at its end.
///
/// A violation is a write the register accepts although the value it was based on is stale
/// (another write landed between this section's read and its write): the lost update that
/// broken mutual exclusion causes. With fencing, reads and writes carry the holder's fencing
/// token; the register remembers the highest token it has seen and rejects a write with a
/// lower one (a fencing rejection: the stale holder is stopped, nothing is lost). Overlapping
/// critical sections are reported on their own, with times and owners.
///
/// Each section says how it may share its key (Access), which is the rule of the lock kind:
/// - Exclusive (mutex, fair, reentrant, a writer): no other section at once.
/// - Read: other readers at once are allowed concurrency (readerOverlaps), never a writer. A
///   reader writes nothing; its end is a violation when a write landed during the read.
/// - Permit (semaphore): up to `permits` sections at once; the one that makes it permits + 1 is
///   an overlap and its write a violation. Permit writes add 1 to the register (each holder
///   uses a slot of its own, so concurrent ones lose nothing) and carry no fence check: the
///   fences of concurrent holders are unordered by design, and per worker they only rise
///   anyway (a worker's sections follow one another and every acquire increments the shared
///   counter), so a check would never fire. A permit that expired under its holder shows as
///   the permits + 1 overlap instead.
///
/// A section under a degraded lock (lock::Lock::degraded: an in-process lock taken while the
/// nodes could not make a quorum) has no fencing token (its fence is 0). A fenced register
/// would refuse its write, which is no stale holder stopped but a holder the lock never fenced:
/// such writes are counted as degraded writes instead of fencing rejections, skip the token
/// check, and are checked for lost updates (violations) and overlaps like any other.
///
/// Waiting order (FIFO): waitStarted / waitConfirmed / waitEnded track the workers waiting
/// for a key; a section that begins while a worker that had been waiting longer still waits
/// is an order violation (counted, not a safety failure).
///
/// Thread-safe; each key has its own mutex.
class ProtectedResource
{
public:
    using Clock = std::chrono::steady_clock;

    enum class WriteOutcome
    {
        Accepted,        ///< based on the current value
        Violation,       ///< accepted, but based on a stale value: a lost update
        FencingRejected, ///< refused: a token lower than one already seen
    };

    /// How a section may share its key with others (the class comment has the rules).
    enum class Access
    {
        Exclusive,
        Read,
        Permit,
    };

    /// What a section read at its start; hand it back to commit() or abandon().
    struct Ticket
    {
        int key = 0;
        Access access = Access::Exclusive;
        int worker = 0;
        qint64 fence = 0;
        qint64 readValue = 0;
        quint64 readVersion = 0;
        qint64 startUs = 0;
        quint64 id = 0;
        /// Another section on the key ran at the same time against the rule (set by begin,
        /// completed by the end). Readers together do not count.
        bool overlapped = false;
        bool excess = false;   ///< Permit: the section that made it permits + 1 holders
        bool overtook = false; ///< began while a worker that had waited longer still waited
        bool unfenced = false; ///< a degraded lock's section: no token (see the class comment)
    };

    struct KeyState
    {
        qint64 value = 0;           ///< the register
        quint64 acceptedWrites = 0; ///< value == acceptedWrites unless updates were lost
        quint64 violations = 0;
        quint64 fencingRejections = 0;
        quint64 overlaps = 0;       ///< pairs of sections at once against the rule
        quint64 readerOverlaps = 0; ///< pairs of readers at once: allowed concurrency
        quint64 reads = 0;          ///< read sections that ended on the value they read
        quint64 orderViolations = 0;
        quint64 degradedWrites = 0; ///< writes of unfenced (degraded) sections, accepted or not
        int maxHolders = 0;         ///< most sections at once
        qint64 highestFence = 0;
    };

    /// `fencing`: writes carry tokens and stale ones are rejected. `origin`: time zero of the
    /// timestamps. `permits`: how many Permit sections may share a key. At most `overlapLog`
    /// overlaps are kept in detail (all are counted).
    ProtectedResource(int keys, bool fencing, Clock::time_point origin, int permits = 1,
                      int overlapLog = 1000);
    ~ProtectedResource();
    ProtectedResource(const ProtectedResource &) = delete;
    ProtectedResource &operator=(const ProtectedResource &) = delete;

    int keyCount() const { return static_cast<int>(m_keys.size()); }
    bool fencing() const { return m_fencing; }

    /// Start of a critical section: reads the register (with the holder's token). Ends the
    /// worker's wait for the key, if one was started, and checks the waiting order.
    /// `unfenced`: the holder has no fencing token (a degraded lock; `fence` is ignored).
    Ticket begin(int key, int worker, qint64 fence, Access access = Access::Exclusive, bool unfenced = false);
    /// End with the write value + 1 (Permit: the register + 1; Read: no write).
    WriteOutcome commit(Ticket &ticket);
    /// End without a write (the holder gave up: lock lost or validity over).
    void abandon(Ticket &ticket);

    /// The worker starts waiting for `key`: just before the first attempt of its acquire.
    void waitStarted(int key, int worker, Clock::time_point at);
    /// The worker's first attempt was refused and it waits on (its first retry sleep). From
    /// here on it is ahead in the queue of anyone who starts waiting later. Until then it may
    /// not be: two acquires that start within one round trip reach the server in either
    /// order, so the start of waiting alone cannot order them.
    void waitConfirmed(int key, int worker, Clock::time_point at);
    /// The wait ended without the lock (given up, cancelled).
    void waitEnded(int key, int worker);

    KeyState state(int key) const;
    /// Totals over all keys.
    KeyState total() const;
    /// The first overlaps, in the order they happened (at most the overlap log size).
    std::vector<Overlap> overlaps() const;

    qint64 sinceOriginUs(Clock::time_point t) const;

private:
    struct Active
    {
        quint64 id;
        int worker;
        qint64 startUs;
        qint64 fence;
        Access access;
        bool overlapped;
    };
    struct Waiter
    {
        int worker;
        qint64 startUs;
        qint64 confirmedUs; ///< -1 until waitConfirmed
    };
    struct Slot
    {
        mutable std::mutex mutex;
        KeyState state;
        quint64 version = 0;
        std::vector<Active> active;
        std::vector<Waiter> waiting;
    };
    /// Removes the section from the running ones; true when another overlapped it.
    static bool end(Slot &slot, quint64 id);
    /// Marks the running sections that `ticket` may not run with; those overlaps go to `found`.
    void checkSharingLocked(Slot &slot, Ticket &ticket, std::vector<Overlap> &found) const;
    /// Ends the worker's wait; true when a worker that had waited longer still waits.
    static bool overtakesLocked(Slot &slot, int worker);
    static WriteOutcome commitWriteLocked(Slot &slot, const Ticket &ticket, bool fencing);

    std::vector<std::unique_ptr<Slot>> m_keys;
    bool m_fencing;
    Clock::time_point m_origin;
    int m_permits;
    size_t m_overlapLog;
    std::atomic<quint64> m_nextId{1};
    mutable std::mutex m_overlapMutex;
    std::vector<Overlap> m_overlaps;
};

} // namespace lockscope::sim
