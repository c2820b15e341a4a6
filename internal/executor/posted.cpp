// The parts of a pass that serve the daemon rather than the policy's actions: pane-died
// notifications and clear-backoff posted from the control socket (design §5.6, design §7), the hook
// command the sessions carry, and the pane processes the daemon watches after a pass.
#include "agent_table.hpp"
#include "policy/exit_report.hpp"
#include "policy/ownership.hpp"
#include "proc/process.hpp"
#include "recovery.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace gt::executor {

std::string Recovery::pane_died_hook(const std::string& id) const {
    return tmux::run_shell_hook({{m_gt_binary},
                                 {"--town"},
                                 {m_root},
                                 {"daemon"},
                                 {"notify"},
                                 {"--agent"},
                                 {id},
                                 {"--exit-code"},
                                 {"#{pane_dead_status}", true},
                                 {"--signal"},
                                 {"#{pane_dead_signal}", true},
                                 {"--pane-pid"},
                                 {"#{pane_pid}", true}});
}

namespace {

/// Puts the agent table into `out`, counted by condition.
void put_table(std::vector<AgentRow> rows, HeartbeatSummary& out) {
    for (const auto& row : rows) {
        if (row.supervised) {
            ++out.conditions[screen::condition_name(row.condition)];
        }
    }
    out.agents = std::move(rows);
}

} // namespace

void Recovery::collect_pane_pids(const TickInput& in,
                                 const std::vector<state::Identity>& supervised,
                                 HeartbeatSummary& out) {
    auto rows = [&](const tmux::Snapshot* snap) {
        auto table = agent_rows(in, supervised, snap, m_tracker);
        for (auto& row : table) {
            if (auto held = m_typing_held.find(row.id.str()); held != m_typing_held.end()) {
                row.typing_held = held->second;
            }
        }
        return table;
    };
    if (!in.snapshot || m_stop_requested) {
        put_table(rows(in.snapshot ? &*in.snapshot : nullptr), out);
        return;
    }
    const tmux::Snapshot* snap = &*in.snapshot;
    std::optional<tmux::Snapshot> fresh;
    if (out.counters.restarts > 0 || out.counters.kills > 0) {
        // Sessions changed during this pass: one more look for the new pane processes.
        if (auto again = client().snapshot(); again && again->tmux_available) {
            fresh = std::move(*again);
            mark_liveness(*fresh, in.config->process_names, &m_exits);
            // Only the town's own (design §19.1): what was adopted is marked by now.
            policy::sort_owners(*fresh, m_mark,
                                [](const std::string&, const tmux::Pane&) { return false; });
            snap = &*fresh;
        }
    }
    put_table(rows(snap), out); // as things stand after the pass
    if (!in.server_moved) {
        note_server(*snap); // the fresh look, when the pass started sessions: it has their server
    }
    for (const auto& id : supervised) {
        auto it = snap->sessions.find(id.session());
        if (it != snap->sessions.end() && it->second.agent_alive) {
            out.pane_pids.push_back(it->second.pid);
        }
    }
}

void Recovery::post_exit(const std::string& id, std::optional<int> exit_code, int signal,
                         long pane_pid) {
    std::lock_guard lock(m_posted_mutex);
    m_posted.exits.emplace_back(id, exit_code, signal, pane_pid);
}

bool Recovery::exit_recorded(long pane_pid) const {
    return pane_pid > 0 && std::find(m_exits_recorded.begin(), m_exits_recorded.end(), pane_pid) !=
                               m_exits_recorded.end();
}

bool Recovery::first_exit_report(long pane_pid) {
    if (pane_pid <= 0) {
        return true;
    }
    if (exit_recorded(pane_pid)) {
        return false;
    }
    m_exits_recorded.push_back(pane_pid);
    if (m_exits_recorded.size() > 4096) {
        m_exits_recorded.pop_front();
    }
    return true;
}

void Recovery::post_clear(const std::string& id) {
    std::lock_guard lock(m_posted_mutex);
    m_posted.clears.push_back(id);
}

namespace {

/// How many reports of panes' ends wait for a snapshot while tmux is unusable.
constexpr std::size_t k_waiting_exits = 1024;

} // namespace

void Recovery::apply_posted(const std::optional<tmux::Snapshot>& snap) {
    Posted posted;
    {
        std::lock_guard lock(m_posted_mutex);
        std::swap(posted, m_posted);
        if (!snap) {
            // Nothing to weigh them against while tmux is unusable: they wait for a snapshot,
            // the latest k_waiting_exits of them (tmux fires no hooks while it is down).
            std::swap(m_posted.exits, posted.exits);
            if (m_posted.exits.size() > k_waiting_exits) {
                m_posted.exits.erase(m_posted.exits.begin(),
                                     m_posted.exits.end() - k_waiting_exits);
            }
        }
    }
    std::size_t recorded = 0;
    for (const auto& [id, code, signal, pane_pid] : posted.exits) {
        auto identity = state::parse_identity(id);
        if (!identity || exit_recorded(pane_pid)) {
            continue; // the heartbeat already saw this pane end (or a name the socket refuses)
        }
        auto check = policy::check_exit_report(
            *snap, identity->session(), pane_pid,
            pane_pid > 0 && !proc::process_alive(static_cast<pid_t>(pane_pid)));
        if (!check.record) {
            // A late report of a pane already replaced, or someone's mistake: said, not acted on.
            spdlog::info("{}: a report of its pane's end is not recorded: {}", id, check.why_not);
            continue;
        }
        if (!first_exit_report(pane_pid)) {
            continue; // the heartbeat already saw this pane end
        }
        std::string how = signal > 0 ? "signal " + std::to_string(signal)
                          : code     ? "exit " + std::to_string(*code)
                                     : "unknown";
        m_tracker.record_exit(id, code.value_or(-1), signal);
        spdlog::info("{}: pane died ({}), reported by its pane-died hook", id, how);
        m_events.record("exited", id, "", how + " (pane-died hook)");
        ++recorded;
    }
    for (const auto& id : posted.clears) {
        m_tracker.clear(id, wall());
        spdlog::info("{}: backoff cleared", id);
        m_events.record("backoff_cleared", id, "", "gt daemon clear-backoff");
    }
    if (recorded > 0 || !posted.clears.empty()) {
        save_restart_state();
    }
}

} // namespace gt::executor
