#pragma once

#include <string>

namespace gt::client {

/// `gt agent list [--json]` (design §3): every known agent (supervised or with a state file), its
/// session and liveness from one tmux snapshot, its report, and its restart history.
int list_agents(const std::string& town, bool json);

} // namespace gt::client
