#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

namespace lockscope::lock {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Lets another thread stop a blocking acquire (or a watchdog) promptly: sleeping waiters wake
/// up at once instead of finishing their retry delay.
class CancellationToken
{
public:
    void cancel();
    bool isCancelled() const { return m_cancelled.load(std::memory_order_acquire); }
    /// Sleeps until `until` or cancel(); false when cancelled.
    bool sleepUntil(SteadyClock::time_point until) const;

private:
    std::atomic<bool> m_cancelled{false};
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_wake;
};

/// Time as the lock library sees it: validity arithmetic and retry sleeps go through this,
/// so that tests can replace it with a fake clock and check schedules exactly.
class LockClock
{
public:
    virtual ~LockClock() = default;
    virtual SteadyClock::time_point now() const { return SteadyClock::now(); }
    /// Sleeps until `until`; returns false early when `cancel` is cancelled.
    virtual bool sleepUntil(SteadyClock::time_point until, const CancellationToken *cancel);
    /// The real steady clock, shared.
    static std::shared_ptr<LockClock> system();
};

/// How a blocking acquire waits between attempts.
struct RetryStrategy
{
    enum class Kind
    {
        None,        ///< one attempt only
        Linear,      ///< the same delay before every retry
        Exponential, ///< min * 2^(n-1), capped at max
    };
    Kind kind = Kind::None;
    milliseconds delay{100};     ///< Linear: the delay; Exponential: the first (minimum) delay
    milliseconds maxDelay{1000}; ///< Exponential: the cap
    /// Fraction of each delay that is randomised (0 = exact schedule, 0.5 = between half and
    /// all of it). Spreads out contenders that failed together. Never goes below `delay`
    /// for Exponential.
    double jitter = 0.0;
    int maxTries = 0; ///< total attempts including the first; 0 = until the deadline

    static RetryStrategy none() { return {}; }
    static RetryStrategy linear(milliseconds delay, int maxTries = 0, double jitter = 0.0);
    static RetryStrategy exponential(milliseconds min, milliseconds max, int maxTries = 0,
                                     double jitter = 0.0);

    /// The wait before retry number `retry` (1 = after the first failed attempt), given a
    /// uniform random number in [0, 1).
    milliseconds delayBefore(int retry, double random01) const;
    /// Whether another attempt may follow attempt number `attempt` (1-based).
    bool allowsAnotherAfter(int attempt) const;
};

} // namespace lockscope::lock
