#pragma once

#include "tmux/tmux.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace gt::policy {

/// The sessions of a snapshot by owner (design §19.1).
struct Owners {
    /// Unmarked sessions an earlier gt started for this town: to be marked, then they are its.
    std::vector<std::string> adopt;
    /// The sessions with an agent's name that are not this town's: by name, the root of the
    /// town whose mark they carry ("" when they carry none).
    std::map<std::string, std::string> foreign;
};

/// True when the unmarked session `name` was started for this town by an earlier gt.
using OlderGt = std::function<bool(const std::string& name, const tmux::Pane& pane)>;

/// Leaves in `snap` the sessions that carry `mark` (tmux::town_mark() of the town) and the
/// unmarked ones `older_gt` claims (listed in `adopt`); takes out every other session: those
/// with an agent's name are listed in `foreign`, the rest (no agent's) are dropped.
Owners sort_owners(tmux::Snapshot& snap, const std::string& mark, const OlderGt& older_gt);

} // namespace gt::policy
