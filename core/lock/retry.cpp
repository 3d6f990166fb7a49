#include "retry.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace lockscope::lock {

void CancellationToken::cancel()
{
    {
        std::lock_guard lock(m_mutex);
        m_cancelled.store(true, std::memory_order_release);
    }
    m_wake.notify_all();
}

bool CancellationToken::sleepUntil(SteadyClock::time_point until) const
{
    std::unique_lock lock(m_mutex);
    return !m_wake.wait_until(lock, until, [this] { return isCancelled(); });
}

bool LockClock::sleepUntil(SteadyClock::time_point until, const CancellationToken *cancel)
{
    if (cancel)
        return cancel->sleepUntil(until);
    std::this_thread::sleep_until(until);
    return true;
}

std::shared_ptr<LockClock> LockClock::system()
{
    static const auto clock = std::make_shared<LockClock>();
    return clock;
}

RetryStrategy RetryStrategy::linear(milliseconds delay, int maxTries, double jitter)
{
    RetryStrategy s;
    s.kind = Kind::Linear;
    s.delay = delay;
    s.maxDelay = delay;
    s.maxTries = maxTries;
    s.jitter = jitter;
    return s;
}

RetryStrategy RetryStrategy::exponential(milliseconds min, milliseconds max, int maxTries, double jitter)
{
    RetryStrategy s;
    s.kind = Kind::Exponential;
    s.delay = min;
    s.maxDelay = std::max(min, max);
    s.maxTries = maxTries;
    s.jitter = jitter;
    return s;
}

milliseconds RetryStrategy::delayBefore(int retry, double random01) const
{
    if (kind == Kind::None || retry < 1)
        return milliseconds(0);
    double base = static_cast<double>(delay.count());
    if (kind == Kind::Exponential) {
        const double grown = base * std::pow(2.0, std::min(retry - 1, 40));
        base = std::min(grown, static_cast<double>(maxDelay.count()));
    }
    const double j = std::clamp(jitter, 0.0, 1.0);
    double value = base * (1.0 - j * std::clamp(random01, 0.0, 1.0));
    if (kind == Kind::Exponential)
        value = std::max(value, static_cast<double>(delay.count()));
    return milliseconds(std::llround(value));
}

bool RetryStrategy::allowsAnotherAfter(int attempt) const
{
    if (kind == Kind::None)
        return false;
    return maxTries <= 0 || attempt < maxTries;
}

} // namespace lockscope::lock
