#include "restart_state.hpp"

#include "json_fields.hpp"
#include "json_file.hpp"
#include "town.hpp"
#include "util/file.hpp"

#include <limits>
#include <nlohmann/json.hpp>

namespace gt::state {

using nlohmann::json;

void RestartRecord::clear(util::TimePoint now) {
    restart_count = 0;
    backoff_until.reset();
    crash_loop_since.reset();
    recent.clear();
    cleared_at = now;
}

namespace {

void put_time(json& j, const char* key, const std::optional<util::TimePoint>& t) {
    if (t) {
        j[key] = util::format_time(*t);
    }
}

bool parse_record(const json& j, RestartRecord& r) {
    if (!j.is_object()) {
        return false;
    }
    FieldReader in("", j, {.null_is_absent = true});
    constexpr int k_min = std::numeric_limits<int>::min(), k_max = std::numeric_limits<int>::max();
    in.time("last_restart", r.last_restart);
    // Hostile numbers stay harmless: they clamp, and the entry is kept.
    in.integer("restart_count", r.restart_count, 0, 1000, OutOfRange::clamp);
    in.time("backoff_until", r.backoff_until);
    in.time("crash_loop_since", r.crash_loop_since);
    in.integer("last_exit_status", r.last_exit_status, k_min, k_max, OutOfRange::clamp);
    in.integer("last_signal", r.last_signal, k_min, k_max, OutOfRange::clamp);
    in.string("last_exit_reason", r.last_exit_reason);
    in.time("cleared_at", r.cleared_at);
    if (const json* recent = in.field("recent"); recent && recent->is_array()) {
        in.times("recent", r.recent); // anything but an array is passed over
    }
    return !in.failed();
}

} // namespace

std::string restart_state_json(const RestartRecords& records) {
    json out = json::object();
    for (const auto& [id, r] : records) {
        json j = json::object();
        put_time(j, "last_restart", r.last_restart);
        j["restart_count"] = r.restart_count;
        put_time(j, "backoff_until", r.backoff_until);
        put_time(j, "crash_loop_since", r.crash_loop_since);
        if (r.last_exit_status) {
            j["last_exit_status"] = *r.last_exit_status;
        }
        if (r.last_signal) {
            j["last_signal"] = *r.last_signal;
        }
        if (!r.last_exit_reason.empty()) {
            j["last_exit_reason"] = r.last_exit_reason;
        }
        put_time(j, "cleared_at", r.cleared_at);
        json recent = json::array();
        for (auto t : r.recent) {
            recent.push_back(util::format_time(t));
        }
        j["recent"] = std::move(recent);
        out[id] = std::move(j);
    }
    return out.dump(2) + "\n";
}

util::Result<RestartRecords> parse_restart_state(const std::string& text, const std::string& where,
                                                 std::vector<std::string>* skipped) {
    RestartRecords records;
    auto read = for_each_entry(
        text, where,
        [&](const std::string& id, const json& value) {
            RestartRecord r;
            if (!parse_record(value, r)) {
                return false;
            }
            records[id] = std::move(r);
            return true;
        },
        skipped);
    if (!read) {
        return util::err(read.error());
    }
    return records;
}

RestartStateFile::RestartStateFile(const TownPaths& paths)
    : m_path(paths.restart_state_file()), m_lock_path(paths.restart_state_lock_file()) {}

util::Result<RestartRecords> RestartStateFile::load() const {
    auto text = util::read_file(m_path, util::k_max_file_size, false);
    if (!text) {
        if (text.error_code() == ENOENT) {
            return RestartRecords{};
        }
        return util::err(text.error(), text.error_code());
    }
    return parse_restart_state(*text, m_path);
}

util::Status RestartStateFile::write(const RestartRecords& records) const {
    return util::write_file_atomic(m_path, restart_state_json(records));
}

util::Status RestartStateFile::clear(const std::string& id, util::TimePoint now) const {
    return update(
        [&](RestartRecords records) {
            records[id].clear(now);
            return records;
        },
        util::Millis(10'000));
}

} // namespace gt::state
