#pragma once

namespace lockctl {

/// Process exit codes, the same for every command so that scripts can branch on them.
namespace exitcode {
inline constexpr int Ok = 0;
/// A node was down, refused, timed out or answered with an error; for lock commands also a
/// quorum that was not reached, an expired validity or a --wait deadline that passed.
inline constexpr int NodeFailure = 1;
/// Bad arguments, malformed URL or configuration: nothing was contacted.
inline constexpr int Usage = 2;
/// acquire: the lock is held by another owner (LockErrorKind::NotObtained).
inline constexpr int Held = 3;
/// extend / release / ttl: the lock is not held by this token, or not held at all
/// (LockErrorKind::NotHeld).
inline constexpr int NotHeld = 4;
/// force-release: the key held another value than the one shown (or --expect-value) on a node;
/// nothing was deleted there.
inline constexpr int Changed = 5;
/// simulate: the run completed and the protected resource accepted writes based on stale values
/// (violations). A result, not an error; distinct so that scripts can assert a setup is safe.
inline constexpr int Violations = 6;
} // namespace exitcode

} // namespace lockctl
