#include "simconfig.h"

#include "util/duration.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace lockscope::sim {

namespace {

struct KindName
{
    SimFault::Kind kind;
    const char *name;
};

constexpr KindName kKindNames[] = {
    {SimFault::Kind::PauseNode, "pause"},
    {SimFault::Kind::ResumeNode, "resume"},
    {SimFault::Kind::KillNode, "kill"},
    {SimFault::Kind::RestartNode, "restart"},
    {SimFault::Kind::DropConnection, "drop-connection"},
    {SimFault::Kind::ClockDrift, "clock-drift"},
    {SimFault::Kind::StallHolder, "stall"},
};

struct LockKindName
{
    SimLockKind kind;
    const char *name;
};

constexpr LockKindName kLockKindNames[] = {
    {SimLockKind::Mutex, "mutex"},         {SimLockKind::ReadWrite, "rw"},
    {SimLockKind::Semaphore, "semaphore"}, {SimLockKind::Fair, "fair"},
    {SimLockKind::Reentrant, "reentrant"},
};

bool isNodeFault(SimFault::Kind kind)
{
    return kind == SimFault::Kind::PauseNode || kind == SimFault::Kind::ResumeNode ||
           kind == SimFault::Kind::KillNode || kind == SimFault::Kind::RestartNode;
}

SimFault fault(SimFault::Kind kind, int target, milliseconds at, milliseconds length)
{
    SimFault f;
    f.kind = kind;
    f.target = target;
    f.at = at;
    f.length = length;
    return f;
}

constexpr int kMaxPermits = 10'000;

/// The lock kind's own parameters: permits for a semaphore only, a read ratio for read/write only.
QStringList validateLockKind(const SimConfig &c)
{
    QStringList problems;
    const QString kind = simLockKindName(c.lockKind);
    if (c.lockKind == SimLockKind::Semaphore) {
        if (c.permits < 1 || c.permits > kMaxPermits)
            problems
                << QStringLiteral("permits: %1 (a semaphore needs 1 to %2)").arg(c.permits).arg(kMaxPermits);
    } else if (c.permits != 0) {
        problems
            << QStringLiteral("permits: %1 given for a %2 lock (semaphore only)").arg(c.permits).arg(kind);
    }
    if (c.readRatio) {
        if (c.lockKind != SimLockKind::ReadWrite)
            problems << QStringLiteral("read ratio: given for a %1 lock (rw only)").arg(kind);
        else if (!(*c.readRatio >= 0.0 && *c.readRatio <= 1.0))
            problems << QStringLiteral("read ratio: %1 (0 to 1)").arg(*c.readRatio);
    }
    return problems;
}

} // namespace

QString SimFault::kindName(Kind kind)
{
    for (const KindName &entry : kKindNames) {
        if (entry.kind == kind)
            return QString::fromLatin1(entry.name);
    }
    return QStringLiteral("unknown");
}

std::optional<SimFault::Kind> SimFault::kindFromName(const QString &name)
{
    for (const KindName &entry : kKindNames) {
        if (name == QLatin1String(entry.name))
            return entry.kind;
    }
    return std::nullopt;
}

QString SimFault::describe() const
{
    QString text = kindName(kind);
    if (isNodeFault(kind))
        text += QStringLiteral(" node %1").arg(target);
    else if (target < 0)
        text += kind == Kind::StallHolder ? QStringLiteral(" next holder") : QStringLiteral(" every worker");
    else
        text += QStringLiteral(" worker %1").arg(target);
    if (kind == Kind::ClockDrift)
        text += QStringLiteral(" rate %1").arg(rate);
    if (length.count() > 0)
        text += QStringLiteral(" for %1").arg(formatDuration(length));
    if (afterAcquisitions > 0)
        text += QStringLiteral(" after %1 acquisitions").arg(afterAcquisitions);
    else if (at.count() > 0)
        text += QStringLiteral(" at %1").arg(formatDuration(at));
    return text;
}

double SimConfig::effectiveReadRatio() const
{
    if (lockKind != SimLockKind::ReadWrite)
        return 0.0;
    return readRatio.value_or(kDefaultReadRatio);
}

QStringList SimConfig::validate(const std::vector<bool> &localNodes) const
{
    QStringList problems;
    const int nodeCount = static_cast<int>(nodes.size());
    if (nodes.empty())
        problems << QStringLiteral("nodes: none given");
    // A run writes (lock keys, fence counters, and faults pause or kill nodes): nothing of it
    // may reach a node the operator marked read-only.
    QStringList readOnly;
    for (const auto &node : nodes)
        if (node.readOnly)
            readOnly << node.label();
    if (!readOnly.isEmpty())
        problems << QStringLiteral(
                        "nodes: %1 marked read-only: a simulation writes lock keys and fence counters")
                        .arg(readOnly.size() == 1
                                 ? QStringLiteral("%1 is").arg(readOnly.front())
                                 : QStringLiteral("%1 are").arg(readOnly.join(QStringLiteral(", "))));
    if (workers < 1 || workers > 1024)
        problems << QStringLiteral("workers: %1 (1 to 1024)").arg(workers);
    if (processes < 0 || processes > workers)
        problems << QStringLiteral("processes: %1 (0 = one per worker, or 1 to the %2 workers)")
                        .arg(processes)
                        .arg(workers);
    else if (processes > 0 && !clockRate.empty())
        problems << QStringLiteral("processes: clock drift is set per worker, and workers of one "
                                   "process share its clock: drop the drift or the processes");
    if (keys < 1 || keys > 100'000)
        problems << QStringLiteral("keys: %1 (1 to 100000)").arg(keys);
    if (hold.count() < 0)
        problems << QStringLiteral("hold: negative");
    if (ttl.count() <= 0)
        problems << QStringLiteral("ttl: must be positive");
    if (wait.count() < 0 || duration.count() < 0 || maxAcquisitions < 0)
        problems << QStringLiteral("wait, duration and acquisitions must not be negative");
    if (stall.count() < 0 || stallEvery < 0)
        problems << QStringLiteral("stall / stall-every: negative");
    if ((stall.count() > 0) != (stallEvery > 0))
        problems << QStringLiteral("stall and stall-every go together (one section in K stalls for D)");
    if (eventCapacity < 0)
        problems << QStringLiteral("event capacity: negative");
    if (sampleInterval.count() <= 0)
        problems << QStringLiteral("sample interval: must be positive");
    problems << validateLockKind(*this);
    for (const auto &[worker, rate] : clockRate) {
        if (worker < 0 || worker >= workers)
            problems << QStringLiteral("clock drift: no worker %1 (0 to %2)").arg(worker).arg(workers - 1);
        if (!(rate > 0.0) || rate > 100.0)
            problems << QStringLiteral("clock drift: rate %1 of worker %2 (above 0, at most 100)")
                            .arg(rate)
                            .arg(worker);
    }
    for (const SimFault &f : faults) {
        if (isNodeFault(f.kind)) {
            if (f.target < 0 || f.target >= nodeCount) {
                problems << QStringLiteral("fault '%1': no node %2 (%3 nodes)")
                                .arg(f.describe())
                                .arg(f.target)
                                .arg(nodeCount);
                continue;
            }
            const bool local = static_cast<size_t>(f.target) < localNodes.size() &&
                               localNodes[static_cast<size_t>(f.target)];
            if ((f.kind == SimFault::Kind::KillNode || f.kind == SimFault::Kind::RestartNode) && !local)
                problems << QStringLiteral("fault '%1': node %2 (%3) was not started by the simulator; "
                                           "only local nodes can be killed and restarted")
                                .arg(f.describe())
                                .arg(f.target)
                                .arg(nodes[static_cast<size_t>(f.target)].label());
        } else if (f.target >= workers || (f.target < 0 && f.kind == SimFault::Kind::DropConnection)) {
            problems << QStringLiteral("fault '%1': no worker %2 (0 to %3)")
                            .arg(f.describe())
                            .arg(f.target)
                            .arg(workers - 1);
        }
        if (f.kind == SimFault::Kind::ClockDrift && (!(f.rate > 0.0) || f.rate > 100.0))
            problems << QStringLiteral("fault '%1': rate above 0, at most 100").arg(f.describe());
        if (f.kind == SimFault::Kind::StallHolder && f.length.count() <= 0)
            problems << QStringLiteral("fault '%1': a stall needs a length").arg(f.describe());
    }
    if (randomFaults) {
        const RandomFaults &r = *randomFaults;
        if (!(r.killShare >= 0.0 && r.killShare <= 1.0))
            problems << QStringLiteral("random faults: kill share %1 (0 to 1)").arg(r.killShare);
        const auto range = [&](const char *name, double min, double max) {
            if (!(min > 0.0 && min <= max && max <= 1000.0))
                problems << QStringLiteral("random faults: %1 %2 to %3 (x TTL; above 0, min <= max)")
                                .arg(QLatin1String(name))
                                .arg(min)
                                .arg(max);
        };
        range("pause", r.pauseMin, r.pauseMax);
        range("down time", r.downMin, r.downMax);
        range("gap", r.gapMin, r.gapMax);
        if (r.endMargin.count() < 0 || r.horizon.count() <= 0)
            problems << QStringLiteral("random faults: end margin negative or horizon not positive");
        if (r.killShare > 0.0) {
            QStringList remote;
            for (size_t i = 0; i < nodes.size(); ++i)
                if (i >= localNodes.size() || !localNodes[i])
                    remote << nodes[i].label();
            if (!remote.isEmpty())
                problems << QStringLiteral(
                                "random faults kill and restart nodes, and %1 %2 not started by the "
                                "simulator; only local nodes can be killed and restarted")
                                .arg(remote.join(QStringLiteral(", ")),
                                     remote.size() == 1 ? QStringLiteral("was") : QStringLiteral("were"));
        }
    }
    return problems;
}

std::vector<SimFault> randomFaultSchedule(const SimConfig &config)
{
    std::vector<SimFault> schedule;
    if (!config.randomFaults || config.nodes.empty())
        return schedule;
    const RandomFaults &r = *config.randomFaults;
    const milliseconds span = config.duration.count() > 0 ? config.duration : r.horizon;
    const milliseconds end = span - r.endMargin;
    const auto ttl = static_cast<double>(std::max<qint64>(1, config.ttl.count()));
    // A stream of its own: the workers' generators derive theirs from the seed differently.
    std::mt19937_64 rng(config.seed ^ 0x50a4'f4a1'75c4'ed01ULL);
    // Never 0: a pause or kill of length 0 would last until the end of the run.
    const auto draw = [&](double min, double max) {
        const double x = std::uniform_real_distribution<double>(min, std::max(min, max))(rng);
        return milliseconds(std::max<qint64>(1, std::llround(x * ttl)));
    };
    std::uniform_int_distribution<int> pickNode(0, static_cast<int>(config.nodes.size()) - 1);
    std::bernoulli_distribution killDraw(std::clamp(r.killShare, 0.0, 1.0));
    milliseconds at{0};
    for (int i = 0;; ++i) {
        at += draw(r.gapMin, r.gapMax);
        bool kill = killDraw(rng);
        if (i == 0)
            kill = r.killShare >= 1.0;
        else if (i == 1)
            kill = r.killShare > 0.0;
        const milliseconds length = kill ? draw(r.downMin, r.downMax) : draw(r.pauseMin, r.pauseMax);
        if (at + length > end)
            break;
        schedule.push_back(
            fault(kill ? SimFault::Kind::KillNode : SimFault::Kind::PauseNode, pickNode(rng), at, length));
        at += length;
    }
    return schedule;
}

const std::vector<Scenario> &scenarios()
{
    static const std::vector<Scenario> list{
        {QStringLiteral("healthy"), QStringLiteral("Healthy mutex"),
         QStringLiteral("8 workers, one key, 1 ms holds, TTL 5 s, fencing on: zero violations expected."), 0,
         false},
        {QStringLiteral("ttl-short"), QStringLiteral("TTL shorter than work (no fencing)"),
         QStringLiteral("4 workers, TTL 200 ms; one section in 25 stalls 500 ms after its validity check "
                        "(a GC pause): the lock expires, another worker takes it, the stalled write "
                        "is a lost update."),
         0, false},
        {QStringLiteral("ttl-short-fenced"), QStringLiteral("TTL shorter than work, with fencing"),
         QStringLiteral("The same stalls with fencing tokens: the resource rejects the stale writes "
                        "(fencing rejections) and no violation is accepted."),
         0, false},
        {QStringLiteral("redlock-restart"), QStringLiteral("Redlock with a node restart"),
         QStringLiteral("3 local nodes, 4 workers, 1.5 s holds, TTL 3 s, no fencing. Node 2 is paused "
                        "from 1 s to 2.9 s; meanwhile node 1 is killed and restarted empty (no persistence), "
                        "so the holder that took nodes 0+1 keeps only node 0; when node 2 answers "
                        "again a second worker takes nodes 1+2: two holders at once."),
         3, true},
        {QStringLiteral("herd-poll"), QStringLiteral("Thundering herd: polling"),
         QStringLiteral("32 workers on one key, 1 ms holds; waiters sleep out their retry delay "
                        "(8 ms doubling to 256 ms)."),
         0, false},
        {QStringLiteral("herd-pubsub"), QStringLiteral("Thundering herd: pub/sub wake-up"),
         QStringLiteral("The same herd; releases are published and waiters retry on the message."), 0, false},
        {QStringLiteral("soak"), QStringLiteral("Soak: random pauses, kills and restarts"),
         QStringLiteral(
             "3 local nodes, 8 workers, 2 keys, holds of 0-2 ms, TTL 2 s, no fencing (the register alone "
             "must see no lost update), 5 minutes. Faults drawn from the seed (--seed N draws them again) "
             "for the run's duration, one at a time on a random node, each after 0.5-3 s of quiet: a pause"
             " (SIGSTOP) of 0.2-1.5 s, or (4 in 10) a kill, restarted empty after 2.5-4 s (lengths scale "
             "with the TTL). TTL 2 s > longest hold + longest pause; a killed node comes back only once "
             "the TTL has passed, so the locks it lost had expired anyway (a restart before that can grant"
             " a second holder: redlock-restart). One node down or paused at a time: a quorum of 2 of 3 "
             "keeps working. Zero violations expected, and no key or connection left behind."),
         3, true},
        {QStringLiteral("quorum-loss"), QStringLiteral("Quorum lost: degraded mode and circuit breakers"),
         QStringLiteral("3 local nodes, 4 workers, 1 ms holds, TTL 2 s, fencing on, degraded mode on, 12 s. "
                        "Nodes 1 and 2 are killed at 3 s and restarted empty at 7 s: the breakers open "
                        "after 3 failures, and without a quorum the workers take in-process (degraded) "
                        "locks; after the 5 s cool-down a probe finds the nodes back and closes the "
                        "breakers. All workers run in this one process and share its in-process table, so "
                        "they still exclude each other; separate processes would not. Turn degraded mode off "
                        "to see the acquires refused by the open breakers instead."),
         3, true},
    };
    return list;
}

std::optional<Scenario> findScenario(const QString &name)
{
    const auto &list = scenarios();
    const auto found = std::ranges::find(list, name, &Scenario::name);
    if (found == list.end())
        return std::nullopt;
    return *found;
}

bool applyScenario(const QString &name, SimConfig &config)
{
    if (!findScenario(name))
        return false;
    using namespace std::chrono_literals;
    SimConfig next;
    next.nodes = config.nodes;
    next.keyPrefix = config.keyPrefix;
    next.seed = config.seed;
    next.eventCapacity = config.eventCapacity;
    next.scenario = name;
    next.duration = 10s;
    if (name == QLatin1String("healthy")) {
        next.workers = 8;
        next.hold = 1ms;
        next.ttl = 5s;
        next.fencing = true;
    } else if (name == QLatin1String("ttl-short") || name == QLatin1String("ttl-short-fenced")) {
        next.workers = 4;
        next.hold = 2ms;
        next.ttl = 200ms;
        next.stall = 500ms;
        next.stallEvery = 25;
        next.fencing = name == QLatin1String("ttl-short-fenced");
        // Waiters come back quickly, so one of them holds the expired lock during the stall.
        next.retry = lock::RetryStrategy::exponential(5ms, 50ms, 0, 0.5);
    } else if (name == QLatin1String("redlock-restart")) {
        // Node 2 pauses at 1 s; whoever takes the lock after that has it on nodes 0+1 only.
        // Node 1 is killed at 2.6 s and restarted empty: the holder keeps node 0 alone. Node 2
        // answers again at 2.9 s and the next worker gets nodes 1+2 while the first still
        // works: two holders. Keys that timed-out attempts left on the paused node (it runs
        // the queued commands when it resumes) expire by their 3 s TTL within the run.
        next.workers = 4;
        next.hold = 1500ms;
        next.ttl = 3s;
        next.fencing = false;
        next.retry = lock::RetryStrategy::exponential(5ms, 50ms, 0, 0.5);
        next.faults.push_back(fault(SimFault::Kind::PauseNode, 2, 1000ms, 1900ms));
        next.faults.push_back(fault(SimFault::Kind::KillNode, 1, 2600ms, 100ms));
    } else if (name == QLatin1String("herd-poll") || name == QLatin1String("herd-pubsub")) {
        next.workers = 32;
        next.hold = 1ms;
        next.ttl = 5s;
        next.wakeup = name == QLatin1String("herd-pubsub") ? Wakeup::PubSub : Wakeup::Poll;
    } else if (name == QLatin1String("soak")) {
        // Safety must hold: TTL 2 s > longest hold (2 ms) + longest pause (0.75 x TTL = 1.5 s),
        // kills restart after 1.25-2 x TTL. Fencing off: a stale write then shows as a
        // violation instead of a rejection, and fence counters, which a restart without
        // persistence resets, cannot make a legitimate write look stale.
        next.workers = 8;
        next.keys = 2;
        next.hold = 1ms;
        next.holdDistribution = HoldDistribution::Uniform;
        next.ttl = 2s;
        next.fencing = false;
        next.duration = 5min;
        next.randomFaults = RandomFaults{};
    } else if (name == QLatin1String("quorum-loss")) {
        // Two of three nodes down: no quorum for 4 s. The restart comes before the breakers'
        // 5 s cool-down ends (they open at about 3 s), so the first probe finds the nodes up.
        next.workers = 4;
        next.hold = 1ms;
        next.ttl = 2s;
        next.fencing = true;
        next.degraded = true;
        next.duration = 12s;
        next.faults.push_back(fault(SimFault::Kind::KillNode, 1, 3000ms, 4000ms));
        next.faults.push_back(fault(SimFault::Kind::KillNode, 2, 3000ms, 4000ms));
    }
    config = std::move(next);
    return true;
}

QString holdDistributionName(HoldDistribution distribution)
{
    switch (distribution) {
    case HoldDistribution::Fixed:
        return QStringLiteral("fixed");
    case HoldDistribution::Uniform:
        return QStringLiteral("uniform");
    case HoldDistribution::Exponential:
        return QStringLiteral("exponential");
    }
    return QStringLiteral("fixed");
}

std::optional<HoldDistribution> holdDistributionFromName(const QString &name)
{
    for (const HoldDistribution d :
         {HoldDistribution::Fixed, HoldDistribution::Uniform, HoldDistribution::Exponential}) {
        if (name == holdDistributionName(d))
            return d;
    }
    return std::nullopt;
}

QString wakeupName(Wakeup wakeup)
{
    return wakeup == Wakeup::PubSub ? QStringLiteral("pubsub") : QStringLiteral("poll");
}

QString simLockKindName(SimLockKind kind)
{
    for (const LockKindName &entry : kLockKindNames) {
        if (entry.kind == kind)
            return QString::fromLatin1(entry.name);
    }
    return QStringLiteral("mutex");
}

std::optional<SimLockKind> simLockKindFromName(const QString &name)
{
    for (const LockKindName &entry : kLockKindNames) {
        if (name == QLatin1String(entry.name))
            return entry.kind;
    }
    return std::nullopt;
}

} // namespace lockscope::sim
