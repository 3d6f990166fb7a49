#pragma once

#include "protectedresource.h"
#include "redis/circuitbreaker.h"
#include "simconfig.h"

#include <QDateTime>
#include <QString>
#include <expected>
#include <functional>
#include <memory>
#include <vector>

namespace lockscope::redis {
class LocalRedisServer;
}

namespace lockscope::sim {

enum class SimState
{
    Idle, ///< not started
    Running,
    Paused,   ///< no new critical sections; sections under way finish
    Stopping, ///< reverting faults, releasing held locks, joining threads
    Finished, ///< every worker thread has ended
};
QString simStateName(SimState state);

/// Per-worker counts. Every failed attempt of a blocking acquire counts, also those of an
/// acquire that succeeded in the end and those of one cut short by the end of the run.
struct WorkerStats
{
    int worker = 0;
    quint64 acquisitions = 0;
    quint64 failedAttempts = 0;
    quint64 acquireFailures = 0; ///< blocking acquires that gave up (wait deadline, node errors)
    /// Blocking acquires that ended without the lock: given up, or cancelled by the end of the
    /// run. Their wait counts up to that moment, a lower bound of the real one.
    quint64 censoredWaits = 0;
    quint64 waitMaxUs = 0; ///< longest wait, censored ones included: a starved worker's is the run
    /// Safety failures: writes accepted on a stale value, reads during which a write landed,
    /// a semaphore's permits + 1-th holder at once.
    quint64 violations = 0;
    quint64 fencingRejections = 0;
    quint64 abandonedWrites = 0;      ///< validity over or lock lost before the write: no write
    quint64 lostLocks = 0;            ///< the watchdog reported the lock lost
    quint64 expiredBeforeRelease = 0; ///< release answered "not held": the lock had expired or moved on
    quint64 stalls = 0;
    quint64 wakeups = 0; ///< pub/sub release messages that woke this worker
    /// Acquisitions handed over by a release of the same Locker (lock::Lock::handedOver).
    quint64 handovers = 0;
    /// Acquisitions that got an in-process lock (SimConfig::degraded; lock::Lock::degraded).
    quint64 degradedAcquisitions = 0;
    /// Blocking acquires refused at once because too many nodes' circuit breakers were open
    /// (lock::LockErrorKind::BreakerOpen); counted in acquireFailures too.
    quint64 breakerRefusals = 0;
    /// Breakers that opened on calls of this worker's thread (its Locker's; with processes, the
    /// Locker it shares, on this worker's calls).
    quint64 breakerOpens = 0;
    quint64 degradedWrites = 0; ///< writes under a degraded lock (no fencing token)
    double clockRate = 1.0;
    bool holding = false;
};

/// A live snapshot of a run; cheap enough to take several times a second from any thread.
struct SimStats
{
    SimState state = SimState::Idle;
    double elapsedSeconds = 0; ///< running time (pauses excluded)
    quint64 acquisitions = 0;
    quint64 failedAttempts = 0;
    quint64 acquireFailures = 0;
    quint64 releases = 0;
    quint64 expiredBeforeRelease = 0;
    quint64 releaseErrors = 0; ///< release failed on node errors (the key expires by its TTL)
    quint64 lostLocks = 0;
    quint64 violations = 0;
    quint64 fencingRejections = 0;
    quint64 overlaps = 0;
    quint64 acceptedWrites = 0;
    quint64 abandonedWrites = 0;
    quint64 stalls = 0;
    quint64 wakeups = 0;
    quint64 handovers = 0;
    /// Read/write: two readers on a key at once, counted per pair (allowed concurrency; a
    /// writer with anyone at once is an overlap).
    quint64 readerOverlaps = 0;
    quint64 reads = 0; ///< read/write: the acquisitions that were reads (the others wrote)
    /// Most critical sections on one key at once: 1 for a kind with one holder unless
    /// something broke; for a semaphore at most its permits.
    int maxHolders = 0;
    /// Sections that began while a worker that had been waiting longer for the key still
    /// waited (FIFO order; kinds with one holder). A fair lock promises none; a plain mutex or
    /// reentrant lock makes no such promise, and its count shows what the fair lock changes.
    /// Not a safety failure. A waiter counts as waiting longer once its first attempt was
    /// refused before the other's began: with pub/sub wake-up a waiter never sleeps on its
    /// clock, so none is counted there.
    quint64 orderViolations = 0;
    quint64 reentries = 0; ///< reentrant: second holds taken inside critical sections
    /// Acquisitions that got an in-process lock because no quorum of nodes was usable
    /// (SimConfig::degraded). The in-process table is process-wide and all workers run in this
    /// process, so they exclude each other; separate processes would not.
    quint64 degradedAcquisitions = 0;
    /// Writes under a degraded lock: they carry no fencing token, so the register skips the
    /// token check (a fenced resource would refuse them) and checks them for lost updates only.
    quint64 degradedWrites = 0;
    quint64 breakerRefusals = 0;     ///< blocking acquires refused by open breakers (BreakerOpen)
    quint64 breakerOpens = 0;        ///< breaker transitions to open, every worker's Locker and node
    double acquisitionsPerSec = 0;   ///< over the last sample interval
    double failedAttemptsPerSec = 0; ///< over the last sample interval
    double meanAcquisitionsPerSec = 0;
    /// Every blocking acquire: a successful one until it got the lock, one that ended without
    /// it (censoredWaits) until it ended. Without the censored waits a worker that never gets
    /// the lock would leave no trace here.
    quint64 waitP50Us = 0, waitP95Us = 0, waitP99Us = 0, waitMaxUs = 0;
    double waitMeanUs = 0;
    quint64 censoredWaits = 0; ///< waits cut by the end of the run or given up: lower bounds
    quint64 holdP50Us = 0, holdP95Us = 0, holdP99Us = 0, holdMaxUs = 0; ///< critical sections
    double holdMeanUs = 0;
    /// Wait-time histogram for charts: bucket 0 = under 2 µs, bucket i = [2^i, 2^(i+1)) µs.
    std::vector<quint64> waitLog2Us;
    double fairness = 1.0; ///< Jain's index over the workers' acquisitions: 1 = all equal, 1/n = one took all
    std::vector<WorkerStats> workers;
    std::vector<bool> nodePaused;
    std::vector<bool> nodeDown;
    quint64 keysLeft = 0; ///< Finished: lock keys still on a node after the final releases
};

/// One critical section, for timelines (Gantt lanes). Times in µs since the start.
struct SectionEvent
{
    enum class Outcome
    {
        Accepted,
        Violation,       ///< accepted on a stale value
        FencingRejected, ///< refused by the resource
        Abandoned,       ///< no write: validity over, or lock lost
        Interrupted,     ///< cut short by stop()
    };
    quint64 seq = 0; ///< 1, 2, ... in the order sections ended
    int worker = 0;
    int key = 0;
    qint64 requestUs = 0; ///< the acquire began
    qint64 startUs = 0;   ///< lock obtained, register read
    qint64 endUs = 0;     ///< write done (or abandoned)
    qint64 fence = 0;
    Outcome outcome = Outcome::Accepted;
    bool overlapped = false;
    bool stalled = false;
    bool lost = false;     ///< the watchdog lost it, or the release found it gone
    bool read = false;     ///< a read section of a read/write lock (writes nothing)
    bool degraded = false; ///< under an in-process (degraded) lock

    static QString outcomeName(Outcome outcome);
};

/// Throughput over time, one sample per sample interval.
struct ThroughputSample
{
    double seconds = 0; ///< running time at the sample
    quint64 acquisitions = 0;
    quint64 failedAttempts = 0;
    quint64 violations = 0;
    double acquisitionsPerSec = 0;
    double failedAttemptsPerSec = 0;
};

/// A fault as applied (or refused), with the time and the outcome.
struct FaultRecord
{
    qint64 atUs = 0; ///< since the start
    SimFault fault;
    bool ok = false;
    QString message;
};

/// A circuit breaker's transition in a worker's Locker (SimConfig::breaker), as the run saw it.
/// Each worker (each process, with SimConfig::processes) has its own Locker and so its own
/// breaker per node: an outage opens one breaker in every Locker that calls the node.
struct BreakerRecord
{
    qint64 atUs = 0;      ///< since the start
    int node = -1;        ///< node index (-1: unknown)
    int locker = 0;       ///< the worker, or with processes the process, whose Locker it is
    bool process = false; ///< `locker` is a process index (SimConfig::processes > 0)
    int failures = 0;     ///< to open: the consecutive failures that opened it
    redis::BreakerEvent event;

    /// "breaker open on node 2 (127.0.0.1:6381) for worker 3 (3 failures: connection refused)",
    /// "breaker half-open on node 2 ... (cool-down over: probing)", "breaker closed again on
    /// node 2 ... (the node answered)".
    QString describe() const;
};

/// Everything a finished (or running) run has to say, for JSON / CSV export.
struct SimReport
{
    SimConfig config;
    QDateTime startedAt; ///< UTC
    QByteArray keyPrefix;
    SimStats stats;
    std::vector<ThroughputSample> samples;
    std::vector<FaultRecord> faults;
    std::vector<BreakerRecord> breakers; ///< the breaker transitions (the first ones, capped)
    std::vector<Overlap> overlaps;
    std::vector<ProtectedResource::KeyState> registers;
    quint64 eventsDropped = 0; ///< sections that fell out of the event ring
};

/// The contention simulator: N worker threads, each with a Locker (and so connections) of its
/// own, contending for one or more keys of real Redis nodes, guarding a ProtectedResource.
///
/// Threads: start() spawns the workers, a controller (limits, schedule, samples, shutdown) and
/// a fault thread that applies faults one at a time. Every public function may be called from
/// any thread; none of them waits on Redis except stop(), waitFinished() and apply(), so a GUI
/// calls start / pause / resume / requestStop / inject / stats / events from its own thread and
/// learns of the end through the finished callback (called on the controller thread).
///
/// Shutdown (a limit reached, requestStop(), or destruction): faults are reverted first (paused
/// nodes resumed, killed local nodes restarted), then blocking acquires and stalls are
/// cancelled, every held lock is released, the threads are joined and the lock keys are
/// checked (SimStats::keysLeft). With the default key prefix the run's fence counters are
/// deleted too, so the run leaves no key behind; and once finished, the run has closed every
/// connection it opened to the nodes (the workers' and the fault thread's).
///
/// Local nodes: a killed node is restarted on the fault thread, which lives until the
/// Simulation is destroyed; the restarted redis-server is a child of that thread and stops
/// with it (PR_SET_PDEATHSIG), so restart it from a thread of your own if it must outlive the
/// Simulation.
class Simulation
{
public:
    /// `localServers`: for each node (same order as config.nodes), the redis-server this
    /// program started, or nullptr. Those can be paused with SIGSTOP, killed and restarted.
    explicit Simulation(SimConfig config, std::vector<redis::LocalRedisServer *> localServers = {});
    ~Simulation();
    Simulation(const Simulation &) = delete;
    Simulation &operator=(const Simulation &) = delete;

    const SimConfig &config() const;
    /// The lock key of key index i, prefix included.
    QByteArray lockKey(int key) const;

    /// Called once on the controller thread when the run has finished (set before start()).
    void setFinishedCallback(std::function<void()> callback);

    /// Validates the configuration and starts the threads; the problems, one per line, when
    /// it cannot run. Once per Simulation. Draws the random fault schedule (randomFaults), if
    /// any: config() then lists it in `faults`.
    std::expected<void, QString> start();
    void pause();
    void resume();
    /// Asks the run to stop; returns at once.
    void requestStop();
    /// requestStop() and waitFinished().
    void stop();
    /// True when finished within `timeout`.
    bool waitFinished(milliseconds timeout);
    SimState state() const;

    SimStats stats() const;
    /// Critical sections that ended after `afterSeq` (0: all still in the ring), oldest first.
    std::vector<SectionEvent> events(quint64 afterSeq = 0) const;
    /// Throughput samples from index `from` on.
    std::vector<ThroughputSample> samples(size_t from = 0) const;
    std::vector<FaultRecord> faultLog() const;
    /// Breaker transitions from index `from` on, in the order they happened (the first
    /// kBreakerLogCapacity are kept; all opens are counted in SimStats::breakerOpens).
    std::vector<BreakerRecord> breakerLog(size_t from = 0) const;
    static constexpr size_t kBreakerLogCapacity = 2000;
    SimReport report() const;

    /// Queues a fault for the fault thread and returns at once (`at` and `afterAcquisitions`
    /// are ignored: it applies now; `length` is its own duration). The outcome appears in
    /// faultLog(). Works from start() until destruction.
    void inject(const SimFault &fault);
    /// Applies a fault now and waits for its outcome.
    FaultRecord apply(const SimFault &fault);

    /// Worker threads still running, plus 1 while the controller runs: 0 once finished. (The
    /// fault thread stays until destruction, so that faults can still be reverted by hand.)
    int liveWorkerThreads() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace lockscope::sim
