#include "file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <optional>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace gt::util {

std::string errno_text(int code) {
    return std::strerror(code);
}

std::string self_exe() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "gt";
}

Fd open_cloexec(const std::string& path, int flags, mode_t mode) {
    int fd;
    do {
        fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    return Fd(fd);
}

namespace {

std::string type_name(mode_t mode) {
    if (S_ISREG(mode)) {
        return "a regular file";
    }
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISLNK(mode)) {
        return "a symlink";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    return "a device";
}

} // namespace

std::string describe_file_type(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? type_name(st.st_mode) : "nothing";
}

Result<Fd> open_regular(const std::string& path, int flags, mode_t mode, bool follow_symlinks) {
    // O_NONBLOCK: opening a FIFO (for reading, or for writing with a reader) would otherwise
    // wait forever for the other end; O_NOCTTY: a terminal must never become ours.
    int all = flags | O_NONBLOCK | O_NOCTTY | (follow_symlinks ? 0 : O_NOFOLLOW);
    Fd fd = open_cloexec(path, all, mode);
    if (!fd) {
        int e = errno;
        // ENXIO: a FIFO without a reader; ELOOP: a symlink, or a loop of them; EISDIR: a
        // directory; name it.
        std::string what = describe_file_type(path);
        if ((e == ENXIO || e == ELOOP || e == EISDIR || e == EWOULDBLOCK) &&
            what != "a regular file" && what != "nothing") {
            if (e == ELOOP && follow_symlinks) {
                what = "a symlink loop";
            }
            return err(path + ": not a regular file (" + what + ")", k_not_regular);
        }
        return err(path + ": " + errno_text(e), e);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        int e = errno;
        return err(path + ": " + errno_text(e), e);
    }
    if (!S_ISREG(st.st_mode)) {
        return err(path + ": not a regular file (" + type_name(st.st_mode) + ")", k_not_regular);
    }
    int fl = ::fcntl(fd.get(), F_GETFL);
    if (fl >= 0) {
        ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK);
    }
    return fd;
}

Result<std::string> read_file(const std::string& path, std::size_t cap, bool follow_symlinks) {
    auto opened = open_regular(path, O_RDONLY, 0, follow_symlinks);
    if (!opened) {
        return err(opened.error(), opened.error_code());
    }
    Fd fd = std::move(*opened);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        int e = errno;
        return err(path + ": " + errno_text(e), e);
    }
    if (static_cast<std::size_t>(st.st_size) > cap) {
        return err(path + ": too large (" + std::to_string(st.st_size) + " bytes, limit " +
                       std::to_string(cap) + ")",
                   EFBIG);
    }
    std::string out;
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    // The file may grow between fstat and read: read at most cap + 1 bytes to notice.
    for (;;) {
        if (got == out.size()) {
            if (out.size() > cap) {
                return err(path + ": too large (limit " + std::to_string(cap) + " bytes)", EFBIG);
            }
            out.resize(std::min(cap + 1, out.size() + 4096));
        }
        ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = errno;
            return err(path + ": " + errno_text(e), e);
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    if (got > cap) {
        return err(path + ": too large (limit " + std::to_string(cap) + " bytes)", EFBIG);
    }
    return out;
}

std::string dir_name(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    if (slash == 0) {
        return "/";
    }
    return path.substr(0, slash);
}

void sync_dir(const std::string& dir) {
    Fd d = open_cloexec(dir, O_RDONLY | O_DIRECTORY);
    if (d) {
        ::fsync(d.get());
    }
}

Status write_file_atomic(const std::string& path, const std::string& content, mode_t mode) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string tmp =
        path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rng() % 1000000000);
    Fd fd = open_cloexec(tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (!fd) {
        int e = errno;
        return err("cannot create " + tmp + ": " + errno_text(e), e);
    }
    auto fail = [&](const std::string& what) {
        int e = errno;
        ::unlink(tmp.c_str());
        return err(what + " " + tmp + ": " + errno_text(e), e);
    };
    ::fchmod(fd.get(), mode); // the umask may have narrowed or the caller widened: be exact
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail("cannot write");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
        return fail("cannot fsync");
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        if (errno == EISDIR) {
            ::unlink(tmp.c_str());
            return err("cannot write " + path + ": not a regular file (a directory)",
                       k_not_regular);
        }
        return fail("cannot rename to " + path + ":");
    }
    sync_dir(dir_name(path));
    return {};
}

Status make_dirs(const std::string& path, mode_t mode, bool enforce_mode) {
    if (path.empty()) {
        return err("empty directory path");
    }
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty()) {
            continue;
        }
        bool last = pos == std::string::npos;
        if (::mkdir(partial.c_str(), last ? mode : 0755) != 0 && errno != EEXIST) {
            int e = errno;
            return err("cannot create directory " + partial + ": " + errno_text(e), e);
        }
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return err(path + ": not a directory", ENOTDIR);
    }
    if (enforce_mode && (st.st_mode & 07777) != mode) {
        if (::chmod(path.c_str(), mode) != 0) {
            int e = errno;
            return err("cannot chmod " + path + ": " + errno_text(e), e);
        }
    }
    return {};
}

Status make_dirs_below(const std::string& base, const std::string& rel, mode_t mode) {
    std::string path = base;
    std::size_t pos = 0;
    while (pos < rel.size()) {
        auto slash = rel.find('/', pos);
        path += "/" + rel.substr(pos, slash == std::string::npos ? slash : slash - pos);
        pos = slash == std::string::npos ? rel.size() : slash + 1;
        if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
            int e = errno;
            return err("cannot create directory " + path + ": " + errno_text(e), e);
        }
    }
    return {};
}

bool is_dir(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool path_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

namespace {

/// nullopt when `name` is gone.
std::optional<DirEntry::Type> entry_type(int dir_fd, const char* name) {
    struct stat st {};
    if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        return DirEntry::Type::other;
    }
    if (S_ISREG(st.st_mode)) {
        return DirEntry::Type::file;
    }
    if (S_ISDIR(st.st_mode)) {
        return DirEntry::Type::dir;
    }
    return S_ISLNK(st.st_mode) ? DirEntry::Type::symlink : DirEntry::Type::other;
}

} // namespace

Result<std::vector<DirEntry>> list_dir(const std::string& dir) {
    Fd fd = open_cloexec(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd) {
        int e = errno;
        struct stat st {};
        if (e == ENOTDIR && ::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
            e = ELOOP; // O_DIRECTORY wins over O_NOFOLLOW: say what it really is
        }
        return err(dir + ": " + (e == ELOOP ? std::string("is a symlink") : errno_text(e)), e);
    }
    DIR* d = ::fdopendir(fd.get());
    if (!d) {
        int e = errno;
        return err(dir + ": " + errno_text(e), e);
    }
    fd.release(); // closedir closes it
    std::vector<DirEntry> out;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        if (auto type = entry_type(::dirfd(d), e->d_name)) {
            out.push_back({std::move(name), *type});
        }
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(),
              [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    return out;
}

bool is_atomic_temp_name(const std::string& name) {
    auto at = name.rfind(".tmp.");
    if (at == std::string::npos || at == 0) {
        return false;
    }
    std::string rest = name.substr(at + 5); // "<pid>.<n>"
    auto dot = rest.find('.');
    auto digits = [](const std::string& s) {
        return !s.empty() &&
               std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    return dot != std::string::npos && digits(rest.substr(0, dot)) && digits(rest.substr(dot + 1));
}

namespace {

/// The writer's PID in a temp file's name (`<name>.tmp.<pid>.<n>`), 0 when there is none.
pid_t temp_writer(const std::string& name) {
    auto at = name.rfind(".tmp.");
    return at == std::string::npos
               ? 0
               : static_cast<pid_t>(std::strtol(name.c_str() + at + 5, nullptr, 10));
}

} // namespace

std::vector<std::string> remove_stale_temp_files(const std::string& dir, TimePoint now,
                                                 Millis min_age, int depth,
                                                 const std::function<bool(pid_t)>& writer_gone) {
    std::vector<std::string> removed;
    auto entries = list_dir(dir);
    if (!entries) {
        return removed;
    }
    for (const auto& e : *entries) {
        std::string path = dir + "/" + e.name;
        if (e.type == DirEntry::Type::dir && depth > 0) {
            auto deeper = remove_stale_temp_files(path, now, min_age, depth - 1, writer_gone);
            removed.insert(removed.end(), deeper.begin(), deeper.end());
            continue;
        }
        struct stat st {};
        if (e.type != DirEntry::Type::file || !is_atomic_temp_name(e.name) ||
            ::lstat(path.c_str(), &st) != 0) {
            continue;
        }
        // A writer that is alive finishes within milliseconds: only an old one is abandoned,
        // or one whose writer is gone (a daemon killed mid-write, restarted a moment later).
        TimePoint modified(Millis(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
                                  st.st_mtim.tv_nsec / 1'000'000));
        bool abandoned =
            now - modified >= min_age || (writer_gone && writer_gone(temp_writer(e.name)));
        if (abandoned && ::unlink(path.c_str()) == 0) {
            removed.push_back(path);
        }
    }
    return removed;
}

} // namespace gt::util
