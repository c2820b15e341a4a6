#include "rotating_file.hpp"

#include "file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gt::util {

RotatingFile::RotatingFile(std::string path, std::uint64_t max_size, int max_files)
    : m_path(std::move(path)), m_max_size(max_size < 4096 ? 4096 : max_size),
      m_max_files(max_files < 1 ? 1 : max_files) {}

Status RotatingFile::open() {
    std::lock_guard lock(m_mutex);
    auto opened = open_regular(m_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (!opened) {
        return err("cannot open " + opened.error(), opened.error_code());
    }
    Fd fd = std::move(*opened);
    struct stat st {};
    m_size = ::fstat(fd.get(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    m_fd = std::move(fd);
    return {};
}

void RotatingFile::rotate_locked() {
    m_fd.reset();
    std::string last = m_path + "." + std::to_string(m_max_files);
    ::unlink(last.c_str());
    for (int i = m_max_files - 1; i >= 1; --i) {
        std::string from = m_path + "." + std::to_string(i);
        std::string to = m_path + "." + std::to_string(i + 1);
        ::rename(from.c_str(), to.c_str());
    }
    ::rename(m_path.c_str(), (m_path + ".1").c_str());
    // Something other than a regular file put in its place is never opened (a FIFO would
    // block the daemon): the lines are lost until append() finds a file there again.
    auto opened = open_regular(m_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    m_fd = opened ? std::move(*opened) : Fd();
    m_size = 0;
}

void RotatingFile::append(std::string_view data) {
    std::lock_guard lock(m_mutex);
    if (!m_fd && std::chrono::steady_clock::now() >= m_next_reopen) {
        // Lost at a rotation (a full disk, a FIFO put in its place): try again now and then,
        // or the file would stay silent for good.
        auto opened = open_regular(m_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        struct stat st {};
        if (opened && ::fstat(opened->get(), &st) == 0) {
            m_fd = std::move(*opened);
            m_size = static_cast<std::uint64_t>(st.st_size);
        } else {
            m_next_reopen = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        }
    }
    if (!m_fd) {
        return;
    }
    if (m_size > 0 && m_size + data.size() > m_max_size) {
        rotate_locked();
        if (!m_fd) {
            return;
        }
    }
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(m_fd.get(), data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return; // a full disk must not take the daemon down; the line is lost
        }
        done += static_cast<std::size_t>(n);
    }
    m_size += done;
}

void RotatingFile::flush() {
    std::lock_guard lock(m_mutex);
    if (m_fd) {
        ::fsync(m_fd.get());
    }
}

} // namespace gt::util
