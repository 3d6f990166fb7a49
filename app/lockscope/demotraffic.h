#pragma once

#include "inspect/nodegroup.h"
#include "redis/nodeconfig.h"

#include <QList>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

/// The lock traffic of `lockscope --demo`: simulated services that take, extend and release
/// real locks on the demo nodes, so that a newcomer sees a living table within seconds.
///
///   - checkout-api (3 workers): Redlock locks on billing:invoice:* across the three nodes,
///     held a few seconds and released;
///   - ledger-rebuild: a client that dies half-way through a Redlock acquire, leaving its lock
///     on one node of three (quorum lost);
///   - report-builder: long jobs on jobs:report:*, kept alive by a watchdog, then released;
///   - mailer: takes jobs:mailer:* and "crashes", leaving the locks to expire;
///   - legacy-cron: one lock without a TTL (an anomaly that never goes away on its own);
///   - other libraries' layouts on the single node: a Redisson RLock hash, a redis-py token
///     and a go-redsync value, so the schema column has something to show.
///
/// Every service runs on its own thread with its own connections; nothing runs on the GUI
/// thread. Destroying the object stops the services and releases what they hold.
class DemoTraffic
{
public:
    /// `nodes` are the demo nodes (at least one; Redlock services need three).
    explicit DemoTraffic(QList<lockscope::redis::NodeConfig> nodes);
    ~DemoTraffic();
    DemoTraffic(const DemoTraffic &) = delete;
    DemoTraffic &operator=(const DemoTraffic &) = delete;

    void start();
    void stop();

    /// The groups that show the demo's locks: "demo-redlock" (all nodes, billing:*) and
    /// "demo-1" (the first node, jobs:*).
    static lockscope::inspect::GroupConfig groups(const QList<lockscope::redis::NodeConfig> &nodes);

private:
    QList<lockscope::redis::NodeConfig> m_nodes;
    std::atomic<bool> m_stop{false};
    std::vector<std::jthread> m_threads;
};
