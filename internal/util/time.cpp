#include "time.hpp"

#include "clock.hpp"

#include <cctype>
#include <cmath>
#include <limits>

namespace gt::util {

namespace {

bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
    if (pos + n > s.size()) {
        return false;
    }
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    pos += n;
    out = v;
    return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

} // namespace

TimePoint now() {
    return std::chrono::time_point_cast<Millis>(SystemClock::now()) + test_wall_skew();
}

long days_from_civil(int year, int month, int day) {
    const long y = static_cast<long>(year) - (month <= 2 ? 1 : 0);
    const long era = (y >= 0 ? y : y - 399) / 400;
    const long yoe = y - era * 400;
    const long doy = (153L * ((month + 9) % 12) + 2) / 5 + day - 1;
    const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

CivilTime civil_from_days(long days) {
    const long z = days + 719468;
    const long era = (z >= 0 ? z : z - 146096) / 146097;
    const long doe = z - era * 146097;
    const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const long mp = (5 * doy + 2) / 153;
    CivilTime c;
    c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    c.year = static_cast<int>(yoe + era * 400 + (c.month <= 2 ? 1 : 0));
    return c;
}

std::string format_time(TimePoint t) {
    auto ms = t.time_since_epoch().count();
    std::int64_t secs = ms / 1000;
    int frac = static_cast<int>(ms % 1000);
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    std::int64_t days = secs / 86400;
    std::int64_t in_day = secs % 86400;
    if (in_day < 0) {
        in_day += 86400;
        days -= 1;
    }
    CivilTime c = civil_from_days(static_cast<long>(days));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day,
                  static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                  static_cast<int>(in_day % 60), frac);
    return buf;
}

Result<TimePoint> parse_time(std::string_view s) {
    size_t pos = 0;
    int year, mon, day, hour, min, sec;
    bool ok = read_digits(s, pos, 4, year) && expect(s, pos, '-') && read_digits(s, pos, 2, mon) &&
              expect(s, pos, '-') && read_digits(s, pos, 2, day) &&
              (expect(s, pos, 'T') || expect(s, pos, 't') || expect(s, pos, ' ')) &&
              read_digits(s, pos, 2, hour) && expect(s, pos, ':') && read_digits(s, pos, 2, min) &&
              expect(s, pos, ':') && read_digits(s, pos, 2, sec);
    if (!ok || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
        return err("not an RFC 3339 time: '" + std::string(s.substr(0, 64)) + "'");
    }
    int millis = 0;
    if (expect(s, pos, '.')) {
        size_t digits = 0;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
            if (digits < 3) {
                millis = millis * 10 + (s[pos] - '0');
            }
            ++digits;
            ++pos;
        }
        if (digits == 0) {
            return err("not an RFC 3339 time (empty fraction): '" + std::string(s.substr(0, 64)) +
                       "'");
        }
        for (size_t d = digits; d < 3; ++d) {
            millis *= 10;
        }
    }
    int offset_min = 0;
    if (expect(s, pos, 'Z') || expect(s, pos, 'z')) {
        // UTC
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int oh, om;
        if (!read_digits(s, pos, 2, oh) || !expect(s, pos, ':') || !read_digits(s, pos, 2, om) ||
            oh > 23 || om > 59) {
            return err("not an RFC 3339 time (bad offset): '" + std::string(s.substr(0, 64)) + "'");
        }
        offset_min = sign * (oh * 60 + om);
    } else {
        return err("not an RFC 3339 time (no zone): '" + std::string(s.substr(0, 64)) + "'");
    }
    if (pos != s.size()) {
        return err("not an RFC 3339 time (trailing text): '" + std::string(s.substr(0, 64)) + "'");
    }
    std::int64_t secs = static_cast<std::int64_t>(days_from_civil(year, mon, day)) * 86400 +
                        hour * 3600 + min * 60 + sec;
    std::int64_t total = (static_cast<std::int64_t>(secs) - offset_min * 60) * 1000 + millis;
    // An offset must not carry the time out of the years format_time() can write: gt writes
    // back what it reads (an agent's file, restart_state.json), and must read it again.
    constexpr std::int64_t k_day_ms = 86'400'000;
    if (total < days_from_civil(0, 1, 1) * k_day_ms ||
        total >= days_from_civil(10000, 1, 1) * k_day_ms) {
        return err("not an RFC 3339 time (outside the years 0000-9999): '" +
                   std::string(s.substr(0, 64)) + "'");
    }
    return TimePoint(Millis(total));
}

Result<Millis> parse_duration(std::string_view s) {
    auto bad = [&](const char* why) {
        return err(std::string(why) + ": '" + std::string(s.substr(0, 64)) +
                   "' (use e.g. 300ms, 10s, 1m30s, 2h)");
    };
    if (s.empty()) {
        return bad("empty duration");
    }
    if (s == "0") {
        return Millis(0);
    }
    double total_ms = 0;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t start = pos;
        while (pos < s.size() &&
               (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '.')) {
            ++pos;
        }
        if (pos == start) {
            return bad("not a duration");
        }
        std::string number(s.substr(start, pos - start));
        if (number.find('.') != number.rfind('.') || number == ".") {
            return bad("not a duration");
        }
        double value = std::strtod(number.c_str(), nullptr);
        size_t ustart = pos;
        while (pos < s.size() && std::isalpha(static_cast<unsigned char>(s[pos]))) {
            ++pos;
        }
        std::string_view unit = s.substr(ustart, pos - ustart);
        double scale;
        if (unit == "ms") {
            scale = 1;
        } else if (unit == "s") {
            scale = 1000;
        } else if (unit == "m") {
            scale = 60'000;
        } else if (unit == "h") {
            scale = 3'600'000;
        } else if (unit.empty()) {
            return bad("duration without a unit");
        } else {
            return bad("unknown duration unit");
        }
        total_ms += value * scale;
        if (total_ms > 8.64e10) {
            // Steady-clock arithmetic in nanoseconds must never overflow.
            return bad("duration too large (at most 1000 days)");
        }
    }
    return Millis(static_cast<std::int64_t>(std::llround(total_ms)));
}

std::string format_duration(Millis d) {
    std::int64_t ms = d.count();
    std::string out;
    if (ms < 0) {
        out = "-";
        ms = -ms;
    }
    if (ms < 1000) {
        return out + std::to_string(ms) + "ms";
    }
    std::int64_t h = ms / 3'600'000;
    std::int64_t m = (ms / 60'000) % 60;
    std::int64_t s = (ms / 1000) % 60;
    std::int64_t rest = ms % 1000;
    if (h > 0) {
        out += std::to_string(h) + "h";
    }
    if (m > 0) {
        out += std::to_string(m) + "m";
    }
    if (s > 0 || (rest > 0 && h == 0)) { // from an hour on, milliseconds are left out
        out += std::to_string(s);
        if (rest > 0 && h == 0) {
            char frac[8];
            std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(rest));
            out += frac;
            while (out.back() == '0') {
                out.pop_back();
            }
        }
        out += "s";
    }
    return out;
}

Result<std::uint64_t> parse_size(std::string_view s) {
    size_t pos = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        ++pos;
    }
    if (pos == 0 || pos > 15) {
        return err("not a size: '" + std::string(s.substr(0, 64)) + "' (use e.g. 10MiB)");
    }
    std::uint64_t n = std::stoull(std::string(s.substr(0, pos)));
    std::string_view unit = s.substr(pos);
    std::uint64_t scale;
    if (unit.empty() || unit == "B") {
        scale = 1;
    } else if (unit == "KiB" || unit == "K") {
        scale = 1024;
    } else if (unit == "MiB" || unit == "M") {
        scale = 1024 * 1024;
    } else if (unit == "GiB" || unit == "G") {
        scale = 1024ull * 1024 * 1024;
    } else if (unit == "KB") {
        scale = 1000;
    } else if (unit == "MB") {
        scale = 1000 * 1000;
    } else if (unit == "GB") {
        scale = 1000ull * 1000 * 1000;
    } else {
        return err("unknown size unit in '" + std::string(s.substr(0, 64)) +
                   "' (use B, KiB, MiB, GiB)");
    }
    if (n > std::numeric_limits<std::uint64_t>::max() / scale) {
        return err("size too large: '" + std::string(s.substr(0, 64)) + "'");
    }
    return n * scale;
}

} // namespace gt::util
