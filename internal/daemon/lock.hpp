#pragma once

#include "util/fd.hpp"
#include "util/result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>

namespace gt::daemon {

/// The daemon's single-instance lock: `daemon/daemon.lock` held with flock(LOCK_EX) for the
/// daemon's whole life. Only `gt daemon run` ever takes it, so whoever holds it is the daemon:
/// commands read the holder from /proc/locks and never lock it themselves. Opened close-on-exec;
/// the file is never deleted (deleting it would let a second daemon lock a new inode while the
/// first still holds the old one).
class DaemonLock {
public:
    /// Tries to take the lock, retrying a few times over ~100 ms. Fails with error_code()
    /// EWOULDBLOCK when another process holds it; refuses a lock path that is not a regular file.
    static util::Result<DaemonLock> acquire(const std::string& path);

    DaemonLock(DaemonLock&&) = default;
    DaemonLock& operator=(DaemonLock&&) = default;
    /// Releases the lock (closing the descriptor releases it too).
    void release();
    int fd() const { return m_fd.get(); }
    /// True while `path` still names the file this lock is held on. False once the file or its
    /// directory was deleted or replaced: a second daemon could then lock the new file.
    bool still_at(const std::string& path) const;

private:
    explicit DaemonLock(util::Fd fd) : m_fd(std::move(fd)) {}
    util::Fd m_fd;
};

/// How long lock_holder() waits for a holder that is no longer alive to let go.
inline constexpr std::chrono::milliseconds k_exiting_holder_wait{2000};

/// Who holds the lock at `path`: nullopt when nobody does; otherwise the holder's pid, read
/// from /proc/locks (0 when the lock is held but the holder cannot be named). The entry is
/// matched by the lock file's inode number and, where /proc/locks names another device than
/// stat() does (btrfs, an overlayfs over several file systems), by the holder's open
/// descriptors. Only an exclusive lock counts: a shared probe is never taken for the daemon.
/// Takes no lock itself unless /proc cannot tell (then a shared probe, let go at once). A holder
/// that is dead or a zombie (a daemon just killed, its last threads still exiting) is waited
/// for, at most k_exiting_holder_wait.
std::optional<pid_t> lock_holder(const std::string& path);

/// A daemon of `town` (other than us) that holds an exclusive lock on another file than the one
/// now at `path`: a daemon whose `daemon/` was deleted, renamed or replaced under it. Known by
/// the lock it holds on the deleted file that was at `path`, or by its command line
/// (`… daemon run … --town <town>`). nullopt when there is none.
std::optional<pid_t> lost_daemon(const std::string& path, const std::string& town);

} // namespace gt::daemon
