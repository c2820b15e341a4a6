#pragma once

#include <string>

namespace gt::daemon {

/// `gt agent list [--json]` (§3): every known agent (supervised or with a state file), its
/// session and liveness from one tmux snapshot, its report, and its restart history.
int list_agents(const std::string& town, bool json);

/// `gt daemon clear-backoff IDENTITY`: clears the backoff and crash loop in restart_state.json
/// and tells a running daemon (SIGUSR2) to pick it up at once.
int clear_backoff(const std::string& town, const std::string& identity);

} // namespace gt::daemon
