#include "recovery.hpp"

#include "proc/exit_watch.hpp"
#include "proc/process.hpp"
#include "proc/process_table.hpp"
#include "screen_memory.hpp"
#include "screens.hpp"
#include "state/agent_state.hpp"
#include "state/town.hpp"
#include "storm_memory.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <future>
#include <optional>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <utility>

namespace gt::executor {

using state::AgentStatus;
using state::Identity;
using state::Role;

void mark_liveness(tmux::Snapshot& snap, const std::vector<std::string>& process_names,
                   proc::ExitWatch* exits) {
    std::vector<pid_t> live;
    for (const auto& [name, pane] : snap.sessions) {
        if (!pane.dead) {
            live.push_back(static_cast<pid_t>(pane.pid));
        }
    }
    std::vector<bool> ended;
    if (exits) {
        ended = exits->ended(live);
    } else {
        for (pid_t pid : live) {
            ended.push_back(proc::process_gone(pid));
        }
    }
    std::optional<proc::ProcessTable> table;
    std::size_t next = 0;
    for (auto& [name, pane] : snap.sessions) {
        pane.process_gone = !pane.dead && ended[next++];
        if (pane.dead || pane.process_gone) {
            // tmux can be slow to notice a death: a vanished pane process is dead too.
            pane.agent_alive = false;
        } else if (!proc::is_shell(pane.command)) {
            pane.agent_alive = true;
        } else {
            if (!table) {
                table = proc::ProcessTable::read(); // only when a shell must be looked into
            }
            pane.agent_alive = table->tree_has(static_cast<pid_t>(pane.pid), process_names);
        }
    }
}

std::vector<std::pair<std::string, std::string>> session_env(const std::string& root,
                                                             const Identity& id) {
    std::vector<std::pair<std::string, std::string>> env{{"GT_ROLE", state::role_name(id.role)}};
    if (!id.rig.empty()) {
        env.emplace_back("GT_RIG", id.rig);
    }
    if (id.role == Role::polecat) {
        env.emplace_back("GT_POLECAT", id.name);
    } else if (id.role == Role::crew) {
        env.emplace_back("GT_CREW", id.name);
    }
    env.emplace_back("BD_ACTOR", id.str());
    env.emplace_back("GIT_AUTHOR_NAME", id.str());
    env.emplace_back("GT_TOWN_ROOT", root);
    return env;
}

Recovery::Recovery(std::string town_root, proc::ProcessRunner& runner, EventLog& events,
                   std::string env_socket, Clock clock, std::string gt_binary)
    : m_root(std::move(town_root)), m_mark(tmux::town_mark(m_root)), m_runner(runner),
      m_events(events), m_env_socket(std::move(env_socket)),
      m_clock(clock ? std::move(clock) : Clock(util::read_clocks)),
      m_gt_binary(gt_binary.empty() ? util::self_exe() : std::move(gt_binary)),
      m_tracker(state::RestartConfig{}), m_zones(cached_zones()),
      m_local_zone(util::TimeZone::local()), m_restart_file(state::TownPaths(m_root)) {
    reload_restart_state();
    std::vector<std::string> skipped;
    auto restored = restore_screens(state::TownPaths(m_root).screens_file(), m_screens, &skipped);
    if (!restored) {
        ++m_unread_files;
        spdlog::warn("{}; what was known of the agents' screens is read afresh", restored.error());
    }
    for (const auto& what : skipped) {
        spdlog::warn("{} (skipped)", what);
    }
    // The storm and the budget window of the daemon before this one (design §17.3).
    if (auto storms = load_storms(state::TownPaths(m_root).storms_file())) {
        m_storms = std::move(*storms);
        m_storms_saved = m_storms;
    } else {
        ++m_unread_files;
        spdlog::warn("{}; the storm in progress and the start budget are counted afresh",
                     storms.error());
    }
}

HeartbeatSummary Recovery::run(const state::TownConfig& config,
                               const std::vector<std::string>& rigs, bool rigs_loaded) {
    m_tracker.set_config(config.daemon.restart);
    m_tmux_timeout = config.daemon.tmux_timeout;
    if (auto socket = state::choose_tmux_socket(config, m_env_socket);
        socket != m_tmux_socket || m_tmux_socket_path.empty()) {
        m_tmux_socket_path = tmux::socket_path(socket); // a realpath: only when it changes
        m_tmux_socket = std::move(socket);
    }
    if (m_reload_requested.exchange(false)) {
        reload_restart_state(); // not every pass: saving merges clears from the file anyway
    }
    HeartbeatSummary out;
    out.counters.bad_files += std::exchange(m_unread_files, 0);
    const long runs_before = m_runner.runs();
    const util::ClockReading clocks = m_clock();
    auto shift = m_clock_watch.observe(clocks);
    follow_clock(shift, clocks.wall, config);
    out.counters.clock_jumps += shift.jumped.count() != 0 ? 1 : 0;
    out.counters.resumes += shift.slept.count() != 0 ? 1 : 0;
    TickInput in = gather(config, rigs, rigs_loaded, clocks.wall, out);
    apply_posted(in.snapshot);
    in.degraded_passes = m_degraded_passes;
    Decision decision = policy::decide(in);

    out.degraded = !in.snapshot;
    const std::vector<state::Identity> supervised = policy::supervised(in);
    for (const auto& id : supervised) {
        ++out.supervised;
        if (in.snapshot && in.snapshot->has(id.session()) &&
            in.snapshot->sessions.at(id.session()).agent_alive) {
            ++out.healthy;
        }
    }
    m_conditions = decision.conditions;
    m_storms = std::move(decision.storms);
    m_start_failed = decision.start_failed;
    out.wake_at = decision.wake_at;
    type_keys(decision.actions, in, config);
    for (const auto& a : decision.actions) {
        if (m_stop_requested) {
            spdlog::info("stopping: {} remaining actions of this heartbeat abandoned",
                         decision.actions.size() -
                             static_cast<std::size_t>(&a - &decision.actions[0]));
            break;
        }
        carry_out(a, config, out);
    }
    collect_pane_pids(in, supervised, out);
    save_storms();
    out.server = m_server;
    if (in.server_moved) {
        out.server_changed = policy::server_moved_text(*in.server_moved);
    }
    save_screens();
    if (m_was_degraded && !out.degraded) {
        spdlog::info("tmux is usable again: supervision resumes");
    }
    m_was_degraded = out.degraded;
    m_degraded_passes = out.degraded ? m_degraded_passes + 1 : 0;
    out.tmux_calls = m_runner.runs() - runs_before;
    out.clock = m_last_shift;
    out.storm = m_storms.storm;
    out.budget_left =
        m_storms.budget_left(wall(), config.daemon.start_budget, config.daemon.start_budget_window);
    return out;
}

void Recovery::follow_clock(const policy::TimeShift& shift, util::TimePoint now,
                            const state::TownConfig& config) {
    if (!shift.any()) {
        return;
    }
    if (shift.jumped.count() != 0) {
        // What the daemon timed itself keeps its length: a backoff is no longer for being set
        // back an hour, a grace no shorter for being set forward.
        m_tracker.shift(shift.jumped);
        m_screens.shift(shift.jumped);
        m_storms.shift(shift.jumped);
        m_ages.shift(shift.jumped);
        for (auto& [id, t] : m_started) {
            t += shift.jumped;
        }
        for (auto& [pid, t] : m_gone_since) {
            t += shift.jumped;
        }
        std::string by = (shift.jumped.count() > 0 ? "+" : "-") +
                         util::format_duration(util::Millis(std::abs(shift.jumped.count())));
        spdlog::warn("the wall clock was set {} against the monotonic clock: every agent gets "
                     "its start grace again",
                     by);
        m_events.record("clock_jump", "", "", "wall clock set " + by);
    }
    if (shift.slept.count() != 0) {
        std::string slept = util::format_duration(shift.slept);
        spdlog::warn("the machine slept for {}: every agent gets its start grace again", slept);
        m_events.record("resumed", "", "", "the machine slept for " + slept);
    }
    m_clock_grace_until = now + config.daemon.start_grace;
    m_last_shift = ClockNote{now, shift, *m_clock_grace_until};
    save_restart_state();
}

TickInput Recovery::gather(const state::TownConfig& config, const std::vector<std::string>& rigs,
                           bool rigs_loaded, util::TimePoint now, HeartbeatSummary& out) {
    TickInput in;
    in.now = now;
    in.clock_grace_until = m_clock_grace_until;
    in.config = &config;
    in.rigs = rigs;
    in.tracker = &m_tracker;
    in.active_conditions = m_conditions;
    in.start_failed = m_start_failed;
    in.started = m_started;
    in.typed_at = m_typed_at;
    in.storms = &m_storms;
    // The files are read on a thread of their own while tmux answers on this one: the heartbeat
    // costs the longer of the two, not their sum (design §5.3). tmux, the longer, starts first.
    // Until the join neither side touches what the other does (the file side: `in`, `out` and
    // its counters, the report and listing caches, the stamp ages, the warn-once memory and
    // the event log, which has a lock of its own; this side: the runner and m_exits).
    auto read_files = [this, &in, &out, &config, &rigs, rigs_loaded] {
        if (rigs_loaded) {
            claim_requests(in, config, rigs, out);
        } else {
            warn_once("lifecycle_rigs", "rigs.json has not been read yet: lifecycle requests wait");
        }
        read_agents(in, out);
    };
    std::future<void> files;
    try {
        files = std::async(std::launch::async, read_files);
    } catch (const std::system_error& e) {
        warn_once("file_thread",
                  std::string("no thread to read the files beside tmux: ") + e.what());
        files = std::async(std::launch::deferred, read_files); // one after the other
    }
    auto snap = look_at_tmux(config);
    files.get();
    take_snapshot(in, std::move(snap));
    if (!in.snapshot && !in.requests.empty()) {
        // Degraded: the requests stay claimed and run once tmux is back (never lost).
        warn_once("lifecycle_tmux", "tmux is unusable (" + in.degraded_reason +
                                        "): " + std::to_string(in.requests.size()) +
                                        " lifecycle requests wait");
    } else if (in.snapshot) {
        m_logged.erase("lifecycle_tmux");
    }
    if (auto hb = state::read_deacon_heartbeat(m_root)) {
        in.deacon_heartbeat_age = m_ages.age("heartbeat:deacon", hb->timestamp, in.now);
    } else if (hb.error_code() != ENOENT) {
        ++out.counters.bad_files;
        warn_once("deacon_heartbeat", hb.error());
    }
    m_ages.sweep();
    note_output(in);
    in.gone_since = m_gone_since;
    read_screens(in, config, out);
    return in;
}

void Recovery::read_screens(TickInput& in, const state::TownConfig& config, HeartbeatSummary& out) {
    screen::ReadContext ctx{in.now, m_local_zone, m_zones};
    ScreenLook look = look_at_screens(in, config, client(), m_screens, ctx);
    out.screens_captured = look.captured;
    if (!look.error.empty()) {
        warn_once("capture", "reading agents' screens failed: " + look.error);
    } else if (look.captured > 0) {
        m_logged.erase("capture");
    }
    bool reasons = false;
    for (const auto& [key, change] : look.changes) {
        const policy::ScreenState& s = *in.agents.at(key).screen;
        const state::Identity& id = in.agents.at(key).id;
        if (change.resumed) {
            spdlog::info("{}: resumed after its usage limit", key);
            m_events.record("resumed", key, id.session(), "left its usage limit");
        }
        if (!change.condition_changed) {
            continue;
        }
        std::string detail = screen::condition_name(s.condition);
        if (s.condition == screen::Condition::exited && s.cause != screen::Condition::unknown) {
            detail += std::string(" (") + screen::condition_name(s.cause) + ")";
        }
        if (!s.evidence.empty()) {
            detail += ": " + s.evidence;
        }
        if (s.resets_at) {
            detail += "; resets " + util::format_time(*s.resets_at);
        }
        spdlog::info("{}: {}", key, detail);
        m_events.record("condition", key, id.session(), detail);
        if (s.condition == screen::Condition::exited && !s.evidence.empty()) {
            m_tracker.record_exit_reason(key, s.evidence);
            reasons = true;
        }
    }
    if (reasons) {
        save_restart_state();
    }
}

void Recovery::claim_requests(TickInput& in, const state::TownConfig& config,
                              const std::vector<std::string>& rigs, HeartbeatSummary& out) {
    state::LifecycleInbox inbox(state::TownPaths(m_root).requests_dir());
    auto known = [&](const Identity& id) {
        return state::not_of_town(m_root, config, rigs, id).empty();
    };
    auto batch = inbox.claim(in.now, config.daemon.lifecycle_max_age, known);
    for (const auto& [name, reason] : batch.rejected) {
        ++out.counters.lifecycle_rejected;
        spdlog::warn("lifecycle request {} rejected: {}", name, reason);
        m_events.record("rejected", "", "", name + ": " + reason);
    }
    for (const auto& r : batch.expired) {
        spdlog::warn("lifecycle request {} ({} {}) expired unexecuted", r.id,
                     state::lifecycle_action_name(r.action), r.from.str());
        m_events.record("expired", r.from.str(), r.from.session(),
                        std::string(state::lifecycle_action_name(r.action)) + " request " + r.id);
    }
    in.requests = std::move(batch.valid);
}

void Recovery::read_agents(TickInput& in, HeartbeatSummary& out) {
    std::vector<std::string> skipped;
    std::vector<std::string> not_files;
    // Files and directories whose stamps have not changed are not read again (design §5.3).
    const auto real_now =
        std::chrono::time_point_cast<util::Millis>(std::chrono::system_clock::now());
    for (auto& file : state::list_agent_files(m_root, &skipped, &not_files, &m_listings)) {
        policy::AgentFacts f;
        f.id = file.id;
        auto report = m_reports.get(file.path, false, real_now, state::read_agent_state);
        if (report) {
            f.report = std::move(*report);
            f.report_age = m_ages.age("report:" + f.id.str(), f.report->updated_at, in.now);
            if (f.report->status == AgentStatus::unknown) {
                warn_once(file.path, file.path + ": unknown state '" + f.report->raw_state +
                                         "': falling back to what tmux shows");
            } else {
                m_logged.erase(file.path);
            }
            if (f.report->started_by_daemon_at) {
                // Recorded by this daemon or an earlier one, in the wall clock of then.
                auto ago =
                    m_ages.age("start:" + f.id.str(), *f.report->started_by_daemon_at, in.now);
                auto& started = in.started[f.id.str()];
                started = std::max(started, in.now - ago);
            }
        } else {
            ++out.counters.bad_files;
            f.report_error = report.error();
            warn_once(file.path, "untrusted agent state: " + report.error());
        }
        in.agents[f.id.str()] = std::move(f);
    }
    m_reports.sweep();
    for (const auto& s : skipped) {
        warn_once("skip:" + s, "skipping " + s + ": not an agent identity");
    }
    for (const auto& s : not_files) {
        // No trustworthy report, as for a corrupt file: tmux decides (design §4).
        ++out.counters.bad_files;
        warn_once("skip:" + s, "untrusted agent state: " + s);
    }
    for (const auto& id : supervised(in)) {
        in.agents.try_emplace(id.str(), policy::AgentFacts{id, std::nullopt, true});
    }
    for (auto& [key, f] : in.agents) {
        // Healthy agents too: a restart asked for, or a report of death, starts one.
        f.workdir_exists = util::is_dir(state::workdir_for(m_root, f.id));
    }
}

namespace {

void learn_exit_from_zombie(tmux::Pane& pane) {
    // tmux has not reaped the pane's process: the kernel still knows how it ended.
    auto status = proc::zombie_wait_status(static_cast<pid_t>(pane.pid));
    if (!status) {
        return;
    }
    pane.dead = true;
    pane.process_gone = false;
    if (WIFSIGNALED(*status)) {
        pane.dead_signal = WTERMSIG(*status);
        pane.dead_status = -1;
    } else {
        pane.dead_status = WEXITSTATUS(*status);
        pane.dead_signal = 0;
    }
}

} // namespace

void Recovery::note_output(TickInput& in) {
    if (!in.snapshot) {
        return;
    }
    auto find = [](const auto& map, const std::string& key) {
        auto it = map.find(key);
        return it == map.end() ? std::nullopt : std::optional<util::TimePoint>(it->second);
    };
    std::map<std::string, util::TimePoint> output;
    for (const auto& [key, f] : in.agents) {
        auto pane = in.snapshot->sessions.find(f.id.session());
        if (pane != in.snapshot->sessions.end()) {
            output[key] = policy::last_output(pane->second.activity, find(m_typed_at, key),
                                              find(m_last_output, key));
        }
    }
    std::erase_if(m_typed_at, [&](const auto& kv) { return !output.count(kv.first); });
    m_last_output = output;
    in.last_output = std::move(output);
}

util::Result<tmux::Snapshot> Recovery::look_at_tmux(const state::TownConfig& config) {
    auto snap = client().snapshot();
    if (snap && snap->tmux_available) {
        mark_liveness(*snap, config.process_names, &m_exits);
    }
    return snap;
}

void Recovery::take_snapshot(TickInput& in, util::Result<tmux::Snapshot> snap) {
    if (!snap) {
        in.degraded_reason = snap.error();
        return;
    }
    if (!snap->tmux_available) {
        in.degraded_reason = "tmux is not installed (not found on PATH)";
        return;
    }
    m_server_up = snap->server_running;
    sort_owners(*snap, in);
    in.server_moved = server_moved(m_tmux_socket_path);
    // A pane process that ended while tmux has not reaped it yet (the pane still shows alive, or
    // dead without a status): the policy gives tmux a moment to report how it ended.
    std::map<long, util::TimePoint> gone;
    auto now = in.now;
    for (auto& [name, pane] : snap->sessions) {
        if ((pane.process_gone || (pane.dead && pane.dead_status < 0 && pane.dead_signal == 0))) {
            learn_exit_from_zombie(pane);
        }
        // tmux may also close a dead pane before it has reaped the process (status unknown).
        bool status_unknown = pane.dead && pane.dead_status < 0 && pane.dead_signal == 0;
        if (pane.process_gone || status_unknown) {
            auto it = m_gone_since.find(pane.pid);
            gone[pane.pid] = it == m_gone_since.end() ? now : it->second;
        }
    }
    m_gone_since = std::move(gone);
    in.snapshot = std::move(*snap);
}

} // namespace gt::executor
