#pragma once

#include "proc/process.hpp"
#include "util/result.hpp"

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace gt::tmux {

/// How a tmux call failed (§5.5).
enum class ErrorKind { none, no_server, session_not_found, duplicate_session, timeout, other };

/// The outcome of one tmux call.
struct Reply {
    ErrorKind error = ErrorKind::none;
    std::string out;
    std::string message; ///< stderr or a description when it failed
    bool ok() const { return error == ErrorKind::none; }
};

/// The first pane of one session, as `list-panes -a` reports it.
struct Pane {
    std::string session;
    int index = 0;
    long pid = 0;
    bool dead = false;
    int dead_status = 0;
    std::string command; ///< pane_current_command
};

/// Every session's first pane, from one `list-panes -a` call. Keyed by session name.
struct Snapshot {
    bool tmux_available = true; ///< false: no tmux binary (degraded mode)
    std::map<std::string, Pane> sessions;
    bool has(const std::string& session) const { return sessions.count(session) != 0; }
};

/// Parses `list-panes -a -F` output in the format TmuxClient uses; malformed lines are skipped.
Snapshot parse_snapshot(const std::string& output);

/// Classifies a failed tmux call from its stderr.
ErrorKind classify(const std::string& stderr_text);

/// The one place that runs tmux: `-L <socket>` when configured, exact `=name` targets, a
/// timeout on every call.
class TmuxClient {
public:
    TmuxClient(proc::ProcessRunner& runner, std::string socket, std::chrono::milliseconds timeout)
        : m_runner(runner), m_socket(std::move(socket)), m_timeout(timeout) {}

    /// Runs `tmux [-L socket] args...`.
    Reply run(const std::vector<std::string>& args) const;
    /// One call for the state of all sessions.
    util::Result<Snapshot> snapshot() const;
    /// The `-L` socket name ("" for the default server).
    const std::string& socket() const { return m_socket; }

private:
    proc::ProcessRunner& m_runner;
    std::string m_socket;
    std::chrono::milliseconds m_timeout;
};

/// An exact target for a session name: `=name`.
inline std::string exact(const std::string& session) {
    return "=" + session;
}

} // namespace gt::tmux
