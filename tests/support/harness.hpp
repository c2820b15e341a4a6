#pragma once

#include "proc/process.hpp"
#include "support/paths.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gt::test {

/// Runs the real `gt` binary with a clean environment (no GT_* or identity variables
/// inherited from whoever runs the tests) plus `env` ("K=V"), and GT_TMUX_SOCKET set to
/// default_tmux_socket() unless `env` sets it.
proc::RunResult run_gt(const std::vector<std::string>& args,
                       const std::vector<std::string>& env = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Runs any command to completion (30 s at most) with our environment plus `env` ("K=V").
proc::RunResult run_command(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env = {});

/// The private tmux server (`-L`) that run_gt() points gt at unless told otherwise: tests never
/// touch the user's default server.
std::string default_tmux_socket();
/// Kills that server (the TownFixture does it when it ends).
void kill_default_tmux_server();

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// PIDs of live `gt daemon run` processes whose --town is `town`.
std::vector<pid_t> daemon_pids(const std::string& town);

/// True when `haystack` contains `needle`.
inline bool has(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

/// Reads a whole file ("" when missing).
std::string slurp(const std::string& path);

/// A temporary town made with `gt init`, its daemon stopped (or killed) at the end.
class TownFixture {
public:
    TownFixture();
    ~TownFixture();
    const std::string& root() const { return m_root; }
    /// Runs gt with --town set to this town.
    proc::RunResult gt(std::vector<std::string> args,
                       const std::vector<std::string>& env = {}) const;
    /// Rewrites one field under "daemon" in town.json (value is raw JSON text).
    void set_daemon_field(const std::string& key, const std::string& json_value) const;
    /// The PID in daemon/daemon.pid, or 0.
    pid_t pid_from_file() const;

private:
    TempDir m_dir;
    std::string m_root;
};

} // namespace gt::test
