#pragma once

#include <utility>

namespace gt::util {

/// Owns one file descriptor; closes it on destruction. Non-copyable.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.m_fd, -1));
        }
        return *this;
    }
    ~Fd() { reset(); }

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    explicit operator bool() const { return valid(); }

    /// Gives up ownership without closing.
    int release() { return std::exchange(m_fd, -1); }
    /// Closes the held descriptor (if any) and takes `fd`.
    void reset(int fd = -1);

private:
    int m_fd = -1;
};

/// Sets FD_CLOEXEC on `fd`. Returns false on failure.
bool set_cloexec(int fd);

} // namespace gt::util
