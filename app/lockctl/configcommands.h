#pragma once

#include "command.h"

namespace lockctl {

/// `lockctl config path|list|export|import`: the saved node groups (the file the app uses too).
Command configCommand();

} // namespace lockctl
