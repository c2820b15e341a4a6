#pragma once
// daemon/metrics.prom (design §18.3): the daemon's counters in the Prometheus text format, for
// node_exporter's textfile collector or any scraper that reads a file.

#include "state/daemon_state.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace gt::daemon {

/// What the metrics are made of: state.json's figures and what only the daemon's memory holds.
struct MetricsInput {
    const state::DaemonState* state = nullptr;
    double heartbeat_seconds_sum = 0; ///< every heartbeat's duration, added up
    std::uint64_t tmux_calls = 0;     ///< tmux processes run by every heartbeat, added up
    std::size_t supervised = 0;
    std::size_t healthy = 0;
    bool degraded = false;
    std::map<std::string, std::size_t> conditions; ///< supervised agents by condition
};

/// The exposition text: `# HELP` and `# TYPE` before each family, counters named `gt_…_total`,
/// durations in seconds, every condition present (0 when no agent shows it), the town as a label.
std::string metrics_text(const MetricsInput& in);

} // namespace gt::daemon
