// Which sessions are this town's (design §19.1): the snapshot the policy sees holds only the
// sessions that carry the town's mark; the others are listed apart and never acted on. And on
// which server they live (design §19.2).
#include "recovery.hpp"

#include "policy/ownership.hpp"

#include <spdlog/spdlog.h>

namespace gt::executor {

void Recovery::sort_owners(tmux::Snapshot& snap, TickInput& in) {
    const std::string& mark = m_mark;
    std::map<std::string, EnvCheck> checked;
    auto owners =
        policy::sort_owners(snap, mark, [&](const std::string& name, const tmux::Pane& p) {
            return older_gt_session(name, p.pid, checked);
        });
    m_env_checked = std::move(checked);
    for (const auto& name : owners.adopt) {
        if (auto r = client().set_mark(name, mark); r.ok()) {
            spdlog::info("{}: unmarked, started for this town by an earlier gt: marked and adopted",
                         name);
            m_events.record("session_adopted", "", name,
                            "unmarked, started for this town by an earlier gt: marked");
            snap.sessions.at(name).owner = mark;
        } else {
            warn_once("adopt:" + name,
                      name + ": marking it as this town's failed (" + r.message + "): left alone");
            owners.foreign[name] = "";
            snap.sessions.erase(name);
        }
    }
    in.foreign = std::move(owners.foreign);
}

bool Recovery::older_gt_session(const std::string& name, long pane_pid,
                                std::map<std::string, EnvCheck>& checked) {
    // Asked once per pane process: a foreign session left unmarked costs no tmux call a pass.
    if (auto it = m_env_checked.find(name);
        it != m_env_checked.end() && it->second.pid == pane_pid) {
        checked[name] = it->second;
        return it->second.ours;
    }
    auto env = client().environment(name, "GT_TOWN_ROOT");
    if (!env) {
        warn_once("env:" + name, env.error());
        return false; // asked again next pass
    }
    bool ours = env->has_value() && **env == m_root;
    checked[name] = EnvCheck{pane_pid, ours};
    return ours;
}

std::optional<policy::ServerMove> Recovery::server_moved(const std::string& configured) {
    if (m_server.socket.empty() || m_server.socket == configured) {
        return std::nullopt;
    }
    auto there = tmux::TmuxClient::at_path(m_runner, m_server.socket, m_tmux_timeout).snapshot();
    if (!there) {
        // Hung or broken: it may hold them still, and nothing may be started twice.
        warn_once("server_probe", "cannot tell what the tmux server " + m_server.socket +
                                      " holds: " + there.error());
        return policy::ServerMove{m_server.socket, m_server.pid, 0, configured};
    }
    m_logged.erase("server_probe");
    std::size_t ours = 0;
    for (const auto& [name, pane] : there->sessions) {
        ours += pane.owner == m_mark ? 1 : 0;
    }
    if (ours == 0) {
        return std::nullopt; // gone, or it holds none of the town's: the town may move
    }
    return policy::ServerMove{m_server.socket, there->server_pid, ours, configured};
}

void Recovery::note_server(const tmux::Snapshot& snap) {
    if (snap.sessions.empty()) {
        return;
    }
    state::TmuxServer now{m_tmux_socket_path, snap.server_pid};
    if (now != m_server) {
        spdlog::info("the town's agents live on the tmux server {} (PID {})", now.socket, now.pid);
        m_server = std::move(now);
    }
}

} // namespace gt::executor
