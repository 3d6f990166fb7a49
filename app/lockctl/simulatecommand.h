#pragma once

#include "command.h"

namespace lockctl {

/// `lockctl simulate`: the contention simulator (core/sim) with a live status line and a final
/// report (text, --json, --csv).
Command simulateCommand();

} // namespace lockctl
