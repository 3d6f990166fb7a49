#!/usr/bin/env bash
# Inspector snapshot and `lockctl list` speed: NODES nodes (default 3), each with LOCKS
# LockScope-format lock keys (TTL 10 min) mixed with OTHER non-lock keys. Each run times
# `lockctl bench snapshot` (SCAN + pipelined MGET/PTTL + decoding + aggregation across the nodes;
# memory per record) and then, in the same run, `lockctl list --json` and `list --csv` written to
# a file: their seconds, their ratio to the snapshot's, their peak RSS and the peak RSS per record
# above that of a `list` that finds nothing (the process's own baseline).
#
#   bash scripts/bench-snapshot.sh [-l LOCKS] [-o OTHER] [-n NODES] [-r RUNS] [-m]
#
# Defaults: 100000 locks + 50000 other keys per node, 3 nodes, 3 runs. -m lists every key
# (`--match '*'`: the non-lock keys too, raw) instead of the locks. Starts its own redis-server
# processes on free loopback ports (never 6379) and stops them on exit; loads them with
# redis-cli --pipe. Uses $LOCKCTL, else build/app/lockctl/lockctl, else build-scan/..., build-cli/...
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$LOCKSCOPE_ROOT"

locks=100000
other=50000
count=3
runs=3
match=()
while getopts "l:o:n:r:mh" option; do
    case "$option" in
    l) locks="$OPTARG" ;;
    o) other="$OPTARG" ;;
    n) count="$OPTARG" ;;
    r) runs="$OPTARG" ;;
    m) match=(--match '*') ;;
    *)
        sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
    esac
done

find_lockctl
require_tools redis-server redis-cli python3 /usr/bin/time
bench_workdir lockscope-bench-snapshot

# RESP for redis-cli --pipe: LOCKS LockScope values and OTHER plain keys, interleaved so that
# SCAN sees them mixed (write_lock_load in common.sh, shared with bench-gui-stall.sh).
write_lock_load "$work/load.resp" "$locks" "$other"

urls=()
for n in $(seq "$count"); do
    start_server "node$n"
    redis-cli -p "$server_port" --pipe <"$work/load.resp" >"$work/node$n.load" 2>&1 ||
        { cat "$work/node$n.load" >&2; exit 1; }
    urls+=("redis://127.0.0.1:$server_port?name=node$n")
done
nodes="$(IFS=,; echo "${urls[*]}")"
log "$count nodes, each $locks lock keys + $other other keys; $runs runs of lockctl bench snapshot${match[*]:+ --match '*'}, list --json, list --csv"
echo "load: $(uptime)"
# The peak RSS of a list that finds nothing: the process's own baseline (libraries, Qt).
/usr/bin/time -f "%M" -o "$work/base.rss" "$lockctl" list --nodes "$nodes" --json --match 'nothing-matches-this:*' >/dev/null
for run in $(seq "$runs"); do
    "$lockctl" bench snapshot --nodes "$nodes" "${match[@]}" --json >"$work/run.json" || { cat "$work/run.json" >&2; exit 1; }
    for format in json csv; do
        /usr/bin/time -f "%e %M" -o "$work/$format.time" "$lockctl" list --nodes "$nodes" "${match[@]}" "--$format" \
            >"$work/out.$format" || { echo "list --$format failed" >&2; exit 1; }
    done
    python3 -c '
import json, os, sys
run, work = sys.argv[1], sys.argv[2]
r = json.load(open(work + "/run.json"))
base = int(open(work + "/base.rss").read())
print("run %s: snapshot %.3f s (client CPU %.3f s), %d records (%d decoded), %d keys scanned, heap %.0f B/record, RSS %.0f B/record" % (
    run, r["seconds"], r["client_cpu_seconds"], r["records"], r["decoded"], r["keys_scanned"],
    r["heap_bytes_per_record"], r["rss_bytes_per_record"]))
for fmt in ("json", "csv"):
    seconds, rss = open(work + "/" + fmt + ".time").read().split()
    size = os.path.getsize(work + "/out." + fmt)
    print("       list --%-4s %.2f s = %.2f x the snapshot, %.0f MB written, peak RSS %.0f MB (%.0f B/record above the %.0f MB baseline)" % (
        fmt, float(seconds), float(seconds) / r["seconds"], size / 1e6, int(rss) / 1024,
        (int(rss) - base) * 1024 / max(1, r["records"]), base / 1024))' "$run" "$work"
done
echo "load: $(uptime)"
