#pragma once

#include "socket_path.hpp"
#include "util/asio.hpp"
#include "util/result.hpp"

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace gt::daemon {

/// The daemon's control socket (design §7): a local stream socket on the event loop, one JSON
/// object per line each way. Bounded lines (64 KiB), an idle deadline per connection, a connection
/// cap (the oldest client is dropped to make room), peers of another uid refused, every descriptor
/// close-on-exec. Lives on the loop's thread.
class ControlServer {
public:
    /// Answers one request; call `reply` once, now or later (e.g. after a heartbeat).
    using Reply = std::function<void(const nlohmann::json&)>;
    using Handler = std::function<void(const nlohmann::json& request, Reply reply)>;

    struct Limits {
        std::size_t max_line = k_max_control_line;
        std::size_t max_clients = 64;
        std::chrono::milliseconds idle_timeout{30'000};
    };

    ControlServer(asio::io_context& io, std::string path, Handler handler, Limits limits);
    ControlServer(asio::io_context& io, std::string path, Handler handler)
        : ControlServer(io, std::move(path), std::move(handler), Limits{}) {}
    ~ControlServer();

    /// Removes a stale socket file, binds (mode 0600), listens and starts accepting.
    util::Status open();
    /// Stops accepting, drops every connection and removes the socket file (unless
    /// `remove_file` is false: the path may already belong to another daemon).
    void close(bool remove_file = true);
    const std::string& path() const { return m_path; }

    class Connection;

private:
    void accept();

    asio::io_context& m_io;
    std::string m_path;
    Handler m_handler;
    Limits m_limits;
    asio::local::stream_protocol::acceptor m_acceptor;
    asio::steady_timer m_retry; ///< accept pauses after an error
    std::vector<std::weak_ptr<Connection>> m_connections;
    bool m_open = false;
};

} // namespace gt::daemon
