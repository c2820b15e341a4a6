#pragma once
// What the daemon commands know of the town's daemon before they talk to it.

#include "state/town.hpp"

#include <optional>
#include <string>
#include <sys/types.h>

namespace gt::client {

/// What is known about the town's daemon without talking to it.
struct Probe {
    std::optional<pid_t> pid;   ///< the lock holder when one runs
    std::optional<pid_t> stale; ///< PID of a stale PID file that was removed (0: unreadable)
    std::string stale_problem;  ///< why an unreadable PID file could not be read
    bool stale_kept = false;    ///< the stale PID file could not be removed
};

/// Decides "running" by the lock alone: only `gt daemon run` ever takes it. When nobody holds it,
/// removes a leftover PID file and marks state.json not running, under daemon/state.lock (which
/// a starting daemon takes, after the daemon lock, to write its PID file before it writes
/// anything else) so that a daemon starting meanwhile is never disturbed.
Probe probe(const state::TownPaths& paths);

/// Warns on stderr when `p` removed a stale PID file.
void report_stale(const Probe& p);

} // namespace gt::client
