#include "version.hpp"

// Generated at build time by cmake/git_commit.cmake; only this file includes it, so a new
// commit recompiles this file alone.
#include "gt_commit.hpp"

namespace gt::cli {

std::string version_line() {
    return std::string("gt ") + GT_VERSION + " (commit " + GT_COMMIT + ")";
}

} // namespace gt::cli
