// deacon/heartbeat.json (declared in agent_state.hpp).
#include "agent_state.hpp"

#include "json_fields.hpp"
#include "json_file.hpp"
#include "town.hpp"
#include "util/file.hpp"
#include "util/file_lock.hpp"

#include <climits>
#include <nlohmann/json.hpp>

namespace gt::state {

using nlohmann::json;

namespace {

/// Counts the agents by their reported state: see beat_deacon.
void count_agents(const std::string& town_root, DeaconHeartbeat& beat) {
    std::vector<std::string> not_files; // unreadable: unhealthy
    for (const auto& f : list_agent_files(town_root, nullptr, &not_files)) {
        auto s = read_agent_state(f.path);
        AgentStatus status = s ? s->status : AgentStatus::unknown;
        switch (status) {
        case AgentStatus::starting:
        case AgentStatus::idle:
        case AgentStatus::running:
        case AgentStatus::working:
            ++beat.healthy_agents;
            break;
        case AgentStatus::stopped:
            break;
        default:
            ++beat.unhealthy_agents;
        }
    }
    beat.unhealthy_agents += static_cast<long>(not_files.size());
}

} // namespace

util::Result<DeaconHeartbeat> read_deacon_heartbeat(const std::string& town_root) {
    std::string path = TownPaths(town_root).deacon_heartbeat();
    auto doc = read_json(path, util::k_max_file_size, false);
    if (!doc) {
        return util::Error{doc.error(), doc.error_code()};
    }
    if (!doc->is_object()) {
        return util::err(path + ": expected a JSON object, got " + doc->type_name());
    }
    DeaconHeartbeat b;
    FieldReader in(path, *doc);
    in.time("timestamp", b.timestamp);
    in.integer("cycle", b.cycle, 0, LONG_MAX - 1);
    in.string("last_action", b.last_action);
    in.integer("healthy_agents", b.healthy_agents, 0, LONG_MAX);
    in.integer("unhealthy_agents", b.unhealthy_agents, 0, LONG_MAX);
    if (in.failed()) {
        return util::err(in.error());
    }
    return b;
}

util::Result<DeaconHeartbeat> beat_deacon(const std::string& town_root, const std::string& action) {
    TownPaths p(town_root);
    if (auto st = util::make_dirs(p.deacon_dir(), 0755); !st) {
        return util::Error{st.error()};
    }
    auto lock = util::FileLock::acquire(p.deacon_heartbeat_lock());
    if (!lock) {
        return util::Error{lock.error(), lock.error_code()};
    }
    DeaconHeartbeat beat;
    if (auto prev = read_deacon_heartbeat(town_root); prev) {
        beat.cycle = prev->cycle;
    } else if (prev.error_code() == util::k_not_regular) {
        return util::Error{prev.error(), prev.error_code()}; // not a bad beat: no file at all
    }
    beat.cycle += 1;
    beat.timestamp = util::now();
    beat.last_action = action;
    count_agents(town_root, beat);
    json j = {{"timestamp", util::format_time(beat.timestamp)},
              {"cycle", beat.cycle},
              {"last_action", beat.last_action},
              {"healthy_agents", beat.healthy_agents},
              {"unhealthy_agents", beat.unhealthy_agents}};
    if (auto st = write_json(p.deacon_heartbeat(), j); !st) {
        return util::Error{st.error(), st.error_code()};
    }
    return beat;
}

} // namespace gt::state
