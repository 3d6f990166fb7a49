#!/usr/bin/env bash
# Installs what is missing, builds, runs the whole test suite, then again under sanitizers, and fuzzes:
#   ./build       all tests (core, ui, app), RelWithDebInfo
#   ./build-asan  the core tests again under AddressSanitizer + UndefinedBehaviorSanitizer
#                 (GUI off); any sanitizer finding aborts the test and fails this script.
#   ./build-tsan  the threaded core tests (lock library, watchdog, wake-up, safety, pool,
#                 scanner, simulator) under ThreadSanitizer; any report fails them.
#   ./build-fuzz  the libFuzzer targets (scripts/fuzz.sh), 30 s each after their regression inputs.
# Exits non-zero if installing, building or any test fails. Used as is by .ci/run.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$LOCKSCOPE_ROOT"

log "checking packages"
bash scripts/install-deps.sh

# Widgets tests run without a display.
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"

failed=()

# The real node-redlock and ioredis for tst_peer_noderedlock: the versions pinned in
# tests/peers/node/package-lock.json, installed with npm ci into the build tree (never the
# source tree); from npm's cache when it has them, so a second run works offline.
install_node_peers() {
    local dir="$1/peers/node"
    log "installing the node peer packages (npm ci) in $dir"
    mkdir -p "$dir"
    cp tests/peers/node/package.json tests/peers/node/package-lock.json "$dir/"
    (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund)
}

configure_and_build build
if ! install_node_peers build; then
    failed+=("npm ci of tests/peers/node into ./build")
fi
log "running all tests (build)"
if ! ctest --test-dir build --output-on-failure -j2 --timeout 600; then
    failed+=("tests in ./build")
fi

configure_and_build build-asan -DLOCKSCOPE_SANITIZE=ON -DLOCKSCOPE_BUILD_GUI=OFF
if ! install_node_peers build-asan; then
    failed+=("npm ci of tests/peers/node into ./build-asan")
fi
log "running core tests under ASan + UBSan (build-asan)"
if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan -L core --output-on-failure -j2 --timeout 900; then
    failed+=("core tests under sanitizers in ./build-asan")
fi

# ThreadSanitizer: the tests whose code runs threads of its own. Suppressions (third-party
# code only, each explained) are in tests/tsan.supp. Forking redis-server from a threaded test
# process is fine (the child execs at once): die_after_fork=0.
tsan_tests=(tst_pool tst_scanner tst_locker tst_lockwatchdog tst_locksafety tst_lockwakeup tst_lockretry tst_breaker tst_degraded
    tst_simulation tst_soak)
configure_and_build build-tsan -DLOCKSCOPE_TSAN=ON -DLOCKSCOPE_BUILD_GUI=OFF -- "${tsan_tests[@]}"
log "running the threaded core tests under ThreadSanitizer (build-tsan)"
tsan_regex="^($(IFS='|'; echo "${tsan_tests[*]}"))\$"
if ! TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:die_after_fork=0:second_deadlock_stack=1:suppressions=$LOCKSCOPE_ROOT/tests/tsan.supp" \
    ctest --test-dir build-tsan -R "$tsan_regex" --output-on-failure -j2 --timeout 900; then
    failed+=("threaded core tests under ThreadSanitizer in ./build-tsan")
fi

# libFuzzer: every target replays its regression inputs, then fuzzes for a bounded time from its
# seed corpus (scripts/fuzz.sh: clang 16, ASan + UBSan, a fixed seed).
log "fuzzing (build-fuzz, ${LOCKSCOPE_FUZZ_SECONDS:-30} s per target)"
if ! bash scripts/fuzz.sh; then
    failed+=("fuzz targets in ./build-fuzz")
fi

if ((${#failed[@]} > 0)); then
    printf '\ntest.sh: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
printf '\ntest.sh: all tests passed (./build, ./build-asan, ./build-tsan) and the fuzz targets found nothing (./build-fuzz)\n'
