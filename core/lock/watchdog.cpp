#include "watchdog.h"

#include <algorithm>

namespace lockscope::lock {

Watchdog::Watchdog(Locker &locker, Lock lock, LostCallback onLost, milliseconds interval)
    : m_locker(locker), m_interval(interval.count() > 0 ? interval : std::max(milliseconds(1), lock.ttl / 3)),
      m_onLost(std::move(onLost)), m_lock(std::move(lock))
{
    m_thread = std::thread([this] { run(); });
}

Watchdog::~Watchdog()
{
    stop();
}

void Watchdog::stop()
{
    m_stop->cancel();
    if (!m_thread.joinable())
        return;
    if (m_thread.get_id() == std::this_thread::get_id())
        m_thread.detach(); // stopped (or destroyed) from the lost callback: run() returns right after it
    else
        m_thread.join();
}

bool Watchdog::isRunning() const
{
    return !m_stop->isCancelled();
}

bool Watchdog::lost() const
{
    std::lock_guard lock(m_mutex);
    return m_lost;
}

Lock Watchdog::current() const
{
    std::lock_guard lock(m_mutex);
    return m_lock;
}

int Watchdog::refreshCount() const
{
    std::lock_guard lock(m_mutex);
    return m_refreshes;
}

void Watchdog::run()
{
    auto next = SteadyClock::now() + m_interval;
    while (m_stop->sleepUntil(next)) {
        Lock snapshot = current();
        auto extended = m_locker.extend(snapshot, snapshot.ttl, ExtendMode::Replace);
        // A node failure is no loss: retry while the lock is still valid, and give up only
        // when too little validity is left for one more extend to come back in time (a stalled
        // node that resumes within the TTL keeps the lock alive). NotHeld is final, and so is
        // an extend the Locker refuses outright (read-only nodes, bad arguments).
        auto final = [](LockErrorKind kind) {
            return kind == LockErrorKind::NotHeld || kind == LockErrorKind::ReadOnly ||
                   kind == LockErrorKind::InvalidArgument;
        };
        const milliseconds margin = m_locker.operationBudget(snapshot.ttl);
        milliseconds pause = std::clamp(m_interval / 8, milliseconds(10), milliseconds(250));
        while (!extended && !final(extended.error().kind) && !m_stop->isCancelled() &&
               snapshot.validityLeft(m_locker.options().clock->now()) > margin + pause) {
            if (!m_stop->sleepUntil(SteadyClock::now() + pause))
                return;
            extended = m_locker.extend(snapshot, snapshot.ttl, ExtendMode::Replace);
            pause = std::min(pause * 2, std::max(milliseconds(10), m_interval / 2));
        }
        if (m_stop->isCancelled())
            return;
        if (!extended) {
            {
                std::lock_guard lock(m_mutex);
                m_lost = true;
            }
            m_stop->cancel();
            // The owner is told the lock is lost, so it must be: an extend of ours that a node
            // ran (its reply lost) must not keep the key alive. Owner-checked, so a key that
            // is already someone else's is left alone. A late extend is refused by the
            // server on its own (see Locker::extend).
            if (!final(extended.error().kind))
                m_locker.release(snapshot);
            // The callback may destroy this Watchdog (e.g. reset the guard that owns it), so it
            // runs from copies and nothing touches `this` afterwards.
            const LostCallback onLost = m_onLost;
            const LockError error = extended.error();
            if (onLost)
                onLost(error);
            return;
        }
        {
            std::lock_guard lock(m_mutex);
            m_lock = std::move(*extended);
            ++m_refreshes;
        }
        next += m_interval;
        if (next < SteadyClock::now())
            next = SteadyClock::now() + m_interval;
    }
}

/// Shared by a guard and the threads that may release it at once (its owner, and a lost
/// callback on the watchdog's thread): whoever comes first releases, the other finds it done.
struct LockGuard::State
{
    std::mutex mutex;
    Locker *locker = nullptr;
    Lock lock;
    std::unique_ptr<Watchdog> watchdog;
};

LockGuard::LockGuard(Locker &locker, Lock lock, bool watchdog, Watchdog::LostCallback onLost)
    : m_state(std::make_shared<State>())
{
    m_state->locker = &locker;
    m_state->lock = std::move(lock);
    if (watchdog)
        m_state->watchdog = std::make_unique<Watchdog>(locker, m_state->lock, std::move(onLost));
}

LockGuard::~LockGuard()
{
    release();
}

LockGuard::LockGuard(LockGuard &&other) noexcept : m_state(std::move(other.m_state)) {}

LockGuard &LockGuard::operator=(LockGuard &&other) noexcept
{
    if (this != &other) {
        release();
        m_state = std::move(other.m_state);
    }
    return *this;
}

LockResult<LockGuard> LockGuard::acquire(Locker &locker, const QByteArray &key, const AcquireOptions &options,
                                         bool watchdog, Watchdog::LostCallback onLost)
{
    auto lock = locker.acquire(key, options);
    if (!lock)
        return std::unexpected(lock.error());
    return LockGuard(locker, std::move(*lock), watchdog, std::move(onLost));
}

bool LockGuard::ownsLock() const
{
    if (!m_state)
        return false;
    std::lock_guard lock(m_state->mutex);
    return m_state->locker != nullptr;
}

Lock LockGuard::lock() const
{
    if (!m_state)
        return {};
    std::lock_guard lock(m_state->mutex);
    return m_state->watchdog ? m_state->watchdog->current() : m_state->lock;
}

bool LockGuard::lost() const
{
    if (!m_state)
        return false;
    std::lock_guard lock(m_state->mutex);
    return m_state->watchdog && m_state->watchdog->lost();
}

LockResult<void> LockGuard::release()
{
    // A copy: the guard itself may be destroyed by its owner while a lost callback is here.
    const std::shared_ptr<State> state = m_state;
    if (!state)
        return {};
    Locker *locker = nullptr;
    Lock held;
    std::unique_ptr<Watchdog> watchdog;
    {
        std::lock_guard lock(state->mutex);
        locker = std::exchange(state->locker, nullptr);
        if (!locker)
            return {}; // released already (by the other thread)
        held = state->watchdog ? state->watchdog->current() : state->lock;
        watchdog = std::move(state->watchdog);
    }
    // Stopped outside the mutex: stopping joins the watchdog's thread, which may be in the lost
    // callback, waiting for that mutex in this very function.
    watchdog.reset();
    return locker->release(held);
}

} // namespace lockscope::lock
