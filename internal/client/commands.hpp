#pragma once

#include "service_files.hpp"
#include "util/time.hpp"

#include <optional>
#include <string>
#include <sys/types.h>

namespace gt::client {

/// Exit codes of `gt daemon status` (LSB).
inline constexpr int k_status_running = 0;
inline constexpr int k_status_not_running = 3;
inline constexpr int k_status_hung = 4;

/// The exit code of a command that failed with `error_code`: 2 (bad input, design §3) when a
/// file it reads is not a regular file (util::k_not_regular), else 1.
int failure_exit_code(int error_code);

/// `gt daemon start`: spawns `gt daemon run` detached and waits (≤ 5 s) for it to report ready.
/// Returns the exit code; prints `Daemon started (PID N)` or `Daemon already running (PID M)`.
int start_daemon(const std::string& town);

/// `gt daemon stop`: SIGTERM to the verified lock holder, SIGKILL after `timeout`.
int stop_daemon(const std::string& town, std::optional<util::Millis> timeout);

/// `gt daemon restart`: stop, then start.
int restart_daemon(const std::string& town, std::optional<util::Millis> timeout);

/// `gt daemon status [--json]`: LSB exit codes.
int status_daemon(const std::string& town, bool json);

/// Sends `sig` to the town's daemon, identified by the lock it holds (never by a PID file
/// alone). Returns its PID, or nullopt when no daemon runs.
std::optional<pid_t> signal_daemon(const std::string& town, int sig);

/// `gt daemon install --systemd|--launchd [--print]` (design §18.1): writes the town's unit (or
/// prints it), says what to run next, warns when lingering is off. Exit 2 on a bad town.
int install_service(const std::string& town, ServiceManager manager, bool print);

/// The unit for an example town (/home/you/town), for the package's examples.
int print_example_unit(ServiceManager manager);

/// `gt daemon uninstall [--systemd|--launchd]`: stops and disables the town's unit, removes it.
/// Exit 1 when none is installed.
int uninstall_service(const std::string& town, std::optional<ServiceManager> only);

/// `gt daemon logs [-n N] [-f]`.
int show_logs(const std::string& town, int lines, bool follow);

} // namespace gt::client
