#pragma once

// Where the tests find the gt binary and the fixtures. Both are compiled in, and both can be
// pointed elsewhere at run time, so that a copy of the test binaries can run where the build
// directory cannot be reached: scripts/test.sh stages them for its run as an unprivileged user.

namespace gt::test {

/// $GT_TEST_BINARY when set, else the gt this build made.
const char* gt_binary();

/// $GT_TEST_FIXTURES when set, else tests/fixtures in the source tree.
const char* fixtures_dir();

} // namespace gt::test

#define GT_BINARY (::gt::test::gt_binary())
#define GT_FIXTURES_DIR (::gt::test::fixtures_dir())
