#!/usr/bin/env bash
# Single-client PING round trips: lockctl's connection layer against redis-benchmark's client,
# on the same throwaway servers, interleaved and repeated, plain TCP and TLS.
#
#   bash scripts/bench-ping.sh [-n REQUESTS] [-r ROUNDS] [-s SPIN_US]
#
# -s sets lockctl's busy-poll before sleeping (the spin_us URL option; default 50, 0 = off).
#
# Starts its own redis-server processes on free loopback ports (never 6379) and a TLS one with
# certificates made by the openssl CLI in a temporary directory; stops them on exit. Uses
# $LOCKCTL, else build/app/lockctl/lockctl, else build-cli/app/lockctl/lockctl.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$LOCKSCOPE_ROOT"

requests=100000
rounds=3
spin=""
while getopts "n:r:s:h" option; do
    case "$option" in
    n) requests="$OPTARG" ;;
    r) rounds="$OPTARG" ;;
    s) spin="$OPTARG" ;;
    *)
        sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
    esac
done

find_lockctl
require_tools redis-server redis-benchmark redis-cli openssl
bench_workdir lockscope-bench

make_certificates() {
    local dir="$work"
    openssl req -x509 -new -nodes -newkey rsa:2048 -days 2 -subj "/CN=LockScope bench CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
    openssl req -new -nodes -newkey rsa:2048 -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 2 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
}

# The PING_MBULK rate: lockctl sends PING as a RESP array too, so that is the like-for-like line.
redis_benchmark_rps() {
    redis-benchmark "$@" -c 1 -n "$requests" -t ping -q 2>/dev/null |
        tr '\r' '\n' | awk '/^PING_MBULK: [0-9]/ { rps = $2 } END { if (rps == "") exit 1; print rps }'
}

lockctl_rps() {
    "$lockctl" bench ping "$1" -n "$requests" --json |
        sed -n 's/^ *"rps": \([0-9.eE+-]*\),\{0,1\}$/\1/p'
}

log "generating TLS certificates in $work"
make_certificates
start_server plain
plain_port="$server_port"
start_server tls --tls-cert-file "$work/server.crt" --tls-key-file "$work/server.key" \
    --tls-ca-cert-file "$work/ca.crt" --tls-auth-clients no
tls_port="$server_port"
echo "plain redis-server on 127.0.0.1:$plain_port, TLS on 127.0.0.1:$tls_port; $requests PINGs per run"
echo "lockctl: $lockctl"

plain_url="redis://127.0.0.1:$plain_port${spin:+?spin_us=$spin}"
tls_url="rediss://127.0.0.1:$tls_port?ca=$work/ca.crt${spin:+&spin_us=$spin}"

results=()
for round in $(seq "$rounds"); do
    for transport in tcp tls; do
        if [[ "$transport" == tcp ]]; then
            reference="$(redis_benchmark_rps -h 127.0.0.1 -p "$plain_port")"
            ours="$(lockctl_rps "$plain_url")"
        else
            reference="$(redis_benchmark_rps -h 127.0.0.1 -p "$tls_port" --tls --cacert "$work/ca.crt")"
            ours="$(lockctl_rps "$tls_url")"
        fi
        results+=("$round $transport $reference $ours")
        printf '  round %s %-3s  redis-benchmark %10.0f  lockctl %10.0f\n' "$round" "$transport" \
            "$reference" "$ours"
    done
done

echo
printf '%-6s %-9s %22s %16s %8s\n' round transport "redis-benchmark rps" "lockctl rps" ratio
for row in "${results[@]}"; do
    read -r round transport reference ours <<<"$row"
    awk -v r="$round" -v t="$transport" -v a="$reference" -v b="$ours" \
        'BEGIN { printf "%-6s %-9s %22.0f %16.0f %8.2f\n", r, t, a, b, b / a }'
done
for transport in tcp tls; do
    printf '%s\n' "${results[@]}" | awk -v t="$transport" '
        $2 == t { a += $3; b += $4; n++ }
        END { if (n) printf "%-6s %-9s %22.0f %16.0f %8.2f\n", "mean", t, a / n, b / n, b / a }'
done
