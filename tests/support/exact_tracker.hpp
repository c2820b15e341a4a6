#pragma once

#include "policy/restart_tracker.hpp"

namespace gt::test {

/// A restart tracker without jitter, so that backoffs are exact in tests.
inline policy::RestartTracker exact_tracker(state::RestartConfig c = {}) {
    return policy::RestartTracker(c, [] { return 1.0; });
}

} // namespace gt::test
