#include "daemon_state.hpp"

#include "json_fields.hpp"
#include "json_file.hpp"

#include <nlohmann/json.hpp>

namespace gt::state {

using nlohmann::json;

std::span<const Counters::Field> Counters::fields() {
    static constexpr Field k_fields[] = {
        {"restarts", &Counters::restarts},
        {"kills", &Counters::kills},
        {"marked_dead", &Counters::marked_dead},
        {"lifecycle_done", &Counters::lifecycle_done},
        {"lifecycle_rejected", &Counters::lifecycle_rejected},
        {"notifications", &Counters::notifications},
        {"bad_files", &Counters::bad_files},
        {"crash_loops", &Counters::crash_loops},
        {"clock_jumps", &Counters::clock_jumps},
        {"resumes", &Counters::resumes},
    };
    return k_fields;
}

Counters& Counters::operator+=(const Counters& other) {
    for (const auto& f : fields()) {
        this->*f.member += other.*f.member;
    }
    return *this;
}

namespace {

/// The JSON object of `c` (state.json's `counters`).
json counters_json(const Counters& c) {
    json j = json::object();
    for (const auto& f : Counters::fields()) {
        j[f.name] = c.*f.member;
    }
    return j;
}

// state.json only informs: a field of the wrong type keeps its default, the others still count.
constexpr FieldRules k_lenient{.lenient = true};

void read_counters(FieldReader& in, Counters& c) {
    for (const auto& f : Counters::fields()) {
        in.integer(f.name, c.*f.member);
    }
}

} // namespace

Counters counters_from_json(const json& j) {
    Counters c;
    if (j.is_object()) {
        FieldReader in("counters", j, k_lenient);
        read_counters(in, c);
    }
    return c;
}

util::Status write_daemon_state(const std::string& path, const DaemonState& s) {
    return write_json(path, daemon_state_json(s));
}

json daemon_state_json(const DaemonState& s) {
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
              {"last_heartbeat_tmux_calls", s.last_heartbeat_tmux_calls},
              {"last_heartbeat_captures", s.last_heartbeat_captures},
              {"start_budget_left", s.start_budget_left},
              {"start_budget", s.start_budget},
              {"start_budget_window_ms", s.start_budget_window_ms},
              {"tmux_server", {{"socket", s.tmux_server.socket}, {"pid", s.tmux_server.pid}}},
              {"counters", counters_json(s.counters)}};
    for (auto [key, value] : {std::pair{"last_clock_jump", &s.last_clock_jump},
                              {"last_clock_jump_at", &s.last_clock_jump_at},
                              {"clock_grace_until", &s.clock_grace_until},
                              {"storm", &s.storm},
                              {"storm_since", &s.storm_since},
                              {"server_changed", &s.server_changed}}) {
        if (!value->empty()) {
            j[key] = *value;
        }
    }
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
    FieldReader in(path, *j, k_lenient);
    in.boolean("running", s.running);
    in.integer("pid", s.pid);
    in.string("started_at", s.started_at);
    in.string("stopped_at", s.stopped_at);
    in.string("last_heartbeat", s.last_heartbeat);
    in.integer("heartbeat_count", s.heartbeat_count);
    in.string("version", s.version);
    in.string("town", s.town);
    in.string("socket", s.socket);
    in.integer("interval_ms", s.interval_ms);
    in.string("next_heartbeat_at", s.next_heartbeat_at);
    in.integer("last_heartbeat_ms", s.last_heartbeat_ms);
    in.integer("last_heartbeat_tmux_calls", s.last_heartbeat_tmux_calls);
    in.integer("last_heartbeat_captures", s.last_heartbeat_captures);
    in.string("last_clock_jump", s.last_clock_jump);
    in.string("last_clock_jump_at", s.last_clock_jump_at);
    in.string("clock_grace_until", s.clock_grace_until);
    in.string("storm", s.storm);
    in.string("storm_since", s.storm_since);
    in.integer("start_budget_left", s.start_budget_left);
    in.integer("start_budget", s.start_budget);
    in.integer("start_budget_window_ms", s.start_budget_window_ms);
    in.object("tmux_server", [&](FieldReader& t) {
        t.string("socket", s.tmux_server.socket);
        t.integer("pid", s.tmux_server.pid);
    });
    in.string("server_changed", s.server_changed);
    in.object("counters", [&](FieldReader& c) { read_counters(c, s.counters); });
    return s;
}

} // namespace gt::state
