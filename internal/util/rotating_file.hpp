#pragma once

#include "fd.hpp"
#include "result.hpp"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace gt::util {

/// An append-only file that rotates to `path.1` … `path.N` when it would exceed `max_size`.
/// Opened close-on-exec, mode 0600 (unlike spdlog's own file sinks, which the tmux server
/// would inherit). Thread-safe.
class RotatingFile {
public:
    RotatingFile(std::string path, std::uint64_t max_size, int max_files);
    RotatingFile(const RotatingFile&) = delete;
    RotatingFile& operator=(const RotatingFile&) = delete;

    /// Opens (creating) the file. Must succeed before append() writes anything.
    Status open();
    /// Appends `data` (one or more whole lines), rotating first when it would not fit.
    void append(std::string_view data);
    /// fsyncs the current file.
    void flush();
    const std::string& path() const { return m_path; }

private:
    void rotate_locked();

    std::mutex m_mutex;
    std::string m_path;
    std::uint64_t m_max_size;
    int m_max_files;
    Fd m_fd;
    std::uint64_t m_size = 0;
    std::chrono::steady_clock::time_point m_next_reopen{}; ///< while m_fd is closed
};

} // namespace gt::util
