#pragma once

#include "lock/retry.h"

#include <functional>
#include <mutex>
#include <thread>

namespace lockscope::sim {

/// A lock clock that runs at an adjustable rate: a worker's clock drift. Thread-safe: the
/// fault thread sets the rate while the worker and its watchdog read the time.
class DriftClock final : public lock::LockClock
{
public:
    lock::SteadyClock::time_point now() const override
    {
        std::lock_guard lock(m_mutex);
        return virtualAt(lock::SteadyClock::now());
    }

    bool sleepUntil(lock::SteadyClock::time_point until, const lock::CancellationToken *cancel) override
    {
        if (m_sleepObserver)
            m_sleepObserver();
        lock::SteadyClock::time_point realUntil;
        {
            std::lock_guard lock(m_mutex);
            const auto realNow = lock::SteadyClock::now();
            const auto left = until - virtualAt(realNow);
            realUntil = realNow + std::chrono::duration_cast<lock::SteadyClock::duration>(left / m_rate);
        }
        if (cancel)
            return cancel->sleepUntil(realUntil);
        std::this_thread::sleep_until(realUntil);
        return true;
    }

    /// From now on; the time already passed keeps the old rate.
    void setRate(double rate)
    {
        std::lock_guard lock(m_mutex);
        const auto realNow = lock::SteadyClock::now();
        m_baseVirtual = virtualAt(realNow);
        m_baseReal = realNow;
        m_rate = rate;
    }

    /// Called on the sleeping thread as every sleepUntil() begins. A Locker sleeps on its clock
    /// only between the attempts of a blocking acquire: a call says that an attempt was refused
    /// and the acquire waits on. Set before the clock is used.
    void setSleepObserver(std::function<void()> observer) { m_sleepObserver = std::move(observer); }

    double rate() const
    {
        std::lock_guard lock(m_mutex);
        return m_rate;
    }

private:
    lock::SteadyClock::time_point virtualAt(lock::SteadyClock::time_point real) const
    {
        return m_baseVirtual +
               std::chrono::duration_cast<lock::SteadyClock::duration>((real - m_baseReal) * m_rate);
    }

    mutable std::mutex m_mutex;
    lock::SteadyClock::time_point m_baseReal = lock::SteadyClock::now();
    lock::SteadyClock::time_point m_baseVirtual = m_baseReal;
    double m_rate = 1.0;
    std::function<void()> m_sleepObserver;
};

} // namespace lockscope::sim
