#include "control_server.hpp"

#include "control_request.hpp"
#include "util/fd.hpp"
#include "util/file.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gt::daemon {

using nlohmann::json;
using stream = asio::local::stream_protocol;

/// One client: reads a line, answers it, reads the next, until it goes quiet or misbehaves.
class ControlServer::Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(ControlServer& server, stream::socket socket)
        : m_server(server), m_socket(std::move(socket)), m_deadline(server.m_io) {}

    void start() {
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(m_socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
            (cred.uid != ::geteuid() && cred.uid != 0)) {
            spdlog::warn("control socket: refused a client of uid {}", cred.uid);
            finish({{"ok", false}, {"error", "permission denied: not the daemon's user"}});
            return;
        }
        read();
    }

    void stop() {
        boost::system::error_code ignored;
        m_deadline.cancel();
        m_socket.close(ignored);
    }

private:
    void arm_deadline() {
        m_deadline.expires_after(m_server.m_limits.idle_timeout);
        m_deadline.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) {
                self->stop(); // idle too long
            }
        });
    }

    void read() {
        arm_deadline();
        asio::async_read_until(
            m_socket, asio::dynamic_buffer(m_buffer, m_server.m_limits.max_line + 1), '\n',
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                self->on_line(ec, n);
            });
    }

    void on_line(const boost::system::error_code& ec, std::size_t n) {
        if (ec == asio::error::not_found || (!ec && n > m_server.m_limits.max_line + 1)) {
            finish({{"ok", false}, {"error", "line too long (limit 64 KiB)"}});
            return;
        }
        if (ec) {
            stop(); // closed, reset, or cancelled
            return;
        }
        std::string line = m_buffer.substr(0, n - 1);
        m_buffer.erase(0, n);
        auto request = parse_control_line(line);
        if (!request) {
            respond({{"ok", false}, {"error", request.error()}});
            return;
        }
        m_deadline.cancel(); // a deferred answer (a heartbeat) is not idleness
        auto self = shared_from_this();
        try {
            m_server.m_handler(*request, [self](const json& reply) { self->respond(reply); });
        } catch (const std::exception& e) {
            respond({{"ok", false}, {"error", std::string("internal error: ") + e.what()}});
        }
    }

    void respond(const json& reply) { write(reply, true); }
    void finish(const json& reply) { write(reply, false); }

    void write(const json& reply, bool then_read) {
        if (!m_socket.is_open()) {
            return;
        }
        m_out = reply.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        asio::async_write(m_socket, asio::buffer(m_out),
                          [self = shared_from_this(),
                           then_read](const boost::system::error_code& ec, std::size_t) {
                              if (ec || !then_read) {
                                  self->stop();
                              } else {
                                  self->read();
                              }
                          });
    }

    ControlServer& m_server;
    stream::socket m_socket;
    asio::steady_timer m_deadline;
    std::string m_buffer;
    std::string m_out;
};

ControlServer::ControlServer(asio::io_context& io, std::string path, Handler handler, Limits limits)
    : m_io(io), m_path(std::move(path)), m_handler(std::move(handler)), m_limits(limits),
      m_acceptor(io), m_retry(io) {}

ControlServer::~ControlServer() {
    close();
}

util::Status ControlServer::open() {
    std::string dir = util::dir_name(m_path);
    if (auto st = util::make_dirs(dir, 0700); !st) {
        return st;
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
        (st.st_mode & 0077) != 0) {
        // Another user's (or a world-writable) directory could swap the socket under us.
        return util::err("control socket directory " + dir +
                         " must be a directory of ours with mode 0700");
    }
    ::unlink(m_path.c_str()); // we hold the daemon lock: any socket file here is stale
    boost::system::error_code ec;
    m_acceptor.open(stream(), ec);
    if (!ec) {
        util::set_cloexec(m_acceptor.native_handle()); // Boost 1.74 leaves it inheritable
        mode_t old = ::umask(0177);                    // the socket is born 0600
        m_acceptor.bind(stream::endpoint(m_path), ec);
        ::umask(old);
    }
    if (!ec) {
        m_acceptor.listen(static_cast<int>(m_limits.max_clients), ec);
    }
    if (ec) {
        return util::err("control socket " + m_path + ": " + ec.message());
    }
    ::chmod(m_path.c_str(), 0600);
    m_open = true;
    accept();
    return {};
}

void ControlServer::close(bool remove_file) {
    if (!m_open) {
        return;
    }
    m_open = false;
    boost::system::error_code ignored;
    m_acceptor.close(ignored);
    m_retry.cancel();
    for (auto& weak : m_connections) {
        if (auto c = weak.lock()) {
            c->stop();
        }
    }
    m_connections.clear();
    if (remove_file) {
        ::unlink(m_path.c_str());
    }
}

void ControlServer::accept() {
    m_acceptor.async_accept([this](const boost::system::error_code& ec, stream::socket socket) {
        if (ec == asio::error::operation_aborted || !m_open) {
            return;
        }
        if (!ec) {
            util::set_cloexec(socket.native_handle());
            std::erase_if(m_connections, [](const auto& w) { return w.expired(); });
            if (m_connections.size() >= m_limits.max_clients) {
                // At the cap the oldest client makes room: a flood of idle connections can
                // never lock `gt daemon status` out.
                if (auto oldest = m_connections.front().lock()) {
                    oldest->stop();
                }
                m_connections.erase(m_connections.begin());
            }
            auto c = std::make_shared<Connection>(*this, std::move(socket));
            m_connections.push_back(c);
            c->start();
        } else {
            // Out of descriptors, say: pause instead of spinning on a readable listener.
            spdlog::warn("control socket: accept: {} (pausing 200ms)", ec.message());
            m_retry.expires_after(std::chrono::milliseconds(200));
            m_retry.async_wait([this](const boost::system::error_code& e) {
                if (!e && m_open) {
                    accept();
                }
            });
            return;
        }
        accept();
    });
}

} // namespace gt::daemon
