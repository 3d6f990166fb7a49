#pragma once

#include "driftclock.h"
#include "lock/locker.h"
#include "runstate.h"
#include "simulation.h"
#include "util/histogram.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

// Internal to the simulator (core/sim). Not part of the public API.

namespace lockscope::sim {

/// One worker: its counters (the worker writes them, any thread reads them), its clock (which
/// a ClockDrift fault adjusts), its thread, and what only that thread touches.
struct WorkerSlot
{
    int index = 0;
    std::shared_ptr<DriftClock> clock = std::make_shared<DriftClock>();
    std::atomic<quint64> acquisitions{0};
    std::atomic<quint64> failedAttempts{0};
    std::atomic<quint64> acquireFailures{0};
    std::atomic<quint64> censoredWaits{0};
    std::atomic<quint64> waitMaxUs{0}; ///< written by the worker only
    std::atomic<quint64> violations{0};
    std::atomic<quint64> fencingRejections{0};
    std::atomic<quint64> abandonedWrites{0};
    std::atomic<quint64> lostLocks{0};
    std::atomic<quint64> expiredBeforeRelease{0};
    std::atomic<quint64> releases{0};
    std::atomic<quint64> releaseErrors{0};
    std::atomic<quint64> stalls{0};
    std::atomic<quint64> wakeups{0};
    std::atomic<quint64> handovers{0};
    std::atomic<quint64> reads{0};     ///< read/write: acquisitions that were reads
    std::atomic<quint64> reentries{0}; ///< reentrant: second holds taken inside a section
    std::atomic<quint64> degradedAcquisitions{0};
    std::atomic<quint64> degradedWrites{0};
    std::atomic<quint64> breakerRefusals{0};
    std::atomic<quint64> breakerOpens{0};
    std::atomic<qint64> pendingStallMs{0};
    std::atomic<bool> holding{false};
    std::thread thread;
    /// Locks (and tokens of failed acquires) that a failed node may still hold, or get when it
    /// runs a queued command after a pause: released again, owner-checked, once no node is
    /// faulted (at most once a second) and when the worker ends.
    std::vector<lock::Lock> unreleased;
    SteadyClock::time_point lastReleaseRetry;
    /// The key the worker's blocking acquire waits for (-1: none), and whether its wait was
    /// confirmed to the resource (the first retry sleep): the waiting order.
    int waitKey = -1;
    bool waitConfirmed = false;
};

/// The worker threads of a run. Each has a Locker (and so connections) of its own and loops:
/// wait at the pause gate, acquire a random key, run the critical section on the
/// ProtectedResource (hold, maybe stall, write), release; until a stop or the acquisition
/// limit. Records the wait and hold histograms and the ring of recent sections.
///
/// Threads: create() and start() once, from the controlling thread, before anything else;
/// join() after cancel(). Everything else may be called from any thread while they run.
class SimWorkers
{
public:
    /// `config`, `run` and `nodes` must outlive this.
    SimWorkers(const SimConfig &config, QByteArray keyPrefix, QByteArray runId, RunState &run,
               const NodeStates &nodes);
    ~SimWorkers();
    SimWorkers(const SimWorkers &) = delete;
    SimWorkers &operator=(const SimWorkers &) = delete;

    /// The lock key of key index i, prefix included.
    QByteArray keyName(int key) const { return m_prefix + lockerKey(key); }
    /// The same key as the workers' Lockers are given it: their LockerOptions::keyPrefix is the
    /// run's prefix, so that the fence counters and the other companion keys start with it too.
    static QByteArray lockerKey(int key) { return 'k' + QByteArray::number(key); }
    /// The client name of a worker's connections (CLIENT SETNAME), which a DropConnection
    /// fault looks for in CLIENT LIST.
    QString clientName(int worker) const;

    /// The slots, with the configured clock rates; the workers will guard `resource`.
    void create(ProtectedResource &resource);
    /// Starts one thread per slot; `onEnded` is called on each as it ends.
    void start(std::function<void()> onEnded);
    /// Cuts blocking acquires, holds and stalls short; the workers then release and end.
    void cancel() { m_cancel->cancel(); }
    void join();

    int count() const { return static_cast<int>(m_slots.size()); }
    /// Worker threads still running.
    int alive() const { return m_alive.load(); }
    /// The clock of worker `target` (every worker when negative) runs at `rate` from now on.
    void setClockRate(int target, double rate);
    /// The next critical section of worker `target` (of whichever worker comes first when
    /// negative) stalls `length` between its validity check and its write.
    void stallNext(int target, milliseconds length);

    quint64 acquisitions() const;
    /// Acquisitions, failed attempts and violations so far (no rates, no time).
    ThroughputSample totals() const;
    /// Fills the per-worker rows, their sums and the wait / hold figures of `stats`.
    void addTo(SimStats &stats) const;
    /// Sections that ended after `afterSeq`, oldest first.
    std::vector<SectionEvent> events(quint64 afterSeq) const;
    /// Sections that fell out of the ring.
    quint64 eventsDropped() const;
    /// Breaker transitions from index `from` on (see Simulation::breakerLog).
    std::vector<BreakerRecord> breakerLog(size_t from) const;

private:
    using Access = ProtectedResource::Access;

    /// A lock obtained for a critical section.
    struct Grant
    {
        lock::Lock lock;
        int key = 0;
        Access access = Access::Exclusive;
        SteadyClock::time_point requested; ///< just before the acquire's first attempt
        SteadyClock::time_point granted;
    };

    void run(WorkerSlot &slot);
    /// onBreakerChange of the Locker of worker (or process) `locker`: counts and logs.
    void onBreakerChange(int locker, const redis::BreakerEvent &event) const;
    std::unique_ptr<lock::Locker> makeLocker(const WorkerSlot &slot) const;
    /// The worker's Locker: its own, or its process's (SimConfig::processes).
    std::shared_ptr<lock::Locker> lockerFor(const WorkerSlot &slot);
    /// Read or write (read/write: drawn with the read ratio), permit, or exclusive.
    Access drawAccess(std::mt19937_64 &rng) const;
    lock::AcquireOptions acquireOptions(Access access, const QString &threadName) const;
    /// Counts a blocking acquire that ended without the lock; false when it was cancelled (the
    /// run ends).
    bool handleAcquireFailure(WorkerSlot &slot, lock::Locker &locker, int key, const lock::LockError &error,
                              SteadyClock::time_point requested);
    void startWait(WorkerSlot &slot, int key, SteadyClock::time_point at);
    void endWait(WorkerSlot &slot, bool obtained);
    void onRetrySleep(WorkerSlot &slot);
    void retryReleases(WorkerSlot &slot, lock::Locker &locker, bool final = false);
    void runSection(WorkerSlot &slot, lock::Locker &locker, Grant grant, std::mt19937_64 &rng);
    microseconds takeStall(WorkerSlot &slot);
    /// Reentrant: takes the held lock a second time; nothing when that fails (the lock is gone).
    std::optional<lock::Lock> reenter(WorkerSlot &slot, lock::Locker &locker, const Grant &grant);
    void releaseInner(WorkerSlot &slot, lock::Locker &locker, const lock::Lock &inner, SectionEvent &event);
    /// Ends the section with its write (a reader: its check) and counts the outcome.
    SectionEvent::Outcome commit(WorkerSlot &slot, ProtectedResource::Ticket &ticket);
    void recordWaitLocked(WorkerSlot &slot, microseconds wait);
    void recordCensoredWait(WorkerSlot &slot, microseconds wait);
    void recordEvent(WorkerSlot &slot, SectionEvent event, microseconds wait, microseconds hold);
    microseconds sampleHold(std::mt19937_64 &rng) const;
    bool reserveTicket();
    void giveBackTicket();
    bool sleepFor(microseconds length) const;

    const SimConfig &m_config;
    const QByteArray m_prefix;
    const QByteArray m_runId;
    RunState &m_run;
    const NodeStates &m_nodes;
    /// The waiting order is tracked for the kinds with one holder (a fair lock promises it,
    /// the others show what they do without the promise).
    const bool m_tracksOrder;
    ProtectedResource *m_resource = nullptr;
    std::vector<std::unique_ptr<WorkerSlot>> m_slots;
    std::shared_ptr<lock::CancellationToken> m_cancel = std::make_shared<lock::CancellationToken>();
    std::atomic<int> m_alive{0};

    // Limits and shared counters.
    std::atomic<qint64> m_tickets{0};
    std::atomic<quint64> m_sections{0};
    std::atomic<qint64> m_anyStallMs{0};

    // Histograms and the event ring.
    mutable std::mutex m_statsMutex;
    std::mutex m_lockersMutex;
    std::map<int, std::shared_ptr<lock::Locker>> m_lockers; ///< per process (SimConfig::processes)
    LatencyHistogram m_waitHistogram;
    LatencyHistogram m_holdHistogram;
    std::vector<quint64> m_waitLog2;
    std::vector<SectionEvent> m_ring;
    size_t m_ringNext = 0;
    quint64 m_eventSeq = 0;
    mutable std::mutex m_breakerMutex;
    mutable std::vector<BreakerRecord> m_breakerLog; ///< guarded by m_breakerMutex
};

} // namespace lockscope::sim
