#pragma once

#include "locker.h"

#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace lockscope::lock {

/// Keeps a lock alive: extends it (replacing the TTL with the lock's TTL) every `interval`
/// (default TTL/3) on a thread of its own, until stop() or destruction.
///
/// When an extend answers "not held" (the key expired, was deleted, or holds another token),
/// or node failures go on until too little validity is left for another extend to come back
/// in time (retries back off from interval/8), the watchdog stops and calls `onLost` once, on
/// its own thread, so the owner can abort the work the lock protects. Before that, a lock
/// given up for node failures is released (owner-checked), and a late extend of ours that a
/// stalled node runs afterwards is refused by the server (Locker::extend): "lost" means no
/// longer held. A lost lock is never re-taken silently.
class Watchdog
{
public:
    using LostCallback = std::function<void(const LockError &)>;

    Watchdog(Locker &locker, Lock lock, LostCallback onLost, milliseconds interval = milliseconds(0));
    ~Watchdog();
    Watchdog(const Watchdog &) = delete;
    Watchdog &operator=(const Watchdog &) = delete;

    /// Stops refreshing and joins the thread (does not release the lock).
    void stop();
    bool isRunning() const;
    bool lost() const;
    /// The lock as last extended (validity moves forward with every refresh).
    Lock current() const;
    milliseconds interval() const { return m_interval; }
    int refreshCount() const;

private:
    void run();

    Locker &m_locker;
    milliseconds m_interval;
    LostCallback m_onLost;
    mutable std::mutex m_mutex;
    Lock m_lock;
    bool m_lost = false;
    int m_refreshes = 0;
    std::shared_ptr<CancellationToken> m_stop = std::make_shared<CancellationToken>();
    std::thread m_thread;
};

/// RAII: holds a lock for a scope and releases it on exit, optionally with a watchdog.
///
/// release() may be called from the watchdog's lost callback while the owning thread
/// releases, moves or destroys the guard: whichever comes first releases, the other finds it
/// done (a shared state behind a mutex). Moving a guard while another thread uses it is not
/// supported.
class LockGuard
{
public:
    LockGuard() = default;
    /// Takes ownership of `lock`; with `watchdog`, refreshes it until release.
    LockGuard(Locker &locker, Lock lock, bool watchdog = false, Watchdog::LostCallback onLost = {});
    ~LockGuard();
    LockGuard(LockGuard &&other) noexcept;
    LockGuard &operator=(LockGuard &&other) noexcept;

    /// Acquires (blocking, per options) and wraps the result.
    static LockResult<LockGuard> acquire(Locker &locker, const QByteArray &key, const AcquireOptions &options,
                                         bool watchdog = false, Watchdog::LostCallback onLost = {});

    bool ownsLock() const;
    /// The lock as currently held (refreshed by the watchdog).
    Lock lock() const;
    bool lost() const;
    /// Releases now; the destructor then does nothing. Returns the release result (success
    /// when another thread released it first).
    LockResult<void> release();

private:
    struct State;
    std::shared_ptr<State> m_state;
};

} // namespace lockscope::lock
