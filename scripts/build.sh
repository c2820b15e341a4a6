#!/usr/bin/env bash
# Configures and builds gt into build/ (or build-asan/ with --sanitize). Prints the build dir.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags=()
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  flags=(-DGT_SANITIZE=ON -DGT_BUILD_BENCH=OFF)
fi
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$dir" >&2
echo "$dir"
