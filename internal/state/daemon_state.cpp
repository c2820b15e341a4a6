#include "daemon_state.hpp"

#include "json_file.hpp"

#include <nlohmann/json.hpp>

namespace gt::state {

using nlohmann::json;

namespace {

template <typename T>
void take(const json& j, const char* key, T& out) {
    auto it = j.find(key);
    if (it == j.end()) {
        return;
    }
    if constexpr (std::is_same_v<T, bool>) {
        if (it->is_boolean()) {
            out = it->get<bool>();
        }
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (it->is_string()) {
            out = it->get<std::string>();
        }
    } else {
        if (it->is_number_integer()) {
            out = it->get<T>();
        }
    }
}

} // namespace

util::Status write_daemon_state(const std::string& path, const DaemonState& s) {
    return write_json(path, daemon_state_json(s));
}

json daemon_state_json(const DaemonState& s) {
    const Counters& c = s.counters;
    json j = {{"running", s.running},
              {"pid", s.pid},
              {"started_at", s.started_at},
              {"last_heartbeat", s.last_heartbeat},
              {"heartbeat_count", s.heartbeat_count},
              {"version", s.version},
              {"town", s.town},
              {"socket", s.socket},
              {"interval_ms", s.interval_ms},
              {"next_heartbeat_at", s.next_heartbeat_at},
              {"last_heartbeat_ms", s.last_heartbeat_ms},
              {"counters",
               {{"restarts", c.restarts},
                {"kills", c.kills},
                {"marked_dead", c.marked_dead},
                {"lifecycle_done", c.lifecycle_done},
                {"lifecycle_rejected", c.lifecycle_rejected},
                {"notifications", c.notifications},
                {"bad_files", c.bad_files}}}};
    if (!s.stopped_at.empty()) {
        j["stopped_at"] = s.stopped_at;
    }
    return j;
}

util::Result<DaemonState> read_daemon_state(const std::string& path) {
    auto j = read_json(path);
    if (!j) {
        return util::Error{j.error(), j.error_code()};
    }
    if (!j->is_object()) {
        return util::err(path + ": expected a JSON object");
    }
    DaemonState s;
    take(*j, "running", s.running);
    take(*j, "pid", s.pid);
    take(*j, "started_at", s.started_at);
    take(*j, "stopped_at", s.stopped_at);
    take(*j, "last_heartbeat", s.last_heartbeat);
    take(*j, "heartbeat_count", s.heartbeat_count);
    take(*j, "version", s.version);
    take(*j, "town", s.town);
    take(*j, "socket", s.socket);
    take(*j, "interval_ms", s.interval_ms);
    take(*j, "next_heartbeat_at", s.next_heartbeat_at);
    take(*j, "last_heartbeat_ms", s.last_heartbeat_ms);
    if (auto it = j->find("counters"); it != j->end() && it->is_object()) {
        take(*it, "restarts", s.counters.restarts);
        take(*it, "kills", s.counters.kills);
        take(*it, "marked_dead", s.counters.marked_dead);
        take(*it, "lifecycle_done", s.counters.lifecycle_done);
        take(*it, "lifecycle_rejected", s.counters.lifecycle_rejected);
        take(*it, "notifications", s.counters.notifications);
        take(*it, "bad_files", s.counters.bad_files);
    }
    return s;
}

} // namespace gt::state
