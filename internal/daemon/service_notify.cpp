#include "service_notify.hpp"

#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>

namespace gt::daemon {

namespace {

std::string take_env(const char* name) {
    const char* v = std::getenv(name);
    std::string value = v ? v : "";
    ::unsetenv(name);
    return value;
}

std::optional<long long> positive_number(const std::string& text) {
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    long long n = std::stoll(text);
    return n > 0 ? std::optional(n) : std::nullopt;
}

} // namespace

NotifyEnv take_notify_env(pid_t self) {
    NotifyEnv env;
    env.socket = take_env("NOTIFY_SOCKET");
    auto usec = positive_number(take_env("WATCHDOG_USEC"));
    std::string for_pid = take_env("WATCHDOG_PID");
    if (usec && (for_pid.empty() || positive_number(for_pid) == self)) {
        env.watchdog = util::Millis(std::max<long long>(*usec / 1000, 1));
    }
    env.invocation_id = take_env("INVOCATION_ID");
    // What systemd sets for the unit alone (systemd.exec(5), "Environment Variables in Spawned
    // Processes"); an agent must not take the daemon's cgroup, credentials or sockets for its own.
    for (const char* name : {"LISTEN_PID",
                             "LISTEN_FDS",
                             "LISTEN_FDNAMES",
                             "JOURNAL_STREAM",
                             "SYSTEMD_EXEC_PID",
                             "MANAGERPID",
                             "MEMORY_PRESSURE_WATCH",
                             "MEMORY_PRESSURE_WRITE",
                             "CREDENTIALS_DIRECTORY",
                             "RUNTIME_DIRECTORY",
                             "STATE_DIRECTORY",
                             "CACHE_DIRECTORY",
                             "LOGS_DIRECTORY",
                             "CONFIGURATION_DIRECTORY",
                             "TRIGGER_UNIT",
                             "TRIGGER_PATH",
                             "TRIGGER_TIMER_REALTIME_USEC",
                             "TRIGGER_TIMER_MONOTONIC_USEC",
                             "MONITOR_SERVICE_RESULT",
                             "MONITOR_EXIT_CODE",
                             "MONITOR_EXIT_STATUS",
                             "MONITOR_INVOCATION_ID",
                             "MONITOR_UNIT"}) {
        ::unsetenv(name);
    }
    return env;
}

ServiceNotifier::ServiceNotifier(NotifyEnv env) : m_env(std::move(env)) {
    if (enabled()) {
        m_fd.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    }
}

std::optional<util::Millis> ServiceNotifier::watchdog_interval() const {
    if (!enabled() || !m_env.watchdog) {
        return std::nullopt;
    }
    return std::max(*m_env.watchdog / 2, util::Millis(1));
}

util::Status ServiceNotifier::send(const std::string& message) const {
    if (!enabled()) {
        return {};
    }
    if (!m_fd) {
        return util::err("notify socket: " + util::errno_text(EBADF));
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string& path = m_env.socket;
    if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof(addr.sun_path)) {
        return util::err("NOTIFY_SOCKET " + path + ": not an absolute or abstract socket path");
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    socklen_t len = offsetof(sockaddr_un, sun_path) + path.size();
    if (path[0] == '@') {
        addr.sun_path[0] = '\0'; // the abstract namespace
    } else {
        len += 1;
    }
    if (::sendto(m_fd.get(), message.data(), message.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), len) < 0) {
        return util::err("notify socket " + path + ": " + util::errno_text(errno));
    }
    return {};
}

util::Status notify_once(const std::string& socket, const std::string& message) {
    return ServiceNotifier(NotifyEnv{socket, std::nullopt, ""}).send(message);
}

void tell_already_running(const std::string& socket, long holder) {
    // Best effort: the exit that follows is right either way.
    [[maybe_unused]] auto sent =
        notify_once(socket, "READY=1\nSTATUS=not started: another daemon (PID " +
                                std::to_string(holder) + ") supervises this town");
}

} // namespace gt::daemon
