// daemon/screens.json (design §16.6), which the daemon reads at start: never a crash; entries of
// the wrong shape are skipped; what is kept is written back as text that reads as the same.
#include "executor/screen_memory.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static bool quiet = (gt::fuzz::quiet_logs(), true);
    (void)quiet;
    std::vector<std::string> skipped;
    auto states = gt::executor::parse_screens(std::string(gt::fuzz::text_of(data, size)),
                                              "screens.json", &skipped);
    if (!states) {
        GT_FUZZ_CHECK(states.error().find("screens.json") != std::string::npos, states.error());
        return 0;
    }
    const std::string text = gt::executor::screens_json(*states);
    std::vector<std::string> skipped_again;
    auto again = gt::executor::parse_screens(text, "screens.json", &skipped_again);
    GT_FUZZ_CHECK(again.ok(), again.error() + "\n" + text);
    GT_FUZZ_CHECK(skipped_again.empty(), skipped_again.front() + "\n" + text);
    GT_FUZZ_CHECK(gt::executor::screens_json(*again) == text, text);
    return 0;
}
