#include "simworker.h"

#include "lock/watchdog.h"

#include <algorithm>
#include <bit>

namespace lockscope::sim {

using lock::AcquireOptions;
using lock::Lock;
using lock::Locker;
using lock::LockerOptions;
using lock::LockErrorKind;
using lock::LockGuard;
using lock::LockKind;
using std::chrono::duration_cast;

namespace {

/// The worker slot whose thread this is (set for the worker threads only).
thread_local WorkerSlot *t_slot = nullptr;

constexpr int kLog2Buckets = 32;

int log2Bucket(quint64 us)
{
    if (us < 2)
        return 0;
    return std::min(kLog2Buckets - 1, 63 - std::countl_zero(us));
}

bool hadNodeErrors(const std::vector<lock::NodeVote> &votes)
{
    return std::ranges::any_of(
        votes, [](const lock::NodeVote &v) { return v.outcome == lock::NodeVote::Outcome::Error; });
}

void remember(WorkerSlot &slot, Lock lock)
{
    constexpr size_t kMaxUnreleased = 256;
    if (slot.unreleased.size() >= kMaxUnreleased)
        slot.unreleased.erase(slot.unreleased.begin()); // the oldest expires first anyway
    slot.unreleased.push_back(std::move(lock));
}

QString workerThreadName(int worker)
{
    return QStringLiteral("sim-w%1").arg(worker);
}

/// The worker whose thread runs now (nullptr on other threads: a watchdog's, the fault
/// thread's), so that a breaker transition counts for the worker whose call caused it.
thread_local WorkerSlot *tCurrentSlot = nullptr;

} // namespace

SimWorkers::SimWorkers(const SimConfig &config, QByteArray keyPrefix, QByteArray runId, RunState &run,
                       const NodeStates &nodes)
    : m_config(config), m_prefix(std::move(keyPrefix)), m_runId(std::move(runId)), m_run(run), m_nodes(nodes),
      m_tracksOrder(config.lockKind == SimLockKind::Mutex || config.lockKind == SimLockKind::Fair ||
                    config.lockKind == SimLockKind::Reentrant),
      m_waitLog2(kLog2Buckets, 0)
{}

SimWorkers::~SimWorkers()
{
    cancel();
    join();
}

QString SimWorkers::clientName(int worker) const
{
    if (m_config.processes > 0)
        return QStringLiteral("lockscope-sim-%1-p%2")
            .arg(QString::fromLatin1(m_runId))
            .arg(worker % m_config.processes);
    return QStringLiteral("lockscope-sim-%1-w%2").arg(QString::fromLatin1(m_runId)).arg(worker);
}

std::shared_ptr<Locker> SimWorkers::lockerFor(const WorkerSlot &slot)
{
    if (m_config.processes <= 0)
        return makeLocker(slot);
    // The process's first worker to start makes its Locker, on its own clock.
    std::lock_guard lock(m_lockersMutex);
    std::shared_ptr<Locker> &shared = m_lockers[slot.index % m_config.processes];
    if (!shared)
        shared = makeLocker(slot);
    return shared;
}

void SimWorkers::create(ProtectedResource &resource)
{
    m_resource = &resource;
    m_tickets = m_config.maxAcquisitions;
    for (int i = 0; i < m_config.workers; ++i) {
        auto slot = std::make_unique<WorkerSlot>();
        slot->index = i;
        if (const auto rate = m_config.clockRate.find(i); rate != m_config.clockRate.end())
            slot->clock->setRate(rate->second);
        // The sleeping thread's own slot: with processes, workers share the clock of their
        // process's Locker, and its observer runs on every one of their threads.
        if (m_tracksOrder)
            slot->clock->setSleepObserver([this] {
                if (t_slot != nullptr)
                    onRetrySleep(*t_slot);
            });
        m_slots.push_back(std::move(slot));
    }
}

void SimWorkers::start(std::function<void()> onEnded)
{
    m_alive = static_cast<int>(m_slots.size());
    for (auto &slot : m_slots) {
        WorkerSlot *s = slot.get();
        s->thread = std::thread([this, s, onEnded] {
            t_slot = s;
            run(*s);
            t_slot = nullptr;
            --m_alive;
            onEnded();
        });
    }
}

void SimWorkers::join()
{
    for (auto &slot : m_slots) {
        if (slot->thread.joinable())
            slot->thread.join();
    }
}

void SimWorkers::setClockRate(int target, double rate)
{
    for (auto &slot : m_slots) {
        if (target < 0 || slot->index == target)
            slot->clock->setRate(rate);
    }
}

void SimWorkers::stallNext(int target, milliseconds length)
{
    if (target < 0)
        m_anyStallMs = length.count();
    else
        m_slots[static_cast<size_t>(target)]->pendingStallMs = length.count();
}

quint64 SimWorkers::acquisitions() const
{
    quint64 total = 0;
    for (const auto &slot : m_slots)
        total += slot->acquisitions;
    return total;
}

ThroughputSample SimWorkers::totals() const
{
    ThroughputSample sample;
    for (const auto &slot : m_slots) {
        sample.acquisitions += slot->acquisitions;
        sample.failedAttempts += slot->failedAttempts;
        sample.violations += slot->violations;
    }
    return sample;
}

void SimWorkers::addTo(SimStats &s) const
{
    for (const auto &slot : m_slots) {
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
        w.handovers = slot->handovers;
        w.degradedAcquisitions = slot->degradedAcquisitions;
        w.degradedWrites = slot->degradedWrites;
        w.breakerRefusals = slot->breakerRefusals;
        w.breakerOpens = slot->breakerOpens;
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
        s.handovers += w.handovers;
        s.degradedAcquisitions += w.degradedAcquisitions;
        s.degradedWrites += w.degradedWrites;
        s.breakerRefusals += w.breakerRefusals;
        s.breakerOpens += w.breakerOpens;
        s.reads += slot->reads;
        s.reentries += slot->reentries;
        s.releases += slot->releases;
        s.releaseErrors += slot->releaseErrors;
        s.workers.push_back(w);
    }
    std::lock_guard lock(m_statsMutex);
    const LatencyHistogram &w = m_waitHistogram;
    s.waitP50Us = w.percentile(50);
    s.waitP95Us = w.percentile(95);
    s.waitP99Us = w.percentile(99);
    s.waitMaxUs = w.max();
    s.waitMeanUs = w.mean();
    const LatencyHistogram &h = m_holdHistogram;
    s.holdP50Us = h.percentile(50);
    s.holdP95Us = h.percentile(95);
    s.holdP99Us = h.percentile(99);
    s.holdMaxUs = h.max();
    s.holdMeanUs = h.mean();
    s.waitLog2Us = m_waitLog2;
}

std::vector<SectionEvent> SimWorkers::events(quint64 afterSeq) const
{
    std::lock_guard lock(m_statsMutex);
    std::vector<SectionEvent> out;
    const size_t n = m_ring.size();
    const size_t first = n < static_cast<size_t>(m_config.eventCapacity) ? 0 : m_ringNext;
    for (size_t i = 0; i < n; ++i) {
        const SectionEvent &e = m_ring[(first + i) % n];
        if (e.seq > afterSeq)
            out.push_back(e);
    }
    return out;
}

quint64 SimWorkers::eventsDropped() const
{
    std::lock_guard lock(m_statsMutex);
    return m_eventSeq - m_ring.size();
}

std::vector<BreakerRecord> SimWorkers::breakerLog(size_t from) const
{
    std::lock_guard lock(m_breakerMutex);
    if (from >= m_breakerLog.size())
        return {};
    return {m_breakerLog.begin() + static_cast<std::ptrdiff_t>(from), m_breakerLog.end()};
}

/// On whichever thread made the transition (a worker's, its watchdog's), outside the
/// breaker's lock: counts the open for the worker whose call it was and logs it.
void SimWorkers::onBreakerChange(int locker, const redis::BreakerEvent &event) const
{
    BreakerRecord record;
    record.atUs = m_run.sinceStartUs(SteadyClock::now());
    record.locker = locker;
    record.process = m_config.processes > 0;
    record.event = event;
    for (size_t i = 0; i < m_config.nodes.size(); ++i) {
        if (m_config.nodes[i].label() == event.node) {
            record.node = static_cast<int>(i);
            break;
        }
    }
    if (event.to == redis::BreakerState::Open) {
        // From closed it took the threshold's consecutive failures; a failed probe is one.
        record.failures =
            event.from == redis::BreakerState::Closed ? redis::BreakerOptions{}.failureThreshold : 1;
        WorkerSlot *slot = tCurrentSlot;
        if (!slot) {
            const int owner = locker; // a worker's own Locker, or its process's first worker
            if (owner >= 0 && owner < count())
                slot = m_slots[static_cast<size_t>(owner)].get();
        }
        if (slot)
            ++slot->breakerOpens;
    }
    std::lock_guard lock(m_breakerMutex);
    if (m_breakerLog.size() < Simulation::kBreakerLogCapacity)
        m_breakerLog.push_back(std::move(record));
}

// --- on the worker threads ----------------------------------------------------------------

/// Caller holds m_statsMutex.
void SimWorkers::recordWaitLocked(WorkerSlot &slot, microseconds wait)
{
    if (wait.count() < 0)
        return;
    const auto us = static_cast<quint64>(wait.count());
    m_waitHistogram.record(us);
    ++m_waitLog2[static_cast<size_t>(log2Bucket(us))];
    if (us > slot.waitMaxUs)
        slot.waitMaxUs = us;
}

/// A blocking acquire that ended without the lock. Its wait is censored: it would have lasted
/// at least this long. Left out, a worker starved for the whole run would show no wait at all,
/// and the percentiles only the lucky workers' short ones.
void SimWorkers::recordCensoredWait(WorkerSlot &slot, microseconds wait)
{
    ++slot.censoredWaits;
    std::lock_guard lock(m_statsMutex);
    recordWaitLocked(slot, wait);
}

void SimWorkers::recordEvent(WorkerSlot &slot, SectionEvent event, microseconds wait, microseconds hold)
{
    std::lock_guard lock(m_statsMutex);
    recordWaitLocked(slot, wait);
    m_holdHistogram.record(static_cast<quint64>(std::max<qint64>(0, hold.count())));
    if (m_config.eventCapacity <= 0)
        return;
    event.seq = ++m_eventSeq;
    if (m_ring.size() < static_cast<size_t>(m_config.eventCapacity)) {
        m_ring.push_back(event);
    } else {
        m_ring[m_ringNext] = event;
        m_ringNext = (m_ringNext + 1) % m_ring.size();
    }
}

microseconds SimWorkers::sampleHold(std::mt19937_64 &rng) const
{
    const double mean = static_cast<double>(m_config.hold.count());
    if (mean <= 0)
        return microseconds(0);
    switch (m_config.holdDistribution) {
    case HoldDistribution::Fixed:
        return m_config.hold;
    case HoldDistribution::Uniform:
        return microseconds(std::llround(std::uniform_real_distribution<double>(0, 2 * mean)(rng)));
    case HoldDistribution::Exponential:
        return microseconds(std::llround(std::exponential_distribution<double>(1.0 / mean)(rng)));
    }
    return m_config.hold;
}

bool SimWorkers::reserveTicket()
{
    if (m_config.maxAcquisitions <= 0)
        return true;
    if (m_tickets.fetch_sub(1) > 0)
        return true;
    m_tickets.fetch_add(1);
    return false;
}

void SimWorkers::giveBackTicket()
{
    if (m_config.maxAcquisitions > 0)
        m_tickets.fetch_add(1);
}

/// Sleeps `length` unless stopped first; false when stopped.
bool SimWorkers::sleepFor(microseconds length) const
{
    if (length.count() <= 0)
        return !m_cancel->isCancelled();
    return m_cancel->sleepUntil(SteadyClock::now() + length);
}

std::unique_ptr<Locker> SimWorkers::makeLocker(const WorkerSlot &slot) const
{
    std::vector<redis::NodeConfig> nodeConfigs = m_config.nodes;
    for (auto &node : nodeConfigs)
        node.clientName = clientName(slot.index);
    LockerOptions options;
    options.fencing = m_config.fencing;
    options.keyPrefix = m_prefix;
    options.clock = slot.clock;
    options.poolSize = 2; // the worker and its watchdog
    options.publishOnRelease = m_config.wakeup == Wakeup::PubSub;
    options.wakeOnRelease = m_config.wakeup == Wakeup::PubSub;
    options.handOffAfter = m_config.handOffAfter;
    options.breaker.enabled = m_config.breaker; // otherwise the library's defaults
    options.degradedMode = m_config.degraded;
    const int locker = m_config.processes > 0 ? slot.index % m_config.processes : slot.index;
    options.onBreakerChange = [this, locker](const redis::BreakerEvent &event) {
        onBreakerChange(locker, event);
    };
    return std::make_unique<Locker>(std::move(nodeConfigs), options);
}

SimWorkers::Access SimWorkers::drawAccess(std::mt19937_64 &rng) const
{
    switch (m_config.lockKind) {
    case SimLockKind::ReadWrite:
        return std::bernoulli_distribution(m_config.effectiveReadRatio())(rng) ? Access::Read
                                                                               : Access::Exclusive;
    case SimLockKind::Semaphore:
        return Access::Permit;
    case SimLockKind::Mutex:
    case SimLockKind::Fair:
    case SimLockKind::Reentrant:
        break;
    }
    return Access::Exclusive;
}

AcquireOptions SimWorkers::acquireOptions(Access access, const QString &threadName) const
{
    AcquireOptions acquire;
    switch (m_config.lockKind) {
    case SimLockKind::Mutex:
        acquire.kind = LockKind::Mutex;
        break;
    case SimLockKind::ReadWrite:
        acquire.kind = access == Access::Read ? LockKind::Read : LockKind::Write;
        break;
    case SimLockKind::Semaphore:
        acquire.kind = LockKind::Semaphore;
        acquire.permits = m_config.permits;
        break;
    case SimLockKind::Fair:
        acquire.kind = LockKind::Fair;
        break;
    case SimLockKind::Reentrant:
        // The owner is this worker's Locker and thread (empty token), so that the second
        // acquire inside the section is the same owner re-entering.
        acquire.kind = LockKind::Reentrant;
        break;
    }
    acquire.ttl = m_config.ttl;
    acquire.retry = m_config.retry;
    acquire.wait = m_config.wait;
    acquire.cancel = m_cancel;
    acquire.thread = threadName;
    acquire.label = QStringLiteral("lockscope simulate");
    return acquire;
}

void SimWorkers::startWait(WorkerSlot &slot, int key, SteadyClock::time_point at)
{
    if (!m_tracksOrder)
        return;
    slot.waitKey = key;
    slot.waitConfirmed = false;
    m_resource->waitStarted(key, slot.index, at);
}

/// On the worker's thread, from its clock: the acquire's attempt was refused and it sleeps
/// before the next one. The first such sleep confirms the wait.
void SimWorkers::onRetrySleep(WorkerSlot &slot)
{
    if (slot.waitKey < 0 || slot.waitConfirmed)
        return;
    slot.waitConfirmed = true;
    m_resource->waitConfirmed(slot.waitKey, slot.index, SteadyClock::now());
}

void SimWorkers::endWait(WorkerSlot &slot, bool obtained)
{
    if (slot.waitKey < 0)
        return;
    // An obtained lock ends the wait in ProtectedResource::begin, which checks the order.
    if (!obtained)
        m_resource->waitEnded(slot.waitKey, slot.index);
    slot.waitKey = -1;
}

bool SimWorkers::handleAcquireFailure(WorkerSlot &slot, Locker &locker, int key, const lock::LockError &error,
                                      SteadyClock::time_point requested)
{
    giveBackTicket();
    if (hadNodeErrors(error.votes) && !error.token.isEmpty()) {
        // A timed-out node may still run the attempt later: release it in the end.
        Lock handle = locker.handleFor(lockerKey(key), error.token);
        if (m_config.lockKind == SimLockKind::Semaphore) {
            handle.kind = LockKind::Semaphore; // the semaphore's quorum
            handle.permits = m_config.permits;
        }
        handle.ttl = m_config.ttl;
        handle.validUntil = slot.clock->now() + m_config.ttl;
        remember(slot, std::move(handle));
    }
    // Cancelled too: the attempts of a waiter the run ended on failed all the same.
    slot.failedAttempts += static_cast<quint64>(std::max(1, error.attempts));
    recordCensoredWait(slot, duration_cast<microseconds>(SteadyClock::now() - requested));
    if (error.kind == LockErrorKind::Cancelled)
        return false;
    ++slot.acquireFailures;
    if (error.kind == LockErrorKind::BreakerOpen) {
        ++slot.breakerRefusals;
        // Refused at once, nothing sent: a client would not hammer the refusal in a tight
        // loop, so wait as after a refused attempt (the strategy's largest delay).
        const milliseconds pause = m_config.retry.kind == lock::RetryStrategy::Kind::Exponential
                                       ? m_config.retry.maxDelay
                                       : m_config.retry.delay;
        return sleepFor(std::max(pause, milliseconds(1)));
    }
    return true;
}

void SimWorkers::run(WorkerSlot &slot)
{
    tCurrentSlot = &slot;
    const std::shared_ptr<Locker> locker = lockerFor(slot);
    std::mt19937_64 rng(m_config.seed * 1'000'003ULL + static_cast<quint64>(slot.index));
    std::uniform_int_distribution<int> pickKey(0, m_config.keys - 1);
    const QString threadName = workerThreadName(slot.index);

    while (m_run.waitWhilePaused()) {
        retryReleases(slot, *locker);
        if (!reserveTicket())
            break;
        Grant grant;
        grant.key = pickKey(rng);
        grant.access = drawAccess(rng);
        const AcquireOptions acquire = acquireOptions(grant.access, threadName);
        // The wait starts here, just before the first attempt: not at the pause gate, nor
        // before the retried releases above.
        grant.requested = SteadyClock::now();
        startWait(slot, grant.key, grant.requested);
        auto obtained = locker->acquire(lockerKey(grant.key), acquire);
        endWait(slot, obtained.has_value());
        if (!obtained) {
            if (!handleAcquireFailure(slot, *locker, grant.key, obtained.error(), grant.requested))
                break;
            continue;
        }
        grant.granted = SteadyClock::now();
        slot.failedAttempts += static_cast<quint64>(std::max(0, obtained->attempts - 1));
        slot.wakeups += static_cast<quint64>(obtained->wakeups);
        if (obtained->handedOver)
            ++slot.handovers;
        ++slot.acquisitions;
        if (obtained->degraded)
            ++slot.degradedAcquisitions;
        if (grant.access == Access::Read)
            ++slot.reads;
        grant.lock = std::move(*obtained);
        slot.holding = true;
        runSection(slot, *locker, std::move(grant), rng);
        slot.holding = false;
    }
    // Faults are reverted by now (shutdown does that first): the last chance to leave no key.
    retryReleases(slot, *locker, true);
    tCurrentSlot = nullptr;
}

/// Releases again what a node failure kept from being released. The owner check makes it
/// harmless where the key is gone or taken over; a node that fails again keeps it listed
/// until its TTL has surely run out. During the run at most once a second (a paused node
/// costs a timeout per try), always when the worker ends.
void SimWorkers::retryReleases(WorkerSlot &slot, Locker &locker, bool final)
{
    if (slot.unreleased.empty())
        return;
    const auto now = SteadyClock::now();
    if (!final && (now - slot.lastReleaseRetry < std::chrono::seconds(1) || m_nodes.anyFaulted()))
        return;
    slot.lastReleaseRetry = now;
    std::erase_if(slot.unreleased, [&](const Lock &lock) {
        if (slot.clock->now() > lock.validUntil + lock.ttl / 50 + milliseconds(10))
            return true; // expired on every node by now
        auto released = locker.release(lock);
        return released || !hadNodeErrors(released.error().votes);
    });
}

microseconds SimWorkers::takeStall(WorkerSlot &slot)
{
    microseconds stall{0};
    const quint64 n = m_sections.fetch_add(1) + 1;
    if (m_config.stallEvery > 0 && m_config.stall.count() > 0 &&
        n % static_cast<quint64>(m_config.stallEvery) == 0)
        stall = m_config.stall;
    if (const qint64 mine = slot.pendingStallMs.exchange(0); mine > 0)
        stall = milliseconds(mine);
    else if (const qint64 any = m_anyStallMs.exchange(0); any > 0)
        stall = milliseconds(any);
    return stall;
}

std::optional<Lock> SimWorkers::reenter(WorkerSlot &slot, Locker &locker, const Grant &grant)
{
    auto again =
        locker.tryAcquire(lockerKey(grant.key), acquireOptions(grant.access, workerThreadName(slot.index)));
    if (!again)
        return std::nullopt;
    // One hold: the key was gone and this took it afresh, so the first hold had been lost.
    // Give it back at the end all the same.
    if (again->holds == 2)
        ++slot.reentries;
    return std::move(*again);
}

void SimWorkers::releaseInner(WorkerSlot &slot, Locker &locker, const Lock &inner, SectionEvent &event)
{
    auto released = locker.release(inner);
    if (released)
        return;
    if (released.error().kind == LockErrorKind::NotHeld)
        event.lost = true;
    else
        ++slot.releaseErrors;
    if (hadNodeErrors(released.error().votes))
        remember(slot, inner);
}

void SimWorkers::runSection(WorkerSlot &slot, Locker &locker, Grant grant, std::mt19937_64 &rng)
{
    const Lock &lock = grant.lock;
    WorkerSlot *counters = &slot;
    LockGuard guard(locker, lock, m_config.watchdog,
                    [counters](const lock::LockError &) { ++counters->lostLocks; });
    ProtectedResource::Ticket ticket =
        m_resource->begin(grant.key, slot.index, lock.fence, grant.access, lock.degraded);
    const microseconds stall = takeStall(slot);

    SectionEvent event;
    event.worker = slot.index;
    event.key = grant.key;
    event.requestUs = m_run.sinceStartUs(grant.requested);
    event.startUs = m_run.sinceStartUs(grant.granted);
    event.fence = lock.fence;
    event.stalled = stall.count() > 0;
    event.read = grant.access == Access::Read;
    event.degraded = lock.degraded;

    // Reentrant: the holder takes its lock again inside the section, as nested code would.
    std::optional<Lock> inner;
    if (m_config.lockKind == SimLockKind::Reentrant)
        inner = reenter(slot, locker, grant);
    const bool reentryLost = m_config.lockKind == SimLockKind::Reentrant && (!inner || inner->holds != 2);

    bool interrupted = !sleepFor(sampleHold(rng));
    // A careful client: give up when the watchdog says the lock is gone, or when the
    // validity (on this worker's clock, drift included) has run out.
    const bool lost = guard.lost() || reentryLost;
    const bool expired = m_config.checkValidity && guard.lock().validityLeft(slot.clock->now()).count() <= 0;
    if (!interrupted && event.stalled) {
        ++slot.stalls;
        // The GC pause: after the check, before the write.
        interrupted = !sleepFor(stall);
    }
    if (interrupted) {
        m_resource->abandon(ticket);
        event.outcome = SectionEvent::Outcome::Interrupted;
    } else if (lost || expired) {
        m_resource->abandon(ticket);
        ++slot.abandonedWrites;
        event.outcome = SectionEvent::Outcome::Abandoned;
    } else {
        event.outcome = commit(slot, ticket);
    }
    const auto ended = SteadyClock::now();
    event.endUs = m_run.sinceStartUs(ended);
    event.overlapped = ticket.overlapped;
    event.lost = guard.lost() || reentryLost;
    if (inner)
        releaseInner(slot, locker, *inner, event);
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
    if (!released || hadNodeErrors(lock.votes) || m_nodes.anyFaulted())
        remember(slot, held);
    recordEvent(slot, event, duration_cast<microseconds>(grant.granted - grant.requested),
                duration_cast<microseconds>(ended - grant.granted));
}

SectionEvent::Outcome SimWorkers::commit(WorkerSlot &slot, ProtectedResource::Ticket &ticket)
{
    if (ticket.unfenced && ticket.access != Access::Read)
        ++slot.degradedWrites;
    switch (m_resource->commit(ticket)) {
    case ProtectedResource::WriteOutcome::Accepted:
        return SectionEvent::Outcome::Accepted;
    case ProtectedResource::WriteOutcome::Violation:
        ++slot.violations;
        return SectionEvent::Outcome::Violation;
    case ProtectedResource::WriteOutcome::FencingRejected:
        ++slot.fencingRejections;
        return SectionEvent::Outcome::FencingRejected;
    }
    return SectionEvent::Outcome::Accepted;
}

} // namespace lockscope::sim
