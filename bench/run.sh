#!/usr/bin/env bash
# The benchmarks of design §9 in one run: builds gt and the two benchmark binaries in Release
# (build-release/), runs the in-process ones (gt_bench_micro, Google Benchmark) and the
# process-level ones (gt_bench_system: real gt, private tmux servers, never the user's), prints
# one table and writes one JSON file. Figures only: nothing here fails on a slow time.
#
#   bench/run.sh [--json FILE] [--quick] [--build-dir DIR] [-- gt_bench_system options]
#
#   --json FILE    where the JSON goes (default bench/results.json)
#   --quick        few trials and N = 10, 100 only: checks that everything runs, not figures
#   --build-dir    the Release build directory (default build-release)
#   after --        passed to gt_bench_system, e.g. -- --sections idle --idle-seconds 20
set -euo pipefail

started=$(date +%s.%N)
root="$(cd "$(dirname "$0")/.." && pwd)"
json="$root/bench/results.json"
build="$root/build-release"
quick=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json="$(realpath -m "$2")"; shift 2 ;;
    --quick) quick=(--quick --agents 10,100 --idle-seconds 10); shift ;;
    --build-dir) build="$(realpath -m "$2")"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

for tool in cmake ninja tmux; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool missing; run scripts/deps.sh" >&2; exit 1; }
done

echo "== build ($build, Release)" >&2
build_start=$(date +%s.%N)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGT_BUILD_TESTS=ON \
  -DGT_BUILD_BENCH=ON >/dev/null
# The benchmarks are only configured when CMake finds Google Benchmark.
grep -q gt_bench_system "$build/build.ninja" ||
  { echo "bench/run.sh: Google Benchmark not found; run scripts/deps.sh (libbenchmark-dev)" >&2; exit 1; }
# Two jobs at most: the machine may be shared.
ninja -C "$build" -j "${GT_BENCH_JOBS:-2}" gt gt_bench_micro gt_bench_system >&2
build_s=$(awk "BEGIN { print $(date +%s.%N) - $build_start }")

micro="$(mktemp --suffix=.json)"
trap 'rm -f "$micro"' EXIT
echo "== in-process benchmarks (gt_bench_micro)" >&2
min_time=()
[ ${#quick[@]} -gt 0 ] && min_time=(--benchmark_min_time=0.05)
"$build/bench/gt_bench_micro" --benchmark_format=json --benchmark_out_format=json \
  --benchmark_out="$micro" "${min_time[@]}" >/dev/null

echo "== process-level benchmarks (gt_bench_system)" >&2
mkdir -p "$(dirname "$json")"
"$build/bench/gt_bench_system" --json "$json" --micro "$micro" --started "$started" \
  --build-seconds "$build_s" "${quick[@]}" "${extra[@]}"
