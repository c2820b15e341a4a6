#pragma once

#include "util/result.hpp"

#include <string>
#include <sys/types.h>

namespace gt::daemon {

/// Contents of daemon/daemon.pid: the PID and, to defend against PID reuse, its start time
/// (field 22 of /proc/<pid>/stat; 0 when the file held a bare PID).
struct PidInfo {
    pid_t pid = 0;
    unsigned long long start_time = 0;

    /// True when `pid` is alive and, if a start time was recorded, started at that time.
    bool matches_live_process() const;
};

/// Writes the PID file for the current process, atomically, mode 0600.
util::Status write_pid_file(const std::string& path);

/// Reads a PID file; accepts a bare PID. Fails when missing or malformed.
util::Result<PidInfo> read_pid_file(const std::string& path);

} // namespace gt::daemon
