// WakeHub: one subscriber connection per node and Locker, and the wake-one hand-off of release
// messages to the threads of that Locker that wait for them.

#include "wakehub.h"

#include "lockvalue.h"
#include "redis/connection.h"

#include <QHash>
#include <algorithm>
#include <array>
#include <bit>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

namespace lockscope::lock::detail {

using redis::Connection;
using redis::RedisReply;
using std::chrono::milliseconds;

namespace {

/// A channel stays subscribed this long after its last waiter left.
constexpr milliseconds kLinger{2000};
/// Reconnect back-off of a listener whose node is down: from the first to the last.
constexpr milliseconds kFirstBackoff{50};
constexpr milliseconds kLastBackoff{1000};
/// A cancellable wait looks at the token this often.
constexpr milliseconds kCancelSlice{20};

bool isPush(const RedisReply &reply, const char *kind)
{
    return reply.isArray() && reply.elements().size() >= 3 && reply.elements().front().bytes() == kind;
}

} // namespace

struct WakeHub::Ticket
{
    WakeHub::Private *hub = nullptr;
    struct Channel *channel = nullptr;
    bool shared = false;
    bool waiting = false;
    bool woken = false;
    bool listenLost = false;
    /// A release named this waiter while its attempt was in flight: its next wait returns at once.
    bool named = false;
    quint64 seen = 0;
    QByteArray id;                            ///< its id in the lock's wake-up queue (WakeHub::newWaiterId)
    std::optional<WakeHub::GrantOffer> offer; ///< see offerGrant
    bool claimed = false;                     ///< a release is taking the lock for it
    std::optional<WakeHub::Grant> grant;      ///< taken: the next wait returns Granted
    std::condition_variable wake;
};

/// One release channel and the waiters on it, in the order they registered.
struct Channel
{
    QByteArray name;
    quint64 sequence = 0;
    /// The sequence of the last message no waiter was waiting for (0: none, or claimed): a
    /// waiter whose attempt was in flight then looks again at once.
    quint64 unclaimed = 0;
    std::list<WakeHub::Ticket *> waiters;
    std::vector<bool> confirmed; ///< per node: its SUBSCRIBE was confirmed
    SteadyClock::time_point idleSince;
    /// The releases seen last: the token, and the nodes that announced it (a Redlock release
    /// is announced once per node and must wake only one waiter).
    struct Recent
    {
        QByteArray token;
        quint64 heard = 0; ///< the nodes whose announcement arrived
        bool woke = false; ///< it woke a waiter (or nobody waited): later copies wake nobody
        bool here = false; ///< released by a thread of this Locker (WakeHub::releasedHere)
        QByteArray target; ///< the waiter the announcements heard so far named ("" = none)
    };
    std::array<Recent, 32> recent;
    size_t nextRecent = 0;
    /// Waiters of this Locker named by a release before they entered the hub (their first
    /// attempt joined the queue in Redis, and the release came before enter()): newest last.
    std::deque<QByteArray> namedEarly;

    Recent &remember(const QByteArray &token, bool woke)
    {
        Recent &release = recent[nextRecent];
        release = {token, 0, woke, false, QByteArray()};
        nextRecent = (nextRecent + 1) % recent.size();
        return release;
    }

    bool listened() const { return std::ranges::find(confirmed, true) != confirmed.end(); }
    bool lingeredOut(SteadyClock::time_point now) const
    {
        return waiters.empty() && now - idleSince >= kLinger;
    }
};

struct WakeHub::Private
{
    struct Listener
    {
        redis::NodeConfig config;
        size_t index = 0;
        int eventFd = -1;
        std::thread thread;
        /// Channels a SUBSCRIBE was sent for (and no UNSUBSCRIBE since), under the hub mutex.
        QSet<QByteArray> subscribed;
    };

    std::vector<redis::NodeConfig> nodes;
    int quorum = 1; ///< how many nodes announce a release before it wakes a waiter
    QByteArray id;  ///< this hub's part of its waiters' ids: random, without '.'
    quint64 lastWaiter = 0;
    mutable std::mutex mutex;
    std::condition_variable confirmedCv;
    QHash<QByteArray, Channel *> channels;
    std::vector<std::unique_ptr<Listener>> listeners;
    bool started = false;
    bool stopping = false;
    WakeStats stats;

    ~Private()
    {
        {
            std::lock_guard lock(mutex);
            stopping = true;
        }
        for (auto &listener : listeners) {
            poke(*listener);
            if (listener->thread.joinable())
                listener->thread.join();
            ::close(listener->eventFd);
        }
        qDeleteAll(channels);
    }

    static void poke(Listener &listener)
    {
        const quint64 one = 1;
        [[maybe_unused]] const auto written = ::write(listener.eventFd, &one, sizeof one);
    }

    void pokeAll()
    {
        for (auto &listener : listeners)
            poke(*listener);
    }

    /// Under the mutex: the listener threads, started with the first waiter.
    void startListeners()
    {
        if (started)
            return;
        started = true;
        for (size_t i = 0; i < nodes.size(); ++i) {
            auto listener = std::make_unique<Listener>();
            listener->config = nodes[i];
            listener->index = i;
            listener->eventFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            Listener *raw = listener.get();
            listeners.push_back(std::move(listener));
            raw->thread = std::thread([this, raw] { run(*raw); });
        }
    }

    /// Under the mutex: a new waiter on `channel`, behind those already there.
    WakeHub::TicketPtr newTicket(Channel &channel, bool shared)
    {
        WakeHub::TicketPtr ticket(new WakeHub::Ticket, [](WakeHub::Ticket *t) {
            {
                std::lock_guard lock(t->hub->mutex);
                t->channel->waiters.remove(t);
                if (t->channel->waiters.empty())
                    t->channel->idleSince = SteadyClock::now();
            }
            delete t;
        });
        ticket->hub = this;
        ticket->channel = &channel;
        ticket->shared = shared;
        ticket->seen = channel.sequence;
        channel.waiters.push_back(ticket.get());
        return ticket;
    }

    void wakeTicket(WakeHub::Ticket &ticket)
    {
        ticket.woken = true;
        ++stats.wakeups;
        ticket.wake.notify_one();
    }

    /// A message on `name` from node `node` ("<token>" or "<token> <waiter id>"): counts it
    /// and wakes the waiter it names (see deliver()), unless another node already announced
    /// the same release.
    void dispatch(const QByteArray &name, const QByteArray &message, size_t node)
    {
        const qsizetype space = message.indexOf(' ');
        const QByteArray token = space < 0 ? message : message.left(space);
        const QByteArray target = space < 0 ? QByteArray() : message.mid(space + 1);
        std::lock_guard lock(mutex);
        Channel *channel = channelOf(name);
        if (!channel)
            return;
        // A release is announced by every node it reached. It wakes a waiter once a quorum of
        // nodes announced it (one node: at once): an attempt made on the first node's message
        // would often find the lock still held on the others, and fail. The other copies wake
        // nobody. Newest first: a reentrant owner releases with the same token again and again.
        const quint64 bit = quint64(1) << std::min<size_t>(node, 63);
        Channel::Recent *release = nullptr;
        for (size_t k = 0; k < channel->recent.size(); ++k) {
            auto &recent =
                channel
                    ->recent[(channel->nextRecent + channel->recent.size() - 1 - k) % channel->recent.size()];
            if (recent.token.isNull() || recent.token != token)
                continue;
            if (!(recent.heard & bit))
                release = &recent;
            break;
        }
        if (!release)
            release = &channel->remember(token, false);
        release->heard |= bit;
        if (release->target.isEmpty())
            release->target = target;
        if (release->woke || std::popcount(release->heard) < quorum) {
            ++stats.duplicates;
            return;
        }
        release->woke = true;
        ++stats.messages;
        deliver(*channel, release->target);
    }

    /// Under the mutex: a release on `channel` that named `target` (a waiter id, "" = none).
    /// Nobody named: this Locker's longest waiter wakes (a message of an older LockScope or
    /// an empty queue). A reader named: every waiting reader here wakes (they may share). A
    /// waiter of this Locker named: it wakes, or, when its attempt is in flight, its next wait
    /// returns at once. Another Locker's waiter: nobody here.
    void deliver(Channel &channel, const QByteArray &target)
    {
        if (target.isEmpty()) {
            wakeLongestWaiting(channel);
            return;
        }
        ++channel.sequence;
        const bool reader = target.endsWith(".r");
        bool found = false;
        for (WakeHub::Ticket *ticket : channel.waiters) {
            if (ticket->id == target) {
                found = true;
                if (!ticket->waiting || ticket->woken) {
                    ticket->named = true;
                    continue;
                }
            }
            if (ticket->waiting && !ticket->woken && (ticket->id == target || (reader && ticket->shared)))
                wakeTicket(*ticket);
        }
        if (!found && isOurs(target)) {
            channel.namedEarly.push_back(target);
            if (channel.namedEarly.size() > 32)
                channel.namedEarly.pop_front();
        }
    }

    /// The channel on which a release that names one of this hub's waiters is announced
    /// ("<channel>.<hub id>"): only this hub hears it.
    QByteArray ownName(const QByteArray &channel) const { return channel + '.' + id; }

    /// Under the mutex: the channel subscribed as `name` (its own name or ownName()).
    Channel *channelOf(const QByteArray &name) const
    {
        if (Channel *channel = channels.value(name))
            return channel;
        if (name.size() > id.size() + 1 && name.endsWith(id) && name[name.size() - id.size() - 1] == '.')
            return channels.value(name.chopped(id.size() + 1));
        return nullptr;
    }

    bool isOurs(const QByteArray &waiter) const
    {
        return waiter.size() > id.size() && waiter.startsWith(id) && waiter[id.size()] == '.';
    }

    /// A new waiter id, "<hub id>.<n>.<r|x>" (r: a reader, woken with the others).
    QByteArray newWaiterId(bool shared)
    {
        std::lock_guard lock(mutex);
        return id + '.' + QByteArray::number(++lastWaiter) + (shared ? ".r" : ".x");
    }

    /// Under the mutex: a release on `channel`. Wakes the waiter that has waited longest (a
    /// reader: with the other waiting readers); with nobody waiting, the first waiter whose
    /// attempt was in flight meanwhile looks again at once (Channel::unclaimed).
    void wakeLongestWaiting(Channel &channel)
    {
        ++channel.sequence;
        for (WakeHub::Ticket *ticket : channel.waiters) {
            if (!ticket->waiting || ticket->woken)
                continue;
            wakeTicket(*ticket);
            if (ticket->shared) {
                for (WakeHub::Ticket *other : channel.waiters) {
                    if (other != ticket && other->shared && other->waiting && !other->woken)
                        wakeTicket(*other);
                }
            }
            return;
        }
        channel.unclaimed = channel.sequence;
    }

    /// Under the mutex: node `node` no longer listens on anything (its connection broke).
    /// Waiters of channels no node listens on any more stop waiting: they fall back to the
    /// retry delay until a listener subscribes again.
    void lostNode(Listener &listener)
    {
        listener.subscribed.clear();
        for (Channel *channel : std::as_const(channels)) {
            channel->confirmed[listener.index] = false;
            if (channel->listened())
                continue;
            for (WakeHub::Ticket *ticket : channel->waiters) {
                if (ticket->waiting) {
                    ticket->listenLost = true;
                    ticket->wake.notify_one();
                }
            }
        }
    }

    /// Under the mutex: channels no waiter needs any more and no listener still subscribes to.
    void sweep(SteadyClock::time_point now)
    {
        for (auto it = channels.begin(); it != channels.end();) {
            Channel *channel = it.value();
            const bool stillSubscribed = std::ranges::any_of(
                listeners, [&](const auto &l) { return l->subscribed.contains(channel->name); });
            if (channel->lingeredOut(now) && !stillSubscribed) {
                delete channel;
                it = channels.erase(it);
            } else {
                ++it;
            }
        }
    }

    /// Under the mutex: what `listener` should send now. A connected listener subscribes the
    /// channels that have waiters (or linger) and unsubscribes the others; a listener that
    /// just connected subscribes everything wanted. `nextCheck` becomes the time until the
    /// next linger runs out.
    void plan(Listener &listener, bool fresh, std::vector<QByteArray> &subscribe,
              std::vector<QByteArray> &unsubscribe, milliseconds &nextCheck)
    {
        const auto now = SteadyClock::now();
        if (fresh)
            listener.subscribed.clear();
        for (Channel *channel : std::as_const(channels)) {
            const bool wanted = !channel->lingeredOut(now);
            const bool here = listener.subscribed.contains(channel->name);
            if (wanted && !here) {
                subscribe.push_back(channel->name);
                subscribe.push_back(ownName(channel->name));
                listener.subscribed.insert(channel->name);
            } else if (!wanted && here) {
                unsubscribe.push_back(channel->name);
                unsubscribe.push_back(ownName(channel->name));
                listener.subscribed.remove(channel->name);
                channel->confirmed[listener.index] = false;
            }
            if (wanted && channel->waiters.empty())
                nextCheck = std::min(
                    nextCheck, std::chrono::duration_cast<milliseconds>(channel->idleSince + kLinger - now) +
                                   milliseconds(1));
        }
        sweep(now);
    }

    /// Whether any channel is wanted (has waiters or lingers), under the mutex.
    bool anyWanted() const
    {
        const auto now = SteadyClock::now();
        return std::ranges::any_of(channels, [&](const Channel *c) { return !c->lingeredOut(now); });
    }

    void run(Listener &listener)
    {
        const QByteArray threadName = "ls-wake-" + QByteArray::number(listener.index);
        ::pthread_setname_np(::pthread_self(), threadName.left(15).constData());
        Connection connection(listener.config);
        milliseconds backoff{0};
        bool everConnected = false;
        auto lose = [&] {
            connection.close();
            backoff = std::clamp(backoff * 2, kFirstBackoff, kLastBackoff);
            std::lock_guard lock(mutex);
            lostNode(listener);
        };
        for (;;) {
            bool fresh = false;
            if (!connection.isConnected()) {
                {
                    std::lock_guard lock(mutex);
                    if (stopping)
                        return;
                    if (!anyWanted()) {
                        sweep(SteadyClock::now());
                        backoff = milliseconds(0);
                    }
                }
                if (backoff.count() == 0) {
                    // Nothing to listen to, or a first try: no connection until a waiter comes.
                    bool wanted = false;
                    {
                        std::lock_guard lock(mutex);
                        wanted = anyWanted();
                    }
                    if (!wanted) {
                        waitForPoke(listener, milliseconds(1000));
                        continue;
                    }
                } else if (!sleepUnlessStopping(listener, backoff)) {
                    return;
                }
                if (!connection.connect()) {
                    lose();
                    continue;
                }
                fresh = true;
                if (std::exchange(everConnected, true)) {
                    std::lock_guard lock(mutex);
                    ++stats.resubscribes;
                }
                backoff = milliseconds(0);
            }
            std::vector<QByteArray> subscribe;
            std::vector<QByteArray> unsubscribe;
            milliseconds nextCheck{1000};
            {
                std::lock_guard lock(mutex);
                if (stopping)
                    return;
                plan(listener, fresh, subscribe, unsubscribe, nextCheck);
            }
            for (const QByteArray &name : unsubscribe)
                connection.append({QByteArrayView("UNSUBSCRIBE"), QByteArrayView(name)});
            for (const QByteArray &name : subscribe)
                connection.append({QByteArrayView("SUBSCRIBE"), QByteArrayView(name)});
            auto push = connection.readPush(nextCheck, listener.eventFd);
            drainPoke(listener);
            while (push && *push) {
                handle(listener, **push);
                // Everything already buffered, before looking for new work.
                push = connection.readPush(milliseconds(0));
            }
            if (!push)
                lose();
        }
    }

    void handle(Listener &listener, const RedisReply &push)
    {
        if (isPush(push, "message")) {
            dispatch(push.elements()[1].bytes(), push.elements()[2].bytes(), listener.index);
            return;
        }
        const bool subscribed = isPush(push, "subscribe");
        if (!subscribed && !isPush(push, "unsubscribe"))
            return;
        std::lock_guard lock(mutex);
        const QByteArray name = push.elements()[1].bytes();
        Channel *channel = channelOf(name);
        // Listening once the channel's own name is confirmed: it was subscribed after the
        // shared one, on the same connection.
        if (!channel || name == channel->name)
            return;
        channel->confirmed[listener.index] = subscribed && listener.subscribed.contains(channel->name);
        if (subscribed)
            confirmedCv.notify_all();
    }

    static void drainPoke(Listener &listener)
    {
        quint64 value = 0;
        [[maybe_unused]] const auto read = ::read(listener.eventFd, &value, sizeof value);
    }

    /// Sleeps until poked or `timeout`.
    static void waitForPoke(Listener &listener, milliseconds timeout)
    {
        pollfd p{listener.eventFd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) > 0)
            drainPoke(listener);
    }

    /// The reconnect back-off: sleeps `timeout` (pokes do not shorten it: waiters arriving at
    /// a node that is down must not turn into a connect storm); false when the hub stops.
    bool sleepUnlessStopping(Listener &listener, milliseconds timeout)
    {
        const auto until = SteadyClock::now() + timeout;
        for (;;) {
            {
                std::lock_guard lock(mutex);
                if (stopping)
                    return false;
            }
            const auto now = SteadyClock::now();
            if (now >= until)
                return true;
            waitForPoke(listener, std::chrono::duration_cast<milliseconds>(until - now) + milliseconds(1));
        }
    }
};

WakeHub::WakeHub(std::vector<redis::NodeConfig> nodes) : d(std::make_unique<Private>())
{
    d->nodes = std::move(nodes);
    d->quorum = static_cast<int>(d->nodes.size() / 2 + 1);
    d->id = randomCallId(); // base64url: no '.'
}

WakeHub::~WakeHub() = default;

std::optional<quint64> WakeHub::sequence(const QByteArray &channel)
{
    std::lock_guard lock(d->mutex);
    const Channel *c = d->channels.value(channel);
    if (!c || !c->listened())
        return std::nullopt;
    return c->sequence;
}

WakeHub::TicketPtr WakeHub::enter(const QByteArray &channel, bool shared, const QByteArray &id,
                                  milliseconds timeout, std::optional<quint64> seenBefore)
{
    std::unique_lock lock(d->mutex);
    Channel *&c = d->channels[channel];
    if (!c) {
        c = new Channel;
        c->name = channel;
        c->confirmed.assign(d->nodes.size(), false);
    }
    TicketPtr ticket = d->newTicket(*c, shared);
    ticket->id = id;
    if (auto early = std::ranges::find(c->namedEarly, id); early != c->namedEarly.end()) {
        c->namedEarly.erase(early);
        ticket->named = true;
    }
    if (seenBefore && c->listened())
        ticket->seen = *seenBefore;
    d->startListeners();
    if (!c->listened()) {
        d->pokeAll();
        d->confirmedCv.wait_for(lock, timeout, [c] { return c->listened(); });
    }
    return ticket;
}

QByteArray WakeHub::newWaiterId(bool shared)
{
    return d->newWaiterId(shared);
}

void WakeHub::releasedHere(const QByteArray &channel, const QByteArray &token, const QByteArray &target)
{
    std::lock_guard lock(d->mutex);
    Channel *c = d->channels.value(channel);
    if (!c)
        return;
    // The release's message may have come first, through another thread, and woken a waiter.
    for (size_t k = 0; k < c->recent.size(); ++k) {
        auto &recent = c->recent[(c->nextRecent + c->recent.size() - 1 - k) % c->recent.size()];
        if (recent.token.isNull() || recent.token != token || recent.here)
            continue;
        if (recent.woke) {
            recent.here = true;
            return;
        }
        break;
    }
    // Every node's announcement of this release, when it comes, is a copy. A release that
    // named another Locker's waiter wakes nobody here.
    Channel::Recent &release = c->remember(token, true);
    release.here = true;
    release.target = target;
    d->deliver(*c, target);
    if (target.isEmpty() || target.endsWith(".r") || d->isOurs(target))
        ++d->stats.handedOn;
}

void WakeHub::offerGrant(Ticket &ticket, GrantOffer offer)
{
    std::lock_guard lock(d->mutex);
    ticket.offer = std::move(offer);
}

std::optional<WakeHub::GrantOffer> WakeHub::claimGrant(const QByteArray &channel)
{
    std::lock_guard lock(d->mutex);
    Channel *c = d->channels.value(channel);
    if (!c)
        return std::nullopt;
    // Only a waiter inside wait(): one whose attempt is in flight could take the lock itself,
    // and then a grant it never saw would be undone under it.
    Ticket *first = nullptr;
    for (Ticket *ticket : c->waiters) {
        if (ticket->offer && ticket->waiting && !ticket->claimed && !ticket->grant &&
            (!first || ticket->offer->arrivalUs < first->offer->arrivalUs))
            first = ticket;
    }
    if (!first)
        return std::nullopt;
    first->claimed = true;
    return first->offer;
}

bool WakeHub::resolveGrant(const QByteArray &channel, const QByteArray &id, std::optional<Grant> grant,
                           bool spent)
{
    std::lock_guard lock(d->mutex);
    Channel *c = d->channels.value(channel);
    if (!c)
        return false;
    for (Ticket *ticket : c->waiters) {
        if (ticket->id != id || !ticket->claimed)
            continue;
        ticket->claimed = false;
        if (spent)
            ticket->offer.reset();
        if (grant) {
            ticket->grant = std::move(grant);
            ++d->stats.wakeups;
            ++d->stats.handedOn;
            ++d->stats.granted;
        }
        ticket->wake.notify_one();
        return true;
    }
    return false;
}

std::optional<WakeHub::Grant> WakeHub::takeGrant(Ticket &ticket)
{
    std::lock_guard lock(d->mutex);
    return std::exchange(ticket.grant, std::nullopt);
}

bool WakeHub::listening(const Ticket &ticket)
{
    std::lock_guard lock(d->mutex);
    return ticket.channel->listened();
}

WakeHub::Wait WakeHub::wait(Ticket &ticket, SteadyClock::time_point until, const CancellationToken *cancel)
{
    std::unique_lock lock(d->mutex);
    Channel &channel = *ticket.channel;
    auto done = [&](Wait result) {
        ticket.waiting = false;
        ticket.woken = false;
        ticket.listenLost = false;
        ticket.seen = channel.sequence;
        return result;
    };
    if (!channel.listened())
        return done(Wait::NotListening);
    if (std::exchange(ticket.named, false)) {
        // A release named this waiter while its attempt was in flight.
        ++d->stats.missed;
        return done(Wait::Missed);
    }
    if (channel.unclaimed != 0 && ticket.seen < channel.unclaimed) {
        // A release came while this waiter's attempt was in flight, and nobody was woken by it.
        channel.unclaimed = 0;
        ++d->stats.missed;
        return done(Wait::Missed);
    }
    ticket.waiting = true;
    for (;;) {
        if (ticket.grant)
            return done(Wait::Granted);
        if (ticket.claimed) {
            // A release is taking the lock for this waiter: only a cancellation ends the wait
            // before it says whether it did (one round trip; the claim is withdrawn, and a
            // grant made is undone by the releaser).
            if (cancel && cancel->isCancelled()) {
                ticket.claimed = false;
                ticket.offer.reset();
                return done(Wait::Cancelled);
            }
            ticket.wake.wait_for(lock, cancel ? kCancelSlice : milliseconds(1000));
            continue;
        }
        if (ticket.woken)
            return done(Wait::Message);
        if (ticket.listenLost)
            return done(Wait::NotListening);
        if (cancel && cancel->isCancelled())
            return done(Wait::Cancelled);
        const auto now = SteadyClock::now();
        if (now >= until)
            return done(Wait::Timeout);
        ticket.wake.wait_until(lock, cancel ? std::min(until, now + kCancelSlice) : until);
    }
}

WakeStats WakeHub::stats() const
{
    std::lock_guard lock(d->mutex);
    WakeStats stats = d->stats;
    for (const Channel *channel : std::as_const(d->channels)) {
        if (channel->listened())
            ++stats.channels;
        for (const Ticket *ticket : channel->waiters) {
            stats.waiting += ticket->waiting ? 1 : 0;
            stats.handing += ticket->claimed ? 1 : 0;
        }
    }
    return stats;
}

} // namespace lockscope::lock::detail
