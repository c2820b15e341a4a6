#pragma once

#include "names.hpp"
#include "util/time.hpp"

#include <optional>
#include <ostream>
#include <string>

namespace gt::state {

/// What `gt agent simulate` does.
struct SimulateOptions {
    std::string town_root;
    Identity id;
    util::Millis report_every{30000};       ///< > 0
    std::optional<util::Millis> exit_after; ///< exit by itself after this long
    int exit_code = 0;                      ///< the exit code when exit_after passes
    /// When not empty: printed once at the start (an agent's screen, design §16), and the
    /// reports are made silently so the pane shows only this.
    std::string screen;
};

/// How the simulated agent ended: by itself (exit_code) or on a signal (signal != 0).
struct SimulateOutcome {
    int exit_code = 0;
    int signal = 0;
};

/// The built-in simulated agent: reports `running` (report_agent_state, keeping the hook and
/// the daemon's fields) at once and then every `report_every`, one line on `out` each time
/// (none when it shows a `screen`);
/// the deacon also writes deacon/heartbeat.json each time. A failed report is printed, not
/// fatal. Blocks SIGTERM, SIGINT and SIGHUP for the calling thread and returns as soon as one
/// arrives (without reporting), or when `exit_after` has passed.
SimulateOutcome run_simulated_agent(const SimulateOptions& o, std::ostream& out);

} // namespace gt::state
