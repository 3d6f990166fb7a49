#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace lockscope::util {

/// Runs `job(i)` once for every i in [0, count) on up to `maxThreads` threads, the calling
/// thread included, and returns when every call has returned. The threads pull the next index
/// from a shared atomic counter, so a slow index (a node that times out) holds up one thread,
/// not a fixed share of the work. Typical use: one call per node, each with a connection of
/// its own, so that the total time is the slowest node's rather than the sum.
///
/// - Threads: min(count, maxThreads) in all; the calling thread is one of them and runs
///   indices too, so job(i) may run on it. When that is at most 1 (count 0 or 1, maxThreads
///   0 or 1) everything runs inline on the calling thread and no thread is started. If the
///   system refuses a thread, the ones already running (and the caller) do its share: every
///   index still runs exactly once.
/// - Thread-safety: calls for different indices run concurrently, in no particular order;
///   each must touch only its own slot of shared data (results[i]) or synchronise itself.
///   Everything the calls wrote is visible to the caller when this returns (the threads are
///   joined). `job` itself is called through one reference from every thread: a lambda that
///   captures by reference and keeps no mutable state of its own is safe.
/// - `job` must not throw: an exception leaving it calls std::terminate, on the calling
///   thread as on the others.
/// - No cancellation of its own: a job that should stop early checks its own flag (an
///   std::atomic<bool>, a CancellationToken) and returns at once, which drains the remaining
///   indices quickly.
template <class F>
void forEachParallel(std::size_t count, std::size_t maxThreads, F &&job)
{
    const std::size_t threads = std::min(count, maxThreads);
    if (threads <= 1) {
        [&]() noexcept {
            for (std::size_t i = 0; i < count; ++i)
                job(i);
        }();
        return;
    }
    std::atomic<std::size_t> next{0};
    const auto worker = [&]() noexcept {
        for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < count;
             i = next.fetch_add(1, std::memory_order_relaxed))
            job(i);
    };
    std::vector<std::jthread> pool;
    pool.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) {
        try {
            pool.emplace_back(worker);
        } catch (const std::system_error &) {
            break; // fewer threads; the others take its indices
        }
    }
    worker();
} // the jthreads join here

} // namespace lockscope::util
