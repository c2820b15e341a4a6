#pragma once

#include "result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace gt::util {

using SystemClock = std::chrono::system_clock;
using TimePoint = std::chrono::time_point<SystemClock, std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;

/// A date and time on a wall clock, without a zone.
struct CivilTime {
    int year = 1970;
    int month = 1; ///< 1–12
    int day = 1;   ///< 1–31
    int hour = 0;
    int minute = 0;
    int second = 0;
    bool operator==(const CivilTime&) const = default;
};

/// Days since 1970-01-01 of a civil date (proleptic Gregorian, linear in `day`), and back.
long days_from_civil(int year, int month, int day);
CivilTime civil_from_days(long days);

/// The current wall-clock time at millisecond precision.
TimePoint now();

/// RFC 3339 UTC with milliseconds: `2026-11-22T10:00:00.123Z`.
std::string format_time(TimePoint t);

/// Parses RFC 3339 times as written by gt and by Go: any number of fractional digits (truncated
/// to milliseconds), `Z` or a numeric offset (`+02:00`). In UTC the time must fall in the years
/// 0000-9999, the ones format_time() writes.
Result<TimePoint> parse_time(std::string_view text);

/// Parses a duration such as `300ms`, `10s`, `1m30s`, `1.5h`, `0`. Units: ms, s, m, h.
Result<Millis> parse_duration(std::string_view text);

/// Formats a duration compactly for humans and for round trips: `3m`, `1m30s`, `250ms`, `1h5m`.
/// parse_duration() reads it back exactly below an hour; from an hour on, without milliseconds.
std::string format_duration(Millis d);

/// Parses a byte size such as `10MiB`, `512KiB`, `1GiB`, `4096` (plain bytes), `10MB`; one
/// that does not fit in 64 bits is an error.
Result<std::uint64_t> parse_size(std::string_view text);

} // namespace gt::util
