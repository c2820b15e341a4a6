#include "daemon_process.hpp"

#include "proc/exit_watch.hpp"
#include "proc/process.hpp"
#include "signals.hpp"
#include "socket_path.hpp"
#include "util/file.hpp"
#include "util/log.hpp"

#include <cerrno>
#include <csignal>
#include <iostream>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gt::daemon {

Daemon::Daemon(const DaemonOptions& o, state::TownConfig config, DaemonLock lock,
               proc::ProcessRunner& runner)
    : m_paths(o.town), m_settings(o.town, config), m_lock(std::move(lock)), m_runner(runner),
      m_signals(m_io, SIGTERM, SIGINT, SIGHUP), m_writes(m_pool.get_executor()),
      m_events(m_paths.events_file(), config.daemon.log.max_size, config.daemon.log.max_files),
      m_recovery(o.town, runner, m_events, o.tmux_socket),
      m_heartbeat(m_io, m_pool, config.daemon.heartbeat_interval, [this] { return tick_work(); }),
      m_control(m_io, control_socket_path(o.town),
                [this](const nlohmann::json& request, ControlServer::Reply reply) {
                    handle(request, std::move(reply));
                }),
      m_lock_watch(
          m_io, [this] { return m_lock.still_at(m_paths.lock_file()); },
          [this] { lose_directory(); }),
      m_panes(
          m_io,
          [this](long pid) {
              spdlog::info("pane process {} exited: checking at once", pid);
              m_heartbeat.trigger();
          },
          proc::pidfd_budget(4096)),
      m_notify(o.notify), m_notify_ready(o.ready_fd < 0) {
    m_recovery.set_under_systemd(!o.notify.invocation_id.empty());
    // Where an earlier daemon's agents live (design §19.2): kept across restarts, so that a
    // daemon pointed at another server does not start a second set of them.
    if (auto before = state::read_daemon_state(m_paths.state_file())) {
        m_state.tmux_server = before->tmux_server;
        m_recovery.recall_server(before->tmux_server);
    }
    m_signals.add(SIGUSR1);
    m_signals.add(SIGUSR2);
    for (int sig : ignored_signals()) {
        m_signals.add(sig);
    }
}

Daemon::~Daemon() {
    // Heartbeat work on the pool refers to members destroyed before the pool.
    m_pool.stop();
    m_pool.join();
}

int Daemon::run(const std::function<void(const std::string&)>& ready) {
    if (auto st = m_events.open(); !st) {
        spdlog::warn("events: {}", st.error());
    }
    m_state.running = true;
    m_state.pid = ::getpid();
    m_state.started_at = util::format_time(util::now());
    m_state.version = GT_VERSION;
    m_state.town = m_paths.root();
    m_state.interval_ms = m_settings.config()->daemon.heartbeat_interval.count();
    m_state.next_heartbeat_at = m_state.started_at;
    m_state.socket = m_control.path();
    if (auto st = m_control.open(); !st) {
        spdlog::error("{}", st.error());
        ready("ERROR " + st.error());
        ::unlink(m_paths.pid_file().c_str()); // never started: no PID file left to go stale
        return 1;
    }
    if (auto st = state::write_daemon_state(m_paths.state_file(), m_state); !st) {
        spdlog::error("{}", st.error());
        ready("ERROR " + st.error());
        ::unlink(m_paths.pid_file().c_str());
        return 1;
    }
    wait_signal();
    // Handlers are in place: what was sent while we started is served now, not lost.
    unblock_daemon_signals();
    if (std::string why;
        !m_lock_watch.start({m_paths.lock_file(), m_paths.daemon_dir(), m_paths.root()}, why)) {
        spdlog::warn("{}: checking {} once a second instead", why, m_paths.lock_file());
    }
    spdlog::info("daemon started: pid {}, town {}, heartbeat every {}", m_state.pid, m_paths.root(),
                 util::format_duration(m_settings.config()->daemon.heartbeat_interval));
    m_events.record("daemon_started", "", "", "pid " + std::to_string(m_state.pid));
    ready("READY " + std::to_string(m_state.pid));
    if (m_notify_ready) {
        notify("READY=1\nMAINPID=" + std::to_string(m_state.pid) + "\nSTATUS=started");
    }
    ping_watchdog();
    m_heartbeat.start();
    for (;;) {
        try {
            m_io.run();
            break;
        } catch (const std::exception& e) {
            // A handler threw: log it and keep serving (the daemon must not die of it).
            spdlog::error("event loop: {}", e.what());
        }
    }

    // Stopping: the pool finishes the step it is in (its tmux children were killed);
    // queued work is dropped.
    m_pool.stop();
    m_pool.join();
    if (m_lost || !m_lock.still_at(m_paths.lock_file())) {
        // daemon/ went away since the last check: what is there may be a new daemon's.
        return report_lost_directory();
    }
    m_state.running = false;
    m_state.stopped_at = util::format_time(util::now());
    m_state.next_heartbeat_at.clear();
    if (auto st = state::write_daemon_state(m_paths.state_file(), m_state); !st) {
        spdlog::error("{}", st.error());
    }
    if (auto st = util::write_file_atomic(m_paths.metrics_file(), metrics(), 0600); !st) {
        spdlog::error("{}", st.error());
    }
    ::unlink(m_paths.pid_file().c_str());
    m_control.close();
    m_events.record("daemon_stopped", "", "", "pid " + std::to_string(m_state.pid));
    spdlog::info("daemon stopped");
    release_lock();
    return 0;
}

void Daemon::wait_signal() {
    m_signals.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec) {
            return;
        }
        on_signal(sig);
        if (!m_stopping) {
            wait_signal();
        }
    });
}

void Daemon::on_signal(int sig) {
    switch (sig) {
    case SIGTERM:
    case SIGINT:
        spdlog::info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        stop();
        break;
    case SIGHUP:
        spdlog::info("received SIGHUP: reloading configuration");
        reload_settings();
        m_heartbeat.trigger();
        break;
    case SIGUSR1:
        spdlog::info("received SIGUSR1");
        m_heartbeat.trigger();
        break;
    case SIGUSR2:
        // The heartbeat re-reads restart_state.json first (clear-backoff), then acts on it.
        spdlog::info("received SIGUSR2: reloading restart_state.json");
        m_recovery.request_reload();
        m_heartbeat.trigger();
        break;
    default:
        log_ignored(sig);
        break;
    }
}

// A signal the daemon does not use: logged (at most once a minute per signal, with how many
// came meanwhile) and otherwise ignored.
void Daemon::log_ignored(int sig) {
    auto now = std::chrono::steady_clock::now();
    auto& seen = m_ignored[sig];
    ++seen.count;
    if (seen.count == 1 || now - seen.logged >= std::chrono::minutes(1)) {
        spdlog::warn("received {} ({} since the last note): ignored", signal_name(sig), seen.count);
        seen.logged = now;
        seen.count = 0;
    }
}

// Stops serving: no new heartbeat, the one in flight abandoned (its tmux children killed),
// the loop left once its handlers return.
void Daemon::stop() {
    if (!m_stopping) {
        notify("STOPPING=1\nSTATUS=stopping");
    }
    m_stopping = true;
    m_watchdog.cancel();
    m_recovery.request_stop();
    m_runner.cancel();
    m_heartbeat.stop();
    m_control.close(!m_lost);
    m_waiters.clear();
    m_wake.cancel();
    m_lock_watch.stop();
    m_panes.clear();
    m_signals.cancel();
    m_io.stop();
}

// daemon/daemon.lock no longer names the file we hold the lock on (LockWatch, or the
// heartbeat's own check): daemon/ was deleted or the lock file replaced, and a second daemon
// could start on a new lock while we supervise the town. Stop before that can happen.
void Daemon::lose_directory() {
    if (m_stopping) {
        return;
    }
    spdlog::error("{} no longer names the lock this daemon holds (daemon/ deleted or "
                  "replaced): stopping",
                  m_paths.lock_file());
    m_lost = true;
    stop();
}

// After losing daemon/: touches nothing a new daemon may own (PID file, socket,
// state.json), but leaves a log line and an event where the user will look, and exits 1
// so that a service manager starts a fresh daemon.
int Daemon::report_lost_directory() {
    std::string why = "daemon/ was deleted or replaced under the running daemon (PID " +
                      std::to_string(m_state.pid) + "); it stopped. Run 'gt daemon start'.";
    // The loss is seen at the first file `rm -rf` removes: let it finish before writing there
    // again, or its last rmdir fails on our log. Wait (at most a second) while the lock file is
    // gone and daemon/ is still there; then a moment more, and write only into a town that is
    // still one (mayor/town.json there), making daemon/ but never its parents.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!util::path_exists(m_paths.lock_file()) && util::is_dir(m_paths.daemon_dir()) &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!util::is_dir(m_paths.daemon_dir())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    const bool town_left = util::path_exists(m_paths.town_json()) &&
                           (::mkdir(m_paths.daemon_dir().c_str(), 0700) == 0 || errno == EEXIST);
    if (town_left) {
        if (util::init_file_logging(m_paths.log_file(), m_settings.config()->daemon.log.max_size,
                                    m_settings.config()->daemon.log.max_files, false)) {
            spdlog::error("{}", why);
        }
        executor::EventLog fresh(m_paths.events_file(), m_settings.config()->daemon.log.max_size,
                                 m_settings.config()->daemon.log.max_files);
        if (fresh.open()) {
            fresh.record("directory_lost", "", "", why);
        }
    }
    std::cerr << "gt daemon: " << why << "\n";
    release_lock();
    return 1;
}

// Once the lock is released a command may still signal us (it read the holder a moment
// ago), and destroying the signal_set restores the fatal defaults: block them first, so
// that a late SIGUSR1 or SIGQUIT never turns a clean exit into a death by signal.
void Daemon::release_lock() {
    block_daemon_signals();
    m_lock.release();
}

void Daemon::reload_settings() {
    auto problems = m_settings.reload();
    if (problems.config) {
        spdlog::error("keeping the last good configuration: {}", *problems.config);
    }
    apply_interval();
}

void Daemon::apply_interval() {
    auto interval = m_settings.config()->daemon.heartbeat_interval;
    if (interval != m_heartbeat.interval()) {
        spdlog::info("heartbeat interval now {}", util::format_duration(interval));
        m_heartbeat.set_interval(interval);
    }
    m_state.interval_ms = interval.count();
}

} // namespace gt::daemon
