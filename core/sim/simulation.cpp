#include "simulation.h"

#include "lock/locker.h"
#include "lock/lockvalue.h"
#include "lock/watchdog.h"
#include "redis/connection.h"
#include "redis/localserver.h"
#include "util/histogram.h"

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <algorithm>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <future>
#include <iterator>
#include <mutex>
#include <random>
#include <thread>

Q_LOGGING_CATEGORY(lcSim, "lockscope.sim")

namespace lockscope::sim {

using lock::AcquireOptions;
using lock::CancellationToken;
using lock::Lock;
using lock::Locker;
using lock::LockerOptions;
using lock::LockErrorKind;
using lock::LockGuard;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::duration_cast;

namespace {

constexpr int kLog2Buckets = 32;
/// A pause of a node the simulator did not start is CLIENT PAUSE, which needs a length.
constexpr milliseconds kRemotePauseDefault{10'000};

/// A lock clock that runs at an adjustable rate: a worker's clock drift.
class DriftClock final : public lock::LockClock
{
public:
    SteadyClock::time_point now() const override
    {
        std::lock_guard lock(m_mutex);
        return virtualAt(SteadyClock::now());
    }

    bool sleepUntil(SteadyClock::time_point until, const CancellationToken *cancel) override
    {
        SteadyClock::time_point realUntil;
        {
            std::lock_guard lock(m_mutex);
            const auto realNow = SteadyClock::now();
            const auto left = until - virtualAt(realNow);
            realUntil = realNow + duration_cast<SteadyClock::duration>(left / m_rate);
        }
        if (cancel)
            return cancel->sleepUntil(realUntil);
        std::this_thread::sleep_until(realUntil);
        return true;
    }

    void setRate(double rate)
    {
        std::lock_guard lock(m_mutex);
        const auto realNow = SteadyClock::now();
        m_baseVirtual = virtualAt(realNow);
        m_baseReal = realNow;
        m_rate = rate;
    }

    double rate() const
    {
        std::lock_guard lock(m_mutex);
        return m_rate;
    }

private:
    SteadyClock::time_point virtualAt(SteadyClock::time_point real) const
    {
        return m_baseVirtual + duration_cast<SteadyClock::duration>((real - m_baseReal) * m_rate);
    }

    mutable std::mutex m_mutex;
    SteadyClock::time_point m_baseReal = SteadyClock::now();
    SteadyClock::time_point m_baseVirtual = m_baseReal;
    double m_rate = 1.0;
};

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
    std::atomic<qint64> pendingStallMs{0};
    std::atomic<bool> holding{false};
    std::thread thread;
    /// Locks (and tokens of failed acquires) that a failed node may still hold, or get when it
    /// runs a queued command after a pause: released again, owner-checked, once no node is
    /// faulted (at most once a second) and when the worker ends.
    std::vector<Lock> unreleased;
    SteadyClock::time_point lastReleaseRetry;
};

struct NodeState
{
    bool paused = false;
    bool down = false;
};

struct DelayedTask
{
    SteadyClock::time_point due;
    quint64 order = 0;
    std::function<void()> run;
};

double jain(const std::vector<WorkerStats> &workers)
{
    double sum = 0, squares = 0;
    for (const WorkerStats &w : workers) {
        const auto x = static_cast<double>(w.acquisitions);
        sum += x;
        squares += x * x;
    }
    if (workers.empty() || squares == 0)
        return 1.0;
    return sum * sum / (static_cast<double>(workers.size()) * squares);
}

int log2Bucket(quint64 us)
{
    if (us < 2)
        return 0;
    return std::min(kLog2Buckets - 1, 63 - std::countl_zero(us));
}

} // namespace

QString simStateName(SimState state)
{
    switch (state) {
    case SimState::Idle:
        return QStringLiteral("idle");
    case SimState::Running:
        return QStringLiteral("running");
    case SimState::Paused:
        return QStringLiteral("paused");
    case SimState::Stopping:
        return QStringLiteral("stopping");
    case SimState::Finished:
        return QStringLiteral("finished");
    }
    return QStringLiteral("unknown");
}

QString SectionEvent::outcomeName(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Accepted:
        return QStringLiteral("accepted");
    case Outcome::Violation:
        return QStringLiteral("violation");
    case Outcome::FencingRejected:
        return QStringLiteral("fencing_rejected");
    case Outcome::Abandoned:
        return QStringLiteral("abandoned");
    case Outcome::Interrupted:
        return QStringLiteral("interrupted");
    }
    return QStringLiteral("unknown");
}

struct Simulation::Private
{
    SimConfig config;
    std::vector<redis::LocalRedisServer *> local;
    QByteArray prefix;
    QByteArray runId;
    bool ownPrefix = false;
    QDateTime startedAt;
    SteadyClock::time_point origin;
    std::unique_ptr<ProtectedResource> resource;
    std::vector<std::unique_ptr<WorkerSlot>> workers;
    std::shared_ptr<CancellationToken> cancel = std::make_shared<CancellationToken>();
    std::function<void()> onFinished;

    // Run state: pause gate, running time, stop request.
    mutable std::mutex runMutex;
    std::condition_variable runWake;
    SimState state = SimState::Idle;
    bool paused = false;
    bool stopRequested = false;
    SteadyClock::duration pausedTotal{0};
    SteadyClock::time_point pausedSince;
    std::thread controller;
    std::atomic<int> workersAlive{0};
    std::atomic<bool> controllerAlive{false};

    // Limits and shared counters.
    std::atomic<qint64> tickets{0};
    std::atomic<quint64> sections{0};
    std::atomic<qint64> anyStallMs{0};

    // Histograms, series, events.
    mutable std::mutex statsMutex;
    LatencyHistogram waitHistogram;
    LatencyHistogram holdHistogram;
    std::vector<quint64> waitLog2 = std::vector<quint64>(kLog2Buckets, 0);
    std::vector<ThroughputSample> samples;
    std::vector<SectionEvent> ring;
    size_t ringNext = 0;
    quint64 eventSeq = 0;
    quint64 keysLeft = 0;

    // Faults: one thread applies them, in order; delayed ones (reverts) wait in `tasks`.
    mutable std::mutex faultMutex;
    std::condition_variable faultWake;
    std::vector<DelayedTask> tasks;
    quint64 taskOrder = 0;
    bool faultShutdown = false;
    std::thread faultThread;
    std::vector<FaultRecord> faultLog;
    mutable std::mutex nodeMutex;
    std::vector<NodeState> nodes;
    std::vector<std::unique_ptr<redis::Connection>> admins; // fault thread only

    bool isLocal(int node) const
    {
        return node >= 0 && static_cast<size_t>(node) < local.size() && local[static_cast<size_t>(node)];
    }

    QByteArray keyName(int key) const { return prefix + 'k' + QByteArray::number(key); }

    QString workerClientName(int worker) const
    {
        return QStringLiteral("lockscope-sim-%1-w%2").arg(QString::fromLatin1(runId)).arg(worker);
    }

    qint64 sinceStartUs(SteadyClock::time_point t) const
    {
        return duration_cast<std::chrono::microseconds>(t - origin).count();
    }

    SteadyClock::duration runningTimeLocked(SteadyClock::time_point now) const
    {
        if (state == SimState::Idle)
            return {};
        SteadyClock::duration pausedFor = pausedTotal;
        if (paused)
            pausedFor += now - pausedSince;
        return now - origin - pausedFor;
    }

    double runningSeconds() const
    {
        std::lock_guard lock(runMutex);
        return std::chrono::duration<double>(runningTimeLocked(SteadyClock::now())).count();
    }

    bool stopping() const
    {
        std::lock_guard lock(runMutex);
        return stopRequested;
    }

    /// Blocks while paused; false once a stop was requested.
    bool waitWhilePaused()
    {
        std::unique_lock lock(runMutex);
        runWake.wait(lock, [this] { return !paused || stopRequested; });
        return !stopRequested;
    }

    // --- fault thread -------------------------------------------------------------------------

    void post(std::function<void()> task, SteadyClock::duration delay = {})
    {
        {
            std::lock_guard lock(faultMutex);
            tasks.push_back(DelayedTask{SteadyClock::now() + delay, ++taskOrder, std::move(task)});
        }
        faultWake.notify_all();
    }

    void faultLoop()
    {
        std::unique_lock lock(faultMutex);
        while (!faultShutdown) {
            if (tasks.empty()) {
                faultWake.wait(lock);
                continue;
            }
            const auto next = std::ranges::min_element(tasks, [](const DelayedTask &a, const DelayedTask &b) {
                return a.due != b.due ? a.due < b.due : a.order < b.order;
            });
            if (next->due > SteadyClock::now()) {
                // Copy: wait_until releases the lock, and post() may reallocate the vector.
                const SteadyClock::time_point due = next->due;
                faultWake.wait_until(lock, due);
                continue;
            }
            std::function<void()> run = std::move(next->run);
            tasks.erase(next);
            lock.unlock();
            run();
            lock.lock();
        }
    }

    redis::Connection &admin(int node)
    {
        auto &slot = admins[static_cast<size_t>(node)];
        if (!slot) {
            redis::NodeConfig adminConfig = config.nodes[static_cast<size_t>(node)];
            adminConfig.clientName = QStringLiteral("lockscope-sim-admin");
            slot = std::make_unique<redis::Connection>(adminConfig);
        }
        return *slot;
    }

    NodeState nodeState(int node) const
    {
        std::lock_guard lock(nodeMutex);
        return nodes[static_cast<size_t>(node)];
    }

    void setNodeState(int node, std::optional<bool> nowPaused, std::optional<bool> nowDown)
    {
        std::lock_guard lock(nodeMutex);
        NodeState &s = nodes[static_cast<size_t>(node)];
        if (nowPaused)
            s.paused = *nowPaused;
        if (nowDown)
            s.down = *nowDown;
    }

    FaultRecord record(const SimFault &fault, bool ok, QString message)
    {
        FaultRecord r;
        r.atUs = sinceStartUs(SteadyClock::now());
        r.fault = fault;
        r.ok = ok;
        r.message = std::move(message);
        if (ok)
            qCInfo(lcSim) << fault.describe() << "->" << r.message;
        else
            qCWarning(lcSim) << fault.describe() << "failed:" << r.message;
        std::lock_guard lock(faultMutex);
        faultLog.push_back(r);
        return r;
    }

    void revertLater(SimFault::Kind kind, const SimFault &fault)
    {
        if (fault.length.count() <= 0)
            return;
        SimFault revert;
        revert.kind = kind;
        revert.target = fault.target;
        revert.rate = 1.0;
        post([this, revert] { applyNow(revert); }, fault.length);
    }

    /// Runs on the fault thread.
    FaultRecord applyNow(const SimFault &fault)
    {
        using Kind = SimFault::Kind;
        const int nodeCount = static_cast<int>(config.nodes.size());
        const bool nodeFault = fault.kind == Kind::PauseNode || fault.kind == Kind::ResumeNode ||
                               fault.kind == Kind::KillNode || fault.kind == Kind::RestartNode;
        if (nodeFault && (fault.target < 0 || fault.target >= nodeCount))
            return record(fault, false,
                          QStringLiteral("no node %1 (%2 nodes)").arg(fault.target).arg(nodeCount));
        const bool workerFault = !nodeFault;
        const int workerCount = static_cast<int>(workers.size());
        if (workerFault &&
            (fault.target >= workerCount || (fault.target < 0 && fault.kind == Kind::DropConnection)))
            return record(fault, false,
                          QStringLiteral("no worker %1 (%2 workers)").arg(fault.target).arg(workerCount));
        const int i = fault.target;
        const QString label = nodeFault ? config.nodes[static_cast<size_t>(i)].label() : QString();
        switch (fault.kind) {
        case Kind::PauseNode: {
            if (nodeState(i).down)
                return record(fault, false, QStringLiteral("%1 is down").arg(label));
            if (isLocal(i)) {
                if (!local[static_cast<size_t>(i)]->pause())
                    return record(fault, false, QStringLiteral("%1: SIGSTOP failed").arg(label));
                setNodeState(i, true, std::nullopt);
                revertLater(Kind::ResumeNode, fault);
                return record(fault, true, QStringLiteral("%1 stopped (SIGSTOP)").arg(label));
            }
            const milliseconds length = fault.length.count() > 0 ? fault.length : kRemotePauseDefault;
            // WRITE, not ALL: lock scripts write, so they wait, while CLIENT UNPAUSE still gets
            // through (under ALL it would wait for the pause to end by itself).
            auto reply = admin(i).command({QByteArrayView("CLIENT"), QByteArrayView("PAUSE"),
                                           QByteArray::number(static_cast<qint64>(length.count())),
                                           QByteArrayView("WRITE")});
            if (!reply)
                return record(fault, false, reply.error().toString());
            setNodeState(i, true, std::nullopt);
            SimFault timed = fault;
            timed.length = length;
            revertLater(Kind::ResumeNode, timed);
            return record(fault, true,
                          QStringLiteral("%1 paused for writes (CLIENT PAUSE %2 WRITE)")
                              .arg(label)
                              .arg(length.count()));
        }
        case Kind::ResumeNode: {
            if (!nodeState(i).paused)
                return record(fault, true, QStringLiteral("%1 was not paused").arg(label));
            if (isLocal(i)) {
                if (!local[static_cast<size_t>(i)]->resume())
                    return record(fault, false, QStringLiteral("%1: SIGCONT failed").arg(label));
            } else if (auto reply = admin(i).command({QByteArrayView("CLIENT"), QByteArrayView("UNPAUSE")});
                       !reply) {
                return record(fault, false, reply.error().toString());
            }
            setNodeState(i, false, std::nullopt);
            return record(fault, true, QStringLiteral("%1 answers again").arg(label));
        }
        case Kind::KillNode: {
            if (!isLocal(i))
                return record(
                    fault, false,
                    QStringLiteral("%1 was not started by the simulator: only local nodes can be killed")
                        .arg(label));
            if (nodeState(i).down)
                return record(fault, true, QStringLiteral("%1 was already down").arg(label));
            local[static_cast<size_t>(i)]->kill();
            setNodeState(i, false, true);
            revertLater(Kind::RestartNode, fault);
            return record(fault, true, QStringLiteral("%1 killed (SIGKILL; its data is gone)").arg(label));
        }
        case Kind::RestartNode: {
            if (!isLocal(i))
                return record(
                    fault, false,
                    QStringLiteral("%1 was not started by the simulator: only local nodes can be restarted")
                        .arg(label));
            if (!nodeState(i).down)
                return record(fault, true, QStringLiteral("%1 was running").arg(label));
            if (auto restarted = local[static_cast<size_t>(i)]->restart(); !restarted)
                return record(fault, false, restarted.error().toString());
            setNodeState(i, false, false);
            return record(fault, true, QStringLiteral("%1 restarted empty (no persistence)").arg(label));
        }
        case Kind::DropConnection:
            return dropConnections(fault);
        case Kind::ClockDrift: {
            for (auto &slot : workers) {
                if (fault.target < 0 || slot->index == fault.target)
                    slot->clock->setRate(fault.rate);
            }
            if (fault.rate != 1.0)
                revertLater(Kind::ClockDrift, fault);
            return record(fault, true,
                          QStringLiteral("clock of %1 runs at rate %2")
                              .arg(fault.target < 0 ? QStringLiteral("every worker")
                                                    : QStringLiteral("worker %1").arg(fault.target))
                              .arg(fault.rate));
        }
        case Kind::StallHolder: {
            if (fault.length.count() <= 0)
                return record(fault, false, QStringLiteral("a stall needs a length"));
            if (fault.target < 0)
                anyStallMs = fault.length.count();
            else
                workers[static_cast<size_t>(fault.target)]->pendingStallMs = fault.length.count();
            return record(fault, true,
                          QStringLiteral("next critical section stalls %1 ms").arg(fault.length.count()));
        }
        }
        return record(fault, false, QStringLiteral("unknown fault"));
    }

    FaultRecord dropConnections(const SimFault &fault)
    {
        const QByteArray name = workerClientName(fault.target).toUtf8();
        int killed = 0;
        QStringList problems;
        for (int i = 0; i < static_cast<int>(config.nodes.size()); ++i) {
            const NodeState s = nodeState(i);
            if (s.down || (s.paused && isLocal(i)))
                continue;
            auto list = admin(i).command({QByteArrayView("CLIENT"), QByteArrayView("LIST")});
            if (!list) {
                problems << list.error().toString();
                continue;
            }
            for (const QByteArray &line : list->bytes().split('\n')) {
                QByteArray id;
                bool match = false;
                for (const QByteArray &field : line.trimmed().split(' ')) {
                    if (field.startsWith("id="))
                        id = field.mid(3);
                    else if (field == "name=" + name)
                        match = true;
                }
                if (!match || id.isEmpty())
                    continue;
                auto kill = admin(i).command({QByteArrayView("CLIENT"), QByteArrayView("KILL"),
                                              QByteArrayView("ID"), QByteArrayView(id)});
                if (kill)
                    ++killed;
                else
                    problems << kill.error().toString();
            }
        }
        QString message = QStringLiteral("closed %1 connection%2 of worker %3 (CLIENT KILL ID)")
                              .arg(killed)
                              .arg(killed == 1 ? QString() : QStringLiteral("s"))
                              .arg(fault.target);
        if (!problems.isEmpty())
            message += QStringLiteral("; ") + problems.join(QStringLiteral("; "));
        return record(fault, problems.isEmpty(), message);
    }

    /// Resumes paused nodes and restarts killed local ones (fault thread).
    void revertAll()
    {
        for (int i = 0; i < static_cast<int>(config.nodes.size()); ++i) {
            const NodeState s = nodeState(i);
            SimFault f;
            f.target = i;
            if (s.paused) {
                f.kind = SimFault::Kind::ResumeNode;
                applyNow(f);
            }
            if (s.down) {
                f.kind = SimFault::Kind::RestartNode;
                applyNow(f);
            }
        }
    }

    /// Runs `fn` on the fault thread and waits for it.
    template <typename F>
    auto onFaultThread(F fn) -> decltype(fn())
    {
        using R = decltype(fn());
        auto promise = std::make_shared<std::promise<R>>();
        auto future = promise->get_future();
        post([promise, fn]() mutable {
            if constexpr (std::is_void_v<R>) {
                fn();
                promise->set_value();
            } else {
                promise->set_value(fn());
            }
        });
        return future.get();
    }

    // --- workers ------------------------------------------------------------------------------

    /// Caller holds statsMutex.
    void recordWaitLocked(WorkerSlot &slot, microseconds wait)
    {
        if (wait.count() < 0)
            return;
        const auto us = static_cast<quint64>(wait.count());
        waitHistogram.record(us);
        ++waitLog2[static_cast<size_t>(log2Bucket(us))];
        if (us > slot.waitMaxUs)
            slot.waitMaxUs = us;
    }

    /// A blocking acquire that ended without the lock. Its wait is censored: it would have
    /// lasted at least this long. Left out, a worker starved for the whole run would show no
    /// wait at all, and the percentiles only the lucky workers' short ones.
    void recordCensoredWait(WorkerSlot &slot, microseconds wait)
    {
        ++slot.censoredWaits;
        std::lock_guard lock(statsMutex);
        recordWaitLocked(slot, wait);
    }

    void recordEvent(WorkerSlot &slot, SectionEvent event, microseconds wait, microseconds hold)
    {
        std::lock_guard lock(statsMutex);
        recordWaitLocked(slot, wait);
        holdHistogram.record(static_cast<quint64>(std::max<qint64>(0, hold.count())));
        if (config.eventCapacity <= 0)
            return;
        event.seq = ++eventSeq;
        if (ring.size() < static_cast<size_t>(config.eventCapacity)) {
            ring.push_back(event);
        } else {
            ring[ringNext] = event;
            ringNext = (ringNext + 1) % ring.size();
        }
    }

    microseconds sampleHold(std::mt19937_64 &rng) const
    {
        const double mean = static_cast<double>(config.hold.count());
        if (mean <= 0)
            return microseconds(0);
        switch (config.holdDistribution) {
        case HoldDistribution::Fixed:
            return config.hold;
        case HoldDistribution::Uniform:
            return microseconds(std::llround(std::uniform_real_distribution<double>(0, 2 * mean)(rng)));
        case HoldDistribution::Exponential:
            return microseconds(std::llround(std::exponential_distribution<double>(1.0 / mean)(rng)));
        }
        return config.hold;
    }

    static bool hadNodeErrors(const std::vector<lock::NodeVote> &votes)
    {
        return std::ranges::any_of(
            votes, [](const lock::NodeVote &v) { return v.outcome == lock::NodeVote::Outcome::Error; });
    }

    bool anyNodeFaulted() const
    {
        std::lock_guard lock(nodeMutex);
        return std::ranges::any_of(nodes, [](const NodeState &n) { return n.paused || n.down; });
    }

    static void remember(WorkerSlot &slot, Lock lock)
    {
        constexpr size_t kMaxUnreleased = 256;
        if (slot.unreleased.size() >= kMaxUnreleased)
            slot.unreleased.erase(slot.unreleased.begin()); // the oldest expires first anyway
        slot.unreleased.push_back(std::move(lock));
    }

    bool reserveTicket()
    {
        if (config.maxAcquisitions <= 0)
            return true;
        if (tickets.fetch_sub(1) > 0)
            return true;
        tickets.fetch_add(1);
        return false;
    }

    void giveBackTicket()
    {
        if (config.maxAcquisitions > 0)
            tickets.fetch_add(1);
    }

    /// Sleeps `length` unless stopped first; false when stopped.
    bool sleepFor(microseconds length) const
    {
        if (length.count() <= 0)
            return !cancel->isCancelled();
        return cancel->sleepUntil(SteadyClock::now() + length);
    }

    void runWorker(WorkerSlot &slot)
    {
        std::vector<redis::NodeConfig> nodeConfigs = config.nodes;
        for (auto &node : nodeConfigs)
            node.clientName = workerClientName(slot.index);
        LockerOptions options;
        options.fencing = config.fencing;
        options.clock = slot.clock;
        options.poolSize = 2; // the worker and its watchdog
        options.publishOnRelease = config.wakeup == Wakeup::PubSub;
        options.wakeOnRelease = config.wakeup == Wakeup::PubSub;
        Locker locker(std::move(nodeConfigs), options);
        std::mt19937_64 rng(config.seed * 1'000'003ULL + static_cast<quint64>(slot.index));
        std::uniform_int_distribution<int> pickKey(0, config.keys - 1);
        const QString threadName = QStringLiteral("sim-w%1").arg(slot.index);

        while (waitWhilePaused()) {
            retryReleases(slot, locker);
            if (!reserveTicket())
                break;
            const int key = pickKey(rng);
            AcquireOptions acquire;
            acquire.ttl = config.ttl;
            acquire.retry = config.retry;
            acquire.wait = config.wait;
            acquire.cancel = cancel;
            acquire.thread = threadName;
            acquire.label = QStringLiteral("lockscope simulate");
            const auto requested = SteadyClock::now();
            auto obtained = locker.acquire(keyName(key), acquire);
            if (!obtained) {
                giveBackTicket();
                if (hadNodeErrors(obtained.error().votes) && !obtained.error().token.isEmpty()) {
                    // A timed-out node may still run the attempt later: release it in the end.
                    Lock handle = locker.handleFor(keyName(key), obtained.error().token);
                    handle.ttl = config.ttl;
                    handle.validUntil = slot.clock->now() + config.ttl;
                    remember(slot, std::move(handle));
                }
                // Cancelled too: the attempts of a waiter the run ended on failed all the same.
                slot.failedAttempts += static_cast<quint64>(std::max(1, obtained.error().attempts));
                recordCensoredWait(slot, duration_cast<microseconds>(SteadyClock::now() - requested));
                if (obtained.error().kind == LockErrorKind::Cancelled)
                    break;
                ++slot.acquireFailures;
                continue;
            }
            const auto granted = SteadyClock::now();
            slot.failedAttempts += static_cast<quint64>(std::max(0, obtained->attempts - 1));
            slot.wakeups += static_cast<quint64>(obtained->wakeups);
            ++slot.acquisitions;
            slot.holding = true;
            runSection(slot, locker, std::move(*obtained), key, requested, granted, rng);
            slot.holding = false;
        }
        // Faults are reverted by now (shutdown does that first): the last chance to leave no key.
        retryReleases(slot, locker, true);
    }

    /// Releases again what a node failure kept from being released. The owner check makes it
    /// harmless where the key is gone or taken over; a node that fails again keeps it listed
    /// until its TTL has surely run out. During the run at most once a second (a paused node
    /// costs a timeout per try), always when the worker ends.
    void retryReleases(WorkerSlot &slot, Locker &locker, bool final = false)
    {
        if (slot.unreleased.empty())
            return;
        const auto now = SteadyClock::now();
        if (!final && (now - slot.lastReleaseRetry < std::chrono::seconds(1) || anyNodeFaulted()))
            return;
        slot.lastReleaseRetry = now;
        std::erase_if(slot.unreleased, [&](const Lock &lock) {
            if (slot.clock->now() > lock.validUntil + lock.ttl / 50 + milliseconds(10))
                return true; // expired on every node by now
            auto released = locker.release(lock);
            return released || !hadNodeErrors(released.error().votes);
        });
    }

    void runSection(WorkerSlot &slot, Locker &locker, Lock lock, int key, SteadyClock::time_point requested,
                    SteadyClock::time_point granted, std::mt19937_64 &rng)
    {
        WorkerSlot *counters = &slot;
        LockGuard guard(locker, lock, config.watchdog,
                        [counters](const lock::LockError &) { ++counters->lostLocks; });
        ProtectedResource::Ticket ticket = resource->begin(key, slot.index, lock.fence);

        microseconds stall{0};
        const quint64 n = sections.fetch_add(1) + 1;
        if (config.stallEvery > 0 && config.stall.count() > 0 &&
            n % static_cast<quint64>(config.stallEvery) == 0)
            stall = config.stall;
        if (const qint64 mine = slot.pendingStallMs.exchange(0); mine > 0)
            stall = milliseconds(mine);
        else if (const qint64 any = anyStallMs.exchange(0); any > 0)
            stall = milliseconds(any);

        SectionEvent event;
        event.worker = slot.index;
        event.key = key;
        event.requestUs = sinceStartUs(requested);
        event.startUs = sinceStartUs(granted);
        event.fence = lock.fence;
        event.stalled = stall.count() > 0;

        bool interrupted = !sleepFor(sampleHold(rng));
        // A careful client: give up when the watchdog says the lock is gone, or when the
        // validity (on this worker's clock, drift included) has run out.
        const bool lost = guard.lost();
        const bool expired =
            config.checkValidity && guard.lock().validityLeft(slot.clock->now()).count() <= 0;
        if (!interrupted && event.stalled) {
            ++slot.stalls;
            // The GC pause: after the check, before the write.
            interrupted = !sleepFor(stall);
        }
        if (interrupted) {
            resource->abandon(ticket);
            event.outcome = SectionEvent::Outcome::Interrupted;
        } else if (lost || expired) {
            resource->abandon(ticket);
            ++slot.abandonedWrites;
            event.outcome = SectionEvent::Outcome::Abandoned;
        } else {
            switch (resource->commit(ticket)) {
            case ProtectedResource::WriteOutcome::Accepted:
                event.outcome = SectionEvent::Outcome::Accepted;
                break;
            case ProtectedResource::WriteOutcome::Violation:
                ++slot.violations;
                event.outcome = SectionEvent::Outcome::Violation;
                break;
            case ProtectedResource::WriteOutcome::FencingRejected:
                ++slot.fencingRejections;
                event.outcome = SectionEvent::Outcome::FencingRejected;
                break;
            }
        }
        const auto ended = SteadyClock::now();
        event.endUs = sinceStartUs(ended);
        event.overlapped = ticket.overlapped;
        event.lost = guard.lost();
        const Lock held = guard.lock();
        auto released = guard.release();
        if (released) {
            ++slot.releases;
        } else if (released.error().kind == LockErrorKind::NotHeld) {
            ++slot.expiredBeforeRelease;
            event.lost = true;
        } else {
            ++slot.releaseErrors;
        }
        // A node that failed (now or at the acquire) may hold the key, or get it when it runs
        // a queued command: release again once the nodes are back.
        if (!released || hadNodeErrors(lock.votes) || anyNodeFaulted())
            remember(slot, held);
        recordEvent(slot, event, duration_cast<microseconds>(granted - requested),
                    duration_cast<microseconds>(ended - granted));
    }

    // --- controller ---------------------------------------------------------------------------

    void takeSample()
    {
        ThroughputSample sample;
        sample.seconds = runningSeconds();
        for (const auto &slot : workers) {
            sample.acquisitions += slot->acquisitions;
            sample.failedAttempts += slot->failedAttempts;
            sample.violations += slot->violations;
        }
        std::lock_guard lock(statsMutex);
        const ThroughputSample previous = samples.empty() ? ThroughputSample{} : samples.back();
        const double dt = sample.seconds - previous.seconds;
        if (dt > 0) {
            sample.acquisitionsPerSec = static_cast<double>(sample.acquisitions - previous.acquisitions) / dt;
            sample.failedAttemptsPerSec =
                static_cast<double>(sample.failedAttempts - previous.failedAttempts) / dt;
        }
        samples.push_back(sample);
        constexpr size_t kMaxSamples = 100'000;
        if (samples.size() > kMaxSamples)
            samples.erase(samples.begin(),
                          samples.begin() + static_cast<std::ptrdiff_t>(samples.size() - kMaxSamples));
    }

    quint64 acquisitionsSoFar() const
    {
        quint64 total = 0;
        for (const auto &slot : workers)
            total += slot->acquisitions;
        return total;
    }

    void runController()
    {
        std::vector<SimFault> pending = config.faults;
        double nextSample = std::chrono::duration<double>(config.sampleInterval).count();
        for (;;) {
            {
                std::unique_lock lock(runMutex);
                runWake.wait_for(lock, milliseconds(10), [this] { return stopRequested; });
                if (stopRequested)
                    break;
            }
            const double running = runningSeconds();
            if (config.duration.count() > 0 &&
                running >= std::chrono::duration<double>(config.duration).count())
                break;
            if (workersAlive.load() == 0)
                break;
            const quint64 acquired = acquisitionsSoFar();
            for (auto it = pending.begin(); it != pending.end();) {
                const bool due = it->afterAcquisitions > 0
                                     ? acquired >= static_cast<quint64>(it->afterAcquisitions)
                                     : running >= std::chrono::duration<double>(it->at).count();
                if (due) {
                    const SimFault fault = *it;
                    post([this, fault] { applyNow(fault); });
                    it = pending.erase(it);
                } else {
                    ++it;
                }
            }
            if (running >= nextSample) {
                takeSample();
                nextSample += std::chrono::duration<double>(config.sampleInterval).count();
            }
        }
        shutdown();
    }

    void shutdown()
    {
        {
            std::lock_guard lock(runMutex);
            state = SimState::Stopping;
        }
        // Nodes first, so that the final releases reach every node.
        onFaultThread([this] { revertAll(); });
        {
            std::lock_guard lock(runMutex);
            stopRequested = true;
            if (paused) {
                pausedTotal += SteadyClock::now() - pausedSince;
                paused = false;
            }
        }
        runWake.notify_all();
        cancel->cancel();
        for (auto &slot : workers) {
            if (slot->thread.joinable())
                slot->thread.join();
        }
        takeSample();
        cleanUp();
        // A finished run holds no connection to the nodes: the fault thread's admin connections
        // go too (a fault applied by hand later opens them again).
        onFaultThread([this] {
            for (auto &connection : admins)
                connection.reset();
        });
        // The controller thread only returns from here on.
        controllerAlive = false;
        {
            std::lock_guard lock(runMutex);
            state = SimState::Finished;
        }
        runWake.notify_all();
        if (onFinished)
            onFinished();
    }

    /// Counts lock keys left on the nodes and deletes the run's own fence counters.
    void cleanUp()
    {
        quint64 left = 0;
        for (const auto &node : config.nodes) {
            redis::NodeConfig adminConfig = node;
            adminConfig.clientName = QStringLiteral("lockscope-sim-admin");
            redis::Connection connection(adminConfig);
            std::vector<std::vector<QByteArray>> commands;
            for (int k = 0; k < config.keys; ++k)
                commands.push_back({QByteArrayLiteral("EXISTS"), keyName(k)});
            if (ownPrefix) {
                for (int k = 0; k < config.keys; ++k)
                    commands.push_back({QByteArrayLiteral("DEL"), lock::fenceKeyFor(keyName(k))});
            }
            auto replies = connection.pipeline(commands);
            if (!replies) {
                qCWarning(lcSim) << "final key check:" << replies.error().toString();
                continue;
            }
            for (int k = 0; k < config.keys; ++k)
                left +=
                    static_cast<quint64>(std::max<qint64>(0, (*replies)[static_cast<size_t>(k)].integer()));
        }
        std::lock_guard lock(statsMutex);
        keysLeft = left;
    }
};

Simulation::Simulation(SimConfig config, std::vector<redis::LocalRedisServer *> localServers)
    : d(std::make_unique<Private>())
{
    d->config = std::move(config);
    d->local = std::move(localServers);
    d->nodes.resize(d->config.nodes.size());
    d->admins.resize(d->config.nodes.size());
    d->runId =
        QByteArray::number(QRandomGenerator::system()->generate() & 0xffffff, 16).rightJustified(6, '0');
    d->ownPrefix = d->config.keyPrefix.isEmpty();
    d->prefix = d->ownPrefix ? QByteArrayLiteral("lockscope:sim:") + d->runId + ':' : d->config.keyPrefix;
    if (d->config.seed == 0)
        d->config.seed = QRandomGenerator::system()->generate64() | 1;
}

Simulation::~Simulation()
{
    requestStop();
    if (d->controller.joinable())
        d->controller.join();
    {
        std::lock_guard lock(d->faultMutex);
        d->faultShutdown = true;
    }
    d->faultWake.notify_all();
    if (d->faultThread.joinable())
        d->faultThread.join();
}

const SimConfig &Simulation::config() const
{
    return d->config;
}

QByteArray Simulation::lockKey(int key) const
{
    return d->keyName(key);
}

void Simulation::setFinishedCallback(std::function<void()> callback)
{
    d->onFinished = std::move(callback);
}

std::expected<void, QString> Simulation::start()
{
    {
        std::lock_guard lock(d->runMutex);
        if (d->state != SimState::Idle)
            return std::unexpected(QStringLiteral("the simulation was already started"));
    }
    std::vector<bool> localNodes;
    for (size_t i = 0; i < d->config.nodes.size(); ++i)
        localNodes.push_back(d->isLocal(static_cast<int>(i)));
    if (const QStringList problems = d->config.validate(localNodes); !problems.isEmpty())
        return std::unexpected(problems.join(QLatin1Char('\n')));
    // Only now are the duration, the nodes and the seed final (a scenario is applied before
    // the operator's options override it).
    if (d->config.randomFaults) {
        std::ranges::move(randomFaultSchedule(d->config), std::back_inserter(d->config.faults));
        d->config.randomFaults.reset();
    }

    d->startedAt = QDateTime::currentDateTimeUtc();
    d->origin = SteadyClock::now();
    d->resource = std::make_unique<ProtectedResource>(d->config.keys, d->config.fencing, d->origin);
    d->tickets = d->config.maxAcquisitions;
    for (int i = 0; i < d->config.workers; ++i) {
        auto slot = std::make_unique<WorkerSlot>();
        slot->index = i;
        if (const auto rate = d->config.clockRate.find(i); rate != d->config.clockRate.end())
            slot->clock->setRate(rate->second);
        d->workers.push_back(std::move(slot));
    }
    {
        std::lock_guard lock(d->runMutex);
        d->state = SimState::Running;
    }
    d->faultThread = std::thread([this] { d->faultLoop(); });
    d->workersAlive = d->config.workers;
    for (auto &slot : d->workers) {
        WorkerSlot *s = slot.get();
        s->thread = std::thread([this, s] {
            d->runWorker(*s);
            --d->workersAlive;
            d->runWake.notify_all();
        });
    }
    d->controllerAlive = true;
    d->controller = std::thread([this] { d->runController(); });
    return {};
}

void Simulation::pause()
{
    std::lock_guard lock(d->runMutex);
    if (d->state != SimState::Running)
        return;
    d->paused = true;
    d->pausedSince = SteadyClock::now();
    d->state = SimState::Paused;
}

void Simulation::resume()
{
    {
        std::lock_guard lock(d->runMutex);
        if (d->state != SimState::Paused)
            return;
        d->pausedTotal += SteadyClock::now() - d->pausedSince;
        d->paused = false;
        d->state = SimState::Running;
    }
    d->runWake.notify_all();
}

void Simulation::requestStop()
{
    {
        std::lock_guard lock(d->runMutex);
        if (d->state == SimState::Idle || d->state == SimState::Finished)
            return;
        d->stopRequested = true;
    }
    d->runWake.notify_all();
}

void Simulation::stop()
{
    requestStop();
    waitFinished(milliseconds::max());
}

bool Simulation::waitFinished(milliseconds timeout)
{
    std::unique_lock lock(d->runMutex);
    const auto done = [this] {
        return d->state == SimState::Finished || d->state == SimState::Idle;
    };
    if (timeout == milliseconds::max()) {
        d->runWake.wait(lock, done);
        return true;
    }
    return d->runWake.wait_for(lock, timeout, done);
}

SimState Simulation::state() const
{
    std::lock_guard lock(d->runMutex);
    return d->state;
}

SimStats Simulation::stats() const
{
    SimStats s;
    {
        std::lock_guard lock(d->runMutex);
        s.state = d->state;
        s.elapsedSeconds = std::chrono::duration<double>(d->runningTimeLocked(SteadyClock::now())).count();
    }
    for (const auto &slot : d->workers) {
        WorkerStats w;
        w.worker = slot->index;
        w.acquisitions = slot->acquisitions;
        w.failedAttempts = slot->failedAttempts;
        w.acquireFailures = slot->acquireFailures;
        w.censoredWaits = slot->censoredWaits;
        w.waitMaxUs = slot->waitMaxUs;
        w.violations = slot->violations;
        w.fencingRejections = slot->fencingRejections;
        w.abandonedWrites = slot->abandonedWrites;
        w.lostLocks = slot->lostLocks;
        w.expiredBeforeRelease = slot->expiredBeforeRelease;
        w.stalls = slot->stalls;
        w.wakeups = slot->wakeups;
        w.clockRate = slot->clock->rate();
        w.holding = slot->holding;
        s.acquisitions += w.acquisitions;
        s.failedAttempts += w.failedAttempts;
        s.acquireFailures += w.acquireFailures;
        s.censoredWaits += w.censoredWaits;
        s.abandonedWrites += w.abandonedWrites;
        s.lostLocks += w.lostLocks;
        s.expiredBeforeRelease += w.expiredBeforeRelease;
        s.stalls += w.stalls;
        s.wakeups += w.wakeups;
        s.releases += slot->releases;
        s.releaseErrors += slot->releaseErrors;
        s.workers.push_back(w);
    }
    if (d->resource) {
        const ProtectedResource::KeyState total = d->resource->total();
        s.violations = total.violations;
        s.fencingRejections = total.fencingRejections;
        s.overlaps = total.overlaps;
        s.acceptedWrites = total.acceptedWrites;
    }
    s.fairness = jain(s.workers);
    s.meanAcquisitionsPerSec =
        s.elapsedSeconds > 0 ? static_cast<double>(s.acquisitions) / s.elapsedSeconds : 0;
    {
        std::lock_guard lock(d->statsMutex);
        const LatencyHistogram &w = d->waitHistogram;
        s.waitP50Us = w.percentile(50);
        s.waitP95Us = w.percentile(95);
        s.waitP99Us = w.percentile(99);
        s.waitMaxUs = w.max();
        s.waitMeanUs = w.mean();
        const LatencyHistogram &h = d->holdHistogram;
        s.holdP50Us = h.percentile(50);
        s.holdP95Us = h.percentile(95);
        s.holdP99Us = h.percentile(99);
        s.holdMaxUs = h.max();
        s.holdMeanUs = h.mean();
        s.waitLog2Us = d->waitLog2;
        if (!d->samples.empty()) {
            s.acquisitionsPerSec = d->samples.back().acquisitionsPerSec;
            s.failedAttemptsPerSec = d->samples.back().failedAttemptsPerSec;
        }
        s.keysLeft = d->keysLeft;
    }
    {
        std::lock_guard lock(d->nodeMutex);
        for (const NodeState &n : d->nodes) {
            s.nodePaused.push_back(n.paused);
            s.nodeDown.push_back(n.down);
        }
    }
    return s;
}

std::vector<SectionEvent> Simulation::events(quint64 afterSeq) const
{
    std::lock_guard lock(d->statsMutex);
    std::vector<SectionEvent> out;
    const size_t n = d->ring.size();
    const size_t first = n < static_cast<size_t>(d->config.eventCapacity) ? 0 : d->ringNext;
    for (size_t i = 0; i < n; ++i) {
        const SectionEvent &e = d->ring[(first + i) % n];
        if (e.seq > afterSeq)
            out.push_back(e);
    }
    return out;
}

std::vector<ThroughputSample> Simulation::samples(size_t from) const
{
    std::lock_guard lock(d->statsMutex);
    if (from >= d->samples.size())
        return {};
    return {d->samples.begin() + static_cast<std::ptrdiff_t>(from), d->samples.end()};
}

std::vector<FaultRecord> Simulation::faultLog() const
{
    std::lock_guard lock(d->faultMutex);
    return d->faultLog;
}

SimReport Simulation::report() const
{
    SimReport r;
    r.config = d->config;
    r.startedAt = d->startedAt;
    r.keyPrefix = d->prefix;
    r.stats = stats();
    r.samples = samples();
    r.faults = faultLog();
    if (d->resource) {
        r.overlaps = d->resource->overlaps();
        for (int k = 0; k < d->resource->keyCount(); ++k)
            r.registers.push_back(d->resource->state(k));
    }
    std::lock_guard lock(d->statsMutex);
    r.eventsDropped = d->eventSeq - d->ring.size();
    return r;
}

void Simulation::inject(const SimFault &fault)
{
    if (!d->faultThread.joinable())
        return;
    d->post([this, fault] { d->applyNow(fault); });
}

FaultRecord Simulation::apply(const SimFault &fault)
{
    if (!d->faultThread.joinable()) {
        FaultRecord r;
        r.fault = fault;
        r.message = QStringLiteral("the simulation has not been started");
        return r;
    }
    return d->onFaultThread([this, fault] { return d->applyNow(fault); });
}

int Simulation::liveWorkerThreads() const
{
    return d->workersAlive.load() + (d->controllerAlive.load() ? 1 : 0);
}

} // namespace lockscope::sim
