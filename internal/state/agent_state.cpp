#include "agent_state.hpp"

#include "json_fields.hpp"
#include "json_file.hpp"
#include "town.hpp"
#include "util/file.hpp"
#include "util/file_lock.hpp"

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace gt::state {

using nlohmann::json;

namespace {

constexpr AgentStatus k_all_statuses[] = {
    AgentStatus::starting, AgentStatus::idle,    AgentStatus::running, AgentStatus::working,
    AgentStatus::stuck,    AgentStatus::stopped, AgentStatus::dead};

json to_json(const AgentState& s) {
    std::string state = s.status != AgentStatus::unknown ? status_name(s.status)
                        : s.raw_state.empty()            ? "unknown"
                                                         : s.raw_state;
    json j = {{"identity", s.identity},
              {"state", state},
              {"hook", s.hook},
              {"updated_at", util::format_time(s.updated_at)},
              {"note", s.note}};
    if (!s.previous_state.empty()) {
        j["previous_state"] = s.previous_state;
    }
    if (s.marked_dead_at) {
        j["marked_dead_at"] = util::format_time(*s.marked_dead_at);
    }
    if (s.started_by_daemon_at) {
        j["started_by_daemon_at"] = util::format_time(*s.started_by_daemon_at);
    }
    return j;
}

util::Result<AgentState> from_json(const json& j, const std::string& where) {
    if (!j.is_object()) {
        return util::err(where + ": expected a JSON object, got " + j.type_name());
    }
    AgentState s;
    FieldReader in(where, j);
    in.string("identity", s.identity);
    in.string("state", s.raw_state, true);
    in.string("hook", s.hook);
    in.time("updated_at", s.updated_at);
    in.string("note", s.note);
    in.string("previous_state", s.previous_state);
    in.time("marked_dead_at", s.marked_dead_at);
    in.time("started_by_daemon_at", s.started_by_daemon_at);
    if (in.failed()) {
        return util::err(in.error());
    }
    s.status = parse_status(s.raw_state);
    return s;
}

} // namespace

const char* status_name(AgentStatus s) {
    switch (s) {
    case AgentStatus::starting:
        return "starting";
    case AgentStatus::idle:
        return "idle";
    case AgentStatus::running:
        return "running";
    case AgentStatus::working:
        return "working";
    case AgentStatus::stuck:
        return "stuck";
    case AgentStatus::stopped:
        return "stopped";
    case AgentStatus::dead:
        return "dead";
    case AgentStatus::unknown:
        break;
    }
    return "unknown";
}

AgentStatus parse_status(std::string_view text) {
    for (AgentStatus s : k_all_statuses) {
        if (text == status_name(s)) {
            return s;
        }
    }
    return AgentStatus::unknown;
}

std::string agent_lock_file(const std::string& state_file) {
    return state_file + ".lock";
}

bool agent_may_report(AgentStatus s) {
    return s == AgentStatus::idle || s == AgentStatus::running || s == AgentStatus::working ||
           s == AgentStatus::stuck || s == AgentStatus::stopped;
}

util::Result<AgentState> read_agent_state(const std::string& path) {
    auto doc = read_json(path, util::k_max_file_size, false);
    if (!doc) {
        return util::Error{doc.error(), doc.error_code()};
    }
    return from_json(*doc, path);
}

std::string agent_state_json(const AgentState& s) {
    return to_json(s).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

util::Result<std::optional<AgentState>> update_agent_state(
    const std::string& town_root, const Identity& id,
    const std::function<std::optional<AgentState>(const std::optional<AgentState>& current)>&
        update,
    util::Millis lock_timeout) {
    if (auto st = util::make_dirs_below(town_root, util::dir_name(id.state_file()), 0700); !st) {
        return util::Error{st.error()};
    }
    std::string path = TownPaths(town_root).agent_file(id);
    // One lock per agent: with one for the whole town, 50 agents reporting at once queued
    // behind each other until some gave up.
    auto lock = util::FileLock::acquire(agent_lock_file(path), 0600, lock_timeout);
    if (!lock) {
        return util::Error{lock.error(), lock.error_code()};
    }
    std::optional<AgentState> current;
    if (auto read = read_agent_state(path); read) {
        current = std::move(*read);
    } else if (read.error_code() == util::k_not_regular) {
        // A corrupt report is replaced below; a FIFO, device, directory or symlink is not
        // something an agent wrote, so it is named and left for a human (design §4).
        return util::Error{read.error(), read.error_code()};
    } else if (read.error_code() != ENOENT) {
        spdlog::warn("{} (replacing it)", read.error());
    }
    std::optional<AgentState> next = update(current);
    if (!next) {
        return std::optional<AgentState>{};
    }
    next->identity = id.str();
    if (auto st = util::write_file_atomic(path, agent_state_json(*next), 0600); !st) {
        return util::Error{st.error(), st.error_code()};
    }
    return next;
}

util::Result<AgentState> report_agent_state(const std::string& town_root, const Identity& id,
                                            AgentStatus status,
                                            const std::optional<std::string>& hook,
                                            const std::optional<std::string>& note) {
    auto written = update_agent_state(town_root, id, [&](const std::optional<AgentState>& current) {
        AgentState next = current.value_or(AgentState{});
        next.status = status;
        next.raw_state = status_name(status);
        next.updated_at = util::now();
        if (hook) {
            next.hook = *hook;
        }
        next.note = note.value_or("");
        return std::optional<AgentState>(std::move(next));
    });
    if (!written) {
        return util::Error{written.error(), written.error_code()};
    }
    return std::move(**written);
}

} // namespace gt::state
