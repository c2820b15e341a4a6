#pragma once
// Small text helpers shared by the command line and the daemon.

#include <string>

namespace gt::util {

/// The environment variable `name`, or `fallback` when it is unset or empty.
std::string env_or(const char* name, const std::string& fallback = "");

/// `text` as one word for a POSIX shell (and bash's array syntax): unchanged when it holds only
/// characters no shell treats specially, else single-quoted.
std::string shell_word(const std::string& text);

} // namespace gt::util
