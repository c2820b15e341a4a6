// RFC 3339 times, as agents, requests and gt's own files carry them: what parses formats back
// to text that parses to the same instant.
#include "fuzz_support.hpp"
#include "util/time.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = gt::fuzz::text_of(data, size);
    auto t = gt::util::parse_time(text);
    if (!t) {
        return 0;
    }
    std::string formatted = gt::util::format_time(*t);
    auto again = gt::util::parse_time(formatted);
    GT_FUZZ_CHECK(again.ok(), formatted + " from '" + std::string(text) + "'");
    GT_FUZZ_CHECK(*again == *t, formatted + " from '" + std::string(text) + "'");
    return 0;
}
