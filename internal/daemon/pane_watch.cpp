#include "pane_watch.hpp"

#include "proc/exit_watch.hpp"

#include <cerrno>
#include <set>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace gt::daemon {

PaneWatch::PaneWatch(asio::io_context& io, std::function<void(long)> on_exit, std::size_t limit)
    : m_io(io), m_on_exit(std::move(on_exit)), m_limit(limit) {}

PaneWatch::~PaneWatch() {
    clear();
}

void PaneWatch::clear() {
    for (auto& [pid, d] : m_watched) {
        boost::system::error_code ignored;
        d->close(ignored);
    }
    m_watched.clear();
}

void PaneWatch::set(const std::vector<long>& pids) {
    std::set<long> wanted(pids.begin(), pids.end());
    for (auto it = m_watched.begin(); it != m_watched.end();) {
        if (wanted.count(it->first)) {
            ++it;
            continue;
        }
        boost::system::error_code ignored;
        it->second->close(ignored); // its pending wait completes with operation_aborted
        it = m_watched.erase(it);
    }
    for (long pid : wanted) {
        if (m_watched.size() >= m_limit) {
            break;
        }
        if (pid <= 0 || m_watched.count(pid)) {
            continue;
        }
        int fd = proc::open_pidfd(static_cast<pid_t>(pid)).release();
        if (fd < 0) {
            if (errno == ESRCH) {
                asio::post(m_io, [this, pid] { m_on_exit(pid); }); // gone already
            }
            continue;
        }
        auto d = std::make_unique<asio::posix::stream_descriptor>(m_io);
        boost::system::error_code ec;
        d->assign(fd, ec);
        if (ec) {
            ::close(fd); // the reactor is full: the hook and the heartbeat remain
            continue;
        }
        d->async_wait(asio::posix::stream_descriptor::wait_read,
                      [this, pid, raw = d.get()](const boost::system::error_code& ec) {
                          auto it = m_watched.find(pid);
                          if (ec || it == m_watched.end() || it->second.get() != raw) {
                              return; // cancelled or replaced
                          }
                          fired(pid);
                      });
        m_watched.emplace(pid, std::move(d));
    }
}

void PaneWatch::fired(long pid) {
    auto it = m_watched.find(pid);
    if (it != m_watched.end()) {
        boost::system::error_code ignored;
        it->second->close(ignored);
        m_watched.erase(it);
    }
    m_on_exit(pid);
}

} // namespace gt::daemon
