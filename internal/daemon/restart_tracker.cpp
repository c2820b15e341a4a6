#include "restart_tracker.hpp"

#include "state/json_file.hpp"
#include "util/file.hpp"
#include "util/file_lock.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

namespace gt::daemon {

using nlohmann::json;

namespace {

double random_jitter() {
    thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.8, 1.2)(rng);
}

util::Millis backoff_for(const state::RestartConfig& c, int count, double jitter) {
    double ms = static_cast<double>(c.initial_backoff.count());
    double cap = static_cast<double>(c.max_backoff.count());
    for (int i = 1; i < count && i < 64 && ms < cap; ++i) {
        ms *= c.multiplier;
    }
    ms = std::min(ms * jitter, cap);
    return util::Millis(static_cast<long long>(ms));
}

bool crash_loop_active(const RestartRecord& r, const state::RestartConfig& c, util::TimePoint now) {
    return r.crash_loop_since && now < *r.crash_loop_since + c.crash_loop_expiry;
}

} // namespace

const char* gate_name(Gate g) {
    switch (g) {
    case Gate::allowed:
        return "allowed";
    case Gate::backoff:
        return "backoff";
    case Gate::crash_loop:
        return "crash_loop";
    }
    return "allowed";
}

RestartTracker::RestartTracker(state::RestartConfig config, Jitter jitter)
    : m_config(config), m_jitter(jitter ? std::move(jitter) : Jitter(random_jitter)) {}

const RestartRecord* RestartTracker::find(const std::string& id) const {
    auto it = m_records.find(id);
    return it == m_records.end() ? nullptr : &it->second;
}

Gate RestartTracker::check(const std::string& id, util::TimePoint now) const {
    const RestartRecord* r = find(id);
    if (!r) {
        return Gate::allowed;
    }
    if (r->crash_loop_since) {
        // An expired crash loop lets the agent try again at once.
        return crash_loop_active(*r, m_config, now) ? Gate::crash_loop : Gate::allowed;
    }
    if (r->backoff_until && now < *r->backoff_until) {
        return Gate::backoff;
    }
    return Gate::allowed;
}

std::optional<util::TimePoint> RestartTracker::blocked_until(const std::string& id,
                                                             util::TimePoint now) const {
    switch (check(id, now)) {
    case Gate::crash_loop:
        return *find(id)->crash_loop_since + m_config.crash_loop_expiry;
    case Gate::backoff:
        return *find(id)->backoff_until;
    case Gate::allowed:
        break;
    }
    return std::nullopt;
}

RestartTracker::Recorded RestartTracker::record_restart(const std::string& id,
                                                        util::TimePoint now) {
    RestartRecord& r = m_records[id];
    if (r.crash_loop_since && !crash_loop_active(r, m_config, now)) {
        r.crash_loop_since.reset();
        r.recent.clear();
        r.restart_count = 0;
    }
    if (r.last_restart && now - *r.last_restart >= m_config.stability_period) {
        r.restart_count = 0;
    }
    std::erase_if(r.recent, [&](util::TimePoint t) {
        return t <= now - m_config.crash_loop_window || t > now;
    });
    r.recent.push_back(now);
    r.restart_count = std::min(r.restart_count + 1, 1000);
    r.last_restart = now;
    Recorded out;
    out.backoff = backoff_for(m_config, r.restart_count, m_jitter());
    r.backoff_until = now + out.backoff;
    if (!r.crash_loop_since && static_cast<int>(r.recent.size()) >= m_config.crash_loop_count) {
        r.crash_loop_since = now;
        out.entered_crash_loop = true;
    }
    return out;
}

RestartTracker::Recorded RestartTracker::record_start(const std::string& id, util::TimePoint now) {
    RestartRecord& r = m_records[id];
    if (r.last_restart) {
        return record_restart(id, now);
    }
    // Bringing an agent up for the first time is not a restart: counting it would put every
    // agent of a freshly started town in backoff, one start away from a crash loop.
    r.last_restart = now;
    Recorded out;
    out.restart = false;
    return out;
}

Gate RestartTracker::shown_gate(const std::string& id, util::TimePoint now, bool alive) const {
    Gate g = check(id, now);
    return g == Gate::backoff && alive ? Gate::allowed : g;
}

void RestartTracker::record_exit(const std::string& id, int exit_status, int signal) {
    RestartRecord& r = m_records[id];
    r.last_exit_status = exit_status;
    r.last_signal = signal;
}

void RestartTracker::clear(const std::string& id, util::TimePoint now) {
    RestartRecord& r = m_records[id];
    r.restart_count = 0;
    r.backoff_until.reset();
    r.crash_loop_since.reset();
    r.recent.clear();
    r.cleared_at = now;
}

std::vector<std::string>
RestartTracker::merge_clears(const std::map<std::string, RestartRecord>& on_disk) {
    std::vector<std::string> cleared;
    for (const auto& [id, theirs] : on_disk) {
        if (!theirs.cleared_at) {
            continue;
        }
        const RestartRecord* mine = find(id);
        if (!mine || !mine->cleared_at || *mine->cleared_at < *theirs.cleared_at) {
            clear(id, *theirs.cleared_at);
            cleared.push_back(id);
        }
    }
    return cleared;
}

namespace {

void put_time(json& j, const char* key, const std::optional<util::TimePoint>& t) {
    if (t) {
        j[key] = util::format_time(*t);
    }
}

/// Reads an optional time field; false when present but not a valid time.
bool get_time(const json& j, const char* key, std::optional<util::TimePoint>& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return true;
    }
    if (!it->is_string()) {
        return false;
    }
    auto t = util::parse_time(it->get<std::string>());
    if (!t) {
        return false;
    }
    out = *t;
    return true;
}

bool get_int(const json& j, const char* key, std::optional<int>& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return true;
    }
    if (!it->is_number_integer()) {
        return false;
    }
    out = it->get<int>();
    return true;
}

bool parse_record(const json& j, RestartRecord& r) {
    if (!j.is_object()) {
        return false;
    }
    std::optional<int> count;
    bool ok = get_time(j, "last_restart", r.last_restart) && get_int(j, "restart_count", count) &&
              get_time(j, "backoff_until", r.backoff_until) &&
              get_time(j, "crash_loop_since", r.crash_loop_since) &&
              get_int(j, "last_exit_status", r.last_exit_status) &&
              get_int(j, "last_signal", r.last_signal) && get_time(j, "cleared_at", r.cleared_at);
    if (!ok) {
        return false;
    }
    r.restart_count = std::clamp(count.value_or(0), 0, 1000); // hostile values stay harmless
    if (auto it = j.find("recent"); it != j.end() && it->is_array()) {
        for (const auto& v : *it) {
            if (!v.is_string()) {
                return false;
            }
            auto t = util::parse_time(v.get<std::string>());
            if (!t) {
                return false;
            }
            r.recent.push_back(*t);
        }
    }
    return true;
}

} // namespace

std::string restart_state_json(const std::map<std::string, RestartRecord>& records) {
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

util::Result<std::map<std::string, RestartRecord>>
parse_restart_state(const std::string& text, const std::string& where,
                    std::vector<std::string>* skipped) {
    auto doc = state::parse_json(text, where);
    if (!doc) {
        return util::err(doc.error());
    }
    if (!doc->is_object()) {
        return util::err(where + ": not a JSON object");
    }
    std::map<std::string, RestartRecord> records;
    for (const auto& [id, value] : doc->items()) {
        RestartRecord r;
        if (parse_record(value, r)) {
            records[id] = std::move(r);
        } else if (skipped) {
            skipped->push_back(where + ": " + id + ": wrong shape");
        }
    }
    return records;
}

RestartStateFile::RestartStateFile(std::string daemon_dir)
    : m_path(daemon_dir + "/restart_state.json"), m_lock_path(daemon_dir + "/restart_state.lock") {}

util::Result<std::map<std::string, RestartRecord>> RestartStateFile::load() const {
    auto text = util::read_file(m_path, util::k_max_file_size, false);
    if (!text) {
        if (text.error_code() == ENOENT) {
            return std::map<std::string, RestartRecord>{};
        }
        return util::err(text.error(), text.error_code());
    }
    return parse_restart_state(*text, m_path);
}

util::Result<std::vector<std::string>> RestartStateFile::save(RestartTracker& tracker) const {
    auto lock = util::FileLock::acquire(m_lock_path, 0600, util::Millis(500));
    if (!lock) {
        return util::err(lock.error());
    }
    std::vector<std::string> cleared;
    if (auto on_disk = load()) {
        cleared = tracker.merge_clears(*on_disk);
    }
    if (auto st = util::write_file_atomic(m_path, restart_state_json(tracker.records())); !st) {
        return util::err(st.error());
    }
    return cleared;
}

util::Status RestartStateFile::clear(const std::string& id, util::TimePoint now) const {
    auto lock = util::FileLock::acquire(m_lock_path);
    if (!lock) {
        return util::err(lock.error());
    }
    auto on_disk = load();
    RestartTracker tracker{state::RestartConfig{}};
    if (on_disk) {
        tracker.replace(std::move(*on_disk));
    }
    tracker.clear(id, now);
    return util::write_file_atomic(m_path, restart_state_json(tracker.records()));
}

} // namespace gt::daemon
