#pragma once

// What the process-level benchmarks share: towns of N agents on a private tmux server, a tmux
// that counts its invocations, clocks, and what /proc says about a process.

#include "support/proc_sample.hpp"
#include "support/temp_dir.hpp"
#include "support/tmux_town.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gt::bench {

using Clock = std::chrono::steady_clock;

/// Milliseconds from `start` to now.
double ms_since(Clock::time_point start);

/// A progress line on stderr (the table goes to stdout).
void progress(const std::string& line);

/// Makes `town` supervise exactly `n` (>= 3) agents: the deacon, the mayor when `n` is even, and
/// the witness and refinery of rigs r1…rK, written to rigs.json in one go (adding thousands of
/// rigs with `gt rig add` would rewrite the file thousands of times). Returns their session
/// names.
std::vector<std::string> add_agents(const test::TmuxTown& town, int n);

/// Starts every agent of `sessions` (from add_agents()) the fast way, as a town whose agents
/// were running before its daemon: all sessions made by `tmux source-file` in batches (a tmux
/// command costs the server time in proportion to its sessions, so one client per session, as
/// the daemon's first pass runs them, takes minutes at thousands of agents), each running
/// `sleep` in its working directory, and each agent's state file saying `running` as its agent
/// would report. The daemon then adopts them.
void start_agents_in_bulk(const test::TmuxTown& town, const std::vector<std::string>& sessions);

/// Pseudo-terminals that may still be opened (kernel.pty.max minus those in use): every pane
/// holds one. -1 when the kernel does not say.
long free_ptys();

/// Merges the daemon settings every process-level figure uses into town.json: agents that
/// `sleep`, `heartbeat_interval` (`""`: the default), `start_grace` 0.
void configure_sleepers(const test::TmuxTown& town, const std::string& heartbeat_interval);

/// Runs `argv` to completion with the runner the daemon uses (posix_spawnp, pipes): its wall
/// time in ms, or a negative number when it did not succeed.
double timed_run(const std::vector<std::string>& argv);

/// Sends SIGUSR1 to the town's daemon and waits for the heartbeat it triggers: the state.json
/// written after it, or null when none came within `timeout`.
nlohmann::json trigger_heartbeat(const test::TmuxTown& town,
                                 std::chrono::milliseconds timeout = std::chrono::minutes(5));

/// The first pane pid of every session with a live pane (one `list-panes -a`).
std::map<std::string, long> live_panes(const test::TmuxTown& town);

/// A `tmux` first on PATH that appends its arguments to a log and execs the real tmux: an
/// independent count of the tmux processes a daemon started with path_env() runs.
class CountingTmux {
public:
    CountingTmux();
    /// `PATH=<dir>:$PATH`, for the daemon's environment.
    std::string path_env() const;
    /// Invocations so far.
    long calls() const;
    /// The last `n` invocations' arguments.
    std::vector<std::string> last(long n) const;

private:
    test::TempDir m_dir;
    std::string m_log;
};

using test::ProcSample;
using test::sample_process;

} // namespace gt::bench
