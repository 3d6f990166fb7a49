#include "simulation.h"

#include "faultinjector.h"
#include "lock/lockvalue.h"
#include "redis/connection.h"
#include "runstate.h"
#include "simworker.h"

#include <QRandomGenerator>
#include <algorithm>
#include <atomic>
#include <iterator>
#include <mutex>
#include <thread>
#include <tuple>

namespace lockscope::sim {

namespace {

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

QByteArray newRunId()
{
    return QByteArray::number(QRandomGenerator::system()->generate() & 0xffffff, 16).rightJustified(6, '0');
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

QString BreakerRecord::describe() const
{
    QString where = node >= 0 ? QStringLiteral("node %1 (%2)").arg(node).arg(event.node) : event.node;
    where += process ? QStringLiteral(" for process %1").arg(locker)
                     : QStringLiteral(" for worker %1").arg(locker);
    switch (event.to) {
    case redis::BreakerState::Open:
        if (event.from == redis::BreakerState::HalfOpen)
            return QStringLiteral("breaker open again on %1 (probe failed: %2)").arg(where, event.cause);
        return QStringLiteral("breaker open on %1 (%2 failure%3: %4)")
            .arg(where)
            .arg(failures)
            .arg(failures == 1 ? QString() : QStringLiteral("s"), event.cause);
    case redis::BreakerState::HalfOpen:
        return QStringLiteral("breaker half-open on %1 (%2)").arg(where, event.cause);
    case redis::BreakerState::Closed:
        return QStringLiteral("breaker closed again on %1 (%2)").arg(where, event.cause);
    }
    return {};
}

/// The controller: owns the run's parts (workers, fault injector, protected resource), and on
/// its own thread applies the limits and the fault schedule, takes the throughput samples and
/// shuts the run down.
struct Simulation::Private
{
    Private(SimConfig simConfig, std::vector<redis::LocalRedisServer *> localServers)
        : config(std::move(simConfig)), runId(newRunId()), ownPrefix(config.keyPrefix.isEmpty()),
          prefix(ownPrefix ? QByteArrayLiteral("lockscope:sim:") + runId + ':' : config.keyPrefix),
          nodes(config.nodes.size()), workers(config, prefix, runId, run, nodes),
          faults(config, std::move(localServers), run, nodes, workers)
    {
        if (config.seed == 0)
            config.seed = QRandomGenerator::system()->generate64() | 1;
    }

    SimConfig config;
    const QByteArray runId;
    const bool ownPrefix;
    const QByteArray prefix;
    QDateTime startedAt;
    std::unique_ptr<ProtectedResource> resource;
    RunState run;
    NodeStates nodes;
    SimWorkers workers;
    FaultInjector faults; // after `workers`: its thread goes first
    std::function<void()> onFinished;
    std::thread controller;
    std::atomic<bool> controllerAlive{false};

    // The throughput series and the final key check: the controller writes, any thread reads.
    mutable std::mutex samplesMutex;
    std::vector<ThroughputSample> samples;
    quint64 keysLeft = 0;

    void takeSample();
    void runController();
    void shutdown();
    void cleanUp();
};

void Simulation::Private::takeSample()
{
    const double seconds = run.runningSeconds();
    ThroughputSample sample = workers.totals();
    sample.seconds = seconds;
    std::lock_guard lock(samplesMutex);
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

void Simulation::Private::runController()
{
    std::vector<SimFault> pending = config.faults;
    double nextSample = std::chrono::duration<double>(config.sampleInterval).count();
    for (;;) {
        if (run.waitForStopRequest(milliseconds(10)))
            break;
        const double running = run.runningSeconds();
        if (config.duration.count() > 0 && running >= std::chrono::duration<double>(config.duration).count())
            break;
        if (workers.alive() == 0)
            break;
        const quint64 acquired = workers.acquisitions();
        for (auto it = pending.begin(); it != pending.end();) {
            const bool due = it->afterAcquisitions > 0
                                 ? acquired >= static_cast<quint64>(it->afterAcquisitions)
                                 : running >= std::chrono::duration<double>(it->at).count();
            if (due) {
                faults.inject(*it);
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

void Simulation::Private::shutdown()
{
    run.setState(SimState::Stopping);
    // Nodes first, so that the final releases reach every node.
    faults.revertAll();
    run.stopNow();
    workers.cancel();
    workers.join();
    takeSample();
    cleanUp();
    // A finished run holds no connection to the nodes: the fault thread's admin connections go
    // too (a fault applied by hand later opens them again).
    faults.closeConnections();
    // The controller thread only returns from here on.
    controllerAlive = false;
    run.setState(SimState::Finished);
    if (onFinished)
        onFinished();
}

/// Counts lock keys left on the nodes and deletes the run's own fence counters and companions.
void Simulation::Private::cleanUp()
{
    quint64 left = 0;
    for (const auto &node : config.nodes) {
        redis::NodeConfig adminConfig = node;
        adminConfig.clientName = QStringLiteral("lockscope-sim-admin");
        redis::Connection connection(adminConfig);
        std::vector<std::vector<QByteArray>> commands;
        for (int k = 0; k < config.keys; ++k)
            commands.push_back({QByteArrayLiteral("EXISTS"), workers.keyName(k)});
        if (ownPrefix) {
            // The workers' Lockers name these after the run's prefix (lock::fenceKeyFor). The
            // counters have no TTL; a writer's intent or a queue (fair, or wake-up) a stalled or killed
            // worker left would expire, but the run is over and its names are its own.
            for (int k = 0; k < config.keys; ++k) {
                const QByteArray key = workers.keyName(k);
                const auto [queue, deadlines] = lock::fairQueueKeysFor(key, prefix);
                const auto [waiters, waiterDeadlines] = lock::waitQueueKeysFor(key, prefix);
                commands.push_back({QByteArrayLiteral("DEL"), lock::fenceKeyFor(key, prefix),
                                    lock::writerIntentKeyFor(key, prefix), queue, deadlines, waiters,
                                    waiterDeadlines});
            }
        }
        auto replies = connection.pipeline(commands);
        if (!replies) {
            qCWarning(lcSim) << "final key check:" << replies.error().toString();
            continue;
        }
        for (int k = 0; k < config.keys; ++k)
            left += static_cast<quint64>(std::max<qint64>(0, (*replies)[static_cast<size_t>(k)].integer()));
    }
    std::lock_guard lock(samplesMutex);
    keysLeft = left;
}

Simulation::Simulation(SimConfig config, std::vector<redis::LocalRedisServer *> localServers)
    : d(std::make_unique<Private>(std::move(config), std::move(localServers)))
{}

Simulation::~Simulation()
{
    requestStop();
    if (d->controller.joinable())
        d->controller.join();
    d->faults.stop();
}

const SimConfig &Simulation::config() const
{
    return d->config;
}

QByteArray Simulation::lockKey(int key) const
{
    return d->workers.keyName(key);
}

void Simulation::setFinishedCallback(std::function<void()> callback)
{
    d->onFinished = std::move(callback);
}

std::expected<void, QString> Simulation::start()
{
    if (d->run.state() != SimState::Idle)
        return std::unexpected(QStringLiteral("the simulation was already started"));
    std::vector<bool> localNodes;
    for (size_t i = 0; i < d->config.nodes.size(); ++i)
        localNodes.push_back(d->faults.isLocal(static_cast<int>(i)));
    if (const QStringList problems = d->config.validate(localNodes); !problems.isEmpty())
        return std::unexpected(problems.join(QLatin1Char('\n')));
    // Only now are the duration, the nodes and the seed final (a scenario is applied before
    // the operator's options override it).
    if (d->config.randomFaults) {
        std::ranges::move(randomFaultSchedule(d->config), std::back_inserter(d->config.faults));
        d->config.randomFaults.reset();
    }

    d->startedAt = QDateTime::currentDateTimeUtc();
    d->run.setOrigin(SteadyClock::now());
    d->resource = std::make_unique<ProtectedResource>(d->config.keys, d->config.fencing, d->run.origin(),
                                                      std::max(1, d->config.permits));
    d->workers.create(*d->resource);
    d->run.setState(SimState::Running);
    d->faults.start();
    d->workers.start([this] { d->run.notify(); });
    d->controllerAlive = true;
    d->controller = std::thread([this] { d->runController(); });
    return {};
}

void Simulation::pause()
{
    d->run.pause();
}

void Simulation::resume()
{
    d->run.resume();
}

void Simulation::requestStop()
{
    d->run.requestStop();
}

void Simulation::stop()
{
    requestStop();
    waitFinished(milliseconds::max());
}

bool Simulation::waitFinished(milliseconds timeout)
{
    return d->run.waitFinished(timeout);
}

SimState Simulation::state() const
{
    return d->run.state();
}

SimStats Simulation::stats() const
{
    SimStats s;
    std::tie(s.state, s.elapsedSeconds) = d->run.stateAndRunningSeconds();
    d->workers.addTo(s);
    if (d->resource) {
        const ProtectedResource::KeyState total = d->resource->total();
        s.violations = total.violations;
        s.fencingRejections = total.fencingRejections;
        s.overlaps = total.overlaps;
        s.acceptedWrites = total.acceptedWrites;
        s.readerOverlaps = total.readerOverlaps;
        s.maxHolders = total.maxHolders;
        s.orderViolations = total.orderViolations;
    }
    s.fairness = jain(s.workers);
    s.meanAcquisitionsPerSec =
        s.elapsedSeconds > 0 ? static_cast<double>(s.acquisitions) / s.elapsedSeconds : 0;
    {
        std::lock_guard lock(d->samplesMutex);
        if (!d->samples.empty()) {
            s.acquisitionsPerSec = d->samples.back().acquisitionsPerSec;
            s.failedAttemptsPerSec = d->samples.back().failedAttemptsPerSec;
        }
        s.keysLeft = d->keysLeft;
    }
    for (const NodeState &n : d->nodes.all()) {
        s.nodePaused.push_back(n.paused);
        s.nodeDown.push_back(n.down);
    }
    return s;
}

std::vector<SectionEvent> Simulation::events(quint64 afterSeq) const
{
    return d->workers.events(afterSeq);
}

std::vector<ThroughputSample> Simulation::samples(size_t from) const
{
    std::lock_guard lock(d->samplesMutex);
    if (from >= d->samples.size())
        return {};
    return {d->samples.begin() + static_cast<std::ptrdiff_t>(from), d->samples.end()};
}

std::vector<FaultRecord> Simulation::faultLog() const
{
    return d->faults.log();
}

std::vector<BreakerRecord> Simulation::breakerLog(size_t from) const
{
    return d->workers.breakerLog(from);
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
    r.breakers = breakerLog();
    if (d->resource) {
        r.overlaps = d->resource->overlaps();
        for (int k = 0; k < d->resource->keyCount(); ++k)
            r.registers.push_back(d->resource->state(k));
    }
    r.eventsDropped = d->workers.eventsDropped();
    return r;
}

void Simulation::inject(const SimFault &fault)
{
    if (!d->faults.started())
        return;
    d->faults.inject(fault);
}

FaultRecord Simulation::apply(const SimFault &fault)
{
    if (!d->faults.started()) {
        FaultRecord r;
        r.fault = fault;
        r.message = QStringLiteral("the simulation has not been started");
        return r;
    }
    return d->faults.apply(fault);
}

int Simulation::liveWorkerThreads() const
{
    return d->workers.alive() + (d->controllerAlive.load() ? 1 : 0);
}

} // namespace lockscope::sim
