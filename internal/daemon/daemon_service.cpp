// The daemon's side of the service manager (design §18): notifications, the watchdog, the
// status line and metrics.prom.
#include "daemon_process.hpp"
#include "metrics.hpp"

#include <spdlog/spdlog.h>

namespace gt::daemon {

void Daemon::notify(const std::string& message) {
    if (auto st = m_notify.send(message); !st && !m_notify_failed) {
        // Logged once: the service manager may simply be gone (a test, a stopped manager).
        spdlog::warn("{} (further failures not logged)", st.error());
        m_notify_failed = true;
    }
}

// From the loop itself, so a loop that is stuck stops the pings and the service manager
// restarts the daemon (the heartbeat's work runs on the pool and cannot hold them up).
void Daemon::ping_watchdog() {
    auto every = m_notify.watchdog_interval();
    if (!every || m_stopping) {
        return;
    }
    notify("WATCHDOG=1");
    m_watchdog.expires_after(*every);
    m_watchdog.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            ping_watchdog();
        }
    });
}

// "8 agents: 6 working, 1 idle, 1 waiting_input; heartbeat 12 took 15ms"
std::string Daemon::status_line() const {
    std::string line = std::to_string(m_last.supervised) + " agents";
    if (m_last.degraded) {
        line += " (tmux unavailable)";
    }
    const char* sep = ": ";
    for (const auto& [condition, n] : m_last.conditions) {
        line += sep + std::to_string(n) + " " + condition;
        sep = ", ";
    }
    if (!m_state.storm.empty()) {
        line += "; storm: " + m_state.storm;
    }
    if (!m_state.server_changed.empty()) {
        line += "; the agents run on another tmux server: nothing started";
    }
    return line + "; heartbeat " + std::to_string(m_state.heartbeat_count) + " took " +
           util::format_duration(util::Millis(m_state.last_heartbeat_ms));
}

std::string Daemon::metrics() const {
    MetricsInput in;
    in.state = &m_state;
    in.heartbeat_seconds_sum = m_heartbeat_seconds;
    in.tmux_calls = m_tmux_calls;
    in.supervised = m_last.supervised;
    in.healthy = m_last.healthy;
    in.degraded = m_last.degraded;
    in.conditions = m_last.conditions;
    return metrics_text(in);
}

} // namespace gt::daemon
