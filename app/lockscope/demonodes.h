#pragma once

#include "redis/nodeconfig.h"

#include <QList>
#include <QObject>
#include <memory>

class ThreadOwner;

/// Three (or more) local redis-server processes for `lockscope --demo`.
///
/// The servers are started, owned and stopped by a worker on a thread that lives as long as
/// this object: starting a server waits for it to accept connections, and a server dies with
/// the thread that started it, so neither may happen on the GUI thread. Destroying this
/// object stops the servers.
class DemoNodes : public QObject
{
    Q_OBJECT

public:
    explicit DemoNodes(QObject *parent = nullptr);
    ~DemoNodes() override;

    /// Starts `count` servers named "demo-1" .. "demo-N". Emits ready() or failed() later.
    void start(int count = 3);
    /// Kills demo node `number` (1 = "demo-1"), as if it crashed: for showing a node going down
    /// (its circuit breaker opening) in a demo or a screenshot. Nothing for a number not started.
    void stopNode(int number);

signals:
    void ready(const QList<lockscope::redis::NodeConfig> &nodes);
    void failed(const QString &message);
    /// Internal: carries stopNode() to the worker's thread.
    void stopRequested(int number);

private:
    std::unique_ptr<ThreadOwner> m_thread;
};
