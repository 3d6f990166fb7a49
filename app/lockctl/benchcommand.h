#pragma once

#include "command.h"

namespace lockctl {

/// `lockctl bench <what>`: client-side benchmarks against a node. Timing targets live here,
/// never in tests.
Command benchCommand();

} // namespace lockctl
