#pragma once

#include "command.h"

namespace lockctl {

/// `lockctl acquire KEY --ttl D`: takes a lock (one node or a Redlock set), prints its token
/// and fencing value.
Command acquireCommand();
/// `lockctl extend KEY --token T --ttl D [--add] [--heal]`: owner-checked TTL change.
Command extendCommand();
/// `lockctl release KEY --token T`: owner-checked delete on every node.
Command releaseCommand();
/// `lockctl ttl KEY [--token T]`: owner-checked remaining TTL, or what every node holds.
Command ttlCommand();

} // namespace lockctl
