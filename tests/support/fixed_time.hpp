#pragma once

#include "util/time.hpp"

namespace gt::test {

/// The fixed "now" of decision tests: 2026-11-22T10:00:00Z.
inline util::TimePoint t0() {
    return *util::parse_time("2026-11-22T10:00:00Z");
}

} // namespace gt::test
