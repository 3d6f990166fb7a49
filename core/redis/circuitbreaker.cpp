#include "circuitbreaker.h"

#include "util/logging.h"

#include <mutex>
#include <optional>

namespace lockscope::redis {

QString breakerStateName(BreakerState state)
{
    switch (state) {
    case BreakerState::Closed:
        return QStringLiteral("closed");
    case BreakerState::Open:
        return QStringLiteral("open");
    case BreakerState::HalfOpen:
        return QStringLiteral("half-open");
    }
    return {};
}

QString BreakerStatus::describe() const
{
    const QString failures = QStringLiteral("%1 failure%2: %3")
                                 .arg(consecutiveFailures)
                                 .arg(consecutiveFailures == 1 ? "" : "s", lastCause);
    switch (state) {
    case BreakerState::Closed:
        return breakerStateName(state);
    case BreakerState::Open:
        return QStringLiteral("open until %1, %2")
            .arg(openUntil.toLocalTime().toString(QStringLiteral("HH:mm:ss")), failures);
    case BreakerState::HalfOpen:
        return QStringLiteral("half-open (probe in flight), %1").arg(failures);
    }
    return {};
}

namespace {

/// "connection refused: nothing is listening on 127.0.0.1:6380": the kind, so that the cause is
/// recognisable whatever the message says, without repeating it ("connection closed by the server").
QString causeOf(const RedisError &error)
{
    const QString kind = RedisError::kindName(error.kind);
    if (error.message.isEmpty())
        return kind;
    if (error.message.contains(kind, Qt::CaseInsensitive))
        return error.message;
    return kind + QStringLiteral(": ") + error.message;
}

} // namespace

struct CircuitBreaker::Private
{
    QString node;
    BreakerOptions options;
    std::function<void(const BreakerEvent &)> onChange;
    Now now;

    mutable std::mutex mutex;
    BreakerState state = BreakerState::Closed;
    int consecutiveFailures = 0;
    QString lastCause;
    QDateTime lastFailureAt;
    Clock::time_point openedAt;   // steady: when the cool-down started
    QDateTime openUntil;          // wall clock, for display
    Clock::time_point probeSince; // half-open: when the probe was let through
    bool probeInFlight = false;
    quint64 opens = 0;
    quint64 rejected = 0;

    int threshold() const { return std::max(1, options.failureThreshold); }
    bool coolDownOver(Clock::time_point at) const { return at >= openedAt + options.coolDown; }
    // A probe that never reported (its caller gave up between allow() and the send) must not
    // keep the node cut off for ever.
    bool probeLost(Clock::time_point at) const { return at >= probeSince + options.coolDown; }

    /// Under the mutex: whether a call may go now (and, with `take`, takes the probe slot).
    bool mayPass(Clock::time_point at, bool take, std::optional<BreakerEvent> &event)
    {
        switch (state) {
        case BreakerState::Closed:
            return true;
        case BreakerState::Open:
            if (!coolDownOver(at))
                return false;
            if (take) {
                event = transition(BreakerState::HalfOpen, QStringLiteral("cool-down over: probing"));
                probeInFlight = true;
                probeSince = at;
            }
            return true;
        case BreakerState::HalfOpen:
            if (probeInFlight && !probeLost(at))
                return false;
            if (take) {
                probeInFlight = true;
                probeSince = at;
            }
            return true;
        }
        return false;
    }

    BreakerEvent transition(BreakerState to, const QString &cause)
    {
        BreakerEvent event{node, state, to, cause, QDateTime::currentDateTime()};
        state = to;
        return event;
    }

    void open(Clock::time_point at)
    {
        openedAt = at;
        openUntil = QDateTime::currentDateTime().addMSecs(options.coolDown.count());
        probeInFlight = false;
        ++opens;
    }

    void notify(const std::optional<BreakerEvent> &event) const
    {
        if (!event)
            return;
        if (event->to == BreakerState::Open)
            qCWarning(lcBreaker).noquote() << "circuit breaker of" << event->node << "open for"
                                           << options.coolDown.count() << "ms:" << event->cause;
        else
            qCInfo(lcBreaker).noquote()
                << "circuit breaker of" << event->node << "now" << breakerStateName(event->to);
        if (onChange)
            onChange(*event);
    }
};

CircuitBreaker::CircuitBreaker(QString node, BreakerOptions options,
                               std::function<void(const BreakerEvent &)> onChange, Now now)
    : d(std::make_unique<Private>())
{
    d->node = std::move(node);
    d->options = options;
    d->onChange = std::move(onChange);
    d->now = now ? std::move(now) : Now([] { return Clock::now(); });
}

CircuitBreaker::~CircuitBreaker() = default;

bool CircuitBreaker::allow()
{
    if (!d->options.enabled)
        return true;
    std::optional<BreakerEvent> event;
    bool pass = false;
    {
        std::lock_guard lock(d->mutex);
        pass = d->mayPass(d->now(), true, event);
        if (!pass)
            ++d->rejected;
    }
    d->notify(event);
    return pass;
}

bool CircuitBreaker::wouldAllow() const
{
    if (!d->options.enabled)
        return true;
    std::optional<BreakerEvent> unused;
    std::lock_guard lock(d->mutex);
    return d->mayPass(d->now(), false, unused);
}

void CircuitBreaker::noteRejected()
{
    if (!d->options.enabled)
        return;
    std::lock_guard lock(d->mutex);
    ++d->rejected;
}

void CircuitBreaker::recordSuccess()
{
    if (!d->options.enabled)
        return;
    std::optional<BreakerEvent> event;
    {
        std::lock_guard lock(d->mutex);
        d->consecutiveFailures = 0;
        d->probeInFlight = false;
        if (d->state != BreakerState::Closed) {
            event = d->transition(BreakerState::Closed, QStringLiteral("the node answered"));
            d->openUntil = {};
        }
    }
    d->notify(event);
}

void CircuitBreaker::recordFailure(const RedisError &error)
{
    if (!d->options.enabled)
        return;
    if (isNeutral(error.kind)) {
        std::lock_guard lock(d->mutex);
        d->probeInFlight = false;
        return;
    }
    if (!countsAsFailure(error.kind)) {
        recordSuccess();
        return;
    }
    std::optional<BreakerEvent> event;
    {
        std::lock_guard lock(d->mutex);
        const auto at = d->now();
        ++d->consecutiveFailures;
        d->lastCause = causeOf(error);
        d->lastFailureAt = QDateTime::currentDateTime();
        switch (d->state) {
        case BreakerState::Closed:
            if (d->consecutiveFailures >= d->threshold()) {
                event = d->transition(BreakerState::Open, d->lastCause);
                d->open(at);
            }
            break;
        case BreakerState::HalfOpen:
            // The probe failed (or a call from before the breaker opened came back failed):
            // a fresh cool-down either way.
            event = d->transition(BreakerState::Open, d->lastCause);
            d->open(at);
            break;
        case BreakerState::Open:
            break; // a late failure of a call sent before it opened: the cool-down stands
        }
    }
    d->notify(event);
}

BreakerStatus CircuitBreaker::status() const
{
    std::lock_guard lock(d->mutex);
    BreakerStatus status;
    status.node = d->node;
    status.state = d->state;
    status.consecutiveFailures = d->consecutiveFailures;
    status.lastCause = d->lastCause;
    status.lastFailureAt = d->lastFailureAt;
    status.openUntil = d->openUntil;
    status.opens = d->opens;
    status.rejected = d->rejected;
    return status;
}

const QString &CircuitBreaker::node() const
{
    return d->node;
}

const BreakerOptions &CircuitBreaker::options() const
{
    return d->options;
}

bool CircuitBreaker::countsAsFailure(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::Resolve:
    case ErrorKind::Refused:
    case ErrorKind::Unreachable:
    case ErrorKind::Timeout:
    case ErrorKind::ConnectionClosed:
    case ErrorKind::Io:
    case ErrorKind::Tls:
    case ErrorKind::NotTls:
    case ErrorKind::Protocol:
        return true;
    case ErrorKind::InvalidConfig:
    case ErrorKind::AuthFailed:
    case ErrorKind::NoPerm:
    case ErrorKind::ReadOnlyReplica:
    case ErrorKind::OutOfMemory:
    case ErrorKind::WrongType:
    case ErrorKind::Server:
    case ErrorKind::NoScript:
    case ErrorKind::PoolExhausted:
    case ErrorKind::ClusterRedirect:
        return false;
    }
    return false;
}

bool CircuitBreaker::isNeutral(ErrorKind kind)
{
    return kind == ErrorKind::PoolExhausted || kind == ErrorKind::InvalidConfig;
}

} // namespace lockscope::redis
