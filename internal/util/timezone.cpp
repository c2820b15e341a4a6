#include "timezone.hpp"

#include "file.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <unistd.h>
#include <vector>

namespace gt::util {

namespace {

constexpr std::int64_t k_secs_per_day = 86400;
constexpr std::size_t k_max_name_length = 255;
constexpr const char* k_default_zoneinfo = "/usr/share/zoneinfo";

// A POSIX TZ rule date: Jn (1-365, no Feb 29), n (0-365), or Mm.w.d; time in local seconds.
struct RuleDate {
    enum class Kind { julian1, julian0, month_week_day };
    Kind kind = Kind::month_week_day;
    int day = 0;
    int week = 0;
    int month = 0;
    std::int64_t time = 7200;
};

struct PosixRule {
    std::int64_t std_offset = 0; // east of UTC
    std::int64_t dst_offset = 0;
    bool has_dst = false;
    RuleDate start;
    RuleDate end;
};

} // namespace

struct TimeZone::Data {
    std::string name;
    std::vector<std::int64_t> transitions; // UTC seconds, ascending
    std::vector<std::int64_t> offsets;     // offset after each transition
    std::int64_t initial_offset = 0;       // before the first transition
    std::optional<PosixRule> footer;       // after the last transition
};

namespace {

// ASCII only: the <cctype> classes depend on the locale.
bool ascii_alpha(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool ascii_digit(char c) {
    return c >= '0' && c <= '9';
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

std::int64_t rule_day(const RuleDate& r, int year) {
    const std::int64_t jan1 = days_from_civil(year, 1, 1);
    if (r.kind == RuleDate::Kind::julian1) {
        const bool leap = days_from_civil(year, 3, 1) - jan1 == 60;
        return jan1 + r.day - 1 + (leap && r.day >= 60 ? 1 : 0);
    }
    if (r.kind == RuleDate::Kind::julian0) {
        return jan1 + r.day;
    }
    const std::int64_t first = days_from_civil(year, r.month, 1);
    const std::int64_t weekday = (first % 7 + 11) % 7; // 1970-01-01 was a Thursday
    const std::int64_t day = first + (r.day - weekday + 7) % 7 + (r.week - 1) * 7L;
    // Week 5 means the last such weekday, which may be in week 4.
    return civil_from_days(day).month == r.month ? day : day - 7;
}

std::int64_t posix_offset(const PosixRule& p, std::int64_t utc) {
    if (!p.has_dst) {
        return p.std_offset;
    }
    const int year = civil_from_days(floor_div(utc + p.std_offset, k_secs_per_day)).year;
    // The start time is in standard time, the end time in daylight time (POSIX).
    const std::int64_t start =
        rule_day(p.start, year) * k_secs_per_day + p.start.time - p.std_offset;
    const std::int64_t end = rule_day(p.end, year) * k_secs_per_day + p.end.time - p.dst_offset;
    const bool in_dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
    return in_dst ? p.dst_offset : p.std_offset;
}

// A recursive-descent reader over a POSIX TZ string; every reader returns false on bad input.
class PosixParser {
public:
    explicit PosixParser(std::string_view s) : m_s(s) {}

    std::optional<PosixRule> parse() {
        PosixRule p;
        std::int64_t west = 0;
        if (!name() || !hms(west, 24)) {
            return std::nullopt;
        }
        p.std_offset = p.dst_offset = -west;
        if (done()) {
            return p;
        }
        p.has_dst = true;
        west -= 3600;
        if (!name() || (!done() && peek() != ',' && !hms(west, 24))) {
            return std::nullopt;
        }
        p.dst_offset = -west;
        p.start = {RuleDate::Kind::month_week_day, 0, 2, 3, 7200};
        p.end = {RuleDate::Kind::month_week_day, 0, 1, 11, 7200};
        if (!done() && (!eat(',') || !rule(p.start) || !eat(',') || !rule(p.end) || !done())) {
            return std::nullopt;
        }
        return p;
    }

private:
    bool done() const { return m_i >= m_s.size(); }
    char peek() const { return done() ? '\0' : m_s[m_i]; }
    bool is_digit() const { return ascii_digit(peek()); }
    bool is_alpha() const { return ascii_alpha(peek()); }
    bool eat(char c) {
        const bool match = peek() == c;
        m_i += match ? 1 : 0;
        return match;
    }

    bool number(int& out, int max_digits, int lo, int hi) {
        int digits = 0;
        for (out = 0; is_digit() && digits < max_digits; ++digits, ++m_i) {
            out = out * 10 + (peek() - '0');
        }
        return digits > 0 && !is_digit() && out >= lo && out <= hi;
    }

    // An alphabetic name, or a quoted one such as <+0330>; at least three characters.
    bool name() {
        const bool quoted = eat('<');
        const std::size_t start = m_i;
        while (is_alpha() || (quoted && (is_digit() || peek() == '+' || peek() == '-'))) {
            ++m_i;
        }
        return m_i - start >= 3 && (!quoted || eat('>'));
    }

    // [+-]hh[:mm[:ss]]; the value is seconds with the sign as written.
    bool hms(std::int64_t& out, int max_hours) {
        const int sign = eat('-') ? -1 : (eat('+'), 1);
        int h = 0;
        int m = 0;
        int s = 0;
        if (!number(h, 3, 0, max_hours) ||
            (eat(':') && (!number(m, 2, 0, 59) || (eat(':') && !number(s, 2, 0, 59))))) {
            return false;
        }
        out = sign * (h * 3600LL + m * 60LL + s);
        return true;
    }

    bool rule(RuleDate& r) {
        using Kind = RuleDate::Kind;
        r.kind = eat('J') ? Kind::julian1 : eat('M') ? Kind::month_week_day : Kind::julian0;
        const bool date_ok = r.kind == Kind::month_week_day
                                 ? number(r.month, 2, 1, 12) && eat('.') &&
                                       number(r.week, 1, 1, 5) && eat('.') && number(r.day, 1, 0, 6)
                                 : number(r.day, 3, r.kind == Kind::julian1 ? 1 : 0, 365);
        r.time = 7200;
        // RFC 8536 section 3.3.1 extends the rule time to -167..167 hours.
        return date_ok && (!eat('/') || hms(r.time, 167));
    }

    std::string_view m_s;
    std::size_t m_i = 0;
};

// Reads `width` big-endian bytes off the front of `in`; callers check the length first.
std::uint64_t take(std::string_view& in, std::size_t width) {
    std::uint64_t out = 0;
    for (std::size_t i = 0; i < width; ++i) {
        out = out << 8 | static_cast<unsigned char>(in[i]);
    }
    in.remove_prefix(width);
    return out;
}

struct Header {
    char version = 0;
    std::uint64_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
};

std::optional<std::string> read_header(std::string_view& in, Header& h) {
    if (in.size() < 44 || in.substr(0, 4) != "TZif") {
        return "bad header";
    }
    h.version = in[4];
    in.remove_prefix(20);
    for (std::uint64_t* field : {&h.isut, &h.isstd, &h.leap, &h.time, &h.type, &h.chars}) {
        *field = take(in, 4);
    }
    if (h.version != 0 && (h.version < '2' || h.version > '4')) {
        return "unknown version";
    }
    return std::nullopt;
}

// Only the block actually read is checked: a version 2+ file's 32-bit block may be a stub.
std::optional<std::string> check_counts(const Header& h) {
    if (h.type == 0 || h.type > 256 || h.chars == 0 || (h.isut != 0 && h.isut != h.type) ||
        (h.isstd != 0 && h.isstd != h.type)) {
        return "inconsistent counts";
    }
    return std::nullopt;
}

std::uint64_t block_size(const Header& h, std::uint64_t time_size) {
    return h.time * (time_size + 1) + h.type * 6 + h.chars + h.leap * (time_size + 4) + h.isstd +
           h.isut;
}

std::optional<std::string> read_types(std::string_view& in, const Header& h,
                                      std::vector<std::int64_t>& offsets) {
    for (auto& off : offsets) {
        off = static_cast<std::int32_t>(take(in, 4));
        const std::uint64_t isdst = take(in, 1);
        const std::uint64_t abbr = take(in, 1);
        // RFC 8536 bounds: -25 to +26 hours, never INT32_MIN.
        if (off < -89999 || off > 93599 || isdst > 1 || abbr >= h.chars) {
            return "bad local time type";
        }
    }
    return std::nullopt;
}

std::optional<std::string> read_block(std::string_view& in, const Header& h, std::size_t tsize,
                                      TimeZone::Data& d) {
    if (auto bad = check_counts(h)) {
        return bad;
    }
    // Counts are below 2^32, so the size cannot overflow; checked before anything is allocated.
    if (block_size(h, tsize) > in.size()) {
        return "truncated";
    }
    for (std::uint64_t i = 0; i < h.time; ++i) {
        const std::uint64_t v = take(in, tsize);
        const auto t = tsize == 8 ? static_cast<std::int64_t>(v)
                                  : static_cast<std::int64_t>(static_cast<std::int32_t>(v));
        if (!d.transitions.empty() && t <= d.transitions.back()) {
            return "transitions out of order";
        }
        d.transitions.push_back(t);
    }
    const std::string_view index = in.substr(0, h.time);
    in.remove_prefix(h.time);
    std::vector<std::int64_t> type_offsets(h.type);
    if (auto bad = read_types(in, h, type_offsets)) {
        return bad;
    }
    for (unsigned char i : index) {
        if (i >= h.type) {
            return "type index out of range";
        }
        d.offsets.push_back(type_offsets[i]);
    }
    d.initial_offset = type_offsets[0];
    in.remove_prefix(h.chars + h.leap * (tsize + 4) + h.isstd + h.isut);
    return std::nullopt;
}

std::optional<std::string> read_footer(std::string_view in, TimeZone::Data& d) {
    const std::size_t close = in.find('\n', 1);
    if (in.empty() || in[0] != '\n' || close == std::string_view::npos) {
        return "missing footer";
    }
    if (close > 1) {
        d.footer = PosixParser(in.substr(1, close - 1)).parse();
        if (!d.footer) {
            return "bad footer TZ string";
        }
    }
    return std::nullopt;
}

std::optional<std::string> parse_tzif(std::string_view in, TimeZone::Data& d) {
    Header h;
    if (auto bad = read_header(in, h)) {
        return bad;
    }
    if (h.version == 0) {
        return read_block(in, h, 4, d);
    }
    // Version 2+: skip the 32-bit block; the 64-bit one and the footer follow.
    if (block_size(h, 4) > in.size()) {
        return "truncated";
    }
    in.remove_prefix(block_size(h, 4));
    if (auto bad = read_header(in, h); bad || h.version == 0) {
        return bad ? *bad : "version mismatch";
    }
    if (auto bad = read_block(in, h, 8, d)) {
        return bad;
    }
    return read_footer(in, d);
}

// Only [A-Za-z0-9_+-] segments: no "..", no absolute path, no empty segment.
bool valid_zone_name(std::string_view name) {
    const bool chars_ok = std::all_of(name.begin(), name.end(), [](char c) {
        return ascii_alpha(c) || ascii_digit(c) || c == '_' || c == '-' || c == '+' || c == '/';
    });
    return chars_ok && !name.empty() && name.size() <= k_max_name_length && name.front() != '/' &&
           name.back() != '/' && name.find("//") == std::string_view::npos;
}

// For messages: the name cut short and without control bytes.
std::string printable(std::string_view name) {
    std::string out(name.substr(0, 64));
    std::replace_if(
        out.begin(), out.end(), [](char c) { return c < 0x20 || c == 0x7f; }, '?');
    return name.size() > 64 ? out + "..." : out;
}

std::string zoneinfo_dir() {
    const char* dir = std::getenv("TZDIR");
    return dir != nullptr && *dir != '\0' ? dir : k_default_zoneinfo;
}

} // namespace

TimeZone TimeZone::utc() {
    return fixed(std::chrono::seconds{0}, "UTC");
}

TimeZone TimeZone::fixed(std::chrono::seconds offset, std::string name) {
    auto d = std::make_shared<Data>();
    d->name = std::move(name);
    d->initial_offset = offset.count();
    return TimeZone(std::move(d));
}

namespace {

Result<std::shared_ptr<TimeZone::Data>> load_path(const std::string& path, std::string name) {
    auto bytes = read_file(path, k_max_file_size, true);
    if (!bytes) {
        return err(name + ": " + bytes.error(), bytes.error_code());
    }
    auto d = std::make_shared<TimeZone::Data>();
    if (auto bad = parse_tzif(*bytes, *d)) {
        return err(name + ": not a valid TZif file (" + *bad + ")");
    }
    d->name = std::move(name);
    return d;
}

// The IANA name /etc/localtime links to, for name().
std::string localtime_name() {
    std::string target(4096, '\0');
    const ssize_t n = ::readlink("/etc/localtime", target.data(), target.size());
    target.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    const std::size_t at = target.rfind("zoneinfo/");
    return at == std::string::npos ? "localtime" : target.substr(at + 9);
}

} // namespace

Result<TimeZone> TimeZone::load(std::string_view name) {
    if (!valid_zone_name(name)) {
        return err((name.empty() ? std::string("\"\"") : printable(name)) +
                   ": invalid time zone name");
    }
    auto d = load_path(zoneinfo_dir() + "/" + std::string(name), std::string(name));
    if (!d) {
        return err(d.error(), d.error_code());
    }
    return TimeZone(std::move(*d));
}

Result<TimeZone> TimeZone::from_posix(std::string_view tz) {
    auto rule = PosixParser(tz).parse();
    if (!rule) {
        return err(printable(tz) + ": not a valid POSIX TZ string");
    }
    auto d = std::make_shared<Data>();
    d->name = std::string(tz);
    d->initial_offset = rule->std_offset;
    d->footer = *rule;
    return TimeZone(std::move(d));
}

TimeZone TimeZone::local() {
    const char* env = std::getenv("TZ");
    std::string_view tz = env != nullptr ? env : "";
    if (!tz.empty() && tz.front() == ':') {
        tz.remove_prefix(1);
    }
    if (tz.empty() || tz.front() == '/') {
        const std::string path = tz.empty() ? "/etc/localtime" : std::string(tz);
        auto d = load_path(path, tz.empty() ? localtime_name() : path);
        return d ? TimeZone(std::move(*d)) : utc();
    }
    if (auto zone = load(tz)) {
        return *zone;
    }
    auto zone = from_posix(tz);
    return zone ? *zone : utc();
}

const std::string& TimeZone::name() const {
    return m_data->name;
}

std::chrono::seconds TimeZone::offset_at(TimePoint t) const {
    const Data& d = *m_data;
    const std::int64_t s = floor_div(t.time_since_epoch().count(), 1000);
    const auto it = std::upper_bound(d.transitions.begin(), d.transitions.end(), s);
    if (it == d.transitions.end() && d.footer) {
        return std::chrono::seconds{posix_offset(*d.footer, s)};
    }
    const auto i = static_cast<std::size_t>(it - d.transitions.begin());
    return std::chrono::seconds{i == 0 ? d.initial_offset : d.offsets[i - 1]};
}

CivilTime TimeZone::to_local(TimePoint t) const {
    const std::int64_t s = floor_div(t.time_since_epoch().count(), 1000) + offset_at(t).count();
    const std::int64_t days = floor_div(s, k_secs_per_day);
    const std::int64_t sod = s - days * k_secs_per_day;
    CivilTime c = civil_from_days(static_cast<long>(days));
    c.hour = static_cast<int>(sod / 3600);
    c.minute = static_cast<int>(sod / 60 % 60);
    c.second = static_cast<int>(sod % 60);
    return c;
}

TimePoint TimeZone::from_local(const CivilTime& c) const {
    const std::int64_t local = days_from_civil(c.year, c.month, c.day) * k_secs_per_day +
                               c.hour * 3600LL + c.minute * 60LL + c.second;
    auto offset = [this](std::int64_t s) {
        return offset_at(TimePoint{std::chrono::seconds{s}}).count();
    };
    // The offsets in use within two days either side are the only candidates.
    std::optional<std::int64_t> earliest;
    std::int64_t gap_end = INT64_MIN;
    for (std::int64_t probe : {local - 2 * k_secs_per_day, local, local + 2 * k_secs_per_day}) {
        const std::int64_t utc = local - offset(probe);
        if (offset(utc) == offset(probe)) {
            earliest = std::min(earliest.value_or(utc), utc);
        }
        // In a gap, the offset before the change carries the wall time past it.
        gap_end = std::max(gap_end, local - offset(utc));
    }
    return TimePoint{std::chrono::seconds{earliest.value_or(gap_end)}};
}

} // namespace gt::util
