#pragma once

// daemon/screens.json: what the daemon knows of each agent's screen that a new capture cannot
// tell again (design §16.6): since when a condition holds, the reset time first read, and the
// resume text typed after a usage limit, whose banner is history from then on.

#include "policy/screen_watch.hpp"
#include "util/result.hpp"

#include <map>
#include <string>
#include <vector>

namespace gt::executor {

using ScreenStates = std::map<std::string, policy::ScreenState>;

/// JSON text of screens.json: an object keyed by identity. The pane's last output and the time
/// of the last capture are not kept: a restarted daemon reads every quiet pane once.
std::string screens_json(const ScreenStates& states);

/// Parses screens.json. Entries of the wrong shape, or under a key that is no identity, are
/// skipped and named in `skipped` (`<where>: <key>: wrong shape`); a file that is not a JSON
/// object is an error naming `where`.
util::Result<ScreenStates> parse_screens(const std::string& text, const std::string& where,
                                         std::vector<std::string>* skipped = nullptr);

/// Reads `path` (missing → empty; not a regular file, oversized or bad → an error naming it).
util::Result<ScreenStates> load_screens(const std::string& path,
                                        std::vector<std::string>* skipped = nullptr);

/// Restores into `watch` what `path` keeps (load_screens()); `watch` is then as saved.
util::Status restore_screens(const std::string& path, policy::ScreenWatch& watch,
                             std::vector<std::string>* skipped = nullptr);

} // namespace gt::executor
