#include "faultinjector.h"

#include "redis/connection.h"
#include "redis/localserver.h"
#include "runstate.h"
#include "simworker.h"

#include <QStringList>
#include <algorithm>
#include <future>
#include <type_traits>

namespace lockscope::sim {

namespace {

/// A pause of a node the simulator did not start is CLIENT PAUSE, which needs a length.
constexpr milliseconds kRemotePauseDefault{10'000};

} // namespace

FaultInjector::FaultInjector(const SimConfig &config, std::vector<redis::LocalRedisServer *> localServers,
                             const RunState &run, NodeStates &nodes, SimWorkers &workers)
    : m_config(config), m_local(std::move(localServers)), m_run(run), m_nodes(nodes), m_workers(workers),
      m_admins(config.nodes.size())
{}

FaultInjector::~FaultInjector()
{
    stop();
}

bool FaultInjector::isLocal(int node) const
{
    return node >= 0 && static_cast<size_t>(node) < m_local.size() && m_local[static_cast<size_t>(node)];
}

void FaultInjector::start()
{
    m_thread = std::thread([this] { loop(); });
}

void FaultInjector::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_shutdown = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

void FaultInjector::inject(const SimFault &fault)
{
    post([this, fault] { applyNow(fault); });
}

template <typename F>
auto FaultInjector::onThread(F fn) -> decltype(fn())
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

FaultRecord FaultInjector::apply(const SimFault &fault)
{
    return onThread([this, fault] { return applyNow(fault); });
}

void FaultInjector::revertAll()
{
    onThread([this] { revertAllNow(); });
}

void FaultInjector::closeConnections()
{
    onThread([this] {
        for (auto &connection : m_admins)
            connection.reset();
    });
}

std::vector<FaultRecord> FaultInjector::log() const
{
    std::lock_guard lock(m_mutex);
    return m_log;
}

void FaultInjector::post(std::function<void()> task, SteadyClock::duration delay)
{
    {
        std::lock_guard lock(m_mutex);
        m_tasks.push_back(DelayedTask{SteadyClock::now() + delay, ++m_taskOrder, std::move(task)});
    }
    m_wake.notify_all();
}

// --- on the fault thread ------------------------------------------------------------------

void FaultInjector::loop()
{
    std::unique_lock lock(m_mutex);
    while (!m_shutdown) {
        if (m_tasks.empty()) {
            m_wake.wait(lock);
            continue;
        }
        const auto next = std::ranges::min_element(m_tasks, [](const DelayedTask &a, const DelayedTask &b) {
            return a.due != b.due ? a.due < b.due : a.order < b.order;
        });
        if (next->due > SteadyClock::now()) {
            // Copy: wait_until releases the lock, and post() may reallocate the vector.
            const SteadyClock::time_point due = next->due;
            m_wake.wait_until(lock, due);
            continue;
        }
        std::function<void()> run = std::move(next->run);
        m_tasks.erase(next);
        lock.unlock();
        run();
        lock.lock();
    }
}

redis::Connection &FaultInjector::admin(int node)
{
    auto &slot = m_admins[static_cast<size_t>(node)];
    if (!slot) {
        redis::NodeConfig adminConfig = m_config.nodes[static_cast<size_t>(node)];
        adminConfig.clientName = QStringLiteral("lockscope-sim-admin");
        slot = std::make_unique<redis::Connection>(adminConfig);
    }
    return *slot;
}

FaultRecord FaultInjector::record(const SimFault &fault, bool ok, QString message)
{
    FaultRecord r;
    r.atUs = m_run.sinceStartUs(SteadyClock::now());
    r.fault = fault;
    r.ok = ok;
    r.message = std::move(message);
    if (ok)
        qCInfo(lcSim) << fault.describe() << "->" << r.message;
    else
        qCWarning(lcSim) << fault.describe() << "failed:" << r.message;
    std::lock_guard lock(m_mutex);
    m_log.push_back(r);
    return r;
}

void FaultInjector::revertLater(SimFault::Kind kind, const SimFault &fault)
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
FaultRecord FaultInjector::applyNow(const SimFault &fault)
{
    using Kind = SimFault::Kind;
    const int nodeCount = static_cast<int>(m_config.nodes.size());
    const bool nodeFault = fault.kind == Kind::PauseNode || fault.kind == Kind::ResumeNode ||
                           fault.kind == Kind::KillNode || fault.kind == Kind::RestartNode;
    if (nodeFault && (fault.target < 0 || fault.target >= nodeCount))
        return record(fault, false, QStringLiteral("no node %1 (%2 nodes)").arg(fault.target).arg(nodeCount));
    const bool workerFault = !nodeFault;
    const int workerCount = m_workers.count();
    if (workerFault &&
        (fault.target >= workerCount || (fault.target < 0 && fault.kind == Kind::DropConnection)))
        return record(fault, false,
                      QStringLiteral("no worker %1 (%2 workers)").arg(fault.target).arg(workerCount));
    const int i = fault.target;
    const QString label = nodeFault ? m_config.nodes[static_cast<size_t>(i)].label() : QString();
    switch (fault.kind) {
    case Kind::PauseNode: {
        if (m_nodes.at(i).down)
            return record(fault, false, QStringLiteral("%1 is down").arg(label));
        if (isLocal(i)) {
            if (!m_local[static_cast<size_t>(i)]->pause())
                return record(fault, false, QStringLiteral("%1: SIGSTOP failed").arg(label));
            m_nodes.set(i, true, std::nullopt);
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
        m_nodes.set(i, true, std::nullopt);
        SimFault timed = fault;
        timed.length = length;
        revertLater(Kind::ResumeNode, timed);
        return record(
            fault, true,
            QStringLiteral("%1 paused for writes (CLIENT PAUSE %2 WRITE)").arg(label).arg(length.count()));
    }
    case Kind::ResumeNode: {
        if (!m_nodes.at(i).paused)
            return record(fault, true, QStringLiteral("%1 was not paused").arg(label));
        if (isLocal(i)) {
            if (!m_local[static_cast<size_t>(i)]->resume())
                return record(fault, false, QStringLiteral("%1: SIGCONT failed").arg(label));
        } else if (auto reply = admin(i).command({QByteArrayView("CLIENT"), QByteArrayView("UNPAUSE")});
                   !reply) {
            return record(fault, false, reply.error().toString());
        }
        m_nodes.set(i, false, std::nullopt);
        return record(fault, true, QStringLiteral("%1 answers again").arg(label));
    }
    case Kind::KillNode: {
        if (!isLocal(i))
            return record(
                fault, false,
                QStringLiteral("%1 was not started by the simulator: only local nodes can be killed")
                    .arg(label));
        if (m_nodes.at(i).down)
            return record(fault, true, QStringLiteral("%1 was already down").arg(label));
        m_local[static_cast<size_t>(i)]->kill();
        m_nodes.set(i, false, true);
        revertLater(Kind::RestartNode, fault);
        return record(fault, true, QStringLiteral("%1 killed (SIGKILL; its data is gone)").arg(label));
    }
    case Kind::RestartNode: {
        if (!isLocal(i))
            return record(
                fault, false,
                QStringLiteral("%1 was not started by the simulator: only local nodes can be restarted")
                    .arg(label));
        if (!m_nodes.at(i).down)
            return record(fault, true, QStringLiteral("%1 was running").arg(label));
        if (auto restarted = m_local[static_cast<size_t>(i)]->restart(); !restarted)
            return record(fault, false, restarted.error().toString());
        m_nodes.set(i, false, false);
        return record(fault, true, QStringLiteral("%1 restarted empty (no persistence)").arg(label));
    }
    case Kind::DropConnection:
        return dropConnections(fault);
    case Kind::ClockDrift: {
        m_workers.setClockRate(fault.target, fault.rate);
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
        m_workers.stallNext(fault.target, fault.length);
        return record(fault, true,
                      QStringLiteral("next critical section stalls %1 ms").arg(fault.length.count()));
    }
    }
    return record(fault, false, QStringLiteral("unknown fault"));
}

FaultRecord FaultInjector::dropConnections(const SimFault &fault)
{
    const QByteArray name = m_workers.clientName(fault.target).toUtf8();
    int killed = 0;
    QStringList problems;
    for (int i = 0; i < static_cast<int>(m_config.nodes.size()); ++i) {
        const NodeState s = m_nodes.at(i);
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
            auto kill = admin(i).command(
                {QByteArrayView("CLIENT"), QByteArrayView("KILL"), QByteArrayView("ID"), QByteArrayView(id)});
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
void FaultInjector::revertAllNow()
{
    for (int i = 0; i < static_cast<int>(m_config.nodes.size()); ++i) {
        const NodeState s = m_nodes.at(i);
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

} // namespace lockscope::sim
