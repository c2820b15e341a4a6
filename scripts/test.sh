#!/usr/bin/env bash
# The test command (design §11): installs what is missing, builds, and runs every check there is.
#   1. the normal build: the whole suite, then the soak on its own (it measures the daemon);
#   2. when run as root: the unit and integration tests again as the unprivileged user `nobody`,
#      from a copy it can reach, since permissions and refusals only show there;
#   3. ASan+UBSan: the whole suite but the soak;
#   4. TSan: gt built with ThreadSanitizer, the threaded unit tests, and the integration tests
#      run against that gt (the daemon is where the threads are);
#   5. the fuzzers, for a bounded time each (GT_FUZZ_SECONDS, default 6).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
started=$SECONDS
step() { echo "== $1 (at $((SECONDS - started)) s)"; }
temps=()
trap 'rm -rf "${temps[@]}"' EXIT

step "normal build"
dir=$(scripts/build.sh)
ctest --test-dir "$dir" -j2 --output-on-failure --timeout 300 -LE soak
step "soak"
ctest --test-dir "$dir" --output-on-failure -L soak

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
  step "the unit and integration tests as the unprivileged user nobody"
  # The build directory may sit below a directory only root can enter (a CI's 0700 temp dir),
  # so the binaries and fixtures are copied where nobody can read them.
  stage=$(mktemp -d /tmp/gt-suite.XXXXXX)
  temps+=("$stage")
  cp "$dir/cmd/gt/gt" "$dir/tests/gt_unit_tests" "$dir/tests/gt_integration_tests" "$stage/"
  cp -r tests/fixtures "$stage/fixtures"
  chmod -R a+rX "$stage"
  as_nobody=(runuser -u nobody -- env GT_TEST_BINARY="$stage/gt" GT_TEST_FIXTURES="$stage/fixtures")
  (cd /tmp && "${as_nobody[@]}" "$stage/gt_unit_tests" --gtest_brief=1)
  # The integration tests in two shards at once, as ctest runs them two at a time.
  pids=() rc=0
  for i in 0 1; do
    (cd /tmp && "${as_nobody[@]}" GTEST_TOTAL_SHARDS=2 GTEST_SHARD_INDEX=$i \
       "$stage/gt_integration_tests" --gtest_brief=1) &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  [ $rc -eq 0 ] || { echo "error: the integration tests failed as nobody" >&2; exit 1; }
fi

step "ASan+UBSan build"
asan=$(scripts/build.sh --sanitize)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$asan" -j2 --output-on-failure --timeout 600 -LE soak

step "TSan build"
tsan=$(scripts/build.sh --tsan)
reports=$(mktemp -d)
temps+=("$reports")
# A race ends the process that saw it (the daemon too: its test then fails) and leaves a report.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan"
failed=0
"$tsan/tests/gt_threaded_tests" --gtest_brief=1 || failed=1
GT_TEST_BINARY="$PWD/$tsan/cmd/gt/gt" ctest --test-dir "$dir" -j2 --output-on-failure -L integration \
  || failed=1
unset TSAN_OPTIONS
if compgen -G "$reports/tsan*" >/dev/null; then
  cat "$reports"/tsan*
  echo "error: ThreadSanitizer reported the races above" >&2
  exit 1
fi
[ $failed -eq 0 ] || { echo "error: tests failed under ThreadSanitizer" >&2; exit 1; }

step "fuzzing"
scripts/fuzz.sh "${GT_FUZZ_SECONDS:-6}"
step "done"
