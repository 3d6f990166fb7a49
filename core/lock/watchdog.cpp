#include "watchdog.h"

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
        if (!extended && extended.error().kind != LockErrorKind::NotHeld && !m_stop->isCancelled()) {
            // One quick retry for a transient node failure before declaring the lock lost.
            const auto retryAt = SteadyClock::now() + std::min(m_interval / 4, milliseconds(100));
            if (!m_stop->sleepUntil(retryAt))
                return;
            extended = m_locker.extend(snapshot, snapshot.ttl, ExtendMode::Replace);
        }
        if (m_stop->isCancelled())
            return;
        if (!extended) {
            {
                std::lock_guard lock(m_mutex);
                m_lost = true;
            }
            m_stop->cancel();
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

LockGuard::LockGuard(Locker &locker, Lock lock, bool watchdog, Watchdog::LostCallback onLost)
    : m_locker(&locker), m_lock(std::move(lock))
{
    if (watchdog)
        m_watchdog = std::make_unique<Watchdog>(locker, m_lock, std::move(onLost));
}

LockGuard::~LockGuard()
{
    release();
}

LockGuard::LockGuard(LockGuard &&other) noexcept
    : m_locker(std::exchange(other.m_locker, nullptr)), m_lock(std::move(other.m_lock)),
      m_watchdog(std::move(other.m_watchdog))
{}

LockGuard &LockGuard::operator=(LockGuard &&other) noexcept
{
    if (this != &other) {
        release();
        m_locker = std::exchange(other.m_locker, nullptr);
        m_lock = std::move(other.m_lock);
        m_watchdog = std::move(other.m_watchdog);
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

Lock LockGuard::lock() const
{
    return m_watchdog ? m_watchdog->current() : m_lock;
}

bool LockGuard::lost() const
{
    return m_watchdog && m_watchdog->lost();
}

LockResult<void> LockGuard::release()
{
    if (!m_locker)
        return {};
    Locker *locker = std::exchange(m_locker, nullptr);
    Lock held = lock();
    m_watchdog.reset(); // stop refreshing before the key goes away
    return locker->release(held);
}

} // namespace lockscope::lock
