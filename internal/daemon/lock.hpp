#pragma once

#include "util/fd.hpp"
#include "util/result.hpp"

#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>

namespace gt::daemon {

/// The daemon's single-instance lock: `daemon/daemon.lock` held with flock(LOCK_EX) for the
/// daemon's whole life. Opened close-on-exec; the file is never deleted (deleting it would let a
/// second daemon lock a new inode while the first still holds the old one).
class DaemonLock {
public:
    /// Tries to take the lock, retrying a few times over ~100 ms so that a concurrent probe
    /// holding it for a moment cannot make a start fail. Fails with error_code() EWOULDBLOCK
    /// when another process holds it.
    static util::Result<DaemonLock> acquire(const std::string& path);

    DaemonLock(DaemonLock&&) = default;
    DaemonLock& operator=(DaemonLock&&) = default;
    /// Releases the lock (closing the descriptor releases it too).
    void release();
    int fd() const { return m_fd.get(); }

private:
    explicit DaemonLock(util::Fd fd) : m_fd(std::move(fd)) {}
    util::Fd m_fd;
};

/// Who holds the lock at `path`: nullopt when nobody does; otherwise the holder's pid, read
/// from /proc/locks (0 when the lock is held but the holder cannot be named). Takes no lock
/// itself, so it never disturbs a daemon that is starting.
std::optional<pid_t> lock_holder(const std::string& path);

/// Runs `fn` while holding the lock briefly (for cleaning up after a dead daemon). Returns
/// false without running it when the lock is held by someone else.
bool with_lock_held(const std::string& path, const std::function<void()>& fn);

} // namespace gt::daemon
