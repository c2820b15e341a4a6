#include "daemon.hpp"

#include "daemon_process.hpp"
#include "lock.hpp"
#include "pid_file.hpp"
#include "proc/process.hpp"
#include "signals.hpp"
#include "state/config.hpp"
#include "state/town.hpp"
#include "util/fd.hpp"
#include "util/file.hpp"
#include "util/file_lock.hpp"
#include "util/log.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <spdlog/spdlog.h>
#include <thread>
#include <unistd.h>

namespace gt::daemon {

const char* const k_identity_vars[] = {"GT_ROLE",
                                       "GT_RIG",
                                       "GT_POLECAT",
                                       "GT_CREW",
                                       "BD_ACTOR",
                                       "GIT_AUTHOR_NAME",
                                       "GIT_AUTHOR_EMAIL",
                                       "GIT_COMMITTER_NAME",
                                       "GIT_COMMITTER_EMAIL",
                                       nullptr};

namespace {

/// The write end of `gt daemon start`'s readiness pipe: one line, then closed.
class ReadyPipe {
public:
    explicit ReadyPipe(int fd) : m_fd(fd) {
        if (m_fd) {
            util::set_cloexec(m_fd.get());
        }
    }
    void send(const std::string& line) {
        if (!m_fd) {
            return;
        }
        std::string msg = line + "\n";
        // Short and atomic (< PIPE_BUF); the reader may be gone: SIGPIPE is ignored.
        [[maybe_unused]] auto n = ::write(m_fd.get(), msg.data(), msg.size());
        m_fd.reset();
    }

private:
    util::Fd m_fd;
};

/// A daemon whose daemon/ was deleted or replaced under it still holds a lock on the old file
/// and stops itself as soon as it sees that (LockWatch). Starting beside it would put two daemons
/// on one town: wait for it to go, at most 3 s. Returns its PID when it is still there.
std::optional<pid_t> wait_for_lost_daemon(const state::TownPaths& paths) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    for (;;) {
        auto other = lost_daemon(paths.lock_file(), paths.root());
        if (!other || std::chrono::steady_clock::now() >= deadline) {
            return other;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

/// Writes the PID file under daemon/state.lock: a command cleaning up after a dead daemon holds
/// it while it removes the old PID file, and must be done before we write ours.
util::Status write_pid_file_locked(const state::TownPaths& paths) {
    auto guard = util::FileLock::acquire(paths.state_lock_file(), 0600, util::Millis(2000));
    if (!guard) {
        // A stopped command holds it: going on is safer than not starting (it checks the daemon
        // lock again before it removes anything).
        std::cerr << "gt daemon: " << guard.error() << " (going on)\n";
    }
    return write_pid_file(paths.pid_file());
}

/// Removes temp files that writers killed mid-write left in gt's own directories.
void remove_stale_temp_files(const state::TownPaths& paths) {
    auto now = util::now();
    const util::Millis min_age = std::chrono::minutes(1);
    std::vector<std::string> removed;
    for (const auto& [dir, depth] : {std::pair{paths.daemon_dir(), 2},
                                     {paths.agents_dir(), 3},
                                     {paths.mail_dir(), 3},
                                     {paths.deacon_dir(), 0},
                                     {paths.mayor_dir(), 0}}) {
        auto some = util::remove_stale_temp_files(dir, now, min_age, depth, [](pid_t writer) {
            return !proc::process_alive(writer); // a zombie writes nothing any more
        });
        removed.insert(removed.end(), some.begin(), some.end());
    }
    for (const auto& path : removed) {
        spdlog::info("removed a stale temp file: {}", path);
    }
}

} // namespace

int run_daemon(const DaemonOptions& options) {
    block_daemon_signals(); // already blocked by main(); here too for other callers
    DaemonOptions o = options;
    o.notify = take_notify_env(::getpid()); // before anything is spawned: none inherits it
    for (const char* const* v = k_identity_vars; *v; ++v) {
        ::unsetenv(*v);
    }
    // Started from inside tmux, $TMUX would point our tmux calls at that server.
    ::unsetenv("TMUX");
    ::unsetenv("TMUX_PANE");
    ::signal(SIGPIPE, SIG_IGN);
    ReadyPipe ready(o.ready_fd);
    state::TownPaths paths(o.town);
    if (auto st = state::validate_tmux_socket_name("GT_TMUX_SOCKET", o.tmux_socket); !st) {
        std::cerr << "gt daemon: " << st.error() << "\n";
        ready.send("ERROR " + st.error());
        return 2;
    }

    auto config = state::load_town_config(o.town);
    if (!config) {
        std::cerr << "gt daemon: " << config.error() << "\n";
        ready.send("ERROR " + config.error());
        return 1;
    }
    for (const auto& dir : {paths.daemon_dir(), paths.requests_dir()}) {
        if (auto st = util::make_dirs(dir, 0700, true); !st) {
            std::cerr << "gt daemon: " << st.error() << "\n";
            ready.send("ERROR " + st.error());
            return 1;
        }
    }
    auto lock = DaemonLock::acquire(paths.lock_file());
    for (int attempt = 0; !lock && lock.error_code() == EWOULDBLOCK; ++attempt) {
        std::optional<pid_t> holder = lock_holder(paths.lock_file());
        if (!holder && attempt < 3) {
            lock = DaemonLock::acquire(paths.lock_file()); // the holder just let go: try again
            continue;
        }
        if (holder.value_or(0) == 0) {
            if (auto info = read_pid_file(paths.pid_file()); info && info->matches_live_process()) {
                holder = info->pid;
            }
        }
        std::cerr << "daemon already running (PID " << holder.value_or(0) << ")\n";
        ready.send("RUNNING " + std::to_string(holder.value_or(0)));
        if (o.ready_fd < 0) { // else `start` speaks to the service manager
            tell_already_running(o.notify.socket, holder.value_or(0));
        }
        return 0;
    }
    if (!lock) {
        std::cerr << "gt daemon: " << lock.error() << "\n";
        ready.send("ERROR " + lock.error());
        return 1;
    }
    if (auto other = wait_for_lost_daemon(paths)) {
        std::string why = "another daemon (PID " + std::to_string(*other) +
                          ") still runs for this town on a deleted or replaced daemon/ "
                          "directory; it stops "
                          "by itself within seconds, else: kill " +
                          std::to_string(*other);
        std::cerr << "gt daemon: " << why << "\n";
        ready.send("ERROR " + why);
        return 1;
    }
    if (auto st = write_pid_file_locked(paths); !st) {
        std::cerr << "gt daemon: " << st.error() << "\n";
        ready.send("ERROR " + st.error());
        return 1;
    }
    if (auto st = util::init_file_logging(paths.log_file(), config->daemon.log.max_size,
                                          config->daemon.log.max_files, o.log_to_stderr);
        !st) {
        std::cerr << "gt daemon: " << st.error() << "\n";
        ready.send("ERROR " + st.error());
        ::unlink(paths.pid_file().c_str());
        return 1;
    }
    remove_stale_temp_files(paths);
    proc::RealProcessRunner runner;
    Daemon daemon(o, std::move(*config), std::move(*lock), runner);
    return daemon.run([&ready](const std::string& line) { ready.send(line); });
}

} // namespace gt::daemon
