#pragma once
// The service manager's notify protocol (design §18.2): one datagram per message to
// $NOTIFY_SOCKET, as sd_notify(3) documents it. Written directly rather than linked from
// libsystemd: it is a dozen lines, it adds no run-time dependency, and the same binary runs
// where there is no systemd at all.

#include "util/fd.hpp"
#include "util/result.hpp"
#include "util/time.hpp"

#include <optional>
#include <string>
#include <sys/types.h>

namespace gt::daemon {

/// What the environment asks of a service: where to send notifications, and how often the
/// watchdog wants a ping.
struct NotifyEnv {
    std::string socket;                   ///< $NOTIFY_SOCKET; "" when not run as a notify service
    std::optional<util::Millis> watchdog; ///< $WATCHDOG_USEC, when it is meant for this process
    /// $INVOCATION_ID: set by systemd for every service it runs, so the daemon knows it runs
    /// as one (the tmux server then gets a scope of its own, design §18.1).
    std::string invocation_id;
};

/// Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (a watchdog meant for another PID is
/// not ours, as sd_watchdog_enabled(3) says), then removes them and the other variables a
/// service manager hands its service only (INVOCATION_ID, LISTEN_*, JOURNAL_STREAM,
/// MEMORY_PRESSURE_*, the unit's directories…) from the environment: the tmux server and the
/// agents it starts must not inherit them.
NotifyEnv take_notify_env(pid_t self);

/// Sends notifications to the service manager. Does nothing when there is no socket.
class ServiceNotifier {
public:
    ServiceNotifier() = default;
    explicit ServiceNotifier(NotifyEnv env);

    bool enabled() const { return !m_env.socket.empty(); }
    /// How often to send WATCHDOG=1: half of WATCHDOG_USEC, as the protocol advises.
    std::optional<util::Millis> watchdog_interval() const;
    /// One datagram of `NAME=value` lines. Never blocks; a failure is returned, not thrown.
    util::Status send(const std::string& message) const;

private:
    NotifyEnv m_env;
    util::Fd m_fd;
};

/// One message to `socket` from a process that sends no other (`start`, a daemon that does not
/// start). Nothing to do when `socket` is empty.
util::Status notify_once(const std::string& socket, const std::string& message);

/// For a process about to exit 0 because another daemon holds the town's lock: READY=1 and a
/// STATUS saying so. Without READY=1, systemd takes a notify service's exit before it for a
/// failed start ("protocol") and Restart=on-failure would start it again and again.
/// Does nothing when `socket` is empty.
void tell_already_running(const std::string& socket, long holder);

} // namespace gt::daemon
