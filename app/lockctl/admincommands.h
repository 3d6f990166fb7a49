#pragma once

#include "command.h"

namespace lockctl {

/// `lockctl force-release KEY [--expect-value V] [--yes] [--unconditional]`: reads the key on
/// every node, shows what would be deleted, asks for the key to be typed (unless --yes), then
/// deletes it only where it still holds the value shown (compare-and-delete in Lua), bumps the
/// fencing counter of LockScope locks and writes the audit log.
Command forceReleaseCommand();

} // namespace lockctl
