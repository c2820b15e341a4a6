#!/usr/bin/env bash
# Fuzzes gt's parsers (design §11): builds the libFuzzer targets of fuzz/ into build-fuzz/ with
# clang, ASan and UBSan, then runs each for SECONDS (default 20), seeded from fuzz/corpus/<name>/.
# The repository's corpus is only read: new inputs go to a temporary directory, removed at the
# end. Prints one line per target; exits 1 when any target crashed, hung, leaked, ran out of
# memory or broke a promise it checks, naming the input (kept under build-fuzz/artifacts/) and
# printing it as base64.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [seconds-per-target]" >&2
  exit 2
fi

# Each library compiled as one unit: a build from scratch takes half the time.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DGT_FUZZ=ON -DGT_BUILD_TESTS=OFF \
  -DGT_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON >/dev/null
ninja -C build-fuzz -j2 gt_fuzz >&2

# The targets that read files write them here: tmpfs when there is one.
base=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  base=/dev/shm
fi
work=$(mktemp -d "$base/gt-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=$PWD/build-fuzz/artifacts
mkdir -p "$artifacts"
symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)

# The largest input per target: what the daemon reads of it, within reason for a short run.
max_len() {
  case $1 in
    duration | time | identity | command_words) echo 1024 ;;
    screen) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

failed=0
for corpus in fuzz/corpus/*/; do
  name=$(basename "$corpus")
  bin=build-fuzz/fuzz/fuzz_$name
  new=$work/$name
  log=$work/$name.log
  mkdir -p "$new" "$work/tmp"
  rc=0
  TMPDIR=$work/tmp ASAN_OPTIONS=${symbolizer:+external_symbolizer_path=$symbolizer} \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$name")" \
    -artifact_prefix="$artifacts/$name-" -print_final_stats=1 "$new" "$corpus" >"$log" 2>&1 ||
    rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
  cov=$(grep -a -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9]*[bKM]*' "$log" | tail -1 || true)
  if [ "$rc" -eq 0 ]; then
    printf '%-20s ok      %10s runs in %3ss  %s\n' "$name" "${runs:-?}" "${took:-?}" "$cov"
  else
    failed=1
    printf '%-20s FAILED  exit %s after %s runs\n' "$name" "$rc" "${runs:-?}"
    grep -a -E 'ERROR:|runtime error:|broken promise|seen:|SUMMARY' "$log" | head -8 |
      sed 's/^/    /' || true
    input=$(grep -a -o 'Test unit written to .*' "$log" | sed 's/^Test unit written to //' || true)
    if [ -n "$input" ] && [ -f "$input" ]; then
      echo "    input: $input ($(stat -c %s "$input") bytes)"
      if [ "$(stat -c %s "$input")" -le 65536 ]; then
        echo "    base64: $(base64 -w0 "$input")"
      fi
    fi
    echo "    log: $artifacts/$name.log"
    cp "$log" "$artifacts/$name.log"
  fi
done
exit "$failed"
