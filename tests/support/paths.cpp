#include "support/paths.hpp"

#include <cstdlib>

namespace gt::test {

namespace {

const char* env_or(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

} // namespace

const char* gt_binary() {
    static const char* path = env_or("GT_TEST_BINARY", GT_BUILT_BINARY);
    return path;
}

const char* fixtures_dir() {
    static const char* path = env_or("GT_TEST_FIXTURES", GT_BUILT_FIXTURES);
    return path;
}

} // namespace gt::test
