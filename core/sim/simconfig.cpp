#include "simconfig.h"

#include "util/duration.h"

#include <algorithm>

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
    return problems;
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

} // namespace lockscope::sim
