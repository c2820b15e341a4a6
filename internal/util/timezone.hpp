#pragma once

#include "result.hpp"
#include "time.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace gt::util {

/// A time zone: the offsets from UTC it uses and when they change. Read from the system's
/// zoneinfo files (TZif, RFC 8536) or from a POSIX TZ string (`EST5EDT,M3.2.0,M11.1.0`), so that
/// reset times shown by agents ("resets 5pm (America/Los_Angeles)") can be turned into instants
/// without touching the process-wide `TZ` (localtime_r and tzset are not safe to switch while
/// other threads format times). Copies are cheap (the data is shared, immutable).
class TimeZone {
public:
    /// UTC.
    static TimeZone utc();
    /// A fixed offset east of UTC, e.g. +02:00, named `name`.
    static TimeZone fixed(std::chrono::seconds offset, std::string name);
    /// An IANA zone such as `America/Los_Angeles` or `UTC`, read from `$TZDIR` (else
    /// /usr/share/zoneinfo). A name that is not a plain relative path of letters, digits, `_`,
    /// `-`, `+` and `/` (no `..`, no leading `/`), a missing file, a file that is not a regular
    /// file, larger than 1 MiB, or not valid TZif is an error naming the zone and the reason.
    static Result<TimeZone> load(std::string_view name);
    /// The zone of a POSIX TZ string (`UTC0`, `CET-1CEST,M3.5.0,M10.5.0/3`).
    static Result<TimeZone> from_posix(std::string_view tz);
    /// The machine's local zone: `$TZ` when set (`:Name`, `Name`, or a POSIX string), else
    /// /etc/localtime, else UTC. Never fails: falls back to UTC.
    static TimeZone local();

    const std::string& name() const;
    /// The offset east of UTC in effect at `t`.
    std::chrono::seconds offset_at(TimePoint t) const;
    /// The wall-clock time at `t`.
    CivilTime to_local(TimePoint t) const;
    /// The instant a wall clock in this zone shows `c`. In a gap (spring forward) the time is
    /// moved forward by the gap; when ambiguous (fall back) the earlier instant is returned.
    TimePoint from_local(const CivilTime& c) const;

    struct Data; ///< the parsed rules (timezone.cpp)

private:
    explicit TimeZone(std::shared_ptr<const Data> data) : m_data(std::move(data)) {}
    std::shared_ptr<const Data> m_data;
};

} // namespace gt::util
