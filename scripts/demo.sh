#!/usr/bin/env bash
# Installs what is missing, builds ./build, and opens LockScope in demo mode: it starts three
# local redis-server nodes on free loopback ports (a Redlock set) and stops them on exit.
# Without a display ($DISPLAY / $WAYLAND_DISPLAY) it runs under Xvfb and saves a screenshot to
# build/demo.png instead. Extra arguments are passed to lockscope.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$LOCKSCOPE_ROOT"

log "checking packages"
bash scripts/install-deps.sh

configure_and_build build -- lockscope lockctl

app=build/app/lockscope/lockscope
if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then
    log "starting $app --demo (close the window to stop the demo nodes)"
    exec "$app" --demo "$@"
fi

screenshot=build/demo.png
rm -f "$screenshot"
log "no display found: running $app --demo under Xvfb and saving a screenshot to $screenshot"
# The app takes the screenshot once the demo nodes are live, then quits; the timeout only
# guards against a hang.
timeout 180 xvfb-run --auto-servernum --server-args="-screen 0 1400x900x24" \
    "$app" --demo --screenshot "$screenshot" "$@"
if [[ ! -s "$screenshot" ]]; then
    echo "demo.sh: no screenshot was written to $screenshot" >&2
    exit 1
fi
echo "demo.sh: screenshot saved to $LOCKSCOPE_ROOT/$screenshot (run with a display to use the app)"
