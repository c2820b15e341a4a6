// Agent commands written as a string in town.json (design §8): split like a shell without
// expansion, and words that were split, quoted back, split to the same words.
#include "fuzz_support.hpp"
#include "state/command_words.hpp"

namespace {

/// Single-quotes `word` for a POSIX shell: `'it'\''s'`.
std::string quote(const std::string& word) {
    std::string out = "'";
    for (char c : word) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(gt::fuzz::text_of(data, size));
    auto words = gt::state::split_words(text);
    if (!words) {
        return 0;
    }
    std::string quoted;
    for (const auto& w : *words) {
        quoted += (quoted.empty() ? "" : " ") + quote(w);
    }
    auto again = gt::state::split_words(quoted);
    GT_FUZZ_CHECK(again.ok(), again.error() + ": " + quoted);
    GT_FUZZ_CHECK(*again == *words, quoted);
    return 0;
}
