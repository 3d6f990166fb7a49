#include "demonodes.h"

#include "redis/localserver.h"
#include "threadowner.h"
#include "uilogging.h"

#include <QThread>
#include <vector>

using lockscope::redis::LocalRedisServer;
using lockscope::redis::LocalServerOptions;
using lockscope::redis::NodeConfig;

namespace {

/// Starts and owns the servers on the demo thread; deleted there when the thread finishes,
/// which stops the servers before the thread (their PR_SET_PDEATHSIG parent) exits.
class DemoNodesWorker : public QObject
{
    Q_OBJECT

public:
    ~DemoNodesWorker() override
    {
        for (auto &server : m_servers)
            server->stop();
    }

    void start(int count)
    {
        Q_ASSERT(QThread::currentThread() == thread());
        QList<NodeConfig> nodes;
        for (int i = 1; i <= count; ++i) {
            // Keyspace notifications on, so that the demo shows live updates between refreshes.
            // These are the demo's own servers: enabling them here is a start-up option.
            LocalServerOptions options;
            options.extraArgs = {QStringLiteral("--notify-keyspace-events"), QStringLiteral("Kg$hx")};
            auto server = LocalRedisServer::start(options);
            if (!server) {
                m_servers.clear();
                emit failed(tr("Could not start demo node %1: %2").arg(i).arg(server.error().toString()));
                return;
            }
            NodeConfig config = (*server)->nodeConfig();
            config.name = QStringLiteral("demo-%1").arg(i);
            qCInfo(lcUi) << "demo node" << config.name << "on port" << (*server)->port();
            nodes.append(config);
            m_servers.push_back(std::move(*server));
        }
        emit ready(nodes);
    }

    void stopNode(int number)
    {
        Q_ASSERT(QThread::currentThread() == thread());
        if (number < 1 || number > int(m_servers.size()))
            return;
        qCInfo(lcUi) << "stopping demo node" << number;
        m_servers[size_t(number - 1)]->kill();
    }

signals:
    void ready(const QList<lockscope::redis::NodeConfig> &nodes);
    void failed(const QString &message);

private:
    std::vector<std::unique_ptr<LocalRedisServer>> m_servers;
};

} // namespace

DemoNodes::DemoNodes(QObject *parent)
    : QObject(parent), m_thread(std::make_unique<ThreadOwner>(QStringLiteral("DemoNodes")))
{
    qRegisterMetaType<QList<NodeConfig>>();
}

DemoNodes::~DemoNodes() = default;

void DemoNodes::start(int count)
{
    if (m_thread->thread()->isRunning()) {
        qCWarning(lcUi) << "demo nodes already started";
        return;
    }
    auto *worker = new DemoNodesWorker;
    m_thread->adopt(worker);
    connect(worker, &DemoNodesWorker::ready, this, &DemoNodes::ready);
    connect(worker, &DemoNodesWorker::failed, this, &DemoNodes::failed);
    connect(this, &DemoNodes::stopRequested, worker, &DemoNodesWorker::stopNode);
    m_thread->start();
    QMetaObject::invokeMethod(
        worker, [worker, count] { worker->start(count); }, Qt::QueuedConnection);
}

void DemoNodes::stopNode(int number)
{
    emit stopRequested(number);
}

#include "demonodes.moc"
