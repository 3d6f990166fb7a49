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
