#pragma once

#include <csignal>
#include <string>
#include <vector>

namespace gt::daemon {

/// The signals the daemon acts on: SIGTERM and SIGINT stop it, SIGHUP reloads, SIGUSR1 runs a
/// heartbeat, SIGUSR2 re-reads restart_state.json.
std::vector<int> handled_signals();

/// Signals whose default action would kill (or stop) the daemon but that mean nothing to it:
/// timers, resource limits, SIGQUIT, SIGTRAP, SIGPWR, job control, the real-time signals. The
/// daemon logs them and carries on: a supervisor that runs for weeks must not die of a stray one.
std::vector<int> ignored_signals();

/// Both sets together.
sigset_t daemon_signal_mask();

/// Blocks daemon_signal_mask() in the calling thread (and so in every thread it creates later),
/// so that a signal sent before the daemon can handle it waits instead of killing it. Called
/// first thing in main; `gt daemon start` also spawns the daemon with them blocked.
void block_daemon_signals();

/// Unblocks them in the calling thread: for every command but `gt daemon run` right after
/// parsing, and for the daemon once its handlers are in place.
void unblock_daemon_signals();

/// "SIGALRM", "SIGRTMIN+3", or "signal N".
std::string signal_name(int sig);

} // namespace gt::daemon
