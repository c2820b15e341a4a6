#include "restart_tracker.hpp"

#include "state/json_file.hpp"
#include "util/file.hpp"
#include "util/file_lock.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

namespace gt::policy {

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
    ms = std::min(ms, cap) * jitter;
    if (ms > cap) {
        // Reflected below the cap, not cut to it: agents that keep dying together must not
        // come back in lock-step once their backoffs reach the cap.
        ms = std::max(0.0, 2 * cap - ms);
    }
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
    case Gate::budget:
        return "budget";
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
    case Gate::budget: // the town's, not the tracker's
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
    m_records[id].clear(now);
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

void RestartTracker::shift(util::Millis by) {
    auto move = [by](std::optional<util::TimePoint>& t) {
        if (t) {
            *t += by;
        }
    };
    for (auto& [id, r] : m_records) {
        move(r.last_restart);
        move(r.backoff_until);
        move(r.crash_loop_since);
        for (auto& t : r.recent) {
            t += by;
        }
    }
}

std::vector<std::string> RestartTracker::clamp_future(util::TimePoint now) {
    std::vector<std::string> corrected;
    for (auto& [id, r] : m_records) {
        bool fixed = false;
        auto at_most = [&](std::optional<util::TimePoint>& t, util::TimePoint limit) {
            if (t && *t > limit) {
                *t = limit;
                fixed = true;
            }
        };
        at_most(r.last_restart, now);
        at_most(r.crash_loop_since, now);
        at_most(r.backoff_until, now + m_config.max_backoff);
        for (auto& t : r.recent) {
            if (t > now) {
                t = now;
                fixed = true;
            }
        }
        if (fixed) {
            corrected.push_back(id);
        }
    }
    return corrected;
}

} // namespace gt::policy
