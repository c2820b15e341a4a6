#pragma once
// The daemon process as a class: heavy (Asio). Only run_daemon() and tests include it.

#include "control_server.hpp"
#include "daemon.hpp"
#include "executor/event_log.hpp"
#include "executor/recovery.hpp"
#include "heartbeat.hpp"
#include "lock.hpp"
#include "lock_watch.hpp"
#include "pane_watch.hpp"
#include "service_notify.hpp"
#include "state/daemon_state.hpp"
#include "state/town.hpp"
#include "town_settings.hpp"
#include "util/asio.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gt::proc {
class ProcessRunner;
}

namespace gt::daemon {

/// Wiring (design §14): owns the event loop, the lock, the signals, the heartbeat, the control
/// server, the pane watch and the daemon's state; the work lives in executor::Recovery. Every
/// member function runs on the loop's thread unless it says otherwise.
class Daemon {
public:
    /// `lock` is held; `runner` runs every child (tmux) and outlives the daemon.
    Daemon(const DaemonOptions& options, state::TownConfig config, DaemonLock lock,
           proc::ProcessRunner& runner);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    /// Serves until SIGTERM/SIGINT (or a lost daemon/). `ready` is told "READY <pid>" once the
    /// socket and state.json are in place, or "ERROR <why>". Returns the exit code.
    int run(const std::function<void(const std::string&)>& ready);

    /// One heartbeat pass on the calling thread, its result applied as the loop would apply it.
    /// For tests that drive the daemon one step at a time; the loop must not be running.
    void run_pass();

    const state::DaemonState& daemon_state() const { return m_state; }

private:
    // The loop: signals, stopping, the lock-path guard (daemon_process.cpp).
    void wait_signal();
    void on_signal(int sig);
    void log_ignored(int sig);
    void stop();
    void lose_directory();
    int report_lost_directory();
    void release_lock();
    void reload_settings();
    void apply_interval();

    // The heartbeat (daemon_heartbeat.cpp).
    struct TickResult;
    /// Runs on the pool: the blocking part of a heartbeat.
    std::function<void()> tick_work();
    void tick_done(const TickResult& r);
    /// Puts the last clock jump, the storm and the start budget in state.json (design §17).
    void note_clock_and_storms(const executor::HeartbeatSummary& summary);
    void wake_at(std::optional<util::TimePoint> at);
    void persist_state();
    /// On the write strand: logs a failed write of `path` once per reason (with a
    /// `write_failed` event), and the first write that works again.
    void note_write(const std::string& path, const util::Status& written);

    // The service manager (daemon_service.cpp, design §18).
    void notify(const std::string& message);
    void ping_watchdog();
    std::string status_line() const;
    std::string metrics() const;

    // The control socket's commands (control_commands.cpp, design §7).
    using Command = void (Daemon::*)(const nlohmann::json&, ControlServer::Reply);
    static const std::map<std::string, Command>& commands();
    void handle(const nlohmann::json& request, ControlServer::Reply reply);
    void cmd_status(const nlohmann::json& request, ControlServer::Reply reply);
    void cmd_heartbeat(const nlohmann::json& request, ControlServer::Reply reply);
    void cmd_notify(const nlohmann::json& request, ControlServer::Reply reply);
    void cmd_clear_backoff(const nlohmann::json& request, ControlServer::Reply reply);
    nlohmann::json status_json() const;
    /// Replies once a heartbeat that started after this request has finished.
    void wait_for_heartbeat(ControlServer::Reply reply);
    void answer_waiters();

    state::TownPaths m_paths;
    TownSettings m_settings;
    DaemonLock m_lock;
    proc::ProcessRunner& m_runner;
    asio::io_context m_io{1};
    asio::thread_pool m_pool{2};
    asio::signal_set m_signals;
    asio::strand<asio::thread_pool::executor_type> m_writes; ///< state.json writes, in order
    executor::EventLog m_events;
    executor::Recovery m_recovery; ///< touched only by heartbeat work (never two at a time)
    Heartbeat m_heartbeat;
    ControlServer m_control;
    asio::steady_timer m_wake{m_io};
    LockWatch m_lock_watch; ///< stops the daemon when daemon/daemon.lock is no longer its lock
    PaneWatch m_panes;
    ServiceNotifier m_notify;
    bool m_notify_ready; ///< this process says READY=1 (not `gt daemon start`, which forked it)
    bool m_notify_failed = false; ///< a failed notification was logged
    asio::steady_timer m_watchdog{m_io};
    // What only metrics.prom shows (state.json has the rest).
    double m_heartbeat_seconds = 0;
    std::uint64_t m_tmux_calls = 0;
    struct Waiter {
        std::uint64_t target;
        ControlServer::Reply reply;
    };
    std::vector<Waiter> m_waiters;     ///< `heartbeat` and `clear-backoff` requests in wait
    executor::HeartbeatSummary m_last; ///< what the last heartbeat found
    struct WriteFailure {
        std::string error;       ///< the last reason logged
        std::uint64_t count = 0; ///< writes failed since the last that worked
    };
    std::map<std::string, WriteFailure> m_write_failures; ///< note_write(), by path (strand)
    state::DaemonState m_state;
    struct Ignored {
        std::chrono::steady_clock::time_point logged{};
        std::uint64_t count = 0;
    };
    std::map<int, Ignored> m_ignored; ///< log_ignored()
    bool m_stopping = false;
    bool m_lost = false; ///< daemon/ was deleted under us
};

} // namespace gt::daemon
