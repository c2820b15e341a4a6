// `gt daemon start|stop|restart`, and signalling the daemon.
#include "commands.hpp"

#include "daemon/daemon.hpp"
#include "daemon/lock.hpp"
#include "daemon/signals.hpp"
#include "probe.hpp"
#include "proc/process.hpp"
#include "state/config.hpp"
#include "state/town.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <iostream>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gt::client {

namespace {

using Clock = std::chrono::steady_clock;

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

namespace {

/// Run by a service manager that waits for READY=1 (a unit whose ExecStart is `gt daemon
/// start`), this process is the main one: it names the daemon it forked as the new main
/// process and says it is ready, so the daemon's later messages are accepted (design §18.2).
void hand_over_main_pid(pid_t daemon) {
    if (auto st = daemon::notify_once(util::env_or("NOTIFY_SOCKET"),
                                      "MAINPID=" + std::to_string(daemon) + "\nREADY=1");
        !st) {
        std::cerr << "gt daemon start: " << st.error() << "\n";
    }
}

} // namespace

int failure_exit_code(int error_code) {
    return error_code == util::k_not_regular ? 2 : 1;
}

int start_daemon(const std::string& town) {
    state::TownPaths paths(town);
    Probe p = probe(paths);
    report_stale(p);
    if (p.pid) {
        std::cout << "Daemon already running (PID " << *p.pid << ")\n";
        daemon::tell_already_running(util::env_or("NOTIFY_SOCKET"), *p.pid);
        return 0;
    }
    if (auto config = state::load_town_config(town); !config) {
        std::cerr << "gt daemon start: " << config.error() << "\n";
        return failure_exit_code(config.error_code());
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
    // Under a service manager the daemon becomes the main process (below): a watchdog named
    // for this process's PID would not be the daemon's.
    drop.emplace_back("WATCHDOG_PID");
    proc::SpawnOptions so;
    so.argv = {util::self_exe(), "daemon", "run", "--town", town, "--ready-fd", "3"};
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
        hand_over_main_pid(pid);
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
        daemon::tell_already_running(util::env_or("NOTIFY_SOCKET"), std::atol(holder.c_str()));
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
        daemon::tell_already_running(util::env_or("NOTIFY_SOCKET"), *holder);
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

} // namespace gt::client
