#include "lock.hpp"

#include "util/file.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>

namespace gt::daemon {

util::Result<DaemonLock> DaemonLock::acquire(const std::string& path) {
    util::Fd fd = util::open_cloexec(path, O_RDWR | O_CREAT, 0600);
    if (!fd) {
        int e = errno;
        return util::err("cannot open " + path + ": " + util::errno_text(e), e);
    }
    for (int attempt = 0;; ++attempt) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            return DaemonLock(std::move(fd));
        }
        int e = errno;
        if (e == EINTR) {
            continue;
        }
        if (e != EWOULDBLOCK || attempt >= 5) {
            return util::err("cannot lock " + path + ": " + util::errno_text(e), e);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void DaemonLock::release() {
    if (m_fd) {
        ::flock(m_fd.get(), LOCK_UN);
        m_fd.reset();
    }
}

std::optional<pid_t> lock_holder(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::nullopt; // no lock file: nobody ever ran here
    }
    auto locks = util::read_file("/proc/locks", 16 * 1024 * 1024);
    if (locks) {
        char id[64];
        std::snprintf(id, sizeof id, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                      static_cast<unsigned long>(st.st_ino));
        std::istringstream in(*locks);
        std::string line;
        while (std::getline(in, line)) {
            // "1: FLOCK  ADVISORY  WRITE 1906 fe:00:10952789 0 EOF"; "->" marks waiters.
            std::istringstream fields(line);
            std::string num, kind, mode, access, pid, dev;
            fields >> num >> kind;
            if (kind == "->") {
                continue;
            }
            fields >> mode >> access >> pid >> dev;
            if (kind == "FLOCK" && dev == id) {
                return static_cast<pid_t>(std::strtol(pid.c_str(), nullptr, 10));
            }
        }
        return std::nullopt;
    }
    // No /proc/locks: fall back to a probe with the lock itself.
    util::Fd fd = util::open_cloexec(path, O_RDONLY);
    if (!fd) {
        return std::nullopt;
    }
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) {
        return std::nullopt;
    }
    return 0;
}

bool with_lock_held(const std::string& path, const std::function<void()>& fn) {
    util::Fd fd = util::open_cloexec(path, O_RDWR | O_CREAT, 0600);
    if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        return false;
    }
    fn();
    ::flock(fd.get(), LOCK_UN);
    return true;
}

} // namespace gt::daemon
