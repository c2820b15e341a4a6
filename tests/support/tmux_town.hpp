#pragma once

#include "support/harness.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gt::test {

/// A temporary town supervised on a private tmux server (`tmux -L gt-test-<pid>-<n>`). The
/// daemon is stopped and the tmux server killed on destruction; the user's default server is
/// never touched.
class TmuxTown {
public:
    /// `demo`: made with `gt init --demo`; else a plain town with rig `r1`.
    /// `dir_name`: the town directory's name inside a fresh temp dir (may hold spaces, quotes),
    /// or inside `parent` when that is given (a file system mounted for the test).
    explicit TmuxTown(bool demo = false, const std::string& dir_name = "town",
                      const std::string& parent = "");
    ~TmuxTown();
    TmuxTown(const TmuxTown&) = delete;
    TmuxTown& operator=(const TmuxTown&) = delete;

    const std::string& root() const { return m_root; }
    const std::string& socket() const { return m_socket; }
    /// From now on this town's agents live on `other`'s tmux server (two towns on one server).
    void share_server_of(const TmuxTown& other) { m_socket = other.m_socket; }
    /// From now on gt is run with GT_TMUX_SOCKET=`socket` (and tmux() talks to that server);
    /// every server used is killed on destruction.
    void use_socket(const std::string& socket) {
        m_used.push_back(m_socket);
        m_socket = socket;
    }
    /// Runs gt with --town and GT_TMUX_SOCKET set, plus `env`.
    proc::RunResult gt(std::vector<std::string> args,
                       const std::vector<std::string>& env = {}) const;
    /// Runs `tmux -L <socket> args...`.
    proc::RunResult tmux(std::vector<std::string> args) const;
    /// Merges `patch` into mayor/town.json (RFC 7386 merge patch).
    void configure(const nlohmann::json& patch) const;
    /// Sets every supervised role's command.
    void set_all_commands(const std::vector<std::string>& argv) const;

    /// The first pane's pid of `session`, nullopt when the session is absent or its pane dead.
    std::optional<long> pane_pid(const std::string& session) const;
    std::vector<std::string> sessions() const;
    /// How many sessions have a live pane.
    std::size_t alive_sessions() const;
    /// Adds hooked polecats p0…p(n-1) to rig r1 (their sessions are kept running).
    void add_polecats(int n) const;
    /// The visible text of the session's first pane.
    std::string capture(const std::string& session) const;

    nlohmann::json state() const;
    long heartbeats() const;
    /// The daemon's PID from state.json (0 when unknown).
    pid_t pid_from_state() const;
    /// Waits until `n` more heartbeats have completed.
    bool wait_heartbeats(long n,
                         std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
    std::vector<nlohmann::json> events() const;
    /// Events of `kind` (for `identity` when not empty).
    std::vector<nlohmann::json> events(const std::string& kind,
                                       const std::string& identity = "") const;
    std::string log() const;
    /// Writes an agent state file directly (as a misbehaving agent or disk might).
    void write_file(const std::string& relative, const std::string& content) const;

private:
    TempDir m_dir;
    std::string m_root;
    std::string m_socket;
    std::vector<std::string> m_used; ///< servers used before m_socket
};

} // namespace gt::test
