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

    /// What a section read at its start; hand it back to commit() or abandon().
    struct Ticket
    {
        int key = 0;
        int worker = 0;
        qint64 fence = 0;
        qint64 readValue = 0;
        quint64 readVersion = 0;
        qint64 startUs = 0;
        quint64 id = 0;
        /// Another section on the key ran at the same time (set by begin, completed by the end).
        bool overlapped = false;
    };

    struct KeyState
    {
        qint64 value = 0;           ///< the register
        quint64 acceptedWrites = 0; ///< value == acceptedWrites unless updates were lost
        quint64 violations = 0;
        quint64 fencingRejections = 0;
        quint64 overlaps = 0;
        qint64 highestFence = 0;
    };

    /// `fencing`: writes carry tokens and stale ones are rejected. `origin`: time zero of the
    /// timestamps. At most `overlapLog` overlaps are kept in detail (all are counted).
    ProtectedResource(int keys, bool fencing, Clock::time_point origin, int overlapLog = 1000);
    ~ProtectedResource();
    ProtectedResource(const ProtectedResource &) = delete;
    ProtectedResource &operator=(const ProtectedResource &) = delete;

    int keyCount() const { return static_cast<int>(m_keys.size()); }
    bool fencing() const { return m_fencing; }

    /// Start of a critical section: reads the register (with the holder's token).
    Ticket begin(int key, int worker, qint64 fence);
    /// End with the write value + 1.
    WriteOutcome commit(Ticket &ticket);
    /// End without a write (the holder gave up: lock lost or validity over).
    void abandon(Ticket &ticket);

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
        bool overlapped;
    };
    struct Slot
    {
        mutable std::mutex mutex;
        KeyState state;
        quint64 version = 0;
        std::vector<Active> active;
    };
    /// Removes the section from the running ones; true when another overlapped it.
    static bool end(Slot &slot, quint64 id);

    std::vector<std::unique_ptr<Slot>> m_keys;
    bool m_fencing;
    Clock::time_point m_origin;
    size_t m_overlapLog;
    std::atomic<quint64> m_nextId{1};
    mutable std::mutex m_overlapMutex;
    std::vector<Overlap> m_overlaps;
};

} // namespace lockscope::sim
