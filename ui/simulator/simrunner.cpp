#include "simrunner.h"

#include "redis/connection.h"
#include "redis/localserver.h"
#include "uilogging.h"

#include <QThread>

using lockscope::redis::Connection;
using lockscope::redis::LocalRedisServer;
using lockscope::redis::NodeConfig;
using lockscope::sim::SimConfig;
using lockscope::sim::Simulation;

SimRunner::SimRunner() = default;

SimRunner::~SimRunner()
{
    dispose();
}

std::expected<Simulation *, QString> SimRunner::start(SimConfig config, int localNodes,
                                                      std::function<void()> onFinished)
{
    Q_ASSERT(QThread::currentThread() == thread());
    dispose();
    std::vector<LocalRedisServer *> local;
    if (localNodes > 0) {
        config.nodes.clear();
        for (int i = 0; i < localNodes; ++i) {
            auto server = LocalRedisServer::start();
            if (!server) {
                dispose();
                return std::unexpected(
                    QObject::tr("Could not start local node %1: %2").arg(i).arg(server.error().toString()));
            }
            NodeConfig node = (*server)->nodeConfig();
            node.name = QStringLiteral("local%1").arg(i);
            qCInfo(lcUi) << "simulator node" << node.name << "on port" << (*server)->port();
            config.nodes.push_back(node);
            local.push_back(server->get());
            m_servers.push_back(std::move(*server));
        }
    }
    // Every node must answer before any worker starts (as lockctl simulate does).
    for (const NodeConfig &node : config.nodes) {
        Connection connection(node);
        if (auto pong = connection.command({QByteArrayView("PING")}); !pong) {
            dispose();
            return std::unexpected(pong.error().toString());
        }
    }
    m_simulation = std::make_unique<Simulation>(std::move(config), std::move(local));
    m_simulation->setFinishedCallback(std::move(onFinished));
    if (auto started = m_simulation->start(); !started) {
        dispose();
        return std::unexpected(started.error());
    }
    return m_simulation.get();
}

void SimRunner::dispose(Simulation *simulation)
{
    if (simulation == m_simulation.get())
        dispose();
}

void SimRunner::dispose()
{
    m_simulation.reset();
    m_servers.clear();
}
