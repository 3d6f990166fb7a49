#!/usr/bin/env bash
# Inspector snapshot speed: 3 nodes, each with LOCKS LockScope-format lock keys (TTL 10 min) mixed
# with OTHER non-lock keys; times `lockctl bench snapshot` (SCAN + pipelined MGET/PTTL + decoding +
# aggregation across the nodes) RUNS times and prints the seconds and the memory per record.
#
#   bash scripts/bench-snapshot.sh [-l LOCKS] [-o OTHER] [-r RUNS]
#
# Defaults: 100000 locks + 50000 other keys per node, 3 runs. Starts its own redis-server
# processes on free loopback ports (never 6379) and stops them on exit; loads them with
# redis-cli --pipe. Uses $LOCKCTL, else build/app/lockctl/lockctl, else build-scan/..., build-cli/...
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$LOCKSCOPE_ROOT"

locks=100000
other=50000
runs=3
while getopts "l:o:r:h" option; do
    case "$option" in
    l) locks="$OPTARG" ;;
    o) other="$OPTARG" ;;
    r) runs="$OPTARG" ;;
    *)
        sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
    esac
done

find_lockctl
require_tools redis-server redis-cli python3
bench_workdir lockscope-bench-snapshot

# RESP for redis-cli --pipe: LOCKS LockScope values and OTHER plain keys, interleaved so that
# SCAN sees them mixed (write_lock_load in common.sh, shared with bench-gui-stall.sh).
write_lock_load "$work/load.resp" "$locks" "$other"

urls=()
for n in 1 2 3; do
    start_server "node$n"
    redis-cli -p "$server_port" --pipe <"$work/load.resp" >"$work/node$n.load" 2>&1 ||
        { cat "$work/node$n.load" >&2; exit 1; }
    urls+=("redis://127.0.0.1:$server_port?name=node$n")
done
nodes="$(IFS=,; echo "${urls[*]}")"
log "3 nodes, each $locks lock keys + $other other keys; $runs runs of lockctl bench snapshot"
echo "load: $(uptime)"
for run in $(seq "$runs"); do
    "$lockctl" bench snapshot --nodes "$nodes" --json >"$work/run.json" || { cat "$work/run.json" >&2; exit 1; }
    python3 -c '
import json, sys
r = json.load(open(sys.argv[2]))
print("run %s: %.3f s (client CPU %.3f s), %d records (%d decoded), %d keys scanned, heap %.0f B/record, RSS %.0f B/record" % (
    sys.argv[1], r["seconds"], r["client_cpu_seconds"], r["records"], r["decoded"], r["keys_scanned"],
    r["heap_bytes_per_record"], r["rss_bytes_per_record"]))' "$run" "$work/run.json"
done
echo "load: $(uptime)"
