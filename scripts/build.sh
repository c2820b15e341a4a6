#!/usr/bin/env bash
# Configures and builds gt into build/, or with the sanitizers: build-asan/ (--sanitize: ASan and
# UBSan, everything) or build-tsan/ (--tsan: ThreadSanitizer, gt and the threaded unit tests).
# Prints the build dir. Every build compiles each library as one unit (CMake's unity build; tests
# and benchmarks stay one file per unit): a build from scratch, as the test command's in CI and
# every sanitizer build are, takes half the time; a change to one file recompiles its library.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags=()
targets=()
case "${1:-}" in
  --sanitize) dir=build-asan; flags=(-DGT_SANITIZE=ON -DGT_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON) ;;
  --tsan) dir=build-tsan; flags=(-DGT_TSAN=ON -DGT_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON); targets=(gt gt_threaded_tests) ;;
  "") flags=(-DCMAKE_UNITY_BUILD=ON) ;;
  *) echo "usage: $0 [--sanitize|--tsan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$dir" "${targets[@]}" >&2
echo "$dir"
