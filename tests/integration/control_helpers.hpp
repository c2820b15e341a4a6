#pragma once
// Helpers of the control-socket and fast-recovery tests.

#include "support/tmux_town.hpp"
#include "util/fd.hpp"

#include <csignal>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace gt::test {

/// A town whose heartbeat is an hour away: what happens sooner was caused by something else.
inline void setup(const TmuxTown& t) {
    t.configure({{"daemon",
                  {{"heartbeat_interval", "1h"},
                   {"start_grace", "500ms"},
                   {"restart", {{"initial_backoff", "100ms"}}}}}});
    t.set_all_commands({"sleep", "1000"});
}

/// SIGKILLs the agent in `session`'s pane and waits (15 s) for a new pane process there. The
/// pid it killed goes to `killed` when given.
inline bool kill_and_see_replaced(const TmuxTown& t, const std::string& session,
                                  long* killed = nullptr) {
    auto old = t.pane_pid(session);
    if (!old || ::kill(static_cast<pid_t>(*old), SIGKILL) != 0) {
        return false;
    }
    if (killed) {
        *killed = *old;
    }
    return eventually(
        [&] {
            auto pid = t.pane_pid(session);
            return pid && *pid != *old;
        },
        std::chrono::seconds(15));
}

/// Opens the tty of `session`'s pane (invalid Fd when it cannot). While it is held open, the
/// pane's process exiting does not end the pty, so tmux learns of the exit from SIGCHLD first.
/// Otherwise tmux 3.3a built with libutempter can lose that SIGCHLD (libutempter swaps in its
/// own handler while tmux closes the ended pty) and never fire the pane-died hook: a tmux race
/// the hook's tests are not about.
inline gt::util::Fd hold_pane_tty(const TmuxTown& t, const std::string& session) {
    auto r = t.tmux({"display-message", "-p", "-t", "=" + session + ":", "#{pane_tty}"});
    std::string tty = r.out.substr(0, r.out.find('\n'));
    if (!r.success() || tty.empty()) {
        return gt::util::Fd();
    }
    return gt::util::Fd(::open(tty.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
}

} // namespace gt::test
