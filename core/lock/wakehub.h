#pragma once

// Private to lockscope_core: the pub/sub wake-up of a Locker (LockerOptions::wakeOnRelease).

#include "locker.h"
#include "lockvalue.h"
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
/// A release message names the waiter it wakes: the first of the lock's wake-up queue in
/// Redis, where every blocking acquire (of every process) has a place by arrival (see
/// LockerOptions::wakeOnRelease). Only the hub of that waiter wakes it (a reader: with every
/// waiting reader, of every hub). A message that names nobody wakes the longest waiter of each
/// hub. On a Redlock set a release wakes once a quorum of nodes announced it (the same token
/// on the same channel); the other announcements wake nobody. A release by a thread of the
/// same Locker wakes its named waiter at once (releasedHere).
///
/// Nothing is lost between an attempt and its wait: a waiter named while its attempt was in
/// flight (or before it entered the hub) looks again at once, and a message that names nobody
/// and woke nobody is kept for the first waiter whose attempt began before it (Wait::Missed).
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
    TicketPtr enter(const QByteArray &channel, bool shared, const QByteArray &id,
                    std::chrono::milliseconds timeout, std::optional<quint64> seenBefore);

    /// A new waiter id for the lock's wake-up queue: "<hub id>.<n>.<r|x>" (`shared`: a
    /// reader, "r": a release that names it wakes every waiting reader).
    QByteArray newWaiterId(bool shared);

    /// A thread of this Locker released the lock with `token` (it is gone on a quorum), and
    /// the release named `target` (the first waiter of the lock's wake-up queue, "" = none):
    /// when that is a waiter of this Locker (or nobody: then the longest waiter here), it is
    /// woken now, without waiting for the message to come back through Redis; that message
    /// then wakes nobody.
    void releasedHere(const QByteArray &channel, const QByteArray &token, const QByteArray &target);

    /// Whether some node confirmed the ticket's channel.
    bool listening(const Ticket &ticket);

    /// A direct hand-over (see releaseAndPublish): what a waiting thread lets a releasing
    /// thread of the same Locker take the lock with, in its name.
    struct GrantOffer
    {
        QByteArray id; ///< its place in the lock's wake-up queue
        /// The value to write: a token of the offer's own (not the attempts'), the waiter's
        /// owner details; the releaser sets the time.
        LockValue value;
        milliseconds ttl{0};
        qint64 arrivalUs = 0; ///< its arrival (the queue's order)
    };
    /// The lock taken for a waiter by a release of this Locker (its votes, fence, validity).
    struct Grant
    {
        std::vector<NodeVote> votes;
        QByteArray token; ///< the offer's token
        QByteArray value; ///< the value set (with its fence)
        qint64 fence = 0;
        SteadyClock::time_point validUntil;
    };

    /// The ticket's waiter may be handed the lock directly while it waits (a mutex on one key).
    void offerGrant(Ticket &ticket, GrantOffer offer);
    /// For a release of this Locker about to run: the waiter on `channel` that arrived first
    /// among those waiting now with an offer. It is claimed: its wait does not return (but
    /// for cancellation) until resolveGrant() says what became of it.
    std::optional<GrantOffer> claimGrant(const QByteArray &channel);
    /// The outcome of a claim: `grant` = the lock taken in the waiter's name (its wait returns
    /// Granted), nullopt = none taken. False when the waiter is gone (cancelled): a grant is
    /// then the releaser's to undo. `spent`: the offer is withdrawn for the rest of the call (a
    /// node may still run the release late, or ran it and had it undone).
    bool resolveGrant(const QByteArray &channel, const QByteArray &id, std::optional<Grant> grant,
                      bool spent = false);
    /// The grant a wait returned Granted for.
    std::optional<Grant> takeGrant(Ticket &ticket);

    enum class Wait
    {
        Granted,      ///< a release of this Locker took the lock for this waiter (takeGrant)
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
