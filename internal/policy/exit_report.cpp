#include "exit_report.hpp"

namespace gt::policy {

ExitReportCheck check_exit_report(const tmux::Snapshot& snap, const std::string& session,
                                  long pane_pid, bool reported_gone) {
    auto it = snap.sessions.find(session);
    if (it == snap.sessions.end()) {
        if (pane_pid <= 0) {
            return {false, "its session is gone and the report names no pane process"};
        }
        if (!reported_gone) {
            return {false, "process " + std::to_string(pane_pid) + " is alive"};
        }
        return {true, ""};
    }
    const tmux::Pane& pane = it->second;
    if (pane_pid > 0 && pane.pid != pane_pid) {
        return {false, "its pane process is " + std::to_string(pane.pid) + ", not " +
                           std::to_string(pane_pid)};
    }
    if (!pane.dead && !pane.process_gone) {
        return {false, "its pane process " + std::to_string(pane.pid) + " is alive"};
    }
    return {true, ""};
}

} // namespace gt::policy
