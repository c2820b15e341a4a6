#include "patterns.hpp"

#include <array>

namespace gt::screen::detail {

namespace {

constexpr std::array<std::string_view, 12> k_months = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};
constexpr std::array<std::string_view, 7> k_weekdays = {
    "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

// 1 for am, 2 for pm, 0 for neither ("pm", "p.m.", "PM").
int meridiem(Cursor& c) {
    std::size_t start = c.pos;
    char ap = c.peek();
    if (ap == 'a' || ap == 'p') {
        ++c.pos;
        if (c.peek() == '.') {
            ++c.pos;
        }
        if (c.peek() == 'm' && !is_alpha(c.peek(1))) {
            ++c.pos;
            if (c.peek() == '.') {
                ++c.pos;
            }
            return ap == 'a' ? 1 : 2;
        }
    }
    c.pos = start;
    return 0;
}

std::optional<int> month_named(std::string_view token) {
    for (std::size_t i = 0; i < k_months.size(); ++i) {
        if (token == k_months[i] || token == k_months[i].substr(0, 3) ||
            (i == 8 && token == "sept")) {
            return static_cast<int>(i) + 1;
        }
    }
    return std::nullopt;
}

std::optional<int> weekday_named(std::string_view token) {
    for (std::size_t i = 0; i < k_weekdays.size(); ++i) {
        if (token == k_weekdays[i] || token == k_weekdays[i].substr(0, 3) ||
            (token.size() == 4 && k_weekdays[i].starts_with(token))) {
            return static_cast<int>(i);
        }
    }
    return std::nullopt;
}

void skip_date_separators(Cursor& c) {
    while (true) {
        c.skip_spaces();
        if (c.peek() == ',' || c.peek() == '.') {
            ++c.pos;
        } else if (!c.word("at") && !c.word("on")) {
            return;
        }
    }
}

void skip_ordinal(Cursor& c) {
    for (std::string_view suffix : {"st", "nd", "rd", "th"}) {
        if (c.word(suffix)) {
            return;
        }
    }
}

// "nov 26", "november 26th, 2026", "26 nov", "2026-11-26".
bool parse_calendar(Cursor& c, DateSpec& d) {
    std::size_t start = c.pos;
    if (auto y = c.digits(4, 4); y && c.peek() == '-') {
        ++c.pos;
        auto m = c.digits(2, 2);
        auto day = m && c.peek() == '-' ? (++c.pos, c.digits(2, 2)) : std::nullopt;
        if (day) {
            d.year = y;
            d.month = *m;
            d.day = *day;
            if (c.peek() == 't') {
                ++c.pos;
            }
            return true;
        }
    }
    c.pos = start;
    auto month = month_named(c.letters());
    if (month) {
        if (c.peek() == '.') {
            ++c.pos;
        }
        c.skip_spaces();
        auto day = c.digits(1, 2);
        if (!day) {
            c.pos = start;
            return false;
        }
        d.month = *month;
        d.day = *day;
        skip_ordinal(c);
        std::size_t after_day = c.pos;
        c.skip_spaces();
        if (c.peek() == ',') {
            ++c.pos;
            c.skip_spaces();
        }
        if (auto y = c.digits(4, 4)) {
            d.year = y;
        } else {
            c.pos = after_day;
        }
        return true;
    }
    c.pos = start;
    auto day = c.digits(1, 2);
    if (day) {
        skip_ordinal(c);
        c.skip_spaces();
        if (auto m = month_named(c.letters())) {
            d.month = *m;
            d.day = *day;
            return true;
        }
    }
    c.pos = start;
    return false;
}

} // namespace

std::optional<Clock> parse_clock(Cursor& c) {
    std::size_t start = c.pos;
    auto hour = c.digits(1, 2);
    if (!hour) {
        return std::nullopt;
    }
    Clock t{*hour, 0, 0};
    bool colon = c.peek() == ':' && is_digit(c.peek(1));
    if (colon) {
        ++c.pos;
        t.minute = c.digits(2, 2).value_or(99); // "9:5pm" is no time
        if (c.peek() == ':' && is_digit(c.peek(1))) {
            ++c.pos;
            t.second = c.digits(2, 2).value_or(99);
        }
    }
    std::size_t before = c.pos;
    c.skip_spaces();
    int ap = meridiem(c);
    if (ap == 0) {
        c.pos = before;
    }
    bool valid = ap != 0 ? t.hour >= 1 && t.hour <= 12 : colon && t.hour <= 23;
    if (!valid || t.minute > 59 || t.second > 59) {
        c.pos = start;
        return std::nullopt;
    }
    if (ap != 0) {
        t.hour = t.hour % 12 + (ap == 2 ? 12 : 0);
    }
    return t;
}

bool parse_date(Cursor& c, DateSpec& d) {
    bool any = false;
    for (int part = 0; part < 3; ++part) {
        std::size_t start = c.pos;
        std::string_view token = c.letters();
        if (token == "tomorrow") {
            d.day_offset = 1;
        } else if (auto wd = weekday_named(token)) {
            d.weekday = wd;
        } else if (token != "today" && token != "tonight") {
            c.pos = start;
            if (!parse_calendar(c, d)) {
                break;
            }
        }
        any = true;
        if (c.peek() == '.' && !is_digit(c.peek(1))) {
            ++c.pos; // "Nov." or a trailing full stop
        }
        skip_date_separators(c);
    }
    return any;
}

bool parse_date_after(Cursor& c, DateSpec& d) {
    std::size_t start = c.pos;
    skip_date_separators(c);
    if (parse_date(c, d)) {
        return true;
    }
    c.pos = start;
    return false;
}

} // namespace gt::screen::detail
