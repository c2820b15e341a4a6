#pragma once

#include "util/asio.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gt::daemon {

/// Tells the daemon when `daemon/daemon.lock` may no longer name the file it holds the lock on
/// (daemon/ deleted, renamed or replaced; the lock file unlinked or renamed over), so that it
/// stops before a second daemon can lock a new file (design §5.1). inotify watches the lock
/// file (its link count), daemon/ and the town root (each moved or deleted): an idle daemon
/// wakes for none of its own writes and for nothing at all while nobody touches them. Where
/// inotify is missing, its watches ran out, or the lock file is on a network file system (or
/// FUSE), where inotify sees only this machine's changes, it checks once a second instead.
/// Ancestors above
/// the town root are not watched: the heartbeat checks the lock path too. Lives on the loop's
/// thread.
class LockWatch {
public:
    /// `still_ours()` is asked after each event (or each second); `lost()` runs once when it
    /// says no.
    LockWatch(asio::io_context& io, std::function<bool()> still_ours, std::function<void()> lost);
    ~LockWatch();
    LockWatch(const LockWatch&) = delete;
    LockWatch& operator=(const LockWatch&) = delete;

    /// Starts watching `paths` (the lock file first). Returns false when it fell back to the
    /// one-second check, with why in `why`.
    bool start(const std::vector<std::string>& paths, std::string& why);
    void stop();
    /// Checks done so far (after events, or by the clock when polling).
    std::uint64_t checks() const { return m_checks; }

private:
    void wait_event();
    void poll_every_second();
    void check();

    asio::io_context& m_io;
    std::function<bool()> m_still_ours;
    std::function<void()> m_lost;
    std::unique_ptr<asio::posix::stream_descriptor> m_inotify;
    asio::steady_timer m_timer;
    bool m_stopped = false;
    std::uint64_t m_checks = 0;
};

} // namespace gt::daemon
