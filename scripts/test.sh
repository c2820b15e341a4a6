#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole suite: the normal build
# (as root, then, when run as root, once more as the unprivileged user `nobody`, so that
# permission checks are really checked), then the ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

dir=$(scripts/build.sh)
ctest --test-dir "$dir" -j2 --output-on-failure --timeout 300

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
  bin="$PWD/$dir/tests"
  if runuser -u nobody -- test -x "$bin/gt_unit_tests"; then
    echo "== the suite again as the unprivileged user nobody"
    for t in gt_unit_tests gt_integration_tests; do
      (cd /tmp && runuser -u nobody -- "$bin/$t" --gtest_brief=1)
    done
  else
    echo "== skipped the run as nobody: $bin is not reachable by that user"
  fi
fi

asan=$(scripts/build.sh --sanitize)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$asan" -j2 --output-on-failure --timeout 600
