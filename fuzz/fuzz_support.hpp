#pragma once
// What every fuzz target shares: a property check that stops the run with the input saved,
// quiet logs, and a scratch directory for the parsers that read files.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gt::fuzz {

/// A broken promise: prints what and the detail, then aborts, so that libFuzzer keeps the input
/// as a crash.
[[noreturn]] void fail(const char* file, int line, const char* what, std::string_view detail);

/// The fuzzer's bytes as text.
inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// Turns off spdlog: the parsers log what they skip, a million times in a run.
void quiet_logs();

/// A private directory for this process under $TMPDIR (else /tmp), made on first use.
/// scripts/fuzz.sh points TMPDIR at a directory it removes afterwards.
const std::string& scratch_dir();

/// Replaces the file at `path` with `data`.
void write_text(const std::string& path, std::string_view data);

/// Whether `s` is valid UTF-8 (what nlohmann::json::dump() needs, unless told to replace).
bool valid_utf8(std::string_view s);

} // namespace gt::fuzz

/// Checks a promise of the code under test; `detail` (a string) says what was seen.
#define GT_FUZZ_CHECK(cond, detail)                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ::gt::fuzz::fail(__FILE__, __LINE__, #cond, (detail));                                 \
        }                                                                                          \
    } while (0)
