#pragma once

#include "util/clock.hpp"

#include <map>
#include <optional>
#include <string>

namespace gt::policy {

/// How far the wall clock and the machine moved apart between two passes (design §17).
struct TimeShift {
    /// How far the wall clock was set, beyond the time that passed (+ forward, − back).
    util::Millis jumped{0};
    /// How long the machine slept (CLOCK_BOOTTIME ran on, CLOCK_MONOTONIC stood still).
    util::Millis slept{0};
    bool any() const { return jumped.count() != 0 || slept.count() != 0; }
};

/// Compares each pass's reading of the clocks with the last one. A difference below
/// `k_threshold` is noise (a slewing NTP, a pass that took a moment) and is not reported.
class ClockWatch {
public:
    static constexpr util::Millis k_threshold{5000};

    /// What changed since the last reading (nothing on the first).
    TimeShift observe(const util::ClockReading& now);

private:
    std::optional<util::ClockReading> m_last;
};

/// The age of wall-clock stamps written by others (agents' reports, the deacon's heartbeat, a
/// start recorded by an earlier daemon), judged so that a wall clock set after the daemon first
/// saw a stamp changes nothing: its age when first seen (never below zero, so a stamp from the
/// future is judged from when it was first seen) plus the time passed since. Pure: time passed
/// in; shift() follows a detected jump.
class StampAges {
public:
    /// The age at `now` of `stamp` seen under `key` (a new stamp under a key starts afresh).
    util::Millis age(const std::string& key, util::TimePoint stamp, util::TimePoint now);
    /// The wall clock was set by `by`: what was seen keeps its age.
    void shift(util::Millis by);
    /// Forgets the keys not asked about since the last sweep.
    void sweep();
    std::size_t size() const { return m_seen.size(); }

private:
    struct Seen {
        util::TimePoint stamp{};
        util::TimePoint seen_at{};
        util::Millis age_at_seen{0};
        bool used = true;
    };
    std::map<std::string, Seen> m_seen;
};

/// A wall-clock difference that a clock set back cannot make negative.
inline util::Millis elapsed(util::TimePoint from, util::TimePoint to) {
    return to > from ? std::chrono::duration_cast<util::Millis>(to - from) : util::Millis(0);
}

} // namespace gt::policy
