#include "file_lock.hpp"

#include "file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>

namespace gt::util {

Result<FileLock> FileLock::acquire(const std::string& path, mode_t mode) {
    Fd fd = open_cloexec(path, O_RDWR | O_CREAT | O_NOFOLLOW, mode);
    if (!fd) {
        int e = errno;
        return err("cannot open lock file " + path + ": " + errno_text(e), e);
    }
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            return err("cannot lock " + path + ": " + errno_text(e), e);
        }
    }
    return FileLock(std::move(fd));
}

} // namespace gt::util
