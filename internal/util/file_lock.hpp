#pragma once

#include "fd.hpp"
#include "result.hpp"
#include "time.hpp"

#include <string>
#include <sys/types.h>

namespace gt::util {

/// An exclusive flock(2) on a lock file, held until destruction. The file is created (with
/// `mode`) when missing and never deleted: deleting it would let a second locker lock a new
/// inode while the first still holds the old one. Non-copyable; the descriptor is close-on-exec,
/// so a child process never inherits the lock.
class FileLock {
public:
    /// Opens (creating) `path` and waits until the exclusive lock is granted, at most `timeout`
    /// (then an error: a stopped holder must never stall the daemon).
    static Result<FileLock> acquire(const std::string& path, mode_t mode = 0600,
                                    Millis timeout = Millis(10'000));

    FileLock(FileLock&&) = default;
    FileLock& operator=(FileLock&&) = default;
    /// Releasing is closing the descriptor.
    ~FileLock() = default;

private:
    explicit FileLock(Fd fd) : m_fd(std::move(fd)) {}
    Fd m_fd;
};

} // namespace gt::util
