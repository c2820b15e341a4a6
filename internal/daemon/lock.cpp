#include "lock.hpp"

#include "proc/process.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace gt::daemon {

namespace {

/// One exclusive flock from /proc/locks.
struct FlockEntry {
    pid_t pid = 0;
    std::string dev_ino; ///< "fe:00:10952789", as /proc/locks spells it
};

/// Every exclusive (WRITE) flock in /proc/locks; nullopt when it cannot be read.
std::optional<std::vector<FlockEntry>> exclusive_flocks() {
    auto locks = util::read_file("/proc/locks", 16 * 1024 * 1024);
    if (!locks) {
        return std::nullopt;
    }
    std::vector<FlockEntry> out;
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
        if (kind == "FLOCK" && access == "WRITE") {
            out.push_back({static_cast<pid_t>(std::strtol(pid.c_str(), nullptr, 10)), dev});
        }
    }
    return out;
}

std::string dev_ino(const struct stat& st) {
    char id[64];
    std::snprintf(id, sizeof id, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long>(st.st_ino));
    return id;
}

/// True when one of `pid`'s descriptors is `target` (as the kernel names a deleted file).
bool has_open(pid_t pid, const std::string& target) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    auto fds = util::list_dir(dir);
    if (!fds) {
        return false;
    }
    char buf[PATH_MAX];
    for (const auto& e : *fds) {
        std::string link = dir + "/" + e.name;
        ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
        if (n > 0 && std::string(buf, static_cast<std::size_t>(n)) == target) {
            return true;
        }
    }
    return false;
}

/// True when `pid`'s command line is `gt … daemon run … --town <town>`.
bool runs_daemon_of(pid_t pid, const std::string& town) {
    auto cmdline =
        util::read_file("/proc/" + std::to_string(pid) + "/cmdline", util::k_small_read_size);
    if (!cmdline) {
        return false;
    }
    std::vector<std::string> args;
    std::size_t start = 0;
    while (start < cmdline->size()) {
        auto end = cmdline->find('\0', start);
        end = end == std::string::npos ? cmdline->size() : end;
        args.push_back(cmdline->substr(start, end - start));
        start = end + 1;
    }
    bool run = false, ours = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        run = run || (args[i] == "run" && args[i - 1] == "daemon");
        ours = ours || (args[i - 1] == "--town" && args[i] == town) || args[i] == "--town=" + town;
    }
    return run && ours;
}

} // namespace

util::Result<DaemonLock> DaemonLock::acquire(const std::string& path) {
    auto opened = util::open_regular(path, O_RDWR | O_CREAT, 0600);
    if (!opened) {
        return util::err("cannot open " + opened.error(), opened.error_code());
    }
    util::Fd fd = std::move(*opened);
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

bool DaemonLock::still_at(const std::string& path) const {
    struct stat held {
    }, named{};
    if (!m_fd || ::fstat(m_fd.get(), &held) != 0) {
        return false;
    }
    return ::stat(path.c_str(), &named) == 0 && named.st_dev == held.st_dev &&
           named.st_ino == held.st_ino;
}

namespace {

/// Reads /proc/locks into `holder`: the pid of the exclusive flock on `dev_ino`, or nullopt.
/// False when /proc/locks cannot be read.
bool exclusive_flock_of(const std::string& dev_ino, std::optional<pid_t>& holder) {
    auto flocks = exclusive_flocks();
    if (!flocks) {
        return false;
    }
    holder.reset();
    for (const auto& f : *flocks) {
        if (f.dev_ino == dev_ino) {
            holder = f.pid;
            break;
        }
    }
    return true;
}

} // namespace

std::optional<pid_t> lock_holder(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::nullopt; // no lock file: nobody ever ran here
    }
    const std::string id = dev_ino(st);
    std::optional<pid_t> holder;
    if (exclusive_flock_of(id, holder)) {
        // A daemon killed a moment ago can be a zombie already while its other threads, and so
        // its descriptors and the lock, are still going: wait for that rather than report a
        // dead process as the running daemon.
        const auto deadline = std::chrono::steady_clock::now() + k_exiting_holder_wait;
        while (holder && *holder > 0 && !proc::process_alive(*holder) &&
               std::chrono::steady_clock::now() < deadline && exclusive_flock_of(id, holder)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return holder;
    }
    // No /proc/locks: fall back to a shared probe, which never looks like the daemon's lock.
    auto fd = util::open_regular(path, O_RDONLY);
    if (!fd) {
        return std::nullopt;
    }
    if (::flock(fd->get(), LOCK_SH | LOCK_NB) == 0) {
        return std::nullopt;
    }
    return 0;
}

std::optional<pid_t> lost_daemon(const std::string& path, const std::string& town) {
    auto flocks = exclusive_flocks();
    if (!flocks) {
        return std::nullopt;
    }
    struct stat st {};
    std::string current = ::stat(path.c_str(), &st) == 0 ? dev_ino(st) : "";
    // The kernel names the file by the path it was opened at, symlinks resolved.
    std::vector<std::string> names{path + " (deleted)"};
    if (char* dir = ::realpath(util::dir_name(path).c_str(), nullptr)) {
        names.push_back(std::string(dir) + "/" + path.substr(path.rfind('/') + 1) + " (deleted)");
        std::free(dir);
    }
    for (const auto& f : *flocks) {
        if (f.pid <= 0 || f.pid == ::getpid() || f.dev_ino == current) {
            continue;
        }
        if (runs_daemon_of(f.pid, town)) {
            return f.pid;
        }
        for (const auto& name : names) {
            if (has_open(f.pid, name)) {
                return f.pid;
            }
        }
    }
    return std::nullopt;
}

} // namespace gt::daemon
