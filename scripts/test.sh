#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole suite twice — the
# normal build and the ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

dir=$(scripts/build.sh)
ctest --test-dir "$dir" -j2 --output-on-failure --timeout 300

asan=$(scripts/build.sh --sanitize)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$asan" -j2 --output-on-failure --timeout 600
