#include "lock.hpp"

#include "proc/process.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
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
    std::string dev; ///< "fe:00", as /proc/locks spells the device
    unsigned long ino = 0;
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
        std::string num, kind, mode, access, pid, dev_ino;
        fields >> num >> kind;
        if (kind == "->") {
            continue;
        }
        fields >> mode >> access >> pid >> dev_ino;
        auto colon = dev_ino.rfind(':');
        if (kind == "FLOCK" && access == "WRITE" && colon != std::string::npos) {
            out.push_back({static_cast<pid_t>(std::strtol(pid.c_str(), nullptr, 10)),
                           dev_ino.substr(0, colon),
                           std::strtoul(dev_ino.c_str() + colon + 1, nullptr, 10)});
        }
    }
    return out;
}

std::string dev_text(const struct stat& st) {
    char id[32];
    std::snprintf(id, sizeof id, "%02x:%02x", major(st.st_dev), minor(st.st_dev));
    return id;
}

enum class Answer { yes, no, unknown };

/// Whether one of the descriptors listed in `dir` (a /proc/…/fd) satisfies `is_it`, given its
/// link there; unknown when the listing cannot be read (no: when the process is gone).
Answer any_descriptor(const std::string& dir,
                      const std::function<bool(const std::string&)>& is_it) {
    auto fds = util::list_dir(dir);
    if (!fds) {
        return fds.error_code() == ENOENT ? Answer::no : Answer::unknown;
    }
    for (const auto& e : *fds) {
        if (is_it(dir + "/" + e.name)) {
            return Answer::yes;
        }
    }
    return Answer::no;
}

/// Whether one of the descriptors listed in `dir` is the file `st` describes: stat() through
/// the link gives the device and inode that stat() of its path gives.
Answer lists_file(const std::string& dir, const struct stat& st) {
    return any_descriptor(dir, [&st](const std::string& link) {
        struct stat open {};
        return ::stat(link.c_str(), &open) == 0 && open.st_dev == st.st_dev &&
               open.st_ino == st.st_ino;
    });
}

/// Whether `pid` has the file `st` describes open; unknown when its descriptors cannot be read
/// (another user's process, /proc mounted with hidepid).
Answer has_file_open(pid_t pid, const struct stat& st) {
    const std::string proc = "/proc/" + std::to_string(pid);
    Answer answer = lists_file(proc + "/fd", st);
    if (answer != Answer::no || proc::process_alive(pid)) {
        return answer;
    }
    // A zombie leader lists no descriptors while its other threads, still exiting, hold them
    // and the lock: ask them.
    auto tasks = util::list_dir(proc + "/task");
    for (const auto& task : tasks ? *tasks : std::vector<util::DirEntry>{}) {
        if (lists_file(proc + "/task/" + task.name + "/fd", st) == Answer::yes) {
            return Answer::yes;
        }
    }
    return Answer::no;
}

/// Whether the flock `f` is on the file `st` describes. /proc/locks names the device of the
/// file system's superblock, which is not always the one stat() gives: a btrfs subvolume, and
/// the files of an overlayfs whose layers lie on other file systems, have a device of their own.
/// So the inode number must agree, and then either the device too or the holder must have the
/// file open.
Answer is_on(const FlockEntry& f, const struct stat& st) {
    if (f.ino != static_cast<unsigned long>(st.st_ino)) {
        return Answer::no;
    }
    if (f.dev == dev_text(st)) {
        return Answer::yes;
    }
    // A holder in a pid namespace we cannot see is shown as pid 0: its descriptors are out of
    // reach, so only a probe can tell.
    return f.pid > 0 ? has_file_open(f.pid, st) : Answer::unknown;
}

/// True when one of `pid`'s descriptors is `target` (as the kernel names a deleted file).
bool has_open(pid_t pid, const std::string& target) {
    return any_descriptor(
               "/proc/" + std::to_string(pid) + "/fd", [&target](const std::string& link) {
                   char buf[PATH_MAX];
                   ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
                   return n > 0 && std::string(buf, static_cast<std::size_t>(n)) == target;
               }) == Answer::yes;
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

/// What /proc/locks says of the exclusive flock on the file `st` describes.
struct LockReading {
    bool readable = false;            ///< /proc/locks could be read
    std::optional<pid_t> holder;      ///< who holds it
    std::optional<pid_t> unconfirmed; ///< a lock on its inode number by a process whose
                                      ///< descriptors cannot be read (on another device)
};

LockReading read_lock(const struct stat& st) {
    LockReading r;
    auto flocks = exclusive_flocks();
    if (!flocks) {
        return r;
    }
    r.readable = true;
    for (const auto& f : *flocks) {
        Answer on = is_on(f, st);
        if (on == Answer::yes) {
            r.holder = f.pid;
            r.unconfirmed.reset();
            break;
        }
        if (on == Answer::unknown) {
            r.unconfirmed = f.pid;
        }
    }
    return r;
}

/// Whether anyone holds an exclusive lock on `path`, by trying a shared one (and letting it go
/// at once). Only where /proc cannot tell: a starting daemon that meets the probe retries.
bool held_exclusively(const std::string& path) {
    auto fd = util::open_regular(path, O_RDONLY);
    return fd && ::flock(fd->get(), LOCK_SH | LOCK_NB) != 0;
}

} // namespace

std::optional<pid_t> lock_holder(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::nullopt; // no lock file: nobody ever ran here
    }
    LockReading lock = read_lock(st);
    if (lock.readable && !lock.unconfirmed) {
        // A daemon killed a moment ago can be a zombie already while its other threads, and so
        // its descriptors and the lock, are still going: wait for that rather than report a
        // dead process as the running daemon.
        const auto deadline = std::chrono::steady_clock::now() + k_exiting_holder_wait;
        while (lock.holder && *lock.holder > 0 && !proc::process_alive(*lock.holder) &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            lock = read_lock(st);
        }
        if (lock.readable) {
            return lock.holder;
        }
    }
    // /proc cannot tell: a shared probe never takes a shared lock for the daemon's, and names
    // the one candidate there is, if any.
    if (!held_exclusively(path)) {
        return std::nullopt;
    }
    return lock.unconfirmed.value_or(0);
}

std::optional<pid_t> lost_daemon(const std::string& path, const std::string& town) {
    auto flocks = exclusive_flocks();
    if (!flocks) {
        return std::nullopt;
    }
    struct stat st {};
    bool current = ::stat(path.c_str(), &st) == 0;
    // The kernel names the file by the path it was opened at, symlinks resolved.
    std::vector<std::string> names{path + " (deleted)"};
    if (char* dir = ::realpath(util::dir_name(path).c_str(), nullptr)) {
        names.push_back(std::string(dir) + "/" + path.substr(path.rfind('/') + 1) + " (deleted)");
        std::free(dir);
    }
    for (const auto& f : *flocks) {
        if (f.pid <= 0 || f.pid == ::getpid() || (current && is_on(f, st) == Answer::yes)) {
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
