#pragma once

#include "util/result.hpp"

#include <string>
#include <vector>

namespace gt::state {

/// Splits a command string into words the way a POSIX shell does, but without any expansion:
/// the command runs without a shell, so what only a shell could carry out is refused rather
/// than passed on as literal text. Errors say what, and where (positions count from 1).
util::Result<std::vector<std::string>> split_words(const std::string& s);

} // namespace gt::state
