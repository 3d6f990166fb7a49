#pragma once

#include "lock/retry.h"
#include "redis/nodeconfig.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <chrono>
#include <map>
#include <optional>
#include <vector>

namespace lockscope::sim {

using std::chrono::microseconds;
using std::chrono::milliseconds;

enum class HoldDistribution
{
    Fixed,       ///< every critical section lasts the hold time
    Uniform,     ///< uniform in [0, 2 x hold]: mean = hold
    Exponential, ///< exponential with mean = hold (many short sections, a few long ones)
};

/// How a worker that finds the lock held waits for it.
enum class Wakeup
{
    Poll,   ///< sleeps out the retry delay, then tries again
    PubSub, ///< releases are published, waiters subscribe and retry on the message
};

/// The lock the workers take. Read/write is one kind here: each critical section is a read or
/// a write (SimConfig::readRatio), so readers and writers contend for the same key.
enum class SimLockKind
{
    Mutex,     ///< lock::LockKind::Mutex: one holder
    ReadWrite, ///< lock::LockKind::Read or Write: many readers or one writer
    Semaphore, ///< lock::LockKind::Semaphore: at most SimConfig::permits holders
    Fair,      ///< lock::LockKind::Fair: one holder, waiters served in arrival order
    /// lock::LockKind::Reentrant: one holder, who takes the lock a second time inside its
    /// critical section and releases it twice
    Reentrant,
};

/// A fault the simulation applies: scheduled in SimConfig::faults, or injected by hand while it
/// runs (Simulation::inject).
struct SimFault
{
    enum class Kind
    {
        PauseNode,      ///< SIGSTOP (a local node) or CLIENT PAUSE <length> WRITE (any other node)
        ResumeNode,     ///< SIGCONT or CLIENT UNPAUSE
        KillNode,       ///< SIGKILL: local nodes only; the data set is lost
        RestartNode,    ///< start a killed local node again, empty (no persistence)
        DropConnection, ///< CLIENT KILL of every connection of one worker, on every node
        ClockDrift,     ///< a worker's lock clock runs at `rate` (its validity arithmetic drifts)
        StallHolder,    ///< the next critical section (of one worker, or of anyone) stalls for `length`
    };
    Kind kind = Kind::PauseNode;
    /// Node index for node faults; worker index for DropConnection, ClockDrift and StallHolder
    /// (-1: every worker for ClockDrift, whichever worker holds next for StallHolder).
    int target = 0;
    /// Scheduled faults: when, as running time since the start (pauses of the run excluded)...
    milliseconds at{0};
    /// ...or, when positive, once this many acquisitions have happened (instead of `at`).
    qint64 afterAcquisitions = 0;
    /// PauseNode: resumed after this long (0: until ResumeNode or the end of the run; on a node
    /// the simulator did not start, 0 means 10 s, because CLIENT PAUSE needs a length).
    /// KillNode: restarted after this long (0: stays down until RestartNode or the end).
    /// StallHolder: the stall. ClockDrift: back to rate 1 after this long (0: for good).
    milliseconds length{0};
    double rate = 1.0; ///< ClockDrift: 1.5 = the worker's clock runs 50 % fast, 0.5 = half speed

    static QString kindName(Kind kind);
    static std::optional<Kind> kindFromName(const QString &name);
    /// One line for logs and reports: "pause node 1 for 2s at 3s".
    QString describe() const;
};

/// A random node-fault schedule, drawn when the run starts (Simulation::start) because only
/// then the duration, the node count, the TTL and the seed are final: a scenario can ask for
/// one before the operator has chosen them, and the same seed draws the same schedule again.
///
/// One fault at a time, on a node drawn at random: a pause (SIGSTOP, CLIENT PAUSE WRITE
/// elsewhere) or a kill (SIGKILL, local nodes only) followed by a restart of the node, empty.
/// Lengths are fractions of the TTL, so that the safety arithmetic holds whatever TTL is
/// chosen: a killed node comes back only after `downMin` x TTL. Every key it lost would have
/// expired by then and every holder's validity (at most the TTL from its acquire) has run out,
/// so a restart without persistence cannot hand a lock to a second holder (the Redlock paper's
/// delayed restart; below 1 it can). With one fault at a time, a set of three or more nodes
/// keeps a quorum; on one or two nodes a fault makes the lock unavailable while it lasts. A run
/// stopped early while a node is down restarts it at once (every shutdown reverts faults), in
/// the last moments of the run: the schedule itself never needs that (endMargin).
struct RandomFaults
{
    double killShare = 0.4;                 ///< share of the faults that are kills (the rest: pauses)
    double pauseMin = 0.1, pauseMax = 0.75; ///< pause length, x TTL
    double downMin = 1.25, downMax = 2.0;   ///< kill to restart, x TTL
    double gapMin = 0.25, gapMax = 1.5;     ///< quiet time before each fault, x TTL
    /// Every fault is over this long before the end of the run, so that the shutdown (which
    /// restarts a node that is still down at once) never brings a node back early.
    milliseconds endMargin{1000};
    /// How far ahead to draw when the run has no duration (a limit of acquisitions, or until
    /// stopped); faults past it are not drawn.
    milliseconds horizon{3'600'000};
};

/// Everything a simulation run needs. Nodes: one = a single-instance lock, N = Redlock.
struct SimConfig
{
    std::vector<redis::NodeConfig> nodes;
    int workers = 8;
    /// The Lockers the workers share. 0: one per worker, as if each worker were a process of its
    /// own (its own connections, pub/sub subscription and clock). N: the workers are threads of
    /// N processes, worker i in process i % N, whose Locker (connections, pub/sub wake-up,
    /// clock) they share; a fault aimed at a worker's connections hits its process's.
    int processes = 0;
    int keys = 1; ///< workers pick one of these lock keys at random for every critical section
    /// Prefix of the lock keys ("<prefix>k0", "<prefix>k1", ...). Empty: "lockscope:sim:<run id>:",
    /// unique to the run, whose fence counters are deleted when the run ends.
    QByteArray keyPrefix;
    microseconds hold{1000};
    HoldDistribution holdDistribution = HoldDistribution::Fixed;
    milliseconds ttl{5000};
    lock::RetryStrategy retry = lock::RetryStrategy::exponential(milliseconds(8), milliseconds(256), 0, 0.5);
    milliseconds wait{0}; ///< deadline of one blocking acquire; 0 = the TTL
    bool watchdog = false;
    bool fencing = true;
    Wakeup wakeup = Wakeup::Poll;
    /// With pub/sub wake-up: lock::LockerOptions::handOffAfter (how long the first waiter may
    /// be passed over by workers that come back, before the lock is kept for it).
    milliseconds handOffAfter{1}; // the library's default
    /// The Lockers' circuit breakers (lock::LockerOptions::breaker, with the library's defaults:
    /// 3 consecutive node failures open a node's breaker for 5 s). Off: every operation still
    /// reaches a dead node and waits out its timeout.
    bool breaker = true;
    /// lock::LockerOptions::degradedMode: an acquire that cannot reach a quorum because nodes are
    /// down takes an in-process lock instead. The in-process table is process-wide, and every
    /// simulated worker and "process" (SimConfig::processes) runs in this one process, so
    /// degraded holders of different workers still exclude each other here; real processes
    /// would not: a run shows availability, not cross-process safety.
    bool degraded = false;
    /// Before its write, a worker checks on its own clock that its lock is still valid and
    /// abandons the write when it is not (what a careful client does). A stall hits after that
    /// check, between the check and the write: the GC-pause story.
    bool checkValidity = true;
    milliseconds duration{0};   ///< running time limit (0 = none)
    qint64 maxAcquisitions = 0; ///< stop after exactly this many acquisitions (0 = none)
    milliseconds stall{0};      ///< one critical section in `stallEvery` stalls this long
    int stallEvery = 0;
    std::map<int, double> clockRate;  ///< worker -> clock rate from the start (drift)
    quint64 seed = 0;                 ///< hold times and key choice; 0 = random
    int eventCapacity = 10'000;       ///< critical-section events kept (the most recent)
    milliseconds sampleInterval{250}; ///< throughput series resolution
    std::vector<SimFault> faults;     ///< the fault schedule
    /// Drawn by Simulation::start() and appended to `faults` (then reset): see RandomFaults.
    std::optional<RandomFaults> randomFaults;
    QString scenario; ///< name of the scenario this came from, if any
    /// The lock kind, and so the rule the ProtectedResource checks (see SimLockKind).
    SimLockKind lockKind = SimLockKind::Mutex;
    /// ReadWrite only: the probability that a critical section is a read (0 to 1); unset =
    /// kDefaultReadRatio. Set for another kind, validate() refuses it.
    std::optional<double> readRatio;
    /// Semaphore only: the number of permits (1 or more); 0 for every other kind, as for
    /// lock::AcquireOptions::permits.
    int permits = 0;

    static constexpr double kDefaultReadRatio = 0.8;
    /// readRatio, or its default for a read/write run; 0 for the other kinds (every section writes).
    double effectiveReadRatio() const;

    /// Problems, each naming the parameter; empty when the configuration can run. `localNodes`:
    /// which nodes the simulator may kill and restart (same order as nodes; may be shorter).
    QStringList validate(const std::vector<bool> &localNodes = {}) const;
};

/// A ready-made scenario: parameters and a fault schedule.
struct Scenario
{
    QString name;  ///< "healthy", "ttl-short", ...
    QString title; ///< "Healthy mutex"
    QString description;
    int nodes = 0;           ///< node count it is meant for (0: any)
    bool needsLocal = false; ///< kills and restarts nodes: they must be started by the simulator
};

/// The faults `config.randomFaults` asks for, drawn from config.seed over config.duration (or
/// the horizon) for config.nodes.size() nodes and config.ttl: the same inputs, the same
/// schedule. The first fault is a pause and the second a kill (when killShare > 0), so that a
/// run long enough for two faults has both; after that the kind is drawn. Empty without
/// randomFaults or nodes.
std::vector<SimFault> randomFaultSchedule(const SimConfig &config);

const std::vector<Scenario> &scenarios();
std::optional<Scenario> findScenario(const QString &name);
/// Fills `config` with the scenario's parameters and fault schedule; nodes stay as they are.
/// False for an unknown name (config unchanged).
bool applyScenario(const QString &name, SimConfig &config);

QString holdDistributionName(HoldDistribution distribution);
std::optional<HoldDistribution> holdDistributionFromName(const QString &name);
QString wakeupName(Wakeup wakeup);
/// "mutex", "rw", "semaphore", "fair", "reentrant" (lockctl --kind, JSON).
QString simLockKindName(SimLockKind kind);
std::optional<SimLockKind> simLockKindFromName(const QString &name);

} // namespace lockscope::sim
