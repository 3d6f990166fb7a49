#!/usr/bin/env bash
# GUI responsiveness during a large refresh: 3 nodes, each with LOCKS lock keys (plus OTHER
# non-lock keys), shown as one Redlock group; the app scans them REFRESHES times while a 2 ms
# precise timer on the GUI thread records the longest gap (lockscope --stall-report). The target
# is a longest stall under 50 ms while 300,000 keys are scanned.
#
#   bash scripts/bench-gui-stall.sh [-l LOCKS] [-o OTHER] [-n REFRESHES] [-s]
#
# -s shows the nodes as three single-node groups instead (3 x LOCKS rows in the table).
# Defaults: 100000 locks + 0 other keys per node, 3 refreshes. Starts its own redis-server
# processes on free loopback ports (never 6379); runs the app under xvfb-run when there is no
# display. Uses $LOCKSCOPE_APP, else build/app/lockscope/lockscope.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$LOCKSCOPE_ROOT"

locks=100000
other=0
refreshes=3
single=0
while getopts "l:o:n:sh" option; do
    case "$option" in
    l) locks="$OPTARG" ;;
    o) other="$OPTARG" ;;
    n) refreshes="$OPTARG" ;;
    s) single=1 ;;
    *)
        sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
    esac
done

app="${LOCKSCOPE_APP:-build/app/lockscope/lockscope}"
[[ -x "$app" ]] || { echo "bench-gui-stall: $app not found; build it first (bash scripts/test.sh)" >&2; exit 2; }
require_tools redis-server redis-cli python3
bench_workdir lockscope-bench-gui-stall

write_lock_load "$work/load.resp" "$locks" "$other"
nodes_json=()
for n in 1 2 3; do
    start_server "node$n"
    redis-cli -p "$server_port" --pipe <"$work/load.resp" >"$work/node$n.load" 2>&1 ||
        { cat "$work/node$n.load" >&2; exit 1; }
    nodes_json+=("{\"url\": \"redis://127.0.0.1:$server_port?name=node$n\"}")
done
if ((single)); then
    groups="$(printf '{"name": "node%d", "nodes": [%s]},' 1 "${nodes_json[0]}" 2 "${nodes_json[1]}" 3 "${nodes_json[2]}")"
    groups="[${groups%,}]"
else
    groups="[{\"name\": \"redlock\", \"nodes\": [$(IFS=,; echo "${nodes_json[*]}")]}]"
fi
echo "{\"version\": 1, \"groups\": $groups}" >"$work/groups.json"

run=("$app" --config "$work/groups.json" --stall-report "$work/stall.json" --refreshes "$refreshes")
if [[ -z "${DISPLAY:-}" ]]; then
    require_tools xvfb-run
    run=(xvfb-run -a -s "-screen 0 1280x800x24" "${run[@]}")
fi
log "3 nodes x ($locks locks + $other other keys), $( ((single)) && echo "3 single-node groups" || echo "one Redlock group"), $refreshes refreshes"
echo "load: $(uptime)"
# Private settings, so that a saved window state or auto-refresh choice cannot change the run.
XDG_CONFIG_HOME="$work/xdg" "${run[@]}"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("longest GUI stall %.1f ms (p99 gap %.2f ms over %d ticks); %d locks in the table; scans: %s ms" % (
    r["longest_stall_ms"], r["p99_gap_ms"], r["ticks"], r["locks"], ", ".join(str(s) for s in r["scan_ms"])))' "$work/stall.json"
echo "load: $(uptime)"
