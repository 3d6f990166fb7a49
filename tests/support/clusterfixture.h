#pragma once

#include "redis/connection.h"
#include "redis/localserver.h"
#include "redis/nodeconfig.h"
#include "redis/rediserror.h"
#include "redisfixture.h"

#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

namespace lockscope::test {

struct ClusterOptions
{
    int masters = 3; ///< at least 3: redis-cli --cluster create refuses fewer
    int replicasPerMaster = 0;
    QStringList aclUsers; ///< ACL rules added to every node (LocalServerOptions::aclUsers)
};

/// A Redis Cluster of redis-server processes this test started itself: each on a free loopback
/// port (never 6379) with a cluster bus port of its own (also free, so no port+10000 clash),
/// without persistence, its nodes.conf in the server's private temporary directory. Formed with
/// `redis-cli --cluster create ... --cluster-replicas R --cluster-yes`; start() returns only once
/// every node agrees: cluster_state:ok, every node known, the expected number of masters and
/// replicas, no node failed or in handshake, every replica online in CLUSTER SHARDS (bounded:
/// 30 s, then an error that shows what each node still reports).
///
/// Every process is stopped when this object is destroyed, and when start() fails half-way. Not
/// thread-safe: one test thread uses it (the servers die with the thread that started them).
class ClusterFixture
{
public:
    static redis::Result<std::unique_ptr<ClusterFixture>> start(ClusterOptions options = {});
    ~ClusterFixture();
    ClusterFixture(const ClusterFixture &) = delete;
    ClusterFixture &operator=(const ClusterFixture &) = delete;

    int size() const { return int(m_servers.size()); }
    redis::LocalRedisServer &server(int i) { return *m_servers.at(size_t(i)); }
    /// A client configuration for node i: 127.0.0.1:port, short test timeouts, no name (the
    /// label is host:port, as the cluster itself names the node).
    redis::NodeConfig config(int i) const;
    /// A connection of the fixture's own to node i (client name "lockscope-admin").
    redis::Connection &admin(int i) { return *m_admins.at(size_t(i)); }
    /// The node listening on `port`, -1 when none of ours does.
    int indexOfPort(quint16 port) const;
    std::vector<qint64> pids() const;

    /// Stops every server now (the destructor does it too).
    void stop();

private:
    ClusterFixture() = default;
    redis::Result<void> form(const ClusterOptions &options);
    redis::Result<void> waitUntilSettled(const ClusterOptions &options);
    /// Empty when node i sees the cluster as settled, else what it still lacks.
    QString pendingOn(int i, const ClusterOptions &options);

    std::vector<std::unique_ptr<redis::LocalRedisServer>> m_servers;
    std::vector<std::unique_ptr<redis::Connection>> m_admins;
};

} // namespace lockscope::test

/// Declares `name` as a std::unique_ptr<ClusterFixture> of a formed cluster.
#define LS_START_CLUSTER(name, options)                                                                      \
    auto name##Started_ = ::lockscope::test::ClusterFixture::start(options);                                 \
    QVERIFY2(name##Started_.has_value(), ::lockscope::test::describe(name##Started_).constData());           \
    std::unique_ptr<::lockscope::test::ClusterFixture> name = std::move(*name##Started_)
