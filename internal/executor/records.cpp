// What a pass records beyond tmux: agent state files, notifications, the restart history,
// and the memory of what it already logged.
#include "recovery.hpp"

#include "screen_memory.hpp"
#include "state/agent_state.hpp"
#include "state/town.hpp"
#include "storm_memory.hpp"

#include "util/file.hpp"

#include <spdlog/spdlog.h>

namespace gt::executor {

using state::AgentStatus;
using state::Identity;

void Recovery::write_starting(const Identity& id, util::TimePoint now,
                              std::optional<state::AgentState>& before) {
    auto written = state::update_agent_state(
        m_root, id,
        [&](const std::optional<state::AgentState>& current) {
            before = current;
            state::AgentState s = current.value_or(state::AgentState{});
            s.identity = id.str();
            if (s.status != AgentStatus::starting) {
                s.previous_state = s.raw_state;
            }
            s.status = AgentStatus::starting;
            s.raw_state = "starting";
            s.updated_at = now;
            s.started_by_daemon_at = now;
            return std::optional<state::AgentState>(std::move(s));
        },
        k_lock_wait);
    if (!written) {
        spdlog::warn("{}: could not record the start: {}", id.str(), written.error());
    }
}

void Recovery::restore_report(const Identity& id, util::TimePoint now,
                              const std::optional<state::AgentState>& before) {
    if (!before) {
        return;
    }
    auto written = state::update_agent_state(
        m_root, id,
        [&](const std::optional<state::AgentState>& current) {
            // Only our own "starting" is undone; a report that landed since is kept.
            if (!current || current->status != AgentStatus::starting ||
                current->started_by_daemon_at != now) {
                return std::optional<state::AgentState>();
            }
            return before;
        },
        k_lock_wait);
    if (!written) {
        spdlog::warn("{}: could not restore the agent state: {}", id.str(), written.error());
    }
}

void Recovery::mark_dead(const Action& a, HeartbeatSummary& out) {
    const std::string id = a.id.str();
    bool marked = false;
    auto written = state::update_agent_state(
        m_root, a.id,
        [&](const std::optional<state::AgentState>& current) {
            // A report that landed since the decision wins: nothing is overwritten.
            if (!current || current->updated_at != a.seen_updated_at ||
                (current->status != AgentStatus::running &&
                 current->status != AgentStatus::working)) {
                return std::optional<state::AgentState>();
            }
            state::AgentState s = *current;
            s.previous_state = s.raw_state;
            s.status = AgentStatus::dead;
            s.raw_state = "dead";
            s.marked_dead_at = wall();
            marked = true;
            return std::optional<state::AgentState>(std::move(s));
        },
        k_lock_wait);
    if (!written) {
        spdlog::warn("{}: could not mark dead: {}", id, written.error());
        return;
    }
    if (!marked) {
        spdlog::info("{}: reported since the heartbeat read it; not marked dead", id);
        return;
    }
    ++out.counters.marked_dead;
    spdlog::warn("{}: marked dead: {}", id, a.reason);
    m_events.record("marked_dead", id, a.id.session(), a.reason);
}

void Recovery::notify(const Action& a, HeartbeatSummary& out) {
    auto address = state::parse_identity(a.to);
    if (!address) {
        spdlog::error("cannot notify '{}': {}", a.to, address.error());
        return;
    }
    state::Mail mail;
    mail.to = address->str();
    mail.subject = a.subject;
    mail.kind = a.condition.substr(0, a.condition.find(':'));
    mail.body = a.subject + "\n\nSent by the gt daemon of " + m_root + ".";
    auto sent = state::send_mail(m_root, std::move(mail));
    if (!sent) {
        spdlog::error("{}: notification to {} failed: {}", a.town ? "town" : a.id.str(), a.to,
                      sent.error());
        m_conditions.erase(a.condition); // try again next heartbeat
        return;
    }
    m_conditions.insert(a.condition);
    ++out.counters.notifications;
    spdlog::info("notified {}: {}", a.to, a.subject);
    m_events.record("notified", a.town ? "" : a.id.str(), a.town ? "" : a.id.session(),
                    a.to + ": " + a.subject);
}

void Recovery::report_save(const std::string& key, const std::string& path,
                           const util::Status& saved, const char* what) {
    if (!saved) {
        // Saves happen on most passes: a disk that stays full or a path that stays wrong would
        // otherwise log this every time. Each message names a fresh temporary file, so what is
        // compared is the reason at its end. What was to be saved is still kept in memory.
        const std::string& message = saved.error();
        auto colon = message.rfind(": ");
        std::string reason = colon == std::string::npos ? message : message.substr(colon + 2);
        auto& last = m_logged[key];
        if (last != reason) {
            spdlog::error("cannot save {}: {} ({} is kept in memory only)", path, message, what);
            last = reason;
        }
    } else if (m_logged.erase(key) > 0) {
        spdlog::info("{} saved again", path);
    }
}

void Recovery::save_screens() {
    if (!m_screens.changed()) {
        return;
    }
    const std::string path = state::TownPaths(m_root).screens_file();
    auto saved = util::write_file_atomic(path, screens_json(m_screens.states()));
    report_save("screens_save", path, saved, "what is known of the agents' screens");
    if (saved) {
        m_screens.mark_saved();
    }
}

void Recovery::save_storms() {
    if (m_storms_saved && *m_storms_saved == m_storms) {
        return;
    }
    const std::string path = state::TownPaths(m_root).storms_file();
    auto saved = util::write_file_atomic(path, storms_json(m_storms));
    report_save("storms_save", path, saved, "the storm and the start budget");
    if (saved) {
        m_storms_saved = m_storms;
    }
}

void Recovery::save_restart_state() {
    const std::string path = m_restart_file.path();
    std::vector<std::string> cleared;
    auto saved = m_restart_file.update(
        [&](const state::RestartRecords& on_disk) {
            cleared = m_tracker.merge_clears(on_disk);
            return m_tracker.records();
        },
        util::Millis(500));
    report_save("restart_state_save", path, saved, "the restart history");
    for (const auto& id : cleared) {
        spdlog::info("{}: backoff cleared", id);
        m_events.record("backoff_cleared", id, "", "gt daemon clear-backoff");
    }
}

void Recovery::reload_restart_state() {
    auto records = m_restart_file.load();
    if (!records) {
        ++m_unread_files;
        warn_once("restart_state", records.error() + " (starting with an empty restart history)");
        return;
    }
    if (m_tracker.records().empty()) {
        m_tracker.replace(std::move(*records));
        for (const auto& id : m_tracker.clamp_future(wall())) {
            spdlog::warn("{}: restart history lay in the future (the clock was set back?): "
                         "taken as of now",
                         id);
        }
        return;
    }
    for (const auto& id : m_tracker.merge_clears(*records)) {
        spdlog::info("{}: backoff cleared", id);
        m_events.record("backoff_cleared", id, "", "gt daemon clear-backoff");
    }
}

void Recovery::warn_once(const std::string& key, const std::string& message) {
    auto& last = m_logged[key];
    if (last != message) {
        spdlog::warn("{}", message);
        last = message;
    }
}

bool Recovery::changed(const std::string& key, const std::string& value) {
    auto& last = m_logged[key];
    if (last == value) {
        return false;
    }
    last = value;
    return true;
}

} // namespace gt::executor
