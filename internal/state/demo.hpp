#pragma once

#include "util/result.hpp"

#include <string>

namespace gt::state {

/// `gt init --demo` (design §3): creates a town at `dir` (init_town, so it refuses an existing
/// town) with one rig `demo`, polecats `nux` and `slit` with hooked work (`demo-task-1`,
/// `demo-task-2`), every role's command and `agent.command` set to the simulated agent
/// (`<gt_binary> agent simulate --report-every 5s`), the mayor disabled, and short daemon
/// timings so recovery is visible within minutes.
util::Status init_demo_town(const std::string& dir, const std::string& name,
                            const std::string& gt_binary);

} // namespace gt::state
