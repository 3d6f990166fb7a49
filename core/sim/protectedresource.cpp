#include "protectedresource.h"

#include <algorithm>

namespace lockscope::sim {

ProtectedResource::ProtectedResource(int keys, bool fencing, Clock::time_point origin, int overlapLog)
    : m_fencing(fencing), m_origin(origin), m_overlapLog(static_cast<size_t>(std::max(0, overlapLog)))
{
    for (int i = 0; i < std::max(1, keys); ++i)
        m_keys.push_back(std::make_unique<Slot>());
}

ProtectedResource::~ProtectedResource() = default;

qint64 ProtectedResource::sinceOriginUs(Clock::time_point t) const
{
    return std::chrono::duration_cast<std::chrono::microseconds>(t - m_origin).count();
}

ProtectedResource::Ticket ProtectedResource::begin(int key, int worker, qint64 fence)
{
    Slot &slot = *m_keys.at(static_cast<size_t>(key));
    Ticket ticket;
    ticket.key = key;
    ticket.worker = worker;
    ticket.fence = fence;
    ticket.id = m_nextId.fetch_add(1, std::memory_order_relaxed);
    std::vector<Overlap> found;
    {
        std::lock_guard lock(slot.mutex);
        ticket.startUs = sinceOriginUs(Clock::now());
        ticket.readValue = slot.state.value;
        ticket.readVersion = slot.version;
        // The read carries the token too: a holder that has read with token n has made every
        // later write with a lower token stale, even before it writes itself.
        if (m_fencing)
            slot.state.highestFence = std::max(slot.state.highestFence, fence);
        for (Active &other : slot.active) {
            found.push_back(
                Overlap{key, other.worker, worker, other.startUs, ticket.startUs, other.fence, fence});
            other.overlapped = true;
            ++slot.state.overlaps;
        }
        ticket.overlapped = !found.empty();
        slot.active.push_back(Active{ticket.id, worker, ticket.startUs, fence, ticket.overlapped});
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
    if (m_fencing && ticket.fence < slot.state.highestFence) {
        ++slot.state.fencingRejections;
        return WriteOutcome::FencingRejected;
    }
    const bool stale = slot.version != ticket.readVersion;
    slot.state.value = ticket.readValue + 1;
    ++slot.version;
    ++slot.state.acceptedWrites;
    if (m_fencing)
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
