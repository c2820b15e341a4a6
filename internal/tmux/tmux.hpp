#pragma once

#include "proc/process.hpp"
#include "util/result.hpp"
#include "util/time.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gt::tmux {

/// How a tmux call failed (design §5.5).
enum class ErrorKind { none, no_server, session_not_found, duplicate_session, timeout, other };

/// The outcome of one tmux call.
struct Reply {
    ErrorKind error = ErrorKind::none;
    std::string out;
    std::string message; ///< stderr or a description when it failed
    /// Why the launcher could not run tmux (new_session()); "" when it could or there was none.
    std::string launcher_error;
    bool ok() const { return error == ErrorKind::none; }
};

/// The first pane of one session, as `list-panes -a` reports it.
struct Pane {
    std::string session;
    int index = 0;
    long pid = 0;
    bool dead = false;
    int dead_status = 0; ///< exit status of a dead pane (0 when it was signalled)
    int dead_signal = 0; ///< signal that ended a dead pane, else 0
    std::string command; ///< pane_current_command
    /// The session's town mark (k_town_option, town_mark()); "" when it carries none.
    std::string owner;
    /// When the pane's window last produced output (`window_activity`, one-second resolution;
    /// one pane per agent session). The epoch when tmux did not say.
    util::TimePoint activity{};
    bool agent_alive = false;  ///< filled by the caller's liveness check (design §5.5)
    bool process_gone = false; ///< filled by the caller: tmux says alive, the process is gone
};

/// Every session's first pane, from one `list-panes -a` call. Keyed by session name.
struct Snapshot {
    bool tmux_available = true; ///< false: no tmux binary (degraded mode)
    bool server_running = true; ///< false: no tmux server (so no sessions)
    long server_pid = 0;        ///< the server's PID (`#{pid}`), 0 when it has no panes
    std::map<std::string, Pane> sessions;
    bool has(const std::string& session) const { return sessions.count(session) != 0; }
};

/// What the daemon looks at before it types into a pane (design §19.3).
struct InputState {
    int cursor_x = 0;     ///< in cells, from the left
    int cursor_y = 0;     ///< the line of `lines` the cursor is on
    int attached = 0;     ///< clients attached to the session
    bool in_mode = false; ///< the pane is in copy mode (keys go to tmux, not to the agent)
    std::vector<std::string> lines; ///< the visible screen, one entry per row
};

/// What a new agent session runs (design §5.4).
struct SessionSpec {
    std::string name;
    std::string cwd;
    std::vector<std::pair<std::string, std::string>> env;
    std::vector<std::string> command; ///< argv; never passed through a shell
    std::string pane_died_hook;       ///< a tmux command for the session's pane-died hook
    std::string mark;                 ///< the town's mark (town_mark()), set as it is created
};

/// The session option that says which town a session belongs to (design §19.1).
inline constexpr const char* k_town_option = "@gt_town";

/// A town's mark: its canonical root, with `%`, tab, newline and the other control characters
/// written `%XX` so that the mark is one field of a snapshot line.
std::string town_mark(const std::string& root);
/// The town root a mark names (town_mark() undone); what is not `%XX` is kept as it is.
std::string mark_root(const std::string& mark);

/// One argument of a hook's shell command: literal text, or a tmux format such as
/// `#{pane_dead_status}` that tmux expands when the hook fires.
struct HookArg {
    std::string text;
    bool format = false;
};

/// A tmux command (for set-hook) that runs `args` with /bin/sh in the background: every argument
/// single-quoted for the shell, the whole double-quoted for tmux's parser (`\`, `"` and `$`
/// escaped), and `#` doubled in literal text so tmux expands only the given formats. Paths with
/// spaces, quotes, `$` or `#` survive intact.
std::string run_shell_hook(const std::vector<HookArg>& args);

/// tmux ends a command at an argument ending in `;`; this keeps such an argument literal.
std::string escape_argument(const std::string& arg);

/// `text` as a tmux format that expands to `text` itself: every `#` doubled. For an argument tmux
/// expands (new-session's start directory), so that no path reaches format expansion.
std::string format_literal(const std::string& text);

/// Parses `list-panes -a -F` output in the format TmuxClient uses; malformed lines are skipped.
Snapshot parse_snapshot(const std::string& output);

/// Classifies a failed tmux call from its stderr.
ErrorKind classify(const std::string& stderr_text);

/// Where the tmux server of `-L socket` ("" for the default server) listens, as tmux itself
/// finds it for this process: `$TMUX_TMPDIR` (else /tmp) resolved, `tmux-<uid>/<socket>`.
std::string socket_path(const std::string& socket);

/// The one place that runs tmux: `-L <socket>` when configured (`-S <path>` for a client made
/// with at_path()), exact `=name` targets, a timeout on every call.
class TmuxClient {
public:
    TmuxClient(proc::ProcessRunner& runner, std::string socket, std::chrono::milliseconds timeout)
        : m_runner(runner), m_socket(std::move(socket)), m_timeout(timeout) {}
    /// A client of the server that listens at the socket path `path` (`-S`), whatever its
    /// `-L` name (socket_path()).
    static TmuxClient at_path(proc::ProcessRunner& runner, std::string path,
                              std::chrono::milliseconds timeout) {
        TmuxClient c(runner, std::move(path), timeout);
        c.m_by_path = true;
        return c;
    }

    /// Runs `tmux [-L socket] args...`.
    Reply run(const std::vector<std::string>& args) const { return run_via({}, args); }
    /// Runs `launcher... tmux [-L socket] args...`: the launcher (systemd-run) execs tmux.
    Reply run_via(const std::vector<std::string>& launcher,
                  const std::vector<std::string>& args) const;
    /// One call for the state of all sessions.
    util::Result<Snapshot> snapshot() const;
    /// Creates a detached session running `spec.command` directly (no shell re-parses it) in
    /// `spec.cwd` with `spec.env`, and sets remain-on-exit in the same tmux command so a process
    /// that dies at once leaves a dead pane to read.
    /// `launcher` (design §18.1): what the command runs under when it may start the server, so
    /// that the server lives where the launcher puts it (a systemd scope of its own). When the
    /// launcher itself fails, the session is created without it and `Reply::launcher_error`
    /// says why.
    Reply new_session(const struct SessionSpec& spec,
                      const std::vector<std::string>& launcher = {}) const;
    /// Sets the session's town mark (k_town_option) to `mark`.
    Reply set_mark(const std::string& session, const std::string& mark) const;
    /// The session's town mark, "" when it has none.
    util::Result<std::string> mark_of(const std::string& session) const;
    /// The value of `name` in the session's environment (what `new-session -e` set); nullopt
    /// when it is not set there.
    util::Result<std::optional<std::string>> environment(const std::string& session,
                                                         const std::string& name) const;
    /// The cursor, the attached clients and the visible screen of the session's current pane,
    /// in one tmux call.
    util::Result<InputState> input_state(const std::string& session) const;
    /// `kill-session -t =name`; a session that is already gone is success.
    Reply kill_session(const std::string& session) const;
    /// `send-keys -t =<session>: keys...` into each session's current pane: one tmux call for
    /// all (one per 12 KiB of arguments). A session that vanished is dropped (the call is then
    /// made one session at a time). Returns the sessions that got the keys. Literal text goes
    /// as `{"-l", "--", escape_argument(text)}`.
    std::vector<std::string> send_keys(const std::vector<std::string>& sessions,
                                       const std::vector<std::string>& keys) const;
    /// The visible screen of each session's current pane (`capture-pane -p -J`: wrapped lines
    /// joined), keyed by session: all in one tmux call, or one per 12 KiB of arguments (about a
    /// hundred sessions), since tmux refuses a longer command. The sessions in `dead` are captured
    /// with the history line above the screen: to write "Pane is dead" tmux scrolls a dead pane up
    /// a line, and the top line is often the only one a failed start printed. A session that
    /// vanished meanwhile is left out and the ones after it are captured in another call, as is
    /// the rest of an output cut at the runner's cap. An error only when tmux failed as a whole
    /// (no server, timeout).
    util::Result<std::map<std::string, std::string>>
    capture(const std::vector<std::string>& sessions, const std::set<std::string>& dead = {}) const;
    /// The `-L` socket name ("" for the default server), or the path of at_path().
    const std::string& socket() const { return m_socket; }

private:
    proc::ProcessRunner& m_runner;
    std::string m_socket;
    bool m_by_path = false; ///< m_socket is a path (`-S`), not a `-L` name
    std::chrono::milliseconds m_timeout;
};

/// The launcher that puts a tmux server about to be started into a transient systemd scope of
/// its own (design §18.1), so that stopping or restarting the daemon's unit leaves it running:
/// `systemd-run --user --scope --quiet --collect --unit=gt-tmux-<socket>-<seconds>-<unique>
/// --description=… --`. `socket` "" is the default server; `started` and `unique` make the
/// unit's name unique to this server.
std::vector<std::string> systemd_scope(const std::string& socket, const std::string& town,
                                       util::TimePoint started, const std::string& unique);

/// An exact target for a session name: `=name`.
inline std::string exact(const std::string& session) {
    return "=" + session;
}

/// An exact target for a session's current window (window and pane options, send-keys).
inline std::string exact_window(const std::string& session) {
    return "=" + session + ":";
}

} // namespace gt::tmux
