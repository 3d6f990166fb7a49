#pragma once

namespace lockscope {

/// The Redlock quorum of `nodes` independent nodes: a strict majority (1 of 1, 2 of 3, 3 of 5,
/// 3 of 4), so that two clients can never both hold one. The one formula every layer uses:
/// the locker, the inspector's "quorum reached", lockctl and the app.
constexpr int quorumOf(int nodes)
{
    return nodes / 2 + 1;
}

} // namespace lockscope
