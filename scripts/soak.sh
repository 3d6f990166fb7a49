#!/usr/bin/env bash
# Soak run (opt-in, several minutes; tests/tst_soak.cpp is the short version CI runs):
#   lockctl simulate --local 3 --scenario soak --duration 5m --workers 8
# on three redis-server nodes lockctl starts itself and pauses (SIGSTOP), kills and restarts
# at random (a schedule drawn from the seed; see `lockctl simulate --help`, scenario soak),
# then prints what the run left behind and fails (exit 1) on:
#   - a violation (a lost update: two holders at once), or a fault that could not be applied;
#   - a lock key or fence counter of the run left on a node (SCAN), a connection left open;
#   - more threads in lockctl after the run than before it;
#   - RSS growth beyond LOCKSCOPE_SOAK_RSS_GROWTH_MIB (default 64 MiB): see below.
# Exit 2 when it cannot run (tools missing, lockctl not built, nodes not started).
#
# Environment:
#   LOCKSCOPE_SOAK_DURATION         run length (default 5m)
#   LOCKSCOPE_SOAK_SEED             seed of the hold times and the fault schedule (default:
#                                   random, printed, so that a failing run can be repeated)
#   LOCKSCOPE_SOAK_RSS_GROWTH_MIB   allowed RSS growth, end minus start (default 64)
#   LOCKSCOPE_SOAK_BUILD_DIR        build directory in which lockctl is built (default ./build)
#   LOCKCTL                         a lockctl binary to use as it is (nothing is built)
# Arguments are passed on to lockctl simulate (e.g. --ttl 3s --keys 4).
#
# The RSS bound: the start figure is taken before the run (the nodes started, no worker yet)
# and the end figure once every thread of the run has ended, so the difference includes what
# a healthy run keeps: the malloc arenas of its threads (glibc keeps them after the threads
# end), the ring of the last 10,000 critical sections (about 1 MiB), one throughput sample
# per 250 ms and the fault log: about 6 MiB in all, whatever the duration (measured: 14.9 MiB
# before a 5-minute run, 20.9 MiB after it, 22.3 MiB peak). A leak of half a KiB per
# acquisition (a 5-minute run makes about 150,000 on a 2-core machine) passes 64 MiB, while
# allocator noise stays far below it. Smaller leaks, and leaks per fault or per reconnect,
# are for the sanitizer build (tst_soak under ASan).
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$LOCKSCOPE_ROOT"

require_tools python3 redis-server
duration="${LOCKSCOPE_SOAK_DURATION:-5m}"
rss_growth_mib="${LOCKSCOPE_SOAK_RSS_GROWTH_MIB:-64}"
seed="${LOCKSCOPE_SOAK_SEED:-$(((RANDOM << 30 | RANDOM << 15 | RANDOM) + 1))}"

if [[ -n "${LOCKCTL:-}" ]]; then
    lockctl="$LOCKCTL"
else
    build_dir="${LOCKSCOPE_SOAK_BUILD_DIR:-build}"
    require_tools cmake
    configure_and_build "$build_dir" -- lockctl
    lockctl="$build_dir/app/lockctl/lockctl"
fi
if [[ ! -x "$lockctl" ]]; then
    echo "soak: $lockctl is not an executable lockctl" >&2
    exit 2
fi

report="$(mktemp -t lockscope-soak.XXXXXX)"
trap 'rm -f "$report"' EXIT

log "soak: $duration, 3 local nodes, 8 workers, seed $seed"
status=0
"$lockctl" simulate --local 3 --scenario soak --duration "$duration" --workers 8 --seed "$seed" --json \
    "$@" >"$report" || status=$?
# 0: no violation; 6: the run completed with violations (the report says which). Anything
# else: it did not run.
if ((status != 0 && status != 6)); then
    echo "soak: lockctl simulate exited with $status (seed $seed)" >&2
    exit 2
fi

python3 - "$report" "$rss_growth_mib" "$seed" <<'PYTHON'
import json
import sys

with open(sys.argv[1]) as f:
    report = json.load(f)
bound_kib = int(sys.argv[2]) * 1024
seed = sys.argv[3]
leaks = report.get("leak_check", {})
faults = report.get("faults", [])


def count(kind):
    return sum(1 for f in faults if f["fault"] == kind and f["ok"])


def mib(kib):
    return "?" if kib is None or kib < 0 else f"{kib / 1024:.1f} MiB"


rss_start, rss_end = leaks.get("rss_start_kib", -1), leaks.get("rss_end_kib", -1)
threads_start, threads_end = leaks.get("threads_start", -1), leaks.get("threads_end", -1)
print(f"seed                    {seed}")
print(f"elapsed                 {report['seconds']:.1f} s")
print(f"acquisitions            {report['acquisitions']} ({report['acquisitions_per_s']:.0f}/s)")
print(f"failed attempts         {report['failed_attempts']}, acquires given up {report['acquire_failures']}")
print(f"violations              {report['violations']} (overlapping sections {report['overlaps']}, "
      f"abandoned writes {report['abandoned_writes']})")
print(f"faults                  {count('pause')} pauses, {count('kill')} kills / {count('restart')} restarts")
print(f"RSS start / end (peak)  {mib(rss_start)} / {mib(rss_end)} ({mib(leaks.get('rss_peak_kib'))})")
print(f"threads start / end     {threads_start} / {threads_end}")
print(f"connections left        {leaks.get('connections_left')}")
print(f"run keys left (SCAN)    {leaks.get('run_keys_left')} (lock keys by EXISTS: {report['keys_left']})")
for node in leaks.get("nodes", []):
    extra = f" ({node['error']})" if "error" in node else ""
    print(f"  {node['node']}: {node['connections']} connection(s), {node['keys']} key(s){extra}")

problems = []
if report["state"] != "finished":
    problems.append(f"the run ended in state {report['state']}")
if report["acquisitions"] <= 0:
    problems.append("no acquisition at all")
if report["violations"] != 0:
    problems.append(f"{report['violations']} violation(s)")
for f in faults:
    if not f["ok"]:
        problems.append(f"fault '{f['description']}' failed: {f['message']}")
if report["keys_left"] != 0:
    problems.append(f"{report['keys_left']} lock key(s) left")
if leaks.get("run_keys_left") != 0:
    problems.append(f"run keys left: {leaks.get('run_keys_left')}")
if leaks.get("connections_left") != 0:
    problems.append(f"connections left: {leaks.get('connections_left')}")
if threads_start < 0 or threads_end > threads_start:
    problems.append(f"threads: {threads_start} before the run, {threads_end} after it")
if rss_start < 0 or rss_end < 0 or rss_end - rss_start > bound_kib:
    problems.append(f"RSS grew from {mib(rss_start)} to {mib(rss_end)} (bound: {bound_kib // 1024} MiB)")
if problems:
    print(f"\nsoak: FAILED (seed {seed}):", file=sys.stderr)
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    sys.exit(1)
print("\nsoak: passed")
PYTHON
