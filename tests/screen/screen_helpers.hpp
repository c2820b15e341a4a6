#pragma once

// Helpers of the screen-reading tests: the fixtures, a built-in matcher, checks on readings.
#include "screen/screen.hpp"
#include "support/paths.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace gt::screen_test {

using namespace gt::screen;

inline util::TimePoint utc_at(int y, int mo, int d, int h = 0, int mi = 0) {
    return util::TimePoint{
        std::chrono::seconds{util::days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L}};
}

// The captures were taken at about this time.
inline ReadContext capture_ctx() {
    ReadContext ctx;
    ctx.now = utc_at(2026, 11, 23, 20, 0);
    return ctx;
}

inline std::string fixture(const std::string& name) {
    std::ifstream in(std::string(GT_FIXTURES_DIR) + "/agent-screens/" + name + ".txt",
                     std::ios::binary);
    EXPECT_TRUE(in.good()) << "missing fixture " << name;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

inline const Matcher& builtin_matcher() {
    static const Matcher m = *Matcher::make({});
    return m;
}

inline std::vector<Reading> live(std::string_view screen, AgentKind kind = AgentKind::generic) {
    return builtin_matcher().read_live(screen, kind, capture_ctx());
}

inline std::optional<Reading> find(const std::vector<Reading>& readings, Condition c) {
    for (const Reading& r : readings) {
        if (r.condition == c) {
            return r;
        }
    }
    return std::nullopt;
}

inline Condition first(const std::vector<Reading>& readings) {
    return readings.empty() ? Condition::unknown : readings.front().condition;
}

inline bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = b < 0x80         ? 1
                        : (b >> 5) == 6  ? 2
                        : (b >> 4) == 14 ? 3
                        : (b >> 3) == 30 ? 4
                                         : 0;
        if (n == 0 || i + n > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

inline void expect_sane(const std::vector<Reading>& readings) {
    for (const Reading& r : readings) {
        EXPECT_LE(r.evidence.size(), 200u);
        EXPECT_TRUE(valid_utf8(r.evidence)) << r.evidence;
    }
}

} // namespace gt::screen_test
