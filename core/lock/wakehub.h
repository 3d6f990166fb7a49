#pragma once

// Private to lockscope_core: the pub/sub wake-up of a Locker (LockerOptions::wakeOnRelease).

#include "locker.h"
#include "redis/nodeconfig.h"

#include <QByteArray>
#include <memory>
#include <optional>
#include <vector>

namespace lockscope::lock::detail {

/// One subscriber connection per node, shared by every blocking acquire of one Locker that
/// waits for a release, and a wake-one hand-off of the release messages to them.
///
/// Each node has a listener thread that owns its connection: it SUBSCRIBEs to the channels
/// that have waiters (and keeps a channel for a short linger after its last waiter left, so
/// that back-to-back waits do not pay a SUBSCRIBE each), reads the messages, and reconnects
/// and subscribes again after the server closed the connection. No waiting thread touches a
/// socket.
///
/// A release message wakes one waiter of its channel: the one registered longest ago among
/// those that are waiting (a reader wakes the other waiting readers with it: they may share).
/// On a Redlock set a release wakes once a quorum of nodes announced it (the same token on
/// the same channel); the other announcements wake nobody. A release by a thread of the same
/// Locker wakes the longest waiter at once (releasedHere), and a newcomer queues behind the
/// Locker's waiters (queueBehind) instead of barging in: within one Locker the lock passes
/// from waiter to waiter in the order they came.
///
/// Nothing is lost between an attempt and its wait: a message that woke nobody (every waiter
/// had an attempt in flight) is kept, and the first wait of a waiter whose attempt began
/// before it returns at once (Wait::Missed).
class WakeHub
{
public:
    explicit WakeHub(std::vector<redis::NodeConfig> nodes);
    ~WakeHub();
    WakeHub(const WakeHub &) = delete;
    WakeHub &operator=(const WakeHub &) = delete;

    struct Ticket;
    /// Leaves the hub when destroyed (the waiter's registration).
    using TicketPtr = std::unique_ptr<Ticket, void (*)(Ticket *)>;

    /// The channel's message count, when some node listens on it: taken before an attempt, it
    /// lets enter() skip the extra attempt after subscribing. nullopt otherwise.
    std::optional<quint64> sequence(const QByteArray &channel);

    /// Registers a waiter on `channel` (`shared`: a reader, woken with the other readers), and
    /// subscribes the channel on every node if it is not yet; waits up to `timeout` for a first
    /// node to confirm. `seenBefore`: sequence() taken before the attempt that failed (the wait
    /// then returns Missed when a release came since); without it, the caller should attempt
    /// once more before its first wait.
    TicketPtr enter(const QByteArray &channel, bool shared, std::chrono::milliseconds timeout,
                    std::optional<quint64> seenBefore);

    /// A blocking acquire about to make its first attempt: when this Locker already has threads
    /// waiting on `channel`, the newcomer does not barge in ahead of them. It registers behind
    /// them (the ticket returned) and waits for its turn; nullptr when nobody waits here.
    TicketPtr queueBehind(const QByteArray &channel, bool shared);

    /// A thread of this Locker released the lock with `token` (it is gone on a quorum): the
    /// waiter that has waited longest is woken now, without waiting for the message to come
    /// back through Redis; that message then wakes nobody.
    void releasedHere(const QByteArray &channel, const QByteArray &token);

    /// Whether some node confirmed the ticket's channel.
    bool listening(const Ticket &ticket);

    enum class Wait
    {
        Message,      ///< a release message woke this waiter
        Missed,       ///< a release came while the last attempt was in flight
        Timeout,      ///< nothing before `until`
        Cancelled,    ///< the token was cancelled
        NotListening, ///< no node listens on the channel (connections lost): sleep the delay
    };
    /// Waits for a release on the ticket's channel until `until` (real steady clock). Whatever
    /// it returns, the next attempt counts as starting now.
    Wait wait(Ticket &ticket, SteadyClock::time_point until, const CancellationToken *cancel);

    WakeStats stats() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace lockscope::lock::detail
