#pragma once

#include <string>

namespace gt::client {

/// `gt daemon clear-backoff IDENTITY`: through the control socket when a daemon answers (it
/// replies after the pass that acted on it); else in restart_state.json (SIGUSR2 if one runs).
int clear_backoff(const std::string& town, const std::string& identity);

/// `gt daemon heartbeat`: asks the running daemon for a heartbeat now, waits, prints its summary.
int heartbeat_now(const std::string& town);

/// `gt daemon notify --agent ID [--exit-code N] [--signal N] [--pane-pid P]` (the pane-died
/// hook, design §5.6). The exit code is an integer 0..255, the signal 0..64, the pane pid positive;
/// empty numbers (what tmux prints when it does not know) are left out. The identity must name
/// an agent of this town (its rig listed, its role enabled, its directory there). Bad input:
/// exit 2 with a message naming the flag.
int notify_daemon(const std::string& town, const std::string& agent, const std::string& exit_code,
                  const std::string& signal, const std::string& pane_pid);

} // namespace gt::client
