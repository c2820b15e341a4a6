#include "exit_watch.hpp"

#include "process_table.hpp"

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <set>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gt::proc {

util::Fd open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    return util::Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#else
    errno = ENOSYS;
    return util::Fd();
#endif
}

std::size_t pidfd_budget(std::size_t cap) {
    struct rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
        return cap;
    }
    return std::min<std::size_t>(cap, static_cast<std::size_t>(limit.rlim_cur / 4));
}

std::vector<bool> ExitWatch::ended(const std::vector<pid_t>& pids) {
    std::vector<bool> out(pids.size(), false);
    const std::set<pid_t> asked(pids.begin(), pids.end());
    std::erase_if(m_fds, [&](const auto& kv) { return !asked.count(kv.first); });

    // Every process without a pidfd is looked up in /proc, one by one.
    std::vector<pollfd> polled;
    std::vector<std::size_t> polled_index;
    for (std::size_t i = 0; i < pids.size(); ++i) {
        pid_t pid = pids[i];
        auto it = m_fds.find(pid);
        if (it == m_fds.end() && pid > 0 && m_fds.size() < m_limit && m_pidfds) {
            util::Fd fd = open_pidfd(pid);
            if (!fd && errno == ESRCH) {
                out[i] = true;
                continue;
            }
            if (!fd && (errno == ENOSYS || errno == EPERM)) {
                m_pidfds = false; // an old kernel, or a sandbox that forbids them: not again
            }
            if (fd) {
                it = m_fds.emplace(pid, std::move(fd)).first;
            }
        }
        if (it == m_fds.end()) {
            out[i] = process_gone(pid);
            continue;
        }
        polled.push_back({it->second.get(), POLLIN, 0});
        polled_index.push_back(i);
    }
    if (polled.empty()) {
        return out;
    }
    int ready = ::poll(polled.data(), polled.size(), 0);
    for (std::size_t k = 0; k < polled.size(); ++k) {
        std::size_t i = polled_index[k];
        if (ready < 0) {
            out[i] = process_gone(pids[i]); // EINTR, ENOMEM: asked the slow way
        } else if (polled[k].revents != 0) {
            // The process this pidfd was opened on has ended. Its pid may name another process
            // by now: /proc says what the pid is today, and the next look opens a fresh pidfd.
            m_fds.erase(pids[i]);
            out[i] = process_gone(pids[i]);
        }
    }
    return out;
}

} // namespace gt::proc
