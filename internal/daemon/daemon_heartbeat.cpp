// The daemon's side of a heartbeat (design §15a): the blocking pass on the pool, its result
// applied on the loop.
#include "daemon_process.hpp"

#include "pid_file.hpp"
#include "state/daemon_state.hpp"
#include "util/file.hpp"

#include <future>
#include <spdlog/spdlog.h>

namespace gt::daemon {

/// The result of one heartbeat's blocking part, applied on the loop.
struct Daemon::TickResult {
    TownSettings::Problems problems;
    executor::HeartbeatSummary summary;
    util::Millis duration{0};
    bool lost = false; ///< daemon/ is not ours any more: nothing was done
};

std::function<void()> Daemon::tick_work() {
    auto result = std::make_shared<TickResult>();
    if (!m_lock.still_at(m_paths.lock_file())) {
        // Never act for a town another daemon may already supervise.
        result->lost = true;
        return [this, result] { tick_done(*result); };
    }
    auto started = std::chrono::steady_clock::now();
    result->problems = m_settings.reload();
    auto config = m_settings.config();
    result->summary = m_recovery.run(*config, m_settings.rigs(), m_settings.rigs_loaded());
    result->duration =
        std::chrono::duration_cast<util::Millis>(std::chrono::steady_clock::now() - started);
    return [this, result] { tick_done(*result); };
}

void Daemon::tick_done(const TickResult& r) {
    if (r.lost) {
        lose_directory();
        return;
    }
    if (r.problems.config) {
        spdlog::error("keeping the last good configuration: {}", *r.problems.config);
    }
    m_state.counters.bad_files += r.problems.config_bad ? 1 : 0;
    if (r.problems.rigs) {
        ++m_state.counters.bad_files;
        spdlog::warn("{}", *r.problems.rigs);
    }
    apply_interval();
    m_state.counters += r.summary.counters;
    m_state.heartbeat_count += 1;
    m_state.last_heartbeat = util::format_time(util::now());
    m_heartbeat_seconds += std::chrono::duration<double>(r.duration).count();
    m_tmux_calls += static_cast<std::uint64_t>(std::max(r.summary.tmux_calls, 0L));
    m_state.last_heartbeat_ms = r.duration.count();
    m_state.last_heartbeat_tmux_calls = r.summary.tmux_calls;
    m_state.last_heartbeat_captures = static_cast<std::int64_t>(r.summary.screens_captured);
    note_clock_and_storms(r.summary);
    m_state.next_heartbeat_at =
        util::format_time(util::now() + m_heartbeat.interval() - r.duration);
    m_last = r.summary;
    persist_state();
    notify("STATUS=" + status_line());
    answer_waiters();
    wake_at(r.summary.wake_at);
    if (!m_stopping) {
        m_panes.set(r.summary.pane_pids);
    }
}

void Daemon::note_clock_and_storms(const executor::HeartbeatSummary& summary) {
    if (const auto& c = summary.clock) {
        std::string what;
        if (c->shift.jumped.count() != 0) {
            what = std::string("wall clock set ") + (c->shift.jumped.count() > 0 ? "+" : "-") +
                   util::format_duration(util::Millis(std::abs(c->shift.jumped.count())));
        }
        if (c->shift.slept.count() != 0) {
            what += (what.empty() ? "" : ", ") + ("slept " + util::format_duration(c->shift.slept));
        }
        m_state.last_clock_jump = what;
        m_state.last_clock_jump_at = util::format_time(c->at);
        m_state.clock_grace_until = util::format_time(c->grace_until);
    }
    m_state.storm.clear();
    m_state.storm_since.clear();
    if (const auto& storm = summary.storm) {
        m_state.storm = std::to_string(storm->agents.size()) + " agents dead" +
                        (storm->cause.empty() ? "" : ": " + storm->cause);
        m_state.storm_since = util::format_time(storm->since);
    }
    m_state.tmux_server = summary.server;
    m_state.server_changed = summary.server_changed;
    auto config = m_settings.config();
    m_state.start_budget_left = summary.budget_left;
    m_state.start_budget = config->daemon.start_budget;
    m_state.start_budget_window_ms = config->daemon.start_budget_window.count();
}

void Daemon::run_pass() {
    tick_work()();
    // The strand runs in order: once this runs, the state.json write posted above is done.
    std::promise<void> written;
    asio::post(m_writes, [&written] { written.set_value(); });
    written.get_future().wait();
}

void Daemon::wake_at(std::optional<util::TimePoint> at) {
    // A restart held back by a short backoff runs when the backoff ends, not at the next (up
    // to 3 minutes away) heartbeat: a crashed agent is back in seconds.
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

void Daemon::persist_state() {
    // Off the loop, in order; also puts back a PID file that is missing or names another process
    // (a command that cleaned up after a dead daemon while it was stopped for longer than our
    // wait for daemon/state.lock).
    asio::post(m_writes, [this, paths = m_paths, s = m_state, metrics = metrics()] {
        if (!m_lock.still_at(paths.lock_file())) {
            return; // daemon/ is not ours any more (LockWatch or the heartbeat stops us)
        }
        note_write(paths.state_file(), state::write_daemon_state(paths.state_file(), s));
        note_write(paths.metrics_file(), util::write_file_atomic(paths.metrics_file(), metrics));
        if (auto info = read_pid_file(paths.pid_file()); !info || info->pid != s.pid) {
            auto written = write_pid_file(paths.pid_file());
            if (written) {
                spdlog::warn("{}: rewritten",
                             info ? paths.pid_file() + " named another process" : info.error());
            }
            note_write(paths.pid_file(), written);
        }
    });
}

void Daemon::note_write(const std::string& path, const util::Status& written) {
    // A full disk or a read-only daemon/ fails every heartbeat: said once per reason. The
    // atomic write left the previous file as it was.
    auto it = m_write_failures.find(path);
    if (written) {
        if (it != m_write_failures.end()) {
            spdlog::info("{} written again after {} failed writes (the last: {})", path,
                         it->second.count, it->second.error);
            m_write_failures.erase(it);
        }
        return;
    }
    WriteFailure& failure = m_write_failures[path];
    ++failure.count;
    if (failure.error != written.error()) {
        failure.error = written.error();
        spdlog::error("{} (the previous file is kept; written again when it can be)",
                      written.error());
        m_events.record("write_failed", "", "", written.error());
    }
}

} // namespace gt::daemon
