#include "daemon.hpp"

#include "control_server.hpp"
#include "executor/event_log.hpp"
#include "executor/recovery.hpp"
#include "heartbeat.hpp"
#include "lock.hpp"
#include "pane_watch.hpp"
#include "pid_file.hpp"
#include "proc/process.hpp"
#include "signals.hpp"
#include "socket_path.hpp"
#include "state/config.hpp"
#include "state/daemon_state.hpp"
#include "state/town.hpp"
#include "util/asio.hpp"
#include "util/file.hpp"
#include "util/file_lock.hpp"
#include "util/log.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
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

/// The result of one heartbeat's blocking part, applied on the loop.
struct TickResult {
    util::Result<state::TownConfig> config{util::err("not loaded")};
    std::vector<std::string> rigs; ///< the rig list the pass used
    std::string rigs_error;
    executor::HeartbeatSummary summary;
    util::Millis duration{0};
};

/// The heartbeat's side of the daemon: touched only by heartbeat work, which never overlaps
/// itself, so it needs no lock.
struct TickContext {
    state::TownConfig config; ///< the last good configuration
    std::vector<std::string> rigs;
    bool rigs_loaded = false; ///< rigs.json read successfully at least once
    proc::RealProcessRunner runner;
    executor::Recovery recovery;

    TickContext(const std::string& town, state::TownConfig c, executor::EventLog& events,
                std::string tmux_socket)
        : config(std::move(c)), recovery(town, runner, events, std::move(tmux_socket)) {}
};

/// Wiring: owns the loop, the lock, the signals, the heartbeat and the daemon's state.
void add_counters(state::Counters& to, const state::Counters& d) {
    to.restarts += d.restarts;
    to.kills += d.kills;
    to.marked_dead += d.marked_dead;
    to.lifecycle_done += d.lifecycle_done;
    to.lifecycle_rejected += d.lifecycle_rejected;
    to.notifications += d.notifications;
    to.bad_files += d.bad_files;
}

class Daemon {
public:
    Daemon(const DaemonOptions& o, state::TownConfig config, DaemonLock lock)
        : m_paths(o.town), m_config(std::move(config)), m_lock(std::move(lock)),
          m_signals(m_io, SIGTERM, SIGINT, SIGHUP), m_writes(m_pool.get_executor()),
          m_events(m_paths.events_file(), m_config.daemon.log.max_size,
                   m_config.daemon.log.max_files),
          m_tick(o.town, m_config, m_events, o.tmux_socket),
          m_heartbeat(m_io, m_pool, m_config.daemon.heartbeat_interval,
                      [this] { return tick_work(); }),
          m_control(m_io, control_socket_path(o.town),
                    [this](const nlohmann::json& request, ControlServer::Reply reply) {
                        handle(request, std::move(reply));
                    }) {
        m_signals.add(SIGUSR1);
        m_signals.add(SIGUSR2);
        if (auto rigs = state::load_rigs(o.town)) {
            for (const auto& r : *rigs) {
                m_rigs.push_back(r.name);
            }
        }
        for (int sig : ignored_signals()) {
            m_signals.add(sig);
        }
    }

    ~Daemon() {
        // Heartbeat work on the pool refers to members destroyed before the pool.
        m_pool.stop();
        m_pool.join();
    }

    int run(ReadyPipe& ready) {
        if (auto st = m_events.open(); !st) {
            spdlog::warn("events: {}", st.error());
        }
        m_state.running = true;
        m_state.pid = ::getpid();
        m_state.started_at = util::format_time(util::now());
        m_state.version = GT_VERSION;
        m_state.town = m_paths.root();
        m_state.interval_ms = m_config.daemon.heartbeat_interval.count();
        m_state.next_heartbeat_at = m_state.started_at;
        m_state.socket = m_control.path();
        if (auto st = m_control.open(); !st) {
            spdlog::error("{}", st.error());
            ready.send("ERROR " + st.error());
            return 1;
        }
        if (auto st = state::write_daemon_state(m_paths.state_file(), m_state); !st) {
            spdlog::error("{}", st.error());
            ready.send("ERROR " + st.error());
            return 1;
        }
        wait_signal();
        // Handlers are in place: what was sent while we started is served now, not lost.
        unblock_daemon_signals();
        watch_lock_path();
        spdlog::info("daemon started: pid {}, town {}, heartbeat every {}", m_state.pid,
                     m_paths.root(), util::format_duration(m_config.daemon.heartbeat_interval));
        m_events.record("daemon_started", "", "", "pid " + std::to_string(m_state.pid));
        ready.send("READY " + std::to_string(m_state.pid));
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
        ::unlink(m_paths.pid_file().c_str());
        m_control.close();
        m_events.record("daemon_stopped", "", "", "pid " + std::to_string(m_state.pid));
        spdlog::info("daemon stopped");
        release_lock();
        return 0;
    }

private:
    void wait_signal() {
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

    void on_signal(int sig) {
        switch (sig) {
        case SIGTERM:
        case SIGINT:
            spdlog::info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            stop();
            break;
        case SIGHUP:
            spdlog::info("received SIGHUP: reloading configuration");
            reload_config();
            m_heartbeat.trigger();
            break;
        case SIGUSR1:
            spdlog::info("received SIGUSR1");
            m_heartbeat.trigger();
            break;
        case SIGUSR2:
            // The heartbeat re-reads restart_state.json first (clear-backoff), then acts on it.
            spdlog::info("received SIGUSR2: reloading restart_state.json");
            m_tick.recovery.request_reload();
            m_heartbeat.trigger();
            break;
        default:
            log_ignored(sig);
            break;
        }
    }

    /// A signal the daemon does not use: logged (at most once a minute per signal, with how many
    /// came meanwhile) and otherwise ignored.
    void log_ignored(int sig) {
        auto now = std::chrono::steady_clock::now();
        auto& seen = m_ignored[sig];
        ++seen.count;
        if (seen.count == 1 || now - seen.logged >= std::chrono::minutes(1)) {
            spdlog::warn("received {} ({} since the last note): ignored", signal_name(sig),
                         seen.count);
            seen.logged = now;
            seen.count = 0;
        }
    }

    /// Stops serving: no new heartbeat, the one in flight abandoned (its tmux children killed),
    /// the loop left once its handlers return.
    void stop() {
        m_stopping = true;
        m_tick.recovery.request_stop();
        m_tick.runner.cancel();
        m_heartbeat.stop();
        m_control.close(!m_lost);
        m_waiters.clear();
        m_wake.cancel();
        m_guard.cancel();
        m_panes.clear();
        m_signals.cancel();
        m_io.stop();
    }

    /// Once a second: does daemon/daemon.lock still name the file we hold the lock on? When
    /// daemon/ was deleted (or the lock file replaced), a second daemon could start on a new
    /// lock and both would supervise the town: stop before that can happen.
    void watch_lock_path() {
        m_guard.expires_after(std::chrono::seconds(1));
        m_guard.async_wait([this](const boost::system::error_code& ec) {
            if (ec || m_stopping) {
                return;
            }
            if (!m_lock.still_at(m_paths.lock_file())) {
                lose_directory();
                return;
            }
            watch_lock_path();
        });
    }

    void lose_directory() {
        if (m_stopping) {
            return;
        }
        spdlog::error("{} no longer names the lock this daemon holds (daemon/ deleted or "
                      "replaced): stopping",
                      m_paths.lock_file());
        m_lost = true;
        stop();
    }

    /// After losing daemon/: touches nothing a new daemon may own (PID file, socket,
    /// state.json), but leaves a log line and an event where the user will look, and exits 1
    /// so that a service manager starts a fresh daemon.
    int report_lost_directory() {
        std::string why = "daemon/ was deleted or replaced under the running daemon (PID " +
                          std::to_string(m_state.pid) + "); it stopped. Run 'gt daemon start'.";
        if (util::make_dirs(m_paths.daemon_dir(), 0700)) {
            if (util::init_file_logging(m_paths.log_file(), m_config.daemon.log.max_size,
                                        m_config.daemon.log.max_files, false)) {
                spdlog::error("{}", why);
            }
            executor::EventLog fresh(m_paths.events_file(), m_config.daemon.log.max_size,
                                     m_config.daemon.log.max_files);
            if (fresh.open()) {
                fresh.record("directory_lost", "", "", why);
            }
        }
        std::cerr << "gt daemon: " << why << "\n";
        release_lock();
        return 1;
    }

    /// Once the lock is released a command may still signal us (it read the holder a moment
    /// ago), and destroying the signal_set restores the fatal defaults: block them first, so
    /// that a late SIGUSR1 or SIGQUIT never turns a clean exit into a death by signal.
    void release_lock() {
        block_daemon_signals();
        m_lock.release();
    }

    void reload_config() {
        auto config = state::load_town_config(m_paths.root());
        apply_config(config);
    }

    void apply_config(const util::Result<state::TownConfig>& config) {
        if (!config) {
            if (config.error() != m_last_config_error) {
                spdlog::error("keeping the last good configuration: {}", config.error());
                m_last_config_error = config.error();
            }
            return;
        }
        m_last_config_error.clear();
        if (config->daemon.heartbeat_interval != m_config.daemon.heartbeat_interval) {
            spdlog::info("heartbeat interval now {}",
                         util::format_duration(config->daemon.heartbeat_interval));
            m_heartbeat.set_interval(config->daemon.heartbeat_interval);
        }
        m_config = *config;
        m_state.interval_ms = m_config.daemon.heartbeat_interval.count();
    }

    /// Runs on the pool: the blocking part of a heartbeat.
    std::function<void()> tick_work() {
        if (!m_lock.still_at(m_paths.lock_file())) {
            // Never act for a town another daemon may already supervise.
            return [this] { lose_directory(); };
        }
        auto started = std::chrono::steady_clock::now();
        auto result = std::make_shared<TickResult>();
        result->config = state::load_town_config(m_paths.root());
        if (result->config) {
            m_tick.config = *result->config;
        }
        auto rigs = state::load_rigs(m_paths.root());
        m_tick.rigs_loaded = m_tick.rigs_loaded || rigs.ok();
        if (rigs) {
            m_tick.rigs.clear();
            for (const auto& r : *rigs) {
                m_tick.rigs.push_back(r.name);
            }
        } else {
            result->rigs_error = rigs.error() + " (keeping the last good rig list)";
        }
        result->summary = m_tick.recovery.run(m_tick.config, m_tick.rigs, m_tick.rigs_loaded);
        result->rigs = m_tick.rigs;
        result->duration =
            std::chrono::duration_cast<util::Millis>(std::chrono::steady_clock::now() - started);
        return [this, result] { tick_done(*result); };
    }

    /// Runs on the loop: applies a heartbeat's results and persists the state.
    void tick_done(const TickResult& r) {
        apply_config(r.config);
        m_rigs = r.rigs;
        if (!r.rigs_error.empty()) {
            ++m_state.counters.bad_files;
            spdlog::warn("{}", r.rigs_error);
        }
        add_counters(m_state.counters, r.summary.counters);
        m_state.heartbeat_count += 1;
        m_state.last_heartbeat = util::format_time(util::now());
        m_state.last_heartbeat_ms = r.duration.count();
        m_state.next_heartbeat_at =
            util::format_time(util::now() + m_config.daemon.heartbeat_interval - r.duration);
        m_last = r.summary;
        persist_state();
        answer_waiters();
        wake_for_backoff(r.summary.wake_at);
        if (!m_stopping) {
            m_panes.set(r.summary.pane_pids);
        }
    }

    /// A restart held back by a short backoff runs when the backoff ends, not at the next
    /// (up to 3 minutes away) heartbeat: a crashed agent is back in seconds.
    void wake_for_backoff(std::optional<util::TimePoint> at) {
        if (!at || m_stopping) {
            return;
        }
        auto delay = *at - util::now() + util::Millis(5);
        if (delay >= m_heartbeat.interval()) {
            return;
        }
        m_wake.expires_after(std::max(delay, util::Millis(0)));
        m_wake.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && !m_stopping) {
                m_heartbeat.trigger();
            }
        });
    }

    /// One control-socket request (§7); runs on the loop.
    void handle(const nlohmann::json& req, ControlServer::Reply reply) {
        using nlohmann::json;
        std::string cmd = req.contains("cmd") && req["cmd"].is_string() ? req["cmd"] : "";
        if (cmd == "status") {
            reply(status_json());
        } else if (cmd == "heartbeat") {
            wait_for_heartbeat(std::move(reply));
        } else if (cmd == "lifecycle") {
            m_heartbeat.trigger();
            reply({{"ok", true}});
        } else if (cmd == "notify" || cmd == "clear-backoff") {
            auto id = req.contains("identity") && req["identity"].is_string()
                          ? state::parse_identity(req["identity"].get<std::string>())
                          : util::Result<state::Identity>(util::err("identity: missing"));
            if (!id) {
                reply({{"ok", false}, {"error", id.error()}});
                return;
            }
            if (cmd == "clear-backoff") {
                m_tick.recovery.post_clear(id->str());
                wait_for_heartbeat(std::move(reply));
                return;
            }
            if (auto why = state::not_of_town(m_paths.root(), m_config, m_rigs, *id);
                !why.empty()) {
                reply({{"ok", false},
                       {"error", id->str() + " is not an agent of this town: " + why}});
                return;
            }
            // Each number is optional (tmux prints nothing for what it does not know), and
            // refused when present but not an integer in its range.
            std::optional<long> numbers[3];
            const std::tuple<const char*, long, long> ranges[3] = {
                {"exit_code", 0, 255}, {"signal", 0, 64}, {"pane_pid", 1, 2147483647L}};
            for (int i = 0; i < 3; ++i) {
                auto [key, min, max] = ranges[i];
                if (!req.contains(key)) {
                    continue;
                }
                const auto& v = req[key];
                if (!v.is_number_integer() || v.get<long long>() < min ||
                    v.get<long long>() > max) {
                    reply({{"ok", false},
                           {"error", std::string(key) + ": expected an integer from " +
                                         std::to_string(min) + " to " + std::to_string(max)}});
                    return;
                }
                numbers[i] = static_cast<long>(v.get<long long>());
            }
            std::optional<int> code;
            if (numbers[0]) {
                code = static_cast<int>(*numbers[0]);
            }
            // Logged before it is merged with what the heartbeat saw: the proof that the
            // pane-died hook (or a person) reached the daemon.
            spdlog::info("{}: notified of its pane's end (exit code {}, signal {}, pane pid {})",
                         id->str(), code ? std::to_string(*code) : "unknown",
                         numbers[1].value_or(0), numbers[2].value_or(0));
            m_tick.recovery.post_exit(id->str(), code, static_cast<int>(numbers[1].value_or(0)),
                                      numbers[2].value_or(0));
            m_heartbeat.trigger();
            reply({{"ok", true}});
        } else {
            reply({{"ok", false}, {"error", "unknown command '" + cmd + "'"}});
        }
    }

    nlohmann::json status_json() const {
        nlohmann::json j = state::daemon_state_json(m_state);
        j["ok"] = true;
        j["next_heartbeat_at"] = util::format_time(m_heartbeat.next_at());
        j["heartbeat_running"] = m_heartbeat.running();
        j["supervised"] = m_last.supervised;
        j["healthy"] = m_last.healthy;
        j["degraded"] = m_last.degraded;
        auto agents = nlohmann::json::parse(m_last.agents_json, nullptr, false);
        j["agents"] = agents.is_discarded() ? nlohmann::json::array() : agents;
        return j;
    }

    /// Replies once a heartbeat that started after this request has finished.
    void wait_for_heartbeat(ControlServer::Reply reply) {
        std::uint64_t target = m_state.heartbeat_count + (m_heartbeat.running() ? 2 : 1);
        m_waiters.push_back({target, std::move(reply)});
        m_heartbeat.trigger();
    }

    void answer_waiters() {
        std::vector<Waiter> still;
        for (auto& w : m_waiters) {
            if (m_state.heartbeat_count >= w.target) {
                w.reply({{"ok", true},
                         {"heartbeat_count", m_state.heartbeat_count},
                         {"duration_ms", m_state.last_heartbeat_ms},
                         {"supervised", m_last.supervised},
                         {"healthy", m_last.healthy},
                         {"degraded", m_last.degraded},
                         {"restarts", m_last.counters.restarts},
                         {"kills", m_last.counters.kills}});
            } else {
                still.push_back(std::move(w));
            }
        }
        m_waiters = std::move(still);
    }

    /// Writes state.json off the loop, in order, and puts back a PID file that is missing or
    /// names another process (a command that cleaned up after a dead daemon while it was
    /// stopped for longer than our wait for daemon/state.lock).
    void persist_state() {
        asio::post(m_writes, [this, paths = m_paths, s = m_state] {
            if (!m_lock.still_at(paths.lock_file())) {
                return; // daemon/ is not ours any more (watch_lock_path stops us)
            }
            if (auto st = state::write_daemon_state(paths.state_file(), s); !st) {
                spdlog::error("{}", st.error());
            }
            if (auto info = read_pid_file(paths.pid_file()); !info || info->pid != s.pid) {
                spdlog::warn("{} was missing or named another process: rewritten",
                             paths.pid_file());
                write_pid_file(paths.pid_file());
            }
        });
    }

    state::TownPaths m_paths;
    state::TownConfig m_config;
    std::vector<std::string> m_rigs; ///< the rig list as the last pass read it (on the loop)
    DaemonLock m_lock;
    asio::io_context m_io{1};
    asio::thread_pool m_pool{2};
    asio::signal_set m_signals;
    asio::strand<asio::thread_pool::executor_type> m_writes;
    executor::EventLog m_events;
    TickContext m_tick;
    Heartbeat m_heartbeat;
    ControlServer m_control;
    asio::steady_timer m_wake{m_io};
    asio::steady_timer m_guard{m_io}; ///< watch_lock_path()
    PaneWatch m_panes{m_io,
                      [this](long pid) {
                          spdlog::info("pane process {} exited: checking at once", pid);
                          m_heartbeat.trigger();
                      },
                      512};
    struct Waiter {
        std::uint64_t target;
        ControlServer::Reply reply;
    };
    std::vector<Waiter> m_waiters;     ///< `heartbeat` and `clear-backoff` requests in wait
    executor::HeartbeatSummary m_last; ///< what the last heartbeat found
    state::DaemonState m_state;
    std::string m_last_config_error;
    struct Ignored {
        std::chrono::steady_clock::time_point logged{};
        std::uint64_t count = 0;
    };
    std::map<int, Ignored> m_ignored; ///< log_ignored()
    bool m_stopping = false;
    bool m_lost = false; ///< daemon/ was deleted under us
};

} // namespace

namespace {

/// A daemon whose daemon/ was deleted or replaced under it still holds a lock on the old file
/// and stops itself within a second (watch_lock_path). Starting beside it would put two daemons on
/// one town: wait for it to go, at most 3 s. Returns its PID when it is still there.
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
        auto some = util::remove_stale_temp_files(dir, now, min_age, depth);
        removed.insert(removed.end(), some.begin(), some.end());
    }
    for (const auto& path : removed) {
        spdlog::info("removed a stale temp file: {}", path);
    }
}

} // namespace

int run_daemon(const DaemonOptions& o) {
    block_daemon_signals(); // already blocked by main(); here too for other callers
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
    Daemon daemon(o, std::move(*config), std::move(*lock));
    return daemon.run(ready);
}

} // namespace gt::daemon
