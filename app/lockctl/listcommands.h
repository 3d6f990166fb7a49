#pragma once

#include "command.h"

namespace lockctl {

/// `lockctl list`: every lock of a node group (one SCAN cursor per node, in parallel), one
/// record per key aggregated across the nodes: owner, TTL, held on k of N, anomalies.
Command listCommand();
/// `lockctl show KEY`: what every node holds under one key (TYPE, PTTL, GET or HGETALL), decoded.
Command showCommand();
/// `lockctl watch`: the list, refreshed in place (keyspace events where enabled, else polling).
Command watchCommand();

} // namespace lockctl
