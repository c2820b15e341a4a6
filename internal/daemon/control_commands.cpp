// The control socket's commands (design §7): one table, one member function each. They run on
// the loop; the work they ask for is posted to the next heartbeat pass.
#include "daemon_process.hpp"

#include "control_request.hpp"
#include "state/names.hpp"

#include <spdlog/spdlog.h>

namespace gt::daemon {

using nlohmann::json;

const std::map<std::string, Daemon::Command>& Daemon::commands() {
    static const std::map<std::string, Command> table = {
        {"status", &Daemon::cmd_status},
        {"heartbeat", &Daemon::cmd_heartbeat},
        {"notify", &Daemon::cmd_notify},
        {"clear-backoff", &Daemon::cmd_clear_backoff},
    };
    return table;
}

void Daemon::handle(const json& req, ControlServer::Reply reply) {
    std::string cmd = control_command(req);
    auto it = commands().find(cmd);
    if (it == commands().end()) {
        reply({{"ok", false}, {"error", "unknown command '" + cmd + "'"}});
        return;
    }
    (this->*(it->second))(req, std::move(reply));
}

namespace {

/// The request's identity; when it has none or a bad one, replies with the error.
std::optional<state::Identity> identity_of(const json& req, const ControlServer::Reply& reply) {
    auto id = control_identity(req);
    if (!id) {
        reply({{"ok", false}, {"error", id.error()}});
        return std::nullopt;
    }
    return *id;
}

} // namespace

void Daemon::cmd_status(const json&, ControlServer::Reply reply) {
    reply(status_json());
}

void Daemon::cmd_heartbeat(const json&, ControlServer::Reply reply) {
    wait_for_heartbeat(std::move(reply));
}

void Daemon::cmd_clear_backoff(const json& req, ControlServer::Reply reply) {
    auto id = identity_of(req, reply);
    if (!id) {
        return;
    }
    m_recovery.post_clear(id->str());
    wait_for_heartbeat(std::move(reply));
}

void Daemon::cmd_notify(const json& req, ControlServer::Reply reply) {
    auto id = identity_of(req, reply);
    if (!id) {
        return;
    }
    if (auto why = state::not_of_town(m_paths.root(), *m_settings.config(), m_settings.rigs(), *id);
        !why.empty()) {
        reply({{"ok", false}, {"error", id->str() + " is not an agent of this town: " + why}});
        return;
    }
    auto read = notify_numbers(req);
    if (!read) {
        reply({{"ok", false}, {"error", read.error()}});
        return;
    }
    const NotifyNumbers& numbers = *read;
    std::optional<int> code;
    if (numbers[0]) {
        code = static_cast<int>(*numbers[0]);
    }
    // Logged before it is merged with what the heartbeat saw: the proof that the pane-died hook
    // (or a person) reached the daemon.
    spdlog::info("{}: notified of its pane's end (exit code {}, signal {}, pane pid {})", id->str(),
                 code ? std::to_string(*code) : "unknown", numbers[1].value_or(0),
                 numbers[2].value_or(0));
    m_recovery.post_exit(id->str(), code, static_cast<int>(numbers[1].value_or(0)),
                         numbers[2].value_or(0));
    m_heartbeat.trigger();
    reply({{"ok", true}});
}

json Daemon::status_json() const {
    json j = state::daemon_state_json(m_state);
    j["ok"] = true;
    j["next_heartbeat_at"] = util::format_time(m_heartbeat.next_at());
    j["heartbeat_running"] = m_heartbeat.running();
    j["supervised"] = m_last.supervised;
    j["healthy"] = m_last.healthy;
    j["degraded"] = m_last.degraded;
    j["agents"] = executor::agent_table_json(m_last.agents);
    return j;
}

void Daemon::wait_for_heartbeat(ControlServer::Reply reply) {
    std::uint64_t target = m_state.heartbeat_count + (m_heartbeat.running() ? 2 : 1);
    m_waiters.push_back({target, std::move(reply)});
    m_heartbeat.trigger();
}

void Daemon::answer_waiters() {
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

} // namespace gt::daemon
