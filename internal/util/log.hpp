#pragma once

#include "result.hpp"

#include <cstdint>
#include <string>

namespace gt::util {

/// Points spdlog's default logger at `path` through a close-on-exec RotatingFile.
/// Also echoes to stderr when `also_stderr` is set (foreground `gt daemon run`).
Status init_file_logging(const std::string& path, std::uint64_t max_size, int max_files,
                         bool also_stderr);

/// Points spdlog's default logger at stderr only (commands other than the daemon).
void init_stderr_logging();

} // namespace gt::util
