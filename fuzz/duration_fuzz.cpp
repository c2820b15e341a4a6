// Durations and sizes of town.json (design §8): what parses is in range and formats back to
// text that parses to the same value.
#include "fuzz_support.hpp"
#include "util/time.hpp"

#include <chrono>

using namespace std::chrono_literals;
using gt::util::Millis;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = gt::fuzz::text_of(data, size);
    if (auto d = gt::util::parse_duration(text)) {
        std::string shown = std::to_string(d->count()) + "ms from '" + std::string(text) + "'";
        GT_FUZZ_CHECK(*d >= 0ms && *d <= std::chrono::hours(24 * 1000), shown);
        std::string formatted = gt::util::format_duration(*d);
        auto again = gt::util::parse_duration(formatted);
        GT_FUZZ_CHECK(again.ok(), formatted + " of " + shown);
        // Exact below an hour; from an hour on the milliseconds are left out.
        Millis expected = *d < 1h ? *d : *d - *d % 1000;
        GT_FUZZ_CHECK(*again == expected, formatted + " of " + shown);
    }
    if (auto n = gt::util::parse_size(text)) {
        // The number times its unit, never wrapped: `<digits><unit>` by the book.
        std::size_t digits = text.find_first_not_of("0123456789");
        digits = digits == std::string_view::npos ? text.size() : digits;
        unsigned __int128 value = 0;
        for (char c : text.substr(0, digits)) {
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        std::string_view unit = text.substr(digits);
        unsigned __int128 scale = unit == "KiB" || unit == "K"   ? 1024
                                  : unit == "MiB" || unit == "M" ? 1024 * 1024
                                  : unit == "GiB" || unit == "G" ? 1024 * 1024 * 1024
                                  : unit == "KB"                 ? 1000
                                  : unit == "MB"                 ? 1000 * 1000
                                  : unit == "GB"                 ? 1000 * 1000 * 1000
                                                                 : 1;
        GT_FUZZ_CHECK(*n == value * scale,
                      std::to_string(*n) + " from '" + std::string(text) + "'");
    }
    return 0;
}
