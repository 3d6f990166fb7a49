#include "protectedresource.h"

#include <algorithm>

namespace lockscope::sim {

ProtectedResource::ProtectedResource(int keys, bool fencing, Clock::time_point origin, int permits,
                                     int overlapLog)
    : m_fencing(fencing), m_origin(origin), m_permits(std::max(1, permits)),
      m_overlapLog(static_cast<size_t>(std::max(0, overlapLog)))
{
    for (int i = 0; i < std::max(1, keys); ++i)
        m_keys.push_back(std::make_unique<Slot>());
}

ProtectedResource::~ProtectedResource() = default;

qint64 ProtectedResource::sinceOriginUs(Clock::time_point t) const
{
    return std::chrono::duration_cast<std::chrono::microseconds>(t - m_origin).count();
}

ProtectedResource::Ticket ProtectedResource::begin(int key, int worker, qint64 fence, Access access,
                                                   bool unfenced)
{
    Slot &slot = *m_keys.at(static_cast<size_t>(key));
    Ticket ticket;
    ticket.key = key;
    ticket.access = access;
    ticket.worker = worker;
    ticket.fence = unfenced ? 0 : fence;
    ticket.unfenced = unfenced;
    ticket.id = m_nextId.fetch_add(1, std::memory_order_relaxed);
    std::vector<Overlap> found;
    {
        std::lock_guard lock(slot.mutex);
        ticket.startUs = sinceOriginUs(Clock::now());
        ticket.readValue = slot.state.value;
        ticket.readVersion = slot.version;
        // The read carries the token too: a holder that has read with token n has made every
        // later write with a lower token stale, even before it writes itself. Not a permit's:
        // the fences of concurrent permit holders are unordered.
        if (m_fencing && access != Access::Permit && !unfenced)
            slot.state.highestFence = std::max(slot.state.highestFence, fence);
        if (overtakesLocked(slot, worker)) {
            ticket.overtook = true;
            ++slot.state.orderViolations;
        }
        checkSharingLocked(slot, ticket, found);
        slot.active.push_back(Active{ticket.id, worker, ticket.startUs, fence, access, ticket.overlapped});
        slot.state.maxHolders = std::max(slot.state.maxHolders, static_cast<int>(slot.active.size()));
    }
    if (!found.empty()) {
        std::lock_guard lock(m_overlapMutex);
        for (Overlap &overlap : found) {
            if (m_overlaps.size() >= m_overlapLog)
                break;
            m_overlaps.push_back(overlap);
        }
    }
    return ticket;
}

void ProtectedResource::checkSharingLocked(Slot &slot, Ticket &ticket, std::vector<Overlap> &found) const
{
    const auto overlap = [&](Active &other) {
        found.push_back(Overlap{ticket.key, other.worker, ticket.worker, other.startUs, ticket.startUs,
                                other.fence, ticket.fence});
        other.overlapped = true;
        ticket.overlapped = true;
        ++slot.state.overlaps;
    };
    if (ticket.access == Access::Permit) {
        // permits + 1 at once: one overlap, with the longest-running holder, and every holder marked.
        if (static_cast<int>(slot.active.size()) < m_permits) // m_permits >= 1: active is not empty below
            return;
        ticket.excess = true;
        overlap(slot.active.front());
        for (Active &other : slot.active)
            other.overlapped = true;
        return;
    }
    for (Active &other : slot.active) {
        if (ticket.access == Access::Read && other.access == Access::Read)
            ++slot.state.readerOverlaps;
        else
            overlap(other);
    }
}

bool ProtectedResource::overtakesLocked(Slot &slot, int worker)
{
    const auto mine = std::ranges::find(slot.waiting, worker, &Waiter::worker);
    if (mine == slot.waiting.end())
        return false;
    const qint64 startUs = mine->startUs;
    slot.waiting.erase(mine);
    // Only a waiter surely queued before this worker started counts (see waitConfirmed).
    return std::ranges::any_of(slot.waiting, [&](const Waiter &other) {
        return other.confirmedUs >= 0 && other.confirmedUs < startUs;
    });
}

void ProtectedResource::waitStarted(int key, int worker, Clock::time_point at)
{
    Slot &slot = *m_keys.at(static_cast<size_t>(key));
    std::lock_guard lock(slot.mutex);
    std::erase_if(slot.waiting, [&](const Waiter &w) { return w.worker == worker; });
    slot.waiting.push_back(Waiter{worker, sinceOriginUs(at), -1});
}

void ProtectedResource::waitConfirmed(int key, int worker, Clock::time_point at)
{
    Slot &slot = *m_keys.at(static_cast<size_t>(key));
    std::lock_guard lock(slot.mutex);
    const auto mine = std::ranges::find(slot.waiting, worker, &Waiter::worker);
    if (mine != slot.waiting.end() && mine->confirmedUs < 0)
        mine->confirmedUs = sinceOriginUs(at);
}

void ProtectedResource::waitEnded(int key, int worker)
{
    Slot &slot = *m_keys.at(static_cast<size_t>(key));
    std::lock_guard lock(slot.mutex);
    std::erase_if(slot.waiting, [&](const Waiter &w) { return w.worker == worker; });
}

bool ProtectedResource::end(Slot &slot, quint64 id)
{
    const auto found = std::ranges::find(slot.active, id, &Active::id);
    if (found == slot.active.end())
        return false;
    const bool overlapped = found->overlapped;
    slot.active.erase(found);
    return overlapped;
}

ProtectedResource::WriteOutcome ProtectedResource::commit(Ticket &ticket)
{
    Slot &slot = *m_keys.at(static_cast<size_t>(ticket.key));
    std::lock_guard lock(slot.mutex);
    ticket.overlapped = end(slot, ticket.id) || ticket.overlapped;
    switch (ticket.access) {
    case Access::Read:
        if (slot.version == ticket.readVersion) {
            ++slot.state.reads;
            return WriteOutcome::Accepted;
        }
        ++slot.state.violations; // a write landed while it read
        return WriteOutcome::Violation;
    case Access::Permit:
        if (ticket.unfenced)
            ++slot.state.degradedWrites;
        ++slot.state.value;
        ++slot.version;
        ++slot.state.acceptedWrites;
        if (!ticket.excess)
            return WriteOutcome::Accepted;
        ++slot.state.violations;
        return WriteOutcome::Violation;
    case Access::Exclusive:
        break;
    }
    return commitWriteLocked(slot, ticket, m_fencing);
}

ProtectedResource::WriteOutcome ProtectedResource::commitWriteLocked(Slot &slot, const Ticket &ticket,
                                                                     bool fencing)
{
    if (ticket.unfenced)
        ++slot.state.degradedWrites;
    else if (fencing && ticket.fence < slot.state.highestFence) {
        ++slot.state.fencingRejections;
        return WriteOutcome::FencingRejected;
    }
    const bool stale = slot.version != ticket.readVersion;
    slot.state.value = ticket.readValue + 1;
    ++slot.version;
    ++slot.state.acceptedWrites;
    if (fencing)
        slot.state.highestFence = std::max(slot.state.highestFence, ticket.fence);
    if (stale) {
        ++slot.state.violations;
        return WriteOutcome::Violation;
    }
    return WriteOutcome::Accepted;
}

void ProtectedResource::abandon(Ticket &ticket)
{
    Slot &slot = *m_keys.at(static_cast<size_t>(ticket.key));
    std::lock_guard lock(slot.mutex);
    ticket.overlapped = end(slot, ticket.id) || ticket.overlapped;
}

ProtectedResource::KeyState ProtectedResource::state(int key) const
{
    const Slot &slot = *m_keys.at(static_cast<size_t>(key));
    std::lock_guard lock(slot.mutex);
    return slot.state;
}

ProtectedResource::KeyState ProtectedResource::total() const
{
    KeyState sum;
    for (const auto &slot : m_keys) {
        std::lock_guard lock(slot->mutex);
        sum.value += slot->state.value;
        sum.acceptedWrites += slot->state.acceptedWrites;
        sum.violations += slot->state.violations;
        sum.fencingRejections += slot->state.fencingRejections;
        sum.overlaps += slot->state.overlaps;
        sum.readerOverlaps += slot->state.readerOverlaps;
        sum.reads += slot->state.reads;
        sum.orderViolations += slot->state.orderViolations;
        sum.degradedWrites += slot->state.degradedWrites;
        sum.maxHolders = std::max(sum.maxHolders, slot->state.maxHolders);
        sum.highestFence = std::max(sum.highestFence, slot->state.highestFence);
    }
    return sum;
}

std::vector<Overlap> ProtectedResource::overlaps() const
{
    std::lock_guard lock(m_overlapMutex);
    return m_overlaps;
}

} // namespace lockscope::sim
