#include "clock.hpp"

#include "file.hpp"

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace gt::util {

namespace {

Millis read_clock(clockid_t id) {
    timespec ts{};
    if (::clock_gettime(id, &ts) != 0) {
        return Millis(0);
    }
    return Millis(static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000);
}

Millis read_skew_file(const char* path) {
    auto text = read_file(path, 64);
    if (!text) {
        return Millis(0);
    }
    std::string_view s = *text;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.remove_suffix(1);
    }
    bool negative = !s.empty() && s.front() == '-';
    if (negative) {
        s.remove_prefix(1);
    }
    auto d = parse_duration(s);
    if (!d) {
        return Millis(0);
    }
    return negative ? -*d : *d;
}

} // namespace

Millis test_wall_skew() {
    static const char* path = [] {
        const char* p = std::getenv("GT_TEST_CLOCK_SKEW_FILE");
        return p && *p ? p : nullptr;
    }();
    if (!path) {
        return Millis(0);
    }
    static std::mutex mutex;
    static Millis skew{0};
    static Millis read_at{-1000};
    std::lock_guard<std::mutex> lock(mutex);
    Millis mono = read_clock(CLOCK_MONOTONIC);
    if (mono - read_at >= Millis(50)) {
        skew = read_skew_file(path);
        read_at = mono;
    }
    return skew;
}

ClockReading read_clocks() {
    ClockReading r;
    r.monotonic = read_clock(CLOCK_MONOTONIC);
    r.boottime = read_clock(CLOCK_BOOTTIME);
    r.wall = now();
    return r;
}

} // namespace gt::util
