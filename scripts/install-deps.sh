#!/usr/bin/env bash
# Installs the Debian 12 packages LockScope needs to build, test and run, skipping the ones
# already installed (a second run only asks dpkg and returns). Runs apt-get as root, or
# through sudo when not root.
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake ninja-build pkg-config
    # libFuzzer and its sanitizer runtimes for scripts/fuzz.sh (clang 16: the oldest Debian clang
    # that compiles libstdc++ 12's <expected>)
    clang-16 libclang-rt-16-dev
    # Qt 6 (Core, Network, Test, Gui, Widgets, Svg, Charts) and the secrets store
    qt6-base-dev qt6-base-dev-tools qt6-svg-dev qt6-charts-dev qtkeychain-qt6-dev
    # Qt6Charts' CMake package needs Qt6OpenGL's, which qt6-charts-dev does not pull in
    libqt6opengl6-dev
    # Redis protocol (hiredis) and TLS; RapidJSON (header-only) for lockctl's streamed JSON
    libhiredis-dev libssl-dev openssl rapidjson-dev
    # real servers for tests, demo mode and benchmarks (redis-benchmark is in redis-tools)
    redis-server redis-tools
    # a real lock library for the inspector's schema tests (redis-py's Lock)
    python3 python3-redis
    # headless GUI runs and screenshots
    xvfb xauth
    libgl-dev
    # what Qt's xcb platform plugin loads at run time, and a font to draw with
    qt6-qpa-plugins libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
    libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 fontconfig fonts-dejavu-core
)

# node + npm for the real node-redlock / ioredis peer test (scripts/test.sh runs npm ci into the
# build tree). Debian's packages only when no node is on PATH: a node installed another way
# (nodesource, nvm) is used as it is, and would conflict with Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
    # "install ok installed" is the only state in which the package's files are all there.
    if [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages are installed"
    exit 0
fi

sudo=()
if ((EUID != 0)); then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-deps: missing packages: ${missing[*]}" >&2
        echo "install-deps: not root and sudo is not available; install them as root" >&2
        exit 1
    fi
    sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
