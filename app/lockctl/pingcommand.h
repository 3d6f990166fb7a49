#pragma once

#include "command.h"

namespace lockctl {

/// `lockctl ping URL...`: status, latency, version and role of every node, probed in parallel.
Command pingCommand();

} // namespace lockctl
