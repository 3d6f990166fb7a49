#pragma once

#include "rediserror.h"

#include <QDateTime>
#include <QString>
#include <chrono>
#include <functional>
#include <memory>

namespace lockscope::redis {

struct BreakerOptions
{
    /// Off: allow() always says yes and nothing is recorded (every operation reaches the node
    /// and waits out its timeouts, as without a breaker).
    bool enabled = true;
    /// Consecutive node-health failures (refused, unreachable, timed out, closed, TLS, protocol)
    /// that open the breaker. 3: one lost packet or a server restart's single refused connect
    /// does not open it; a node that is really down is cut off after three tries.
    int failureThreshold = 3;
    /// How long an open breaker refuses before it lets one probe through (half-open). 5 s: long
    /// enough that a dead node costs nothing for most calls, short enough that a node back from
    /// a restart is used again within seconds.
    std::chrono::milliseconds coolDown{5000};
};

enum class BreakerState
{
    Closed,   ///< the node is used
    Open,     ///< the node failed failureThreshold times in a row: nothing is sent to it
    HalfOpen, ///< the cool-down passed: one probe is let through, the others still refused
};

/// "closed", "open", "half-open".
QString breakerStateName(BreakerState state);

/// A breaker's state at one moment, a plain value (for a table or a status line).
struct BreakerStatus
{
    QString node;
    BreakerState state = BreakerState::Closed;
    int consecutiveFailures = 0;
    /// The last counted failure: its kind and message ("connection refused: nothing is listening
    /// on 127.0.0.1:6380").
    QString lastCause;
    QDateTime lastFailureAt; ///< wall clock of the last counted failure (null: none yet)
    /// Open / HalfOpen: when the cool-down ends (ended), on the wall clock, for display only: the
    /// breaker itself times the cool-down on a steady clock. Null while closed.
    QDateTime openUntil;
    quint64 opens = 0;    ///< how often it went from closed (or half-open) to open
    quint64 rejected = 0; ///< calls it refused (allow() false, or noteRejected())

    /// For people: "open until 17:42:05, 3 failures: connection refused", "half-open (probe in
    /// flight), 3 failures: ...", "closed".
    QString describe() const;
};

/// One state change, as passed to the breaker's onChange callback.
struct BreakerEvent
{
    QString node;
    BreakerState from = BreakerState::Closed;
    BreakerState to = BreakerState::Closed;
    QString cause; ///< to Open: the failure (as BreakerStatus::lastCause); otherwise what happened
    QDateTime at;  ///< wall clock
};

/// A circuit breaker for one node: after failureThreshold consecutive node-health failures it
/// opens and refuses every call for the cool-down, then lets exactly one probe through
/// (half-open); the probe's success closes it, its failure opens it again for a fresh cool-down.
///
/// Only failures that say the node is unhealthy count (countsAsFailure): a node that answers at
/// all, even with an error (NOPERM, READONLY, OOM, WRONGTYPE, a server error, a failed AUTH, a
/// cluster redirect), is up, and the answer counts as a success. Errors that say nothing about
/// the node (PoolExhausted: the local pool was busy; InvalidConfig: nothing was contacted) are
/// neutral: they neither count nor reset the count, and free the probe slot if they ended a probe
/// (a busy pool while the node is down must not keep it from opening).
///
/// Thread-safe: any thread may call any member. onChange runs on the thread whose call made the
/// transition, outside the breaker's mutex (it may call status()), once per transition.
/// Transitions are logged on lockscope.redis (open: a warning).
class CircuitBreaker
{
public:
    using Clock = std::chrono::steady_clock;
    /// The cool-down's time source; empty = Clock::now (replaceable in tests).
    using Now = std::function<Clock::time_point()>;

    explicit CircuitBreaker(QString node, BreakerOptions options = {},
                            std::function<void(const BreakerEvent &)> onChange = {}, Now now = {});
    ~CircuitBreaker();
    CircuitBreaker(const CircuitBreaker &) = delete;
    CircuitBreaker &operator=(const CircuitBreaker &) = delete;

    /// Whether a call may go to the node now. Closed: yes. Open within the cool-down: no (counted
    /// as rejected). Open after the cool-down: it turns half-open and says yes to this caller
    /// only, the probe, which must report with recordSuccess() or recordFailure(); everyone else
    /// hears no until then. A probe that never reports is given up after another cool-down, and
    /// the next caller probes instead.
    bool allow();
    /// What allow() would say, without taking the probe slot and without counting: for a caller
    /// that first checks whether enough nodes are usable and only then sends (and calls allow()).
    bool wouldAllow() const;
    /// Counts a call refused because wouldAllow() said no (shown in BreakerStatus::rejected).
    void noteRejected();

    /// The node answered: closes the breaker (from any state) and resets the failure count.
    void recordSuccess();
    /// The node failed: counted if countsAsFailure(error.kind), a success for the breaker if the
    /// node answered, neutral otherwise (see the class comment).
    void recordFailure(const RedisError &error);

    BreakerStatus status() const;
    const QString &node() const;
    const BreakerOptions &options() const;

    /// Whether an error of this kind says the node is unhealthy: Resolve, Refused, Unreachable,
    /// Timeout, ConnectionClosed, Io, Tls, NotTls, Protocol.
    static bool countsAsFailure(ErrorKind kind);
    /// Whether an error of this kind says nothing about the node (PoolExhausted, InvalidConfig).
    static bool isNeutral(ErrorKind kind);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace lockscope::redis
