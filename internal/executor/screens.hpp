#pragma once

#include "policy/decide.hpp"
#include "policy/screen_watch.hpp"
#include "screen/screen.hpp"
#include "state/config.hpp"
#include "tmux/tmux.hpp"

#include <string>
#include <utility>
#include <vector>

namespace gt::executor {

/// What looking at the screens of one pass found.
struct ScreenLook {
    /// The agents whose condition changed (or that left a usage limit after the resume text).
    std::vector<std::pair<std::string, policy::ScreenWatch::Change>> changes;
    std::size_t captured = 0;
    std::string error; ///< the capture failed as a whole (tmux gone, timed out)
};

/// Finds IANA zones, each read from disk once (the zones agents name are few).
screen::ZoneLookup cached_zones();

/// Looks at the screens of the agents of `in` whose session is in `in.snapshot` (design §16):
/// captures in one tmux call the panes `watch` asks for (quiet since they were last read, dead,
/// or new), records what each shows in `watch`, and copies each agent's state into
/// `in.agents[...].screen`. Agents whose session is gone are forgotten. `ctx.now` is the time
/// of the pass.
ScreenLook look_at_screens(policy::TickInput& in, const state::TownConfig& config,
                           const tmux::TmuxClient& tmux, policy::ScreenWatch& watch,
                           const screen::ReadContext& ctx);

} // namespace gt::executor
