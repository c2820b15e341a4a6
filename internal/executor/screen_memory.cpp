#include "screen_memory.hpp"

#include "state/json_fields.hpp"
#include "state/json_file.hpp"
#include "state/names.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <nlohmann/json.hpp>

namespace gt::executor {

using nlohmann::json;
using screen::Condition;

namespace {

/// Evidence is at most 200 bytes when read from a screen (design §16.1); a file says more only
/// when someone else wrote it.
constexpr std::size_t k_max_evidence = 200;

void put_time(json& j, const char* key, const std::optional<util::TimePoint>& t) {
    if (t) {
        j[key] = util::format_time(*t);
    }
}

void read_condition(state::FieldReader& in, const char* key, Condition& out) {
    std::string name;
    in.string(key, name);
    if (name.empty()) {
        return;
    }
    if (auto c = screen::parse_condition(name)) {
        out = *c;
    } else {
        in.fail(key, "unknown condition '" + name + "'");
    }
}

bool parse_state(const json& j, policy::ScreenState& s) {
    if (!j.is_object()) {
        return false;
    }
    state::FieldReader in("", j, {.null_is_absent = true});
    in.integer("pane_pid", s.pane_pid, 1L, 4'194'304L);
    read_condition(in, "condition", s.condition);
    read_condition(in, "cause", s.cause);
    std::optional<util::TimePoint> since;
    in.time("since", since);
    s.since = since.value_or(util::TimePoint{});
    in.string("evidence", s.evidence);
    in.time("resets_at", s.resets_at);
    in.time("resume_sent_at", s.resume_sent_at);
    in.string("resumed_evidence", s.resumed_evidence);
    in.boolean("resume_echo_seen", s.resume_echo_seen);
    return !in.failed() && s.pane_pid > 0 && s.evidence.size() <= k_max_evidence &&
           s.resumed_evidence.size() <= k_max_evidence;
}

} // namespace

std::string screens_json(const ScreenStates& states) {
    json out = json::object();
    for (const auto& [id, s] : states) {
        json j = json::object();
        j["pane_pid"] = s.pane_pid;
        j["condition"] = screen::condition_name(s.condition);
        if (s.cause != Condition::unknown) {
            j["cause"] = screen::condition_name(s.cause);
        }
        j["since"] = util::format_time(s.since);
        if (!s.evidence.empty()) {
            j["evidence"] = s.evidence;
        }
        put_time(j, "resets_at", s.resets_at);
        put_time(j, "resume_sent_at", s.resume_sent_at);
        if (!s.resumed_evidence.empty()) {
            j["resumed_evidence"] = s.resumed_evidence;
            j["resume_echo_seen"] = s.resume_echo_seen;
        }
        out[id] = std::move(j);
    }
    return out.dump(2) + "\n";
}

util::Result<ScreenStates> parse_screens(const std::string& text, const std::string& where,
                                         std::vector<std::string>* skipped) {
    ScreenStates out;
    auto read = state::for_each_entry(
        text, where,
        [&](const std::string& key, const json& value) {
            auto id = state::parse_identity(key);
            policy::ScreenState s;
            if (!id || id->str() != key || !parse_state(value, s)) {
                return false; // a key that is no identity's canonical form is no agent's
            }
            out[key] = std::move(s);
            return true;
        },
        skipped);
    if (!read) {
        return util::err(read.error());
    }
    return out;
}

util::Result<ScreenStates> load_screens(const std::string& path,
                                        std::vector<std::string>* skipped) {
    auto text = util::read_file(path);
    if (!text) {
        if (text.error_code() == ENOENT) {
            return ScreenStates{};
        }
        return util::err(text.error());
    }
    return parse_screens(*text, path, skipped);
}

util::Status restore_screens(const std::string& path, policy::ScreenWatch& watch,
                             std::vector<std::string>* skipped) {
    auto saved = load_screens(path, skipped);
    if (!saved) {
        return util::err(saved.error());
    }
    for (auto& [id, s] : *saved) {
        watch.restore(id, std::move(s));
    }
    watch.mark_saved();
    return {};
}

} // namespace gt::executor
