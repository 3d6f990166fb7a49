#pragma once

#include "eventlogwidget.h"
#include "inspect/scanner.h"
#include "redis/circuitbreaker.h"
#include "redis/nodeprobe.h"

#include <QString>
#include <optional>

/// A line for the event log about one node.
struct NodeEvent
{
    EventLogWidget::Kind kind;
    QString text;

    bool operator==(const NodeEvent &) const = default;
};

/// What a node's new status is worth saying, given the one before (none: its first probe).
/// Up, down, back up and gone down always; a node that stays up only when its role or server
/// version changed (a failover changes who may hold locks); a node that stays down only when
/// the reason changed (refused after a restart began, then timing out), never for a repeat of
/// the same error. Nothing (nullopt) for a probe that changed nothing an operator acts on.
std::optional<NodeEvent> nodeTransition(const std::optional<lockscope::redis::NodeStatus> &previous,
                                        const lockscope::redis::NodeStatus &status);

/// The event-log line for a transition of a node's circuit breaker (`breaker`: its status right
/// after it): "Circuit breaker open after 3 failures: connection refused: ...", "Circuit breaker
/// half-open: cool-down over, probing", "Circuit breaker closed again", "Circuit breaker open
/// again: the probe failed: ...".
NodeEvent breakerTransition(const lockscope::redis::BreakerEvent &event,
                            const lockscope::redis::BreakerStatus &breaker);

/// What a scan of `group` that read `nodes` leaves unsaid: "" when every node was read, else
/// "Scan of group g failed: ..." (no node read: its locks stay as last read, marked stale) or
/// "Partial scan of group g: 1 of 2 nodes read; b could not be read". `detail` gets every failed
/// node's error, one per line (the log line's tooltip).
QString scanProblem(const QString &group, const std::vector<lockscope::inspect::NodeScanResult> &nodes,
                    QString *detail = nullptr);
