#include "file_lock.hpp"

#include "file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <thread>

namespace gt::util {

Result<FileLock> FileLock::acquire(const std::string& path, mode_t mode, Millis timeout) {
    auto opened = open_regular(path, O_RDWR | O_CREAT, mode);
    if (!opened) {
        return err("cannot open lock file " + opened.error(), opened.error_code());
    }
    Fd fd = std::move(*opened);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e != EINTR && e != EWOULDBLOCK) {
            return err("cannot lock " + path + ": " + errno_text(e), e);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            // A holder that never lets go (a stopped `gt agent report`) must not stall us.
            return err("cannot lock " + path + ": still held by another process after " +
                           format_duration(timeout),
                       EWOULDBLOCK);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return FileLock(std::move(fd));
}

} // namespace gt::util
