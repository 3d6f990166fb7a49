#pragma once

#include <QList>
#include <QPointer>
#include <QString>
#include <memory>

class QThread;

/// Owns a QThread with its own event loop for worker QObjects. On destruction it asks the
/// loop to quit and waits for the thread, so a worker can never outlive the objects it
/// reports to. Workers moved to the thread are deleted on it when it finishes (see adopt()).
class ThreadOwner
{
public:
    explicit ThreadOwner(const QString &name);
    ~ThreadOwner();
    ThreadOwner(const ThreadOwner &) = delete;
    ThreadOwner &operator=(const ThreadOwner &) = delete;

    QThread *thread() const;

    /// Moves a parentless worker to the thread and schedules its deletion there when the
    /// thread finishes. The worker must not be deleted by anybody else.
    void adopt(QObject *worker);
    void start();

private:
    std::unique_ptr<QThread> m_thread;
    QList<QPointer<QObject>> m_workers;
};
