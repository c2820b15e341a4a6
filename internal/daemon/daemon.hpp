#pragma once

#include "service_notify.hpp"

#include <string>

namespace gt::daemon {

/// Variables that carry an agent's identity; dropped before the daemon spawns anything so that
/// whoever ran `gt daemon start` does not leak into the sessions (design §5.1, design §12).
extern const char* const k_identity_vars[];

/// How `gt daemon run` was invoked.
struct DaemonOptions {
    std::string town;        ///< absolute town root
    int ready_fd = -1;       ///< write end of `start`'s readiness pipe, or -1
    std::string tmux_socket; ///< `-L` name from $GT_TMUX_SOCKET (validated); empty: town.json's
    bool log_to_stderr = false;
    NotifyEnv notify; ///< the service manager's, when run as a service (design §18)
};

/// Runs the daemon in the foreground until SIGTERM/SIGINT. Returns the process exit code:
/// 0 after a clean stop or when another daemon already holds the lock, 1 when it could not start.
int run_daemon(const DaemonOptions& options);

} // namespace gt::daemon
