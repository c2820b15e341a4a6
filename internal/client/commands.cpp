#include "commands.hpp"

#include "control_client.hpp"
#include "daemon/daemon.hpp"
#include "daemon/lock.hpp"
#include "daemon/pid_file.hpp"
#include "daemon/signals.hpp"
#include "proc/process.hpp"
#include "state/config.hpp"
#include "state/daemon_state.hpp"
#include "state/town.hpp"
#include "util/file.hpp"
#include "util/file_lock.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <iostream>
#include <limits.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gt::client {

namespace {

using Clock = std::chrono::steady_clock;

std::string self_exe() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        return "gt";
    }
    return std::string(buf, static_cast<std::size_t>(n));
}

/// What is known about the town's daemon without talking to it.
struct Probe {
    std::optional<pid_t> pid;   ///< the lock holder when one runs
    std::optional<pid_t> stale; ///< PID of a stale PID file that was removed
};

/// Decides "running" by the lock alone: only `gt daemon run` ever takes it. When nobody holds it,
/// removes a leftover PID file and marks state.json not running, under daemon/state.lock (which
/// a starting daemon takes, after the daemon lock, to write its PID file before it writes
/// anything else) so that a daemon starting meanwhile is never disturbed.
Probe probe(const state::TownPaths& paths) {
    Probe p;
    p.pid = daemon::lock_holder(paths.lock_file());
    if (p.pid) {
        if (*p.pid == 0) {
            if (auto info = daemon::read_pid_file(paths.pid_file());
                info && info->matches_live_process()) {
                p.pid = info->pid;
            }
        }
        return p;
    }
    if (!util::is_dir(paths.daemon_dir())) {
        return p; // never ran here: nothing to clean, and nothing to create
    }
    auto guard = util::FileLock::acquire(paths.state_lock_file(), 0600, util::Millis(2000));
    if (!guard) {
        return p; // someone else is cleaning up or starting: leave it to them
    }
    if ((p.pid = daemon::lock_holder(paths.lock_file()))) {
        return p; // a daemon started while we waited
    }
    if (auto info = daemon::read_pid_file(paths.pid_file())) {
        p.stale = info->pid;
    } else if (util::path_exists(paths.pid_file())) {
        p.stale = 0;
    }
    if (p.stale) {
        ::unlink(paths.pid_file().c_str());
    }
    if (auto s = state::read_daemon_state(paths.state_file()); s && s->running) {
        s->running = false;
        s->next_heartbeat_at.clear();
        state::write_daemon_state(paths.state_file(), *s);
    }
    return p;
}

void report_stale(const Probe& p) {
    if (p.stale) {
        std::cerr << "warning: removed stale PID file (PID " << *p.stale
                  << " does not hold the daemon lock)\n";
    }
}

/// Waits until `pid` no longer holds the lock, at most `timeout`.
bool wait_released(const state::TownPaths& paths, pid_t pid, util::Millis timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        auto holder = daemon::lock_holder(paths.lock_file());
        if (!holder || *holder != pid) {
            return true;
        }
        if (Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

/// Waits until the process `pid` (started at `start_time`) has exited, at most `timeout`: the
/// lock is released just before the process ends, and "stopped" must mean gone.
bool wait_exited(pid_t pid, unsigned long long start_time, util::Millis timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        if (!proc::process_alive(pid) || proc::process_start_time(pid) != start_time) {
            return true;
        }
        if (Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

util::Millis configured_stop_timeout(const std::string& town) {
    auto config = state::load_town_config(town);
    return config ? config->daemon.stop_timeout : util::Millis(10'000);
}

} // namespace

int start_daemon(const std::string& town) {
    state::TownPaths paths(town);
    Probe p = probe(paths);
    report_stale(p);
    if (p.pid) {
        std::cout << "Daemon already running (PID " << *p.pid << ")\n";
        return 0;
    }
    if (auto config = state::load_town_config(town); !config) {
        std::cerr << "gt daemon start: " << config.error() << "\n";
        return 1;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        std::cerr << "gt daemon start: pipe: " << util::errno_text(errno) << "\n";
        return 1;
    }
    util::Fd read_end(fds[0]), write_end(fds[1]);
    std::vector<std::string> drop;
    for (const char* const* v = daemon::k_identity_vars; *v; ++v) {
        drop.emplace_back(*v);
    }
    proc::SpawnOptions so;
    so.argv = {self_exe(), "daemon", "run", "--town", town, "--ready-fd", "3"};
    so.env = proc::make_env(drop);
    so.new_session = true;
    so.cwd = "/";
    so.keep_fds = {{write_end.get(), 3}};
    so.blocked_signals =
        daemon::daemon_signal_mask(); // from its first instruction, not from main()
    auto child = proc::spawn(so);
    if (!child) {
        std::cerr << "gt daemon start: " << child.error() << "\n";
        return 1;
    }
    write_end.reset();

    std::string message;
    auto deadline = Clock::now() + std::chrono::seconds(5);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            break;
        }
        pollfd pfd{read_end.get(), POLLIN, 0};
        int rc = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc <= 0) {
            break;
        }
        char buf[4096];
        ssize_t n = ::read(read_end.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        message.append(buf, static_cast<std::size_t>(n));
        if (message.find('\n') != std::string::npos) {
            break;
        }
    }
    if (auto nl = message.find('\n'); nl != std::string::npos) {
        message.resize(nl);
    }
    pid_t pid = *child;
    if (message.rfind("READY ", 0) == 0) {
        // Only the lock's holder says READY: our child is the daemon (a racing stop may have
        // stopped it since, which is that stop's to report).
        std::cout << "Daemon started (PID " << pid << ")\n";
        return 0;
    }
    int status = 0;
    bool exited =
        proc::wait_for_exit(pid, std::chrono::milliseconds(message.empty() ? 1000 : 200), status);
    if (message.rfind("RUNNING ", 0) == 0) {
        std::string holder = message.substr(8);
        std::cout << "Daemon already running ("
                  << (holder == "0" ? std::string("its PID cannot be read") : "PID " + holder)
                  << ")\n";
        return 0;
    }
    if (message.rfind("ERROR ", 0) == 0) {
        std::cerr << "gt daemon start: " << message.substr(6) << "\n";
        return 1;
    }
    if (!exited) {
        std::cerr << "gt daemon start: the daemon (PID " << pid
                  << ") did not report ready within 5s; see " << paths.log_file() << "\n";
        return 1;
    }
    // It died without a word (a crash): a racing winner may still be running.
    if (auto holder = daemon::lock_holder(paths.lock_file()); holder && *holder != pid) {
        std::cout << "Daemon already running (PID " << *holder << ")\n";
        return 0;
    }
    std::cerr << "gt daemon start: the daemon exited before it was ready ("
              << (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                      : "exit " + std::to_string(WEXITSTATUS(status)))
              << "); see " << paths.log_file() << "\n";
    return 1;
}

int stop_daemon(const std::string& town, std::optional<util::Millis> timeout_opt) {
    state::TownPaths paths(town);
    Probe p = probe(paths);
    report_stale(p);
    if (!p.pid) {
        std::cout << "Daemon is not running\n";
        return 0;
    }
    pid_t pid = *p.pid;
    if (pid <= 0) {
        std::cerr << "gt daemon stop: the daemon lock is held but its holder cannot be identified; "
                     "refusing to signal anything\n";
        return 1;
    }
    util::Millis timeout = timeout_opt.value_or(configured_stop_timeout(town));
    unsigned long long start_time = proc::process_start_time(pid);
    // `pid` was read from the lock itself, so it is the holder, not a reused PID.
    if (::kill(pid, SIGTERM) != 0 && errno != ESRCH) {
        std::cerr << "gt daemon stop: cannot signal PID " << pid << ": " << util::errno_text(errno)
                  << "\n";
        return 1;
    }
    // A stopped process does not act on SIGTERM until continued; SIGCONT lets a SIGSTOPped
    // daemon shut down cleanly instead of being killed.
    ::kill(pid, SIGCONT);
    if (!wait_released(paths, pid, timeout)) {
        auto holder = daemon::lock_holder(paths.lock_file());
        if (holder && *holder == pid) {
            std::cerr << "gt daemon stop: PID " << pid << " did not stop within "
                      << util::format_duration(timeout) << "; sending SIGKILL\n";
            ::kill(pid, SIGKILL);
        }
        if (!wait_released(paths, pid, std::max(timeout, util::Millis(5000)))) {
            std::cerr << "gt daemon stop: PID " << pid << " still holds the lock\n";
            return 1;
        }
        probe(paths); // clean the PID file and state.json the killed daemon left behind
    }
    if (!wait_exited(pid, start_time, std::max(timeout, util::Millis(5000)))) {
        std::cerr << "gt daemon stop: PID " << pid << " released the lock but has not exited yet\n";
    }
    std::cout << "Daemon stopped (was PID " << pid << ")\n";
    return 0;
}

std::optional<pid_t> signal_daemon(const std::string& town, int sig) {
    state::TownPaths paths(town);
    Probe p = probe(paths);
    if (!p.pid || *p.pid <= 0 || ::kill(*p.pid, sig) != 0) {
        return std::nullopt;
    }
    return *p.pid;
}

int restart_daemon(const std::string& town, std::optional<util::Millis> timeout) {
    if (int rc = stop_daemon(town, timeout); rc != 0) {
        return rc;
    }
    return start_daemon(town);
}

namespace {

std::string ago(const std::string& when) {
    auto t = util::parse_time(when);
    if (!t) {
        return "";
    }
    return util::format_duration(std::chrono::duration_cast<util::Millis>(util::now() - *t));
}

std::string in(const std::string& when) {
    auto t = util::parse_time(when);
    if (!t) {
        return "";
    }
    auto d = std::chrono::duration_cast<util::Millis>(*t - util::now());
    return d.count() <= 0 ? "due now" : "in " + util::format_duration(d);
}

/// True when the binary on disk is newer than the running process (an upgrade not yet applied).
bool binary_newer(pid_t pid, const std::string& started_at) {
    struct stat st {};
    std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    if (::stat(exe.c_str(), &st) != 0) {
        return false;
    }
    auto started = util::parse_time(started_at);
    if (!started) {
        return false;
    }
    auto mtime = util::TimePoint(util::Millis(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
                                              st.st_mtim.tv_nsec / 1'000'000));
    return mtime > *started;
}

} // namespace

namespace {

void print_status(const nlohmann::json& s, const std::string& town,
                  const std::vector<std::string>& warnings) {
    auto str = [&](const char* k) { return s.value(k, std::string()); };
    std::cout << "Daemon running (PID " << s.value("pid", 0) << ")\n";
    std::cout << "  town:            " << town << "\n";
    std::cout << "  started:         " << str("started_at") << " (up " << ago(str("started_at"))
              << ")\n";
    if (str("last_heartbeat").empty()) {
        std::cout << "  last heartbeat:  none yet\n";
    } else {
        std::cout << "  last heartbeat:  " << str("last_heartbeat") << " ("
                  << ago(str("last_heartbeat")) << " ago, #" << s.value("heartbeat_count", 0)
                  << ", took " << s.value("last_heartbeat_ms", 0) << "ms)\n";
    }
    std::cout << "  next heartbeat:  " << str("next_heartbeat_at") << " ("
              << in(str("next_heartbeat_at")) << ", every "
              << util::format_duration(util::Millis(s.value("interval_ms", 0))) << ")\n";
    int alive = 0, dead = 0, blocked = 0;
    for (const auto& a : s.value("agents", nlohmann::json::array())) {
        (a.value("alive", false) ? alive : dead) += 1;
        blocked += a.value("gate", std::string("allowed")) != "allowed";
    }
    std::cout << "  agents:          " << alive << " alive, " << dead << " not alive";
    if (blocked) {
        std::cout << ", " << blocked << " in backoff or crash loop";
    }
    std::cout << (s.value("degraded", false) ? " (degraded: no tmux)" : "") << "\n";
    const auto& c = s.value("counters", nlohmann::json::object());
    std::cout << "  restarts:        " << c.value("restarts", 0) << " (kills "
              << c.value("kills", 0) << ", marked dead " << c.value("marked_dead", 0)
              << ", notifications " << c.value("notifications", 0) << ")\n";
    std::cout << "  socket:          " << str("socket") << "\n";
    for (const auto& w : warnings) {
        std::cout << "  warning: " << w << "\n";
    }
}

} // namespace

namespace {

/// Asks the daemon `pid` for its status for at most 2 s. A daemon that holds the lock but has
/// not bound its socket yet (starting) or has closed it (stopping) is asked again within those
/// 2 s: only a daemon that does not answer for 2 s is hung.
util::Result<nlohmann::json> ask_status(const state::TownPaths& paths, const std::string& town,
                                        pid_t pid) {
    auto deadline = Clock::now() + std::chrono::milliseconds(2000);
    for (;;) {
        auto left = std::chrono::duration_cast<util::Millis>(deadline - Clock::now());
        auto reply = control_request(town, {{"cmd", "status"}}, std::max(left, util::Millis(1)));
        // Not listening yet (starting), or closing its socket (stopping): ask again.
        int e = reply ? 0 : reply.error_code();
        bool passing = e == ENOENT || e == ECONNREFUSED || e == ECONNRESET || e == EPIPE;
        if (reply || !passing || Clock::now() >= deadline) {
            return reply;
        }
        if (auto holder = daemon::lock_holder(paths.lock_file()); !holder || *holder != pid) {
            return reply; // it went away while we asked
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

} // namespace

int status_daemon(const std::string& town, bool as_json) {
    state::TownPaths paths(town);
    Probe p = probe(paths);
    if (!p.pid) {
        if (as_json) {
            nlohmann::json j = {{"running", false}, {"town", town}};
            if (p.stale) {
                j["stale_pid_file_removed"] = *p.stale;
            }
            std::cout << j.dump(2) << "\n";
        } else {
            report_stale(p);
            std::cout << "Daemon is not running\n";
        }
        return k_status_not_running;
    }
    auto reply = ask_status(paths, town, *p.pid);
    if (!reply && daemon::lock_holder(paths.lock_file()) != p.pid) {
        // It stopped while we asked: not running (and not hung).
        return status_daemon(town, as_json);
    }
    if (!reply) {
        std::string why = "the daemon (PID " + std::to_string(*p.pid) +
                          ") holds the lock but is not responding: " + reply.error();
        if (as_json) {
            std::cout << nlohmann::json({{"running", true},
                                         {"responding", false},
                                         {"pid", *p.pid},
                                         {"town", town},
                                         {"error", why}})
                             .dump(2)
                      << "\n";
        } else {
            std::cout << "Daemon hung: " << why << "\n  (gt daemon stop works on a hung daemon)\n";
        }
        return k_status_hung;
    }
    nlohmann::json s = std::move(*reply);
    s.erase("ok");
    std::vector<std::string> warnings;
    if (binary_newer(*p.pid, s.value("started_at", std::string()))) {
        warnings.push_back(
            "the gt binary is newer than the running daemon: run 'gt daemon restart'");
    }
    if (as_json) {
        s["running"] = true;
        s["responding"] = true;
        s["warnings"] = warnings;
        std::cout << s.dump(2) << "\n";
    } else {
        print_status(s, town, warnings);
    }
    return k_status_running;
}

} // namespace gt::client
