#include "clock_watch.hpp"

#include <cstdlib>

namespace gt::policy {

TimeShift ClockWatch::observe(const util::ClockReading& now) {
    TimeShift shift;
    if (m_last) {
        auto wall = now.wall - m_last->wall;
        auto mono = now.monotonic - m_last->monotonic;
        // Without CLOCK_BOOTTIME (0 in both readings) the monotonic clock stands in for it.
        auto boot = now.boottime.count() || m_last->boottime.count()
                        ? now.boottime - m_last->boottime
                        : mono;
        // Whole seconds: the clocks are read one after the other, and told in words.
        auto whole = [](util::Millis d) {
            return std::chrono::duration_cast<util::Millis>(
                std::chrono::round<std::chrono::seconds>(d));
        };
        if (boot - mono >= k_threshold) {
            shift.slept = whole(boot - mono);
        }
        if (auto jumped = wall - boot; std::abs(jumped.count()) >= k_threshold.count()) {
            shift.jumped = whole(jumped);
        }
    }
    m_last = now;
    return shift;
}

util::Millis StampAges::age(const std::string& key, util::TimePoint stamp, util::TimePoint now) {
    auto [it, fresh] = m_seen.try_emplace(key);
    Seen& s = it->second;
    if (fresh || s.stamp != stamp) {
        s.stamp = stamp;
        s.seen_at = now;
        s.age_at_seen = elapsed(stamp, now);
    }
    s.used = true;
    return s.age_at_seen + elapsed(s.seen_at, now);
}

void StampAges::shift(util::Millis by) {
    for (auto& [key, s] : m_seen) {
        s.seen_at += by;
    }
}

void StampAges::sweep() {
    std::erase_if(m_seen, [](const auto& kv) { return !kv.second.used; });
    for (auto& [key, s] : m_seen) {
        s.used = false;
    }
}

} // namespace gt::policy
