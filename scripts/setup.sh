#!/usr/bin/env bash
# Installs the Debian 12 packages exporters needs, then configures and builds
# it in ./build. Idempotent. Run as root; as another user, apt-get goes
# through sudo and the build stays owned by that user.
# Usage: bash scripts/setup.sh [BUILD_DIR]       (default: build)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 \
    || { echo "scripts/setup.sh: run as root: installing packages needs apt-get as root" >&2; exit 1; }
  as_root=(sudo)
fi

packages=(
  meson ninja-build pkg-config g++
  libtorch-dev python3-torch
  # LibTorch runs its matrix products through libblas.so.3; OpenBLAS takes
  # over that alternative from the reference BLAS (validation ~8x faster).
  libopenblas0-pthread
  libprotobuf-dev protobuf-compiler
  libflatbuffers-dev flatbuffers-compiler
  libfmt-dev doctest-dev libboost-dev libboost-filesystem-dev libcli11-dev nlohmann-json3-dev
  libpng-dev python3-pil zlib1g-dev
  # dpkg-shlibdeps: Depends of the Debian packages (scripts/make-debs.sh).
  dpkg-dev
)
# Node.js runs the TFLite runtime tests. Machines that already have node/npm
# (possibly from NodeSource, whose nodejs conflicts with Debian's npm) keep theirs.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}"

# The LiteRT runner the TFLite tests use (pinned by its package-lock.json).
if [ -f tools/litert/package-lock.json ]; then
  npm ci --prefix tools/litert --no-audit --no-fund
fi

if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build"
else
  meson setup "$build"
fi
# Two jobs: LibTorch translation units need a lot of memory each.
ninja -C "$build" -j2
