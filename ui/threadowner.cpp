#include "threadowner.h"

#include <QThread>

ThreadOwner::ThreadOwner(const QString &name) : m_thread(std::make_unique<QThread>())
{
    m_thread->setObjectName(name);
}

ThreadOwner::~ThreadOwner()
{
    m_thread->quit();
    m_thread->wait();
    // A thread that never ran never emitted finished(); its workers are still alive, and
    // with the thread stopped they may be deleted from here.
    for (const QPointer<QObject> &worker : std::as_const(m_workers))
        delete worker.data();
}

QThread *ThreadOwner::thread() const
{
    return m_thread.get();
}

void ThreadOwner::adopt(QObject *worker)
{
    Q_ASSERT(worker->parent() == nullptr);
    worker->moveToThread(m_thread.get());
    // Deferred deletes posted from `finished` still run on the worker thread, after its
    // event loop has returned, so the worker's destructor runs where the worker lived.
    QObject::connect(m_thread.get(), &QThread::finished, worker, &QObject::deleteLater);
    m_workers.removeIf([](const QPointer<QObject> &gone) { return gone.isNull(); });
    m_workers.append(worker);
}

void ThreadOwner::start()
{
    m_thread->start();
}
