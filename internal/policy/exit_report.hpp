#pragma once
// What a report of a pane's end is worth (design §5.6): the pane-died hook runs `gt daemon
// notify`, and so can anyone of the daemon's user, naming any agent. It is recorded only when the
// pass's own snapshot agrees; a live pane is never recorded as ended on anyone's word.

#include "tmux/tmux.hpp"

#include <string>

namespace gt::policy {

/// The verdict on one report.
struct ExitReportCheck {
    bool record = false;
    std::string why_not; ///< when not recorded: what the pass saw instead
};

/// A report that `session`'s pane process `pane_pid` (0: not said) ended is recorded when the
/// snapshot shows that session's first pane dead or its process gone, and that pane is the one
/// reported (or none was named); or when the session is gone and so is the reported process
/// (`reported_gone`, read from /proc by the caller). Otherwise it is not.
ExitReportCheck check_exit_report(const tmux::Snapshot& snap, const std::string& session,
                                  long pane_pid, bool reported_gone);

} // namespace gt::policy
