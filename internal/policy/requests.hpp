#pragma once

#include "state/lifecycle_request.hpp"

#include <utility>
#include <vector>

namespace gt::policy {

/// Plans one batch: per identity only the last request (by timestamp, then file name) is run;
/// every earlier one for that identity is collapsed, whatever its action (a restart then a
/// shutdown is a shutdown, a shutdown then a cycle is a cycle). Returns {to run, collapsed}, each
/// in timestamp order; `to run` holds at most one request per identity.
std::pair<std::vector<state::LifecycleRequest>, std::vector<state::LifecycleRequest>>
plan_batch(std::vector<state::LifecycleRequest> requests);

} // namespace gt::policy
