#include "control_client.hpp"

#include "daemon/socket_path.hpp"
#include "state/daemon_state.hpp"
#include "state/town.hpp"
#include "util/fd.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace gt::client {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

/// Waits for `events` on `fd` until `deadline`; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, remaining_ms(deadline));
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        return rc > 0;
    }
}

/// The socket the town's daemon listens on, as it published it in state.json (design §7). Never
/// computed from this process's environment when published: a daemon started by systemd (with
/// $XDG_RUNTIME_DIR) and a command run from a plain shell (without) would disagree. Only a town
/// whose state.json names none (none written yet) falls back to the computed path.
util::Result<std::string> published_socket(const std::string& town) {
    state::TownPaths paths(town);
    auto published = state::read_daemon_state(paths.state_file());
    if (!published || published->socket.empty()) {
        return daemon::control_socket_path(town);
    }
    const std::string& path = published->socket;
    if (path[0] != '/' || path.size() >= sizeof(sockaddr_un{}.sun_path)) {
        return util::err(paths.state_file() + ": socket: '" + path +
                         "' is not an absolute path that fits a unix socket address");
    }
    return path;
}

} // namespace

util::Result<nlohmann::json> control_request(const std::string& town, const nlohmann::json& request,
                                             util::Millis timeout) {
    auto deadline = Clock::now() + timeout;
    auto published = published_socket(town);
    if (!published) {
        return util::err(published.error());
    }
    const std::string& path = *published;
    util::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        return util::err("socket: " + util::errno_text(errno), errno);
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EINPROGRESS && errno != EAGAIN) {
            return util::err("cannot connect to " + path + ": " + util::errno_text(errno), errno);
        }
        if (!wait_for(fd.get(), POLLOUT, deadline)) {
            return util::err("no answer on " + path + " (connect timed out)", ETIMEDOUT);
        }
    }
    std::string line = request.dump() + "\n";
    std::size_t sent = 0;
    while (sent < line.size()) {
        if (!wait_for(fd.get(), POLLOUT, deadline)) {
            return util::err("no answer on " + path + " (send timed out)", ETIMEDOUT);
        }
        ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return util::err("send to " + path + ": " + util::errno_text(errno), errno);
        }
        sent += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    std::string reply;
    while (reply.find('\n') == std::string::npos) {
        if (!wait_for(fd.get(), POLLIN, deadline)) {
            return util::err("no answer on " + path + " within " + util::format_duration(timeout),
                             ETIMEDOUT);
        }
        char buf[4096];
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n == 0) {
            return util::err("the daemon closed the connection without an answer", ECONNRESET);
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            return util::err("receive from " + path + ": " + util::errno_text(errno), errno);
        }
        reply.append(buf, static_cast<std::size_t>(n));
        if (reply.size() > 16 * daemon::k_max_control_line) {
            return util::err("the daemon's answer is too long");
        }
    }
    reply.resize(reply.find('\n'));
    auto j = nlohmann::json::parse(reply, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return util::err("the daemon's answer is not a JSON object");
    }
    return j;
}

} // namespace gt::client
