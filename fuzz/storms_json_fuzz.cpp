// daemon/storms.json (design §17.3), which the daemon reads at start: never a crash; a bad file
// is an error naming it; what is read is written back as text that reads as the same.
#include "executor/storm_memory.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static bool quiet = (gt::fuzz::quiet_logs(), true);
    (void)quiet;
    auto storms =
        gt::executor::parse_storms(std::string(gt::fuzz::text_of(data, size)), "storms.json");
    if (!storms) {
        GT_FUZZ_CHECK(storms.error().find("storms.json") != std::string::npos, storms.error());
        return 0;
    }
    const std::string text = gt::executor::storms_json(*storms);
    auto again = gt::executor::parse_storms(text, "storms.json");
    GT_FUZZ_CHECK(again.ok(), again.error() + "\n" + text);
    GT_FUZZ_CHECK(gt::executor::storms_json(*again) == text, text);
    return 0;
}
