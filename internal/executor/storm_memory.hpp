#pragma once

// daemon/storms.json: the storm in progress, the deaths not yet recovered and the daemon's
// recent starts (design §17.3), so that a daemon started again (after kill -9, an upgrade)
// keeps the town's start budget and does not tell the same storm twice.

#include "policy/storm.hpp"
#include "util/result.hpp"

#include <string>

namespace gt::executor {

/// JSON text of storms.json (times in wall-clock RFC 3339).
std::string storms_json(const policy::StormState& s);

/// Parses storms.json; a file that is not an object of that shape is an error naming `where`.
/// Deaths under a key that is no identity are dropped.
util::Result<policy::StormState> parse_storms(const std::string& text, const std::string& where);

/// Reads `path` (missing → empty; not a regular file, oversized or bad → an error naming it).
util::Result<policy::StormState> load_storms(const std::string& path);

} // namespace gt::executor
