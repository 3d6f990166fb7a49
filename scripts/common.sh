# Shared by the scripts in this directory; source it, do not run it.
# shellcheck shell=bash

# The repository root, whatever the caller's working directory.
LOCKSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LOCKSCOPE_ROOT

log() {
    printf '\n==> %s\n' "$*"
}

# configure_and_build BUILD_DIR [cmake -D options...] [-- targets...]
# Configures BUILD_DIR with Ninja (RelWithDebInfo unless a -DCMAKE_BUILD_TYPE is passed) and
# builds the given targets, or everything. An existing build directory keeps its generator.
configure_and_build() {
    local dir="$1"
    shift
    local -a options=() targets=()
    while (($# > 0)); do
        if [[ "$1" == "--" ]]; then
            shift
            targets=("$@")
            break
        fi
        options+=("$1")
        shift
    done
    local -a generator=()
    if [[ ! -f "$dir/CMakeCache.txt" ]]; then
        generator=(-G Ninja)
    fi
    local build_type=-DCMAKE_BUILD_TYPE=RelWithDebInfo
    local option
    for option in "${options[@]}"; do
        [[ "$option" == -DCMAKE_BUILD_TYPE=* ]] && build_type="$option"
    done
    log "configuring $dir"
    cmake -S "$LOCKSCOPE_ROOT" -B "$dir" "${generator[@]}" "$build_type" "${options[@]}"
    log "building $dir${targets[*]:+ (${targets[*]})}"
    if ((${#targets[@]} > 0)); then
        cmake --build "$dir" --target "${targets[@]}"
    else
        cmake --build "$dir"
    fi
}

# --- shared by the benchmark scripts -------------------------------------------------------

# find_lockctl: sets `lockctl` to $LOCKCTL or the first built lockctl found; exits 2 if none.
find_lockctl() {
    lockctl="${LOCKCTL:-}"
    if [[ -z "$lockctl" ]]; then
        local candidate
        for candidate in build/app/lockctl/lockctl build-scan/app/lockctl/lockctl build-cli/app/lockctl/lockctl; do
            if [[ -x "$candidate" ]]; then
                lockctl="$candidate"
                break
            fi
        done
    fi
    if [[ -z "$lockctl" || ! -x "$lockctl" ]]; then
        echo "$(basename "$0" .sh): lockctl not found; build it first (bash scripts/test.sh, or" >&2
        echo "  cmake -S . -B build -G Ninja && cmake --build build --target lockctl) or set LOCKCTL" >&2
        exit 2
    fi
}

# require_tools TOOL...: exits 2 naming the first one missing.
require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || {
            echo "$(basename "$0" .sh): $tool is missing (bash scripts/install-deps.sh)" >&2
            exit 2
        }
    done
}

# bench_workdir PREFIX: a private temporary directory in `work`; on exit every server started
# with start_server is stopped and the directory removed.
bench_workdir() {
    work="$(mktemp -d -t "$1.XXXXXX")"
    pids=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}

# A port in the dynamic range that nothing accepts connections on right now (never 6379).
# redis-server itself is the final judge: start_server retries when the bind loses a race.
free_port() {
    local port
    while true; do
        port=$((20000 + RANDOM % 40000))
        ((port == 6379)) && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# start_server NAME [redis-server args...]: sets server_port once the server answers PING. The
# server named "tls" listens with TLS only and is pinged with $work/ca.crt.
# (Not run in $(...): the server must be a child of this shell so that cleanup can stop it.)
server_port=
start_server() {
    local name="$1"
    shift
    local attempt port pid _
    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        mkdir -p "$work/$name"
        local -a listen=(--port "$port")
        local -a cli=(-p "$port")
        if [[ "$name" == tls ]]; then
            listen=(--port 0 --tls-port "$port")
            cli=(-p "$port" --tls --cacert "$work/ca.crt")
        fi
        redis-server --bind 127.0.0.1 "${listen[@]}" --save '' --appendonly no \
            --dir "$work/$name" --logfile "$work/$name/redis.log" "$@" </dev/null >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            if [[ "$(redis-cli "${cli[@]}" ping 2>/dev/null)" == PONG ]]; then
                pids+=("$pid")
                server_port="$port"
                return
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        echo "$(basename "$0" .sh): $name server on port $port did not come up (attempt $attempt)" >&2
    done
    tail -5 "$work/$name/redis.log" >&2 || true
    exit 1
}

# write_lock_load FILE LOCKS OTHER: RESP commands for redis-cli --pipe that write LOCKS
# LockScope-format locks (app:lock:N, TTL 10 min) mixed with OTHER plain keys (cache:item:N).
write_lock_load() {
    python3 - "$2" "$3" >"$1" <<'PYTHON'
import base64, os, sys
locks, other = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    out.write(b"".join(parts))
for i in range(max(locks, other)):
    if i < locks:
        token = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=")
        value = (b"ls1 tok=%s fence=%d host=web-%d pid=%d thr=worker-%d at=2026-11-23T06:00:00.123Z "
                 b"label=job%%20%d" % (token, i + 1, i % 16, 4000 + i % 97, i % 8, i))
        cmd(b"SET", b"app:lock:%d" % i, value, b"PX", b"600000")
    if i < other:
        cmd(b"SET", b"cache:item:%d" % i, b"payload-%d" % i)
PYTHON
}
