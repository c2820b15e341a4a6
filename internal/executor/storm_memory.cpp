#include "storm_memory.hpp"

#include "state/json_fields.hpp"
#include "state/json_file.hpp"
#include "state/names.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <nlohmann/json.hpp>

namespace gt::executor {

using nlohmann::json;

namespace {

/// What one file may hold: far more than any town's agents (a bad file must not cost memory).
constexpr std::size_t k_max_entries = 100'000;

} // namespace

std::string storms_json(const policy::StormState& s) {
    json dead = json::object();
    for (const auto& [id, d] : s.dead) {
        dead[id] = {{"at", util::format_time(d.at)},
                    {"server_gone", d.server_gone},
                    {"exit", d.exit},
                    {"screen", d.screen}};
    }
    json starts = json::array();
    for (auto t : s.starts) {
        starts.push_back(util::format_time(t));
    }
    json out = {{"dead", std::move(dead)}, {"starts", std::move(starts)}};
    if (s.storm) {
        out["storm"] = {{"since", util::format_time(s.storm->since)},
                        {"agents", s.storm->agents},
                        {"cause", s.storm->cause}};
    }
    return out.dump(2) + "\n";
}

util::Result<policy::StormState> parse_storms(const std::string& text, const std::string& where) {
    auto j = state::parse_json(text, where);
    if (!j) {
        return util::err(j.error());
    }
    if (!j->is_object()) {
        return util::err(where + ": expected a JSON object");
    }
    policy::StormState s;
    state::FieldReader in(where, *j);
    in.times("starts", s.starts);
    in.object("dead", [&](state::FieldReader& dead) {
        for (const auto& [key, value] : dead.items()) {
            auto id = state::parse_identity(key);
            if (!id || id->str() != key || !value.is_object() || s.dead.size() >= k_max_entries) {
                continue;
            }
            policy::Death d;
            state::FieldReader one(dead, key, value);
            one.time("at", d.at);
            one.boolean("server_gone", d.server_gone);
            one.string("exit", d.exit);
            one.string("screen", d.screen);
            s.dead[key] = std::move(d);
        }
    });
    in.object("storm", [&](state::FieldReader& storm) {
        policy::Storm st;
        storm.time("since", st.since);
        storm.strings("agents", st.agents, true);
        storm.string("cause", st.cause);
        s.storm = std::move(st);
    });
    if (in.failed()) {
        return util::err(in.error());
    }
    if (s.starts.size() > k_max_entries || (s.storm && s.storm->agents.size() > k_max_entries)) {
        return util::err(where + ": too many entries");
    }
    return s;
}

util::Result<policy::StormState> load_storms(const std::string& path) {
    auto text = util::read_file(path);
    if (!text) {
        if (text.error_code() == ENOENT) {
            return policy::StormState{};
        }
        return util::err(text.error());
    }
    return parse_storms(*text, path);
}

} // namespace gt::executor
