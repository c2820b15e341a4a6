#include "stamped_cache.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace gt::util {

Result<FileStamp> file_stamp(const std::string& path, bool follow_symlinks) {
    struct stat st {};
    int rc = follow_symlinks ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
    if (rc != 0) {
        int e = errno;
        return Error{path + ": " + std::strerror(e), e};
    }
    auto ns = [](const timespec& t) {
        return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
    };
    return FileStamp{st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

bool stamp_settled(const FileStamp& stamp, TimePoint now) {
    auto changed = std::max(stamp.mtime_ns, stamp.ctime_ns);
    auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
    return now_ns.count() - changed >= std::chrono::nanoseconds(k_stamp_settle).count();
}

} // namespace gt::util
