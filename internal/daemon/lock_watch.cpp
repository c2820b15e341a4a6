#include "lock_watch.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#include <sys/vfs.h>
#endif

namespace gt::daemon {

namespace {

#ifdef __linux__
/// The kind of file system at `path` when it is one where inotify sees only this machine's
/// changes (a network file system, or FUSE, which may be one): "" otherwise.
std::string remote_file_system(const std::string& path) {
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) != 0) {
        return "";
    }
    switch (static_cast<unsigned long>(fs.f_type)) {
    case 0x6969:
        return "NFS";
    case 0xFF534D42:
        return "CIFS";
    case 0xFE534D42:
        return "SMB2";
    case 0x517B:
        return "SMB";
    case 0x65735546:
        return "FUSE";
    case 0x00C36400:
        return "Ceph";
    case 0x01021997:
        return "9P";
    case 0x5346414F:
        return "AFS";
    default:
        return "";
    }
}
#endif

} // namespace

LockWatch::LockWatch(asio::io_context& io, std::function<bool()> still_ours,
                     std::function<void()> lost)
    : m_io(io), m_still_ours(std::move(still_ours)), m_lost(std::move(lost)), m_timer(io) {}

LockWatch::~LockWatch() {
    stop();
}

bool LockWatch::start(const std::vector<std::string>& paths, std::string& why) {
#ifdef __linux__
    int fd = -1;
    if (auto kind = paths.empty() ? "" : remote_file_system(paths[0]); !kind.empty()) {
        why = paths[0] + " is on " + kind + ", where inotify does not see other machines' changes";
    } else if (fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC); fd < 0) {
        why = std::string("inotify: ") + std::strerror(errno);
    } else {
        m_inotify = std::make_unique<asio::posix::stream_descriptor>(m_io, fd);
        for (std::size_t i = 0; i < paths.size() && why.empty(); ++i) {
            // The lock file's link count moves (IN_ATTRIB) when it is unlinked or renamed over;
            // a directory is gone or elsewhere once it is deleted or moved.
            uint32_t mask = IN_DELETE_SELF | IN_MOVE_SELF | (i == 0 ? IN_ATTRIB : 0u);
            if (::inotify_add_watch(fd, paths[i].c_str(), mask) < 0) {
                why = "inotify watch on " + paths[i] + ": " + std::strerror(errno);
            }
        }
        if (why.empty()) {
            wait_event();
            // What happened before the watches were in place is seen now.
            asio::post(m_io, [this] {
                if (!m_stopped) {
                    check();
                }
            });
            return true;
        }
        boost::system::error_code ignored;
        m_inotify->close(ignored);
        m_inotify.reset();
    }
#else
    (void)paths;
    why = "no inotify on this system";
#endif
    poll_every_second();
    return false;
}

void LockWatch::stop() {
    m_stopped = true;
    m_timer.cancel();
    if (m_inotify) {
        boost::system::error_code ignored;
        m_inotify->close(ignored);
    }
}

void LockWatch::wait_event() {
    m_inotify->async_wait(
        asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
            if (ec || m_stopped) {
                return;
            }
            // Which event does not matter: each one is a reason to look.
            std::array<char, 4096> buf;
            while (::read(m_inotify->native_handle(), buf.data(), buf.size()) > 0) {
            }
            check();
            if (!m_stopped) {
                wait_event();
            }
        });
}

void LockWatch::poll_every_second() {
    m_timer.expires_after(std::chrono::seconds(1));
    m_timer.async_wait([this](const boost::system::error_code& ec) {
        if (ec || m_stopped) {
            return;
        }
        check();
        if (!m_stopped) {
            poll_every_second();
        }
    });
}

void LockWatch::check() {
    ++m_checks;
    if (!m_still_ours()) {
        m_stopped = true;
        m_lost();
    }
}

} // namespace gt::daemon
