#pragma once

namespace lockctl {

/// Process exit codes, the same for every command so that scripts can branch on them.
namespace exitcode {
inline constexpr int Ok = 0;
/// A node was down, refused, timed out or answered with an error.
inline constexpr int NodeFailure = 1;
/// Bad arguments, malformed URL or configuration: nothing was contacted.
inline constexpr int Usage = 2;
} // namespace exitcode

} // namespace lockctl
