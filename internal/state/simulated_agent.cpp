#include "simulated_agent.hpp"

#include "agent_state.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>

namespace gt::state {

namespace {

using Clock = std::chrono::steady_clock;

/// Waits up to `timeout` for one of `set`; returns the signal, or 0 when the time passed.
int wait_for_signal(const sigset_t& set, Clock::duration timeout) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    ns = std::max<long long>(ns, 0);
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    int sig = ::sigtimedwait(&set, nullptr, &ts);
    // EINTR: another (unblocked) signal arrived; the caller's loop just waits again.
    return sig > 0 ? sig : 0;
}

void report_once(const SimulateOptions& o, long n, std::ostream& out) {
    auto r = report_agent_state(o.town_root, o.id, AgentStatus::running, std::nullopt,
                                "simulated agent");
    if (!r) {
        out << "gt agent simulate: " << o.id.str() << ": report failed: " << r.error() << std::endl;
        return;
    }
    if (o.screen.empty()) { // else the pane shows the screen alone
        out << util::format_time(r->updated_at) << " " << o.id.str() << ": running (report #" << n
            << ")" << std::endl;
    }
    if (o.id.role == Role::deacon) {
        if (auto b = beat_deacon(o.town_root, "simulate"); !b) {
            out << "gt agent simulate: deacon heartbeat failed: " << b.error() << std::endl;
        }
    }
}

} // namespace

SimulateOutcome run_simulated_agent(const SimulateOptions& o, std::ostream& out) {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
        sigaddset(&set, sig);
    }
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    auto start = Clock::now();
    std::optional<Clock::time_point> exit_at;
    if (o.exit_after) {
        exit_at = start + *o.exit_after;
    }
    auto next_report = start;
    long reports = 0;
    if (!o.screen.empty()) {
        // Trailing blank lines would scroll the screen's top out of a short pane; the one line
        // end kept leaves the cursor below the text, where tmux writes "Pane is dead" when the
        // agent ends (it overwrites the cursor's line, and so would the screen's last line).
        auto end = o.screen.find_last_not_of(" \t\r\n");
        if (end != std::string::npos) {
            out << o.screen.substr(0, end + 1) << '\n' << std::flush;
        }
    }
    for (;;) {
        auto now = Clock::now();
        if (now >= next_report) {
            report_once(o, ++reports, out);
            next_report += o.report_every;
            if (next_report <= Clock::now()) {
                next_report = Clock::now() + o.report_every; // fell behind: do not burst
            }
            continue;
        }
        if (exit_at && now >= *exit_at) {
            return {o.exit_code, 0};
        }
        auto wake = exit_at ? std::min(next_report, *exit_at) : next_report;
        if (int sig = wait_for_signal(set, wake - now); sig != 0) {
            return {0, sig};
        }
    }
}

} // namespace gt::state
