#pragma once

#include "util/time.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gt::policy {

/// An agent found dead (design §17): counted once, until it is seen healthy again.
struct Death {
    util::TimePoint at{};
    bool server_gone = false; ///< the tmux server was gone when it was found
    std::string exit;         ///< how its pane ended (`exit 1`, `signal 9`), "" when unknown
    std::string screen;       ///< the last line its screen showed, "" when unread
    bool operator==(const Death&) const = default;
};

/// Many agents dead at once (design §17).
struct Storm {
    util::TimePoint since{};
    std::vector<std::string> agents; ///< in the order they were found
    std::string cause;               ///< a common cause when one shows, else ""
    bool operator==(const Storm&) const = default;
};

/// What the daemon remembers between passes to tell a storm and to spread starts: the deaths
/// not yet recovered, the storm in progress, and its own recent starts.
struct StormState {
    std::map<std::string, Death> dead; ///< by identity
    std::optional<Storm> storm;
    std::vector<util::TimePoint> starts; ///< the daemon's starts within the budget window
    bool operator==(const StormState&) const = default;

    /// The wall clock was set by `by`: the times kept move with it.
    void shift(util::Millis by);
    /// Starts left in the town's budget at `now`.
    int budget_left(util::TimePoint now, int budget, util::Millis window) const;
};

/// What `deaths` have in common, in words ("the tmux server is gone", "all ended with exit
/// 1", "all showed: <line>"), or "" when nothing is shared.
std::string common_cause(const std::vector<const Death*>& deaths);

/// The order in which a storm's agents are started: deacon, mayor, witnesses, refineries,
/// crew, polecats (lower first).
int start_priority(const std::string& role);

} // namespace gt::policy
