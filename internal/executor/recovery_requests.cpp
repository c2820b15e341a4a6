// The parts of the recovery pass that serve requests from outside it: the lifecycle inbox
// (§6), pane-died notifications and clear-backoff from the control socket (§5.6, §7), and the
// agent table that `status` shows and the pane processes the daemon watches after a pass.
#include "policy/requests.hpp"
#include "recovery.hpp"
#include "state/agent_state.hpp"
#include "state/lifecycle_request.hpp"
#include "state/town.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace gt::executor {

using state::AgentStatus;
using state::Identity;
using state::lifecycle_action_name;
using state::LifecycleAction;
using state::LifecycleInbox;
using state::LifecycleRequest;

void Recovery::process_lifecycle(const state::TownConfig& config,
                                 const std::vector<std::string>& rigs, HeartbeatSummary& out) {
    LifecycleInbox inbox(state::TownPaths(m_root).requests_dir());
    auto known = [&](const Identity& id) {
        return state::not_of_town(m_root, config, rigs, id).empty();
    };
    auto batch = inbox.claim(util::now(), config.daemon.lifecycle_max_age, known);
    for (const auto& [name, reason] : batch.rejected) {
        ++out.counters.lifecycle_rejected;
        spdlog::warn("lifecycle request {} rejected: {}", name, reason);
        m_events.record("rejected", "", "", name + ": " + reason);
    }
    for (const auto& r : batch.expired) {
        spdlog::warn("lifecycle request {} ({} {}) expired unexecuted", r.id,
                     lifecycle_action_name(r.action), r.from.str());
        m_events.record("expired", r.from.str(), r.from.session(),
                        std::string(lifecycle_action_name(r.action)) + " request " + r.id);
    }
    auto [run, collapsed] = policy::plan_batch(std::move(batch.valid));
    std::map<std::string, const LifecycleRequest*> deciding;
    for (const auto& r : run) {
        deciding[r.from.str()] = &r;
    }
    for (const auto& r : collapsed) {
        const LifecycleRequest& later = *deciding.at(r.from.str());
        m_events.record("collapsed", r.from.str(), r.from.session(),
                        std::string(lifecycle_action_name(r.action)) + " request " + r.id +
                            ": superseded by the later " + lifecycle_action_name(later.action) +
                            " request " + later.id);
        m_request_attempts.erase(r.file);
        inbox.finish(r);
    }
    if (run.empty()) {
        return;
    }
    tmux::TmuxClient tmux = client();
    if (auto v = tmux.run({"-V"}); !v.ok()) {
        // Degraded: the requests stay claimed and run once tmux is back (never lost).
        warn_once("lifecycle_tmux", "tmux is unusable (" + v.message + "): " +
                                        std::to_string(run.size()) + " lifecycle requests wait");
        return;
    }
    m_logged.erase("lifecycle_tmux");
    for (const auto& r : run) {
        if (m_stop_requested) {
            return; // left claimed: the next daemon carries it out
        }
        if (execute_request(r, config, out)) {
            m_request_attempts.erase(r.file);
            inbox.finish(r);
            continue;
        }
        if (m_stop_requested) {
            return; // cut short by our shutdown, not failed: left claimed for the next daemon
        }
        // A transient failure (tmux timed out, a lock was held): stays claimed, tried again
        // soon; given up after three attempts, with an event.
        if (++m_request_attempts[r.file] < 3) {
            auto soon = util::now() + util::Millis(1000);
            out.wake_at = out.wake_at ? std::min(*out.wake_at, soon) : soon;
            continue;
        }
        m_request_attempts.erase(r.file);
        m_events.record("lifecycle_failed", r.from.str(), r.from.session(),
                        std::string(lifecycle_action_name(r.action)) + " request " + r.id +
                            ": failed three times");
        inbox.finish(r);
    }
}

bool Recovery::execute_request(const LifecycleRequest& r, const state::TownConfig& config,
                               HeartbeatSummary& out) {
    const std::string id = r.from.str();
    const std::string what =
        std::string(lifecycle_action_name(r.action)) + " requested (request " + r.id + ")";
    tmux::TmuxClient tmux = client();
    if (r.action == LifecycleAction::shutdown) {
        auto written = state::update_agent_state(
            m_root, r.from,
            [&](const std::optional<state::AgentState>& current) {
                state::AgentState s = current.value_or(state::AgentState{});
                if (s.status != AgentStatus::stopped) {
                    s.previous_state = s.raw_state;
                }
                s.status = AgentStatus::stopped;
                s.raw_state = "stopped";
                s.updated_at = util::now();
                s.note = "shut down on request " + r.id;
                return std::optional<state::AgentState>(std::move(s));
            },
            k_lock_wait);
        if (!written) {
            // Without `stopped` on disk the heartbeat would bring it straight back.
            spdlog::error("{}: cannot record the shutdown: {}", id, written.error());
            return false;
        }
        auto killed = tmux.kill_session(r.from.session());
        if (!killed.ok()) {
            spdlog::error("{}: kill-session failed: {}", id, killed.message);
            return false;
        }
        ++out.counters.kills;
        m_events.record("killed", id, r.from.session(), what);
    } else {
        Action a{ActionKind::restart, r.from, what};
        a.requested = true;
        if (!start(a, config, out)) {
            return false;
        }
    }
    ++out.counters.lifecycle_done;
    spdlog::info("{}: lifecycle {} done", id, what);
    m_events.record("lifecycle", id, r.from.session(), what);
    return true;
}

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

void Recovery::collect_pane_pids(const TickInput& in, HeartbeatSummary& out) {
    if (!in.snapshot || m_stop_requested) {
        out.agents_json = agents_json(in, in.snapshot ? &*in.snapshot : nullptr);
        return;
    }
    const tmux::Snapshot* snap = &*in.snapshot;
    std::optional<tmux::Snapshot> fresh;
    if (out.counters.restarts > 0 || out.counters.kills > 0) {
        // Sessions changed during this pass: one more look for the new pane processes.
        if (auto again = client().snapshot(); again && again->tmux_available) {
            fresh = std::move(*again);
            mark_liveness(*fresh, in.config->process_names);
            snap = &*fresh;
        }
    }
    out.agents_json = agents_json(in, snap); // as things stand after this pass
    for (const auto& id : supervised(in)) {
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

bool Recovery::first_exit_report(long pane_pid) {
    if (pane_pid <= 0) {
        return true;
    }
    if (std::find(m_exits_recorded.begin(), m_exits_recorded.end(), pane_pid) !=
        m_exits_recorded.end()) {
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

void Recovery::apply_posted() {
    Posted posted;
    {
        std::lock_guard lock(m_posted_mutex);
        std::swap(posted, m_posted);
    }
    for (const auto& [id, code, signal, pane_pid] : posted.exits) {
        if (!first_exit_report(pane_pid)) {
            continue; // the heartbeat already saw this pane end
        }
        std::string how = signal > 0 ? "signal " + std::to_string(signal)
                          : code     ? "exit " + std::to_string(*code)
                                     : "unknown";
        m_tracker.record_exit(id, code.value_or(-1), signal);
        spdlog::info("{}: pane died ({}), reported by its pane-died hook", id, how);
        m_events.record("exited", id, "", how + " (pane-died hook)");
    }
    for (const auto& id : posted.clears) {
        m_tracker.clear(id, util::now());
        spdlog::info("{}: backoff cleared", id);
        m_events.record("backoff_cleared", id, "", "gt daemon clear-backoff");
    }
    if (!posted.exits.empty() || !posted.clears.empty()) {
        save_restart_state();
    }
}

std::string Recovery::agents_json(const TickInput& in, const tmux::Snapshot* snap) const {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [key, f] : in.agents) {
        nlohmann::json row = {{"identity", key}, {"session", f.id.session()}};
        bool exists = snap && snap->has(f.id.session());
        row["session_exists"] = exists;
        row["alive"] = exists && snap->sessions.at(f.id.session()).agent_alive;
        row["state"] = f.report ? nlohmann::json(f.report->raw_state) : nlohmann::json(nullptr);
        row["hook"] = f.report ? f.report->hook : "";
        const state::RestartRecord* r = m_tracker.find(key);
        row["restarts"] = r ? r->restart_count : 0;
        row["gate"] = gate_name(m_tracker.shown_gate(key, in.now, row["alive"].get<bool>()));
        if (r && r->last_exit_status) {
            row["last_exit_status"] = *r->last_exit_status;
        }
        rows.push_back(std::move(row));
    }
    return rows.dump();
}

} // namespace gt::executor
