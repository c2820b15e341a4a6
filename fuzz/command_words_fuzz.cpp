// Agent commands written as a string in town.json (design §8): split like a shell without
// expansion, and words that were split, quoted back (util::shell_word), split to the same words.
#include "fuzz_support.hpp"
#include "state/command_words.hpp"
#include "util/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(gt::fuzz::text_of(data, size));
    auto words = gt::state::split_words(text);
    if (!words) {
        return 0;
    }
    std::string quoted;
    for (const auto& w : *words) {
        quoted += (quoted.empty() ? "" : " ") + gt::util::shell_word(w);
    }
    auto again = gt::state::split_words(quoted);
    GT_FUZZ_CHECK(again.ok(), again.error() + ": " + quoted);
    GT_FUZZ_CHECK(*again == *words, quoted);
    return 0;
}
