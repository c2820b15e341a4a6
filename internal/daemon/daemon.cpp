#include "daemon.hpp"

#include "control_client.hpp"
#include "control_server.hpp"
#include "event_log.hpp"
#include "heartbeat.hpp"
#include "lock.hpp"
#include "pane_watch.hpp"
#include "pid_file.hpp"
#include "proc/process.hpp"
#include "recovery.hpp"
#include "state/config.hpp"
#include "state/daemon_state.hpp"
#include "state/town.hpp"
#include "util/asio.hpp"
#include "util/file.hpp"
#include "util/log.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
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
    std::string rigs_error;
    HeartbeatSummary summary;
    util::Millis duration{0};
};

/// The heartbeat's side of the daemon: touched only by heartbeat work, which never overlaps
/// itself, so it needs no lock.
struct TickContext {
    state::TownConfig config; ///< the last good configuration
    std::vector<std::string> rigs;
    bool rigs_loaded = false; ///< rigs.json read successfully at least once
    proc::RealProcessRunner runner;
    Recovery recovery;

    TickContext(const std::string& town, state::TownConfig c, EventLog& events,
                std::string tmux_socket)
        : config(std::move(c)), recovery(town, runner, events, std::move(tmux_socket)) {}
};

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

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
          m_tick(o.town, m_config, m_events, env_or_empty("GT_TMUX_SOCKET")),
          m_heartbeat(m_io, m_pool, m_config.daemon.heartbeat_interval,
                      [this] { return tick_work(); }),
          m_control(m_io, control_socket_path(o.town),
                    [this](const nlohmann::json& request, ControlServer::Reply reply) {
                        handle(request, std::move(reply));
                    }) {
        m_signals.add(SIGUSR1);
        m_signals.add(SIGUSR2);
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

        // Stopping: the pool finishes the step it is in (bounded by its timeouts); queued work
        // is dropped.
        m_pool.stop();
        m_pool.join();
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
        m_lock.release();
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
            m_stopping = true;
            m_tick.recovery.request_stop();
            m_heartbeat.stop();
            m_control.close();
            m_waiters.clear();
            m_wake.cancel();
            m_panes.clear();
            m_signals.cancel();
            m_io.stop();
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
        }
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
        result->duration =
            std::chrono::duration_cast<util::Millis>(std::chrono::steady_clock::now() - started);
        return [this, result] { tick_done(*result); };
    }

    /// Runs on the loop: applies a heartbeat's results and persists the state.
    void tick_done(const TickResult& r) {
        apply_config(r.config);
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
            std::optional<int> code;
            int signal = 0;
            if (req.contains("exit_code") && req["exit_code"].is_number_integer()) {
                code = req["exit_code"].get<int>();
            }
            if (req.contains("signal") && req["signal"].is_number_integer()) {
                signal = req["signal"].get<int>();
            }
            long pane_pid = req.contains("pane_pid") && req["pane_pid"].is_number_integer()
                                ? req["pane_pid"].get<long>()
                                : 0;
            m_tick.recovery.post_exit(id->str(), code, signal, pane_pid);
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

    /// Writes state.json off the loop, in order.
    void persist_state() {
        asio::post(m_writes, [path = m_paths.state_file(), s = m_state] {
            if (auto st = state::write_daemon_state(path, s); !st) {
                spdlog::error("{}", st.error());
            }
        });
    }

    state::TownPaths m_paths;
    state::TownConfig m_config;
    DaemonLock m_lock;
    asio::io_context m_io{1};
    asio::thread_pool m_pool{2};
    asio::signal_set m_signals;
    asio::strand<asio::thread_pool::executor_type> m_writes;
    EventLog m_events;
    TickContext m_tick;
    Heartbeat m_heartbeat;
    ControlServer m_control;
    asio::steady_timer m_wake{m_io};
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
    std::vector<Waiter> m_waiters; ///< `heartbeat` and `clear-backoff` requests in wait
    HeartbeatSummary m_last;       ///< what the last heartbeat found
    state::DaemonState m_state;
    std::string m_last_config_error;
    bool m_stopping = false;
};

} // namespace

int run_daemon(const DaemonOptions& o) {
    for (const char* const* v = k_identity_vars; *v; ++v) {
        ::unsetenv(*v);
    }
    // Started from inside tmux, $TMUX would point our tmux calls at that server.
    ::unsetenv("TMUX");
    ::unsetenv("TMUX_PANE");
    ::signal(SIGPIPE, SIG_IGN);
    ReadyPipe ready(o.ready_fd);
    state::TownPaths paths(o.town);

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
    if (!lock) {
        if (lock.error_code() == EWOULDBLOCK) {
            pid_t holder = lock_holder(paths.lock_file()).value_or(0);
            if (holder == 0) {
                if (auto info = read_pid_file(paths.pid_file())) {
                    holder = info->pid;
                }
            }
            std::cerr << "daemon already running (PID " << holder << ")\n";
            ready.send("RUNNING " + std::to_string(holder));
            return 0;
        }
        std::cerr << "gt daemon: " << lock.error() << "\n";
        ready.send("ERROR " + lock.error());
        return 1;
    }
    if (auto st = write_pid_file(paths.pid_file()); !st) {
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
    Daemon daemon(o, std::move(*config), std::move(*lock));
    return daemon.run(ready);
}

} // namespace gt::daemon
