#pragma once

#include "util/fd.hpp"

#include <cstddef>
#include <map>
#include <sys/types.h>
#include <vector>

namespace gt::proc {

/// A pidfd for `pid` (close-on-exec, as the kernel always makes them); invalid with errno set
/// when the process does not exist (ESRCH), pidfds are not supported (ENOSYS) or descriptors ran
/// out.
util::Fd open_pidfd(pid_t pid);

/// How many descriptors one of the daemon's pidfd users may hold: a quarter of the soft
/// RLIMIT_NOFILE (the daemon never raises it: its children would inherit the raised limit), at
/// most `cap`.
std::size_t pidfd_budget(std::size_t cap);

/// Tells which of many processes have ended in one system call (design §5.3): it keeps a pidfd
/// for each process it is asked about and polls them all at once, where reading
/// /proc/<pid>/stat costs three system calls per process at every heartbeat. Beyond its budget
/// of descriptors, or where pidfds do not exist, it falls back to process_gone(). Not
/// thread-safe: one owner.
class ExitWatch {
public:
    explicit ExitWatch(std::size_t limit) : m_limit(limit) {}

    /// For each of `pids`, true when it has ended (no such process, or a zombie), as
    /// process_gone() answers. Keeps pidfds for exactly these processes afterwards.
    std::vector<bool> ended(const std::vector<pid_t>& pids);

    /// Processes watched through a pidfd now.
    std::size_t size() const { return m_fds.size(); }

private:
    std::size_t m_limit;
    bool m_pidfds = true; ///< false once pidfd_open said it is not there (ENOSYS, EPERM)
    std::map<pid_t, util::Fd> m_fds;
};

} // namespace gt::proc
