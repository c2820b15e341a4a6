#pragma once

#include "util/asio.hpp"

#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace gt::daemon {

/// Watches agents' pane processes with pidfds on the event loop: when one exits, `on_exit`
/// runs at once. tmux's pane-died hook can lag until the tmux server's next event; this does
/// not. Lives on the loop's thread. Watches at most `limit` processes (one descriptor each);
/// beyond that the hook and the heartbeat remain.
class PaneWatch {
public:
    PaneWatch(asio::io_context& io, std::function<void(long pid)> on_exit, std::size_t limit);
    ~PaneWatch();

    /// Watches exactly `pids` from now on (new ones added, vanished ones dropped).
    void set(const std::vector<long>& pids);
    void clear();
    std::size_t size() const { return m_watched.size(); }

private:
    void fired(long pid);

    asio::io_context& m_io;
    std::function<void(long)> m_on_exit;
    std::size_t m_limit;
    std::map<long, std::unique_ptr<asio::posix::stream_descriptor>> m_watched;
};

} // namespace gt::daemon
