#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz in ./build-fuzz (clang 16, ASan + UBSan) and runs each
# for a bounded time:
#   1. the inputs kept in tests/fuzz/regressions/<target>/ (crashes found before) are replayed;
#   2. the target fuzzes for $LOCKSCOPE_FUZZ_SECONDS seconds (default 30), from a working copy of
#      the seeds in tests/fuzz/corpus/<target>/ kept in build-fuzz/corpus/<target>/ (the committed
#      seeds are never written to; the working corpus grows from run to run).
# Prints the executions of each target. Exits non-zero if any target crashed, leaked, timed out
# or ran out of memory, naming the target and the input that did it (build-fuzz/artifacts/<target>/).
#
#   bash scripts/fuzz.sh [TARGET...]    all targets when none is named
#   LOCKSCOPE_FUZZ_SECONDS=N (default 30), LOCKSCOPE_FUZZ_SEED=N (default 1; 0 = random)
#
# A new crash: fix it, then keep its input as tests/fuzz/regressions/<target>/<what-it-broke>.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$LOCKSCOPE_ROOT"

all_targets=(fuzz_nodeurl fuzz_groups fuzz_schemas fuzz_lockvalue fuzz_reply fuzz_displaytext)
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=("${all_targets[@]}")
fi
seconds="${LOCKSCOPE_FUZZ_SECONDS:-30}"
# A fixed seed by default, so that a CI run walks the same mutations as the run before it (a
# finding is then reproducible, and one is not lost to chance); LOCKSCOPE_FUZZ_SEED=0 draws one.
seed="${LOCKSCOPE_FUZZ_SEED:-1}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz.sh: LOCKSCOPE_FUZZ_SECONDS must be a positive number of seconds, not '$seconds'" >&2
    exit 2
fi
build="build-fuzz"

# The longest input each target is given: a reply may be a whole pipelined batch.
max_len() {
    case "$1" in
    fuzz_reply) echo 65536 ;;
    fuzz_groups) echo 16384 ;;
    *) echo 4096 ;;
    esac
}

require_tools clang++-16 clang-16 cmake ninja
configure_and_build "$build" -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 -DLOCKSCOPE_FUZZ=ON \
    -DLOCKSCOPE_BUILD_GUI=OFF -- "${targets[@]}"

# Sanitizer findings stop the target with a stack; libFuzzer reports them and keeps the input.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
summary=()

# What stopped a target, from its log: the sanitizer's summary or the violated property.
finding() {
    grep -m1 -E '^(SUMMARY: |property violated: |==[0-9]+== ERROR: libFuzzer: )' "$1" || echo "see $1"
}

# The input libFuzzer kept for a finding (artifact_prefix), if it wrote one.
artifact() {
    sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$1" | tail -1
}

stat_of() {
    sed -n "s/^stat::$2: *//p" "$1" | tail -1
}

for target in "${targets[@]}"; do
    exe="$build/tests/fuzz/$target"
    artifacts="$build/artifacts/$target"
    corpus="$build/corpus/$target"
    logs="$build/fuzz-logs"
    mkdir -p "$artifacts" "$corpus" "$logs"
    options=(-max_len="$(max_len "$target")" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/" -seed="$seed")
    if [[ -f "tests/fuzz/$target.dict" ]]; then
        options+=(-dict="tests/fuzz/$target.dict")
    fi

    regressions=()
    if [[ -d "tests/fuzz/regressions/$target" ]]; then
        mapfile -t regressions < <(find "tests/fuzz/regressions/$target" -type f | sort)
    fi
    if ((${#regressions[@]} > 0)); then
        log "$target: replaying ${#regressions[@]} regression input(s)"
        if ! "$exe" "${options[@]}" "${regressions[@]}" >"$logs/$target.regressions.log" 2>&1; then
            input="$(sed -n 's/^Running: //p' "$logs/$target.regressions.log" | tail -1)"
            echo "fuzz.sh: $target fails on regression input ${input:-?}: $(finding "$logs/$target.regressions.log")" >&2
            failed+=("$target (regression input ${input:-?})")
            summary+=("$(printf '%-18s %-12s' "$target" 'REGRESSION')")
            continue
        fi
    fi

    cp -r "tests/fuzz/corpus/$target/." "$corpus/"
    log "$target: fuzzing for $seconds s (log: $logs/$target.log)"
    status=0
    # libFuzzer stops itself after max_total_time; the outer bound only guards against a hang
    # that its own -timeout does not catch.
    timeout --kill-after=10 $((seconds + 120)) \
        "$exe" "${options[@]}" -max_total_time="$seconds" "$corpus" >"$logs/$target.log" 2>&1 || status=$?
    runs="$(stat_of "$logs/$target.log" number_of_executed_units)"
    speed="$(stat_of "$logs/$target.log" average_exec_per_sec)"
    if ((status != 0)); then
        input="$(artifact "$logs/$target.log")"
        echo "fuzz.sh: $target FAILED (exit $status) after ${runs:-?} executions: $(finding "$logs/$target.log")" >&2
        echo "fuzz.sh: $target: input kept as ${input:-(none written)}; full log: $logs/$target.log" >&2
        failed+=("$target (${input:-exit $status})")
        summary+=("$(printf '%-18s %-12s %12s executions %8s exec/s' "$target" FAILED "${runs:-?}" "${speed:-?}")")
    else
        summary+=("$(printf '%-18s %-12s %12s executions %8s exec/s' "$target" ok "${runs:-?}" "${speed:-?}")")
    fi
done

log "fuzzing summary ($seconds s per target)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
    printf '\nfuzz.sh: FAILED:\n' >&2
    printf '  %s\n' "${failed[@]}" >&2
    exit 1
fi
printf '\nfuzz.sh: %d targets ran without a finding\n' "${#targets[@]}"
