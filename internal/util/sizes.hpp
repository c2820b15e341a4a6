#pragma once
// Size limits shared across the libraries; no other dependency, so any header may include it.

#include <cstddef>

namespace gt::util {

/// The cap on every file gt reads (design §2): larger files are never trusted.
inline constexpr std::size_t k_max_file_size = 1024 * 1024;

/// 64 KiB: the cap on what is small by nature (a lifecycle request, a control-socket line, a
/// /proc file), and the block size of reads done in pieces.
inline constexpr std::size_t k_small_read_size = 64 * 1024;

} // namespace gt::util
