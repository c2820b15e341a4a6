#include "tmux.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <random>
#include <sstream>
#include <unistd.h>

namespace gt::tmux {

namespace {

/// What `list-panes -a` prints of each pane: the command last, as it may hold a tab.
const std::string k_snapshot_format =
    "#{session_name}\t#{pane_index}\t#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t"
    "#{pane_dead_signal}\t#{window_activity}\t#{pid}\t#{" +
    std::string(k_town_option) + "}\t#{pane_current_command}";

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        auto tab = line.find('\t', start);
        out.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
        if (tab == std::string::npos) {
            return out;
        }
        start = tab + 1;
    }
}

/// The latest `window_activity` that is a time: 9999-12-31T23:59:59Z, the last second RFC 3339
/// shows. A larger count of seconds could overflow as milliseconds.
constexpr long k_max_activity = 253'402'300'799;

/// What one batched command may take in arguments. tmux sends a command to its server in one
/// message of at most 16 KiB (MAX_IMSGSIZE) and refuses a longer one ("command too long");
/// 12 KiB leaves room for the socket flags and tmux's own framing.
constexpr std::size_t k_batch_bytes = 12 * 1024;

/// The bytes `args` take in that message: each argument and its terminating NUL.
std::size_t argument_bytes(const std::vector<std::string>& args) {
    std::size_t n = 0;
    for (const auto& a : args) {
        n += a.size() + 1;
    }
    return n;
}

/// One tmux invocation of the commands `command(i)` for i = first, first + 1, … below `count`,
/// joined by `;`: as many as fit in k_batch_bytes, at least one. `end` is set to the first index
/// left for the next batch.
std::vector<std::string> batch(std::size_t first, std::size_t count,
                               const std::function<std::vector<std::string>(std::size_t)>& command,
                               std::size_t& end) {
    std::vector<std::string> args;
    for (end = first; end < count; ++end) {
        auto one = command(end);
        if (end > first && argument_bytes(args) + argument_bytes(one) + 2 > k_batch_bytes) {
            break; // the rest in another call: tmux refuses a longer command
        }
        if (end > first) {
            args.push_back(";");
        }
        args.insert(args.end(), one.begin(), one.end());
    }
    return args;
}

/// Parses a number; an empty field (tmux prints nothing for "not known") gives `empty`.
bool to_long(const std::string& s, long& out, long empty = 0) {
    if (s.empty()) {
        out = empty;
        return true;
    }
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    out = v;
    return true;
}

} // namespace

ErrorKind classify(const std::string& e) {
    if (e.find("no server running") != std::string::npos ||
        e.find("error connecting to") != std::string::npos ||
        e.find("No such file or directory") != std::string::npos) {
        return ErrorKind::no_server;
    }
    if (e.find("can't find session") != std::string::npos ||
        e.find("session not found") != std::string::npos ||
        e.find("can't find pane") != std::string::npos ||
        e.find("can't find window") != std::string::npos) {
        return ErrorKind::session_not_found;
    }
    if (e.find("duplicate session") != std::string::npos) {
        return ErrorKind::duplicate_session;
    }
    return ErrorKind::other;
}

Snapshot parse_snapshot(const std::string& output) {
    Snapshot snap;
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        auto f = split_tabs(line);
        if (f.size() < 10 || f[0].empty()) {
            continue;
        }
        Pane p;
        p.session = f[0];
        long index, pid, dead, status, signal, activity, server;
        if (!to_long(f[1], index) || !to_long(f[2], pid) || !to_long(f[3], dead) ||
            !to_long(f[4], status, -1) || !to_long(f[5], signal) || !to_long(f[6], activity) ||
            activity < 0 || activity > k_max_activity || !to_long(f[7], server)) {
            continue;
        }
        snap.server_pid = server;
        p.activity = util::TimePoint(std::chrono::seconds(activity));
        p.index = static_cast<int>(index);
        p.pid = pid;
        p.dead = dead != 0;
        p.dead_status = static_cast<int>(status);
        p.dead_signal = static_cast<int>(signal);
        p.owner = f[8];
        p.command = f[9];
        for (std::size_t i = 10; i < f.size(); ++i) {
            p.command += "\t" + f[i];
        }
        auto it = snap.sessions.find(p.session);
        // The first pane is the one with the lowest index.
        if (it == snap.sessions.end() || p.index < it->second.index) {
            snap.sessions[p.session] = std::move(p);
        }
    }
    return snap;
}

Reply TmuxClient::run_via(const std::vector<std::string>& launcher,
                          const std::vector<std::string>& args) const {
    proc::RunOptions o;
    o.argv = launcher;
    o.argv.push_back("tmux");
    if (!m_socket.empty()) {
        o.argv.push_back(m_by_path ? "-S" : "-L");
        o.argv.push_back(m_socket);
    }
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.timeout = m_timeout;
    Reply reply;
    auto r = m_runner.run(o);
    if (!r) {
        reply.error = ErrorKind::other;
        reply.message = r.error();
        return reply;
    }
    reply.out = std::move(r->out);
    if (r->timed_out) {
        reply.error = ErrorKind::timeout;
        reply.message = "tmux timed out";
    } else if (!r->success()) {
        reply.message = r->err.empty() ? r->describe() : r->err;
        while (!reply.message.empty() && reply.message.back() == '\n') {
            reply.message.pop_back();
        }
        reply.error = classify(reply.message);
    }
    return reply;
}

std::string escape_argument(const std::string& arg) {
    if (arg.empty() || arg.back() != ';') {
        return arg;
    }
    return arg.substr(0, arg.size() - 1) + "\\;";
}

std::string format_literal(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        out += c;
        if (c == '#') {
            out += '#';
        }
    }
    return out;
}

std::string town_mark(const std::string& root) {
    std::string out;
    for (unsigned char c : root) {
        if (c == '%' || c < 0x20 || c == 0x7f) {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string mark_root(const std::string& mark) {
    std::string out;
    for (std::size_t i = 0; i < mark.size(); ++i) {
        unsigned value = 0;
        if (mark[i] == '%' && i + 2 < mark.size() &&
            std::isxdigit(static_cast<unsigned char>(mark[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(mark[i + 2])) &&
            std::sscanf(mark.c_str() + i + 1, "%2x", &value) == 1) {
            out += static_cast<char>(value);
            i += 2;
        } else {
            out += mark[i];
        }
    }
    return out;
}

std::string socket_path(const std::string& socket) {
    // As tmux's make_label(): the first of $TMUX_TMPDIR and /tmp, `tmux-<uid>` resolved.
    const char* env = std::getenv("TMUX_TMPDIR");
    std::string dir =
        (env && *env ? std::string(env) : "/tmp") + "/tmux-" + std::to_string(::getuid());
    char resolved[PATH_MAX];
    if (::realpath(dir.c_str(), resolved)) {
        dir = resolved;
    }
    return dir + "/" + (socket.empty() ? "default" : socket);
}

std::string run_shell_hook(const std::vector<HookArg>& args) {
    std::string sh;
    for (const auto& a : args) {
        if (!sh.empty()) {
            sh += ' ';
        }
        sh += '\'';
        for (char c : a.format ? a.text : format_literal(a.text)) {
            if (c == '\'') {
                sh += "'\\''";
            } else {
                sh += c;
            }
        }
        sh += '\'';
    }
    std::string out = "run-shell -b \"";
    for (char c : sh) {
        if (c == '\\' || c == '"' || c == '$') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

namespace {

/// systemd-run says "Failed to connect to bus: …", "Failed to start transient scope unit: …"
/// before it execs the command (tmux never starts a message so), or could not be run at all.
bool launcher_failed(const Reply& r, const std::string& launcher) {
    return !r.ok() && r.error != ErrorKind::timeout &&
           (r.message.rfind("Failed to ", 0) == 0 ||
            r.message.rfind("cannot run " + launcher + ":", 0) == 0);
}

} // namespace

Reply TmuxClient::new_session(const SessionSpec& spec,
                              const std::vector<std::string>& launcher) const {
    // tmux expands formats in the start directory (and only there of what gt passes): `#`
    // doubled reads back as itself, so `t#(cmd)x` is a directory, never a command to run.
    std::vector<std::string> args{"new-session", "-d", "-s",
                                  spec.name,     "-c", escape_argument(format_literal(spec.cwd))};
    for (const auto& [key, value] : spec.env) {
        args.push_back("-e");
        args.push_back(escape_argument(key + "=" + value));
    }
    args.push_back("--");
    // One argument would go through `sh -c`; several are exec'd directly.
    if (spec.command.size() == 1) {
        args.push_back("env");
        args.push_back("--");
    }
    for (const auto& a : spec.command) {
        args.push_back(escape_argument(a));
    }
    args.insert(args.end(),
                {";", "set-option", "-w", "-t", exact_window(spec.name), "remain-on-exit", "on"});
    if (!spec.mark.empty()) {
        // In the command that creates it: no session of the town is ever seen unmarked.
        args.insert(args.end(), {";", "set-option", "-t", exact_window(spec.name), k_town_option,
                                 escape_argument(spec.mark)});
    }
    if (!spec.pane_died_hook.empty()) {
        // A session-level hook (a pane-level pane-exited hook does not fire on tmux 3.3).
        args.insert(args.end(), {";", "set-hook", "-t", exact_window(spec.name), "pane-died",
                                 escape_argument(spec.pane_died_hook)});
    }
    if (!launcher.empty()) {
        Reply r = run_via(launcher, args);
        if (!launcher_failed(r, launcher[0])) {
            return r;
        }
        Reply plain = run(args);
        plain.launcher_error = r.message;
        return plain;
    }
    return run(args);
}

std::vector<std::string> systemd_scope(const std::string& socket, const std::string& town,
                                       util::TimePoint started, const std::string& unique) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch());
    std::string unit = "gt-tmux-" + (socket.empty() ? "default" : socket) + "-" +
                       std::to_string(seconds.count()) + "-" + unique;
    return {"systemd-run",
            "--user",
            "--scope",
            "--quiet",
            "--collect",
            "--unit=" + unit,
            "--description=tmux server of the gt town " + town,
            "--"};
}

Reply TmuxClient::kill_session(const std::string& session) const {
    Reply r = run({"kill-session", "-t", exact(session)});
    if (r.error == ErrorKind::session_not_found || r.error == ErrorKind::no_server) {
        r.error = ErrorKind::none;
    }
    return r;
}

Reply TmuxClient::set_mark(const std::string& session, const std::string& mark) const {
    return run({"set-option", "-t", exact_window(session), k_town_option, escape_argument(mark)});
}

util::Result<std::string> TmuxClient::mark_of(const std::string& session) const {
    Reply r = run({"show-options", "-v", "-t", exact_window(session), k_town_option});
    if (r.message.find("invalid option") != std::string::npos) {
        return std::string(); // not set: tmux knows a user option only once it is set
    }
    if (!r.ok()) {
        return util::err("tmux show-options " + session + ": " + r.message);
    }
    if (!r.out.empty() && r.out.back() == '\n') {
        r.out.pop_back();
    }
    return r.out;
}

util::Result<std::optional<std::string>> TmuxClient::environment(const std::string& session,
                                                                 const std::string& name) const {
    Reply r = run({"show-environment", "-t", exact_window(session), name});
    if (r.message.find("unknown variable") != std::string::npos) {
        return std::optional<std::string>();
    }
    if (!r.ok()) {
        return util::err("tmux show-environment " + session + ": " + r.message);
    }
    // `NAME=value`, or `-NAME` when it is marked removed.
    if (r.out.rfind(name + "=", 0) != 0) {
        return std::optional<std::string>();
    }
    std::string value = r.out.substr(name.size() + 1);
    if (!value.empty() && value.back() == '\n') {
        value.pop_back();
    }
    return std::optional<std::string>(std::move(value));
}

util::Result<InputState> TmuxClient::input_state(const std::string& session) const {
    Reply r = run({"display-message", "-p", "-t", exact_window(session),
                   "#{cursor_x}\t#{cursor_y}\t#{session_attached}\t#{pane_in_mode}", ";",
                   "capture-pane", "-p", "-t", exact_window(session)});
    if (!r.ok()) {
        return util::err("tmux display-message " + session + ": " + r.message);
    }
    std::istringstream in(r.out);
    std::string head;
    std::getline(in, head);
    auto f = split_tabs(head);
    long x = 0, y = 0, attached = 0, mode = 0;
    if (f.size() != 4 || !to_long(f[0], x) || !to_long(f[1], y) || !to_long(f[2], attached) ||
        !to_long(f[3], mode) || x < 0 || y < 0 || x > 100'000 || y > 100'000) {
        return util::err("tmux display-message " + session + ": unexpected answer '" + head + "'");
    }
    InputState s;
    s.cursor_x = static_cast<int>(x);
    s.cursor_y = static_cast<int>(y);
    s.attached = static_cast<int>(attached);
    s.in_mode = mode != 0;
    for (std::string line; std::getline(in, line);) {
        s.lines.push_back(std::move(line));
    }
    return s;
}

std::vector<std::string> TmuxClient::send_keys(const std::vector<std::string>& sessions,
                                               const std::vector<std::string>& keys) const {
    auto command = [&](const std::string& session) {
        std::vector<std::string> args{"send-keys", "-t", exact_window(session)};
        args.insert(args.end(), keys.begin(), keys.end());
        return args;
    };
    std::vector<std::string> took;
    for (std::size_t first = 0; first < sessions.size();) {
        std::size_t end = 0;
        auto args = batch(
            first, sessions.size(), [&](std::size_t i) { return command(sessions[i]); }, end);
        if (run(args).ok()) {
            took.insert(took.end(), sessions.begin() + first, sessions.begin() + end);
        } else {
            // tmux stops at a session that is gone: each one on its own, keeping those that
            // took it.
            std::copy_if(sessions.begin() + first, sessions.begin() + end, std::back_inserter(took),
                         [&](const std::string& s) { return run(command(s)).ok(); });
        }
        first = end;
    }
    return took;
}

namespace {

/// A line no screen shows by chance: it separates the screens of one batched capture.
std::string capture_marker(std::uint64_t nonce, std::size_t i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "gt-capture-%016llx-%zu", static_cast<unsigned long long>(nonce),
                  i);
    return buf;
}

} // namespace

util::Result<std::map<std::string, std::string>>
TmuxClient::capture(const std::vector<std::string>& sessions,
                    const std::set<std::string>& dead) const {
    std::map<std::string, std::string> screens;
    // One tmux process for every screen: each capture is followed by a marker line printed by
    // display-message, so the output can be cut back into screens.
    const std::uint64_t nonce = std::random_device{}() * 0x100000000ull ^ std::random_device{}();
    std::size_t next = 0; // the first session not read yet
    auto capture_one = [&](std::size_t i) {
        std::vector<std::string> one{"capture-pane", "-p", "-J"};
        if (dead.count(sessions[i])) {
            one.insert(one.end(), {"-S", "-1"});
        }
        one.insert(one.end(), {"-t", exact_window(sessions[i]), ";", "display-message", "-p",
                               capture_marker(nonce, i)});
        return one;
    };
    while (next < sessions.size()) {
        std::size_t end = 0; // where the batch ends is told by the markers found below
        Reply reply = run(batch(next, sessions.size(), capture_one, end));
        std::size_t pos = 0;
        const std::size_t first = next;
        for (; next < sessions.size(); ++next) {
            std::string marker = capture_marker(nonce, next) + "\n";
            auto at = reply.out.find(marker, pos);
            while (at != std::string::npos && at != 0 && reply.out[at - 1] != '\n') {
                at = reply.out.find(marker, at + 1);
            }
            if (at == std::string::npos) {
                break;
            }
            screens[sessions[next]] = reply.out.substr(pos, at - pos);
            pos = at + marker.size();
        }
        if (next == sessions.size()) {
            break;
        }
        if (reply.error == ErrorKind::no_server || reply.error == ErrorKind::timeout) {
            return util::err("tmux capture-pane: " + reply.message);
        }
        if (!(reply.ok() && next > first)) {
            // tmux stopped at a session that went away since the snapshot (or one screen alone
            // is over the output cap): that one is skipped.
            ++next;
        }
        // Else the batch ended there, or the output was cut at its cap: the rest in another
        // call.
    }
    return screens;
}

util::Result<Snapshot> TmuxClient::snapshot() const {
    auto reply = run({"list-panes", "-a", "-F", k_snapshot_format});
    if (reply.ok()) {
        return parse_snapshot(reply.out);
    }
    if (reply.error == ErrorKind::no_server) {
        Snapshot s;
        s.server_running = false;
        return s;
    }
    if (reply.message.find("No such file") != std::string::npos ||
        reply.message.find("cannot run tmux") != std::string::npos) {
        Snapshot s;
        s.tmux_available = false;
        return s;
    }
    return util::err("tmux list-panes: " + reply.message);
}

} // namespace gt::tmux
