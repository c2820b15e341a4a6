#pragma once

#include "state/lifecycle_request.hpp"
#include "util/time.hpp"

#include <string>

namespace gt::test {

/// A claimed lifecycle request from `from`, its id and file both `name`.
inline state::LifecycleRequest make_request(const std::string& from, state::LifecycleAction action,
                                            util::TimePoint at, const std::string& name) {
    state::LifecycleRequest r;
    r.id = name;
    r.from = *state::parse_identity(from);
    r.action = action;
    r.timestamp = at;
    r.file = name;
    return r;
}

} // namespace gt::test
