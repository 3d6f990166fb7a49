#pragma once

#include <QObject>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>
#include <type_traits>
#include <utility>

// The GUI's threading, in two forms:
// - Long-lived workers with timers and their own schedule (NodeMonitor, LockMonitor) are QObjects
//   on a thread of their own, owned by a ThreadOwner, reporting through queued signals.
// - Everything else is a one-shot job (an admin action, a keychain read, a connection test):
//   runInBackground() below. No other idiom: no hand-posted invokeMethod ping-pong, no
//   QFutureWatcher members, no waiting for a job on the GUI thread.

/// Runs `job` on `pool`; then `done(result)` (or `done()` for a void job) on `context`'s thread
/// (the GUI thread, for a widget) once `job` returns. When `context` is destroyed first (a dialog
/// closed), `done` never runs and nothing waits for `job`: so `job` captures values only, never
/// `context` or its members. `pool` must outlive the job (the global pool does).
template <typename Job, typename Done>
void runInBackground(QThreadPool *pool, QObject *context, Job &&job, Done &&done)
{
    using Result = std::invoke_result_t<std::decay_t<Job>>;
    auto future = QtConcurrent::run(pool, std::forward<Job>(job));
    // A continuation of a stated type: QFuture::then() would hand a generic `done` the future.
    if constexpr (std::is_void_v<Result>)
        future.then(context, [done = std::forward<Done>(done)]() mutable { done(); });
    else
        future.then(context,
                    [done = std::forward<Done>(done)](Result result) mutable { done(std::move(result)); });
}

/// Drops stale results, as KDAB hotspot's JobTracker: every start() begins a new generation, and
/// a result of an older one (a scan of groups that were replaced, a test of a URL that was edited
/// since) is ignored. GUI thread only.
class JobTracker
{
public:
    /// A new generation; results of earlier ones are stale from now on.
    quint64 start() { return ++m_current; }
    bool isCurrent(quint64 generation) const { return generation == m_current; }
    quint64 current() const { return m_current; }

    /// `done` wrapped so that it runs only while `generation` is current. The tracker must outlive
    /// the call (a member of the object the continuation runs on).
    template <typename Done>
    auto ifCurrent(quint64 generation, Done done)
    {
        return [this, generation, done = std::move(done)](auto &&...args) mutable {
            if (isCurrent(generation))
                done(std::forward<decltype(args)>(args)...);
        };
    }

private:
    quint64 m_current = 0;
};
