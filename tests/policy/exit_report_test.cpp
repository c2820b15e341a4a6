// Whether a report of a pane's end (the pane-died hook's, or anyone's `gt daemon notify`) is
// recorded: only when the pass's own snapshot agrees.
#include "policy/exit_report.hpp"

#include <gtest/gtest.h>

using namespace gt;
using namespace gt::policy;

namespace {

tmux::Snapshot with_pane(long pid, bool dead, bool process_gone) {
    tmux::Snapshot snap;
    tmux::Pane p;
    p.session = "gt-r1-witness";
    p.pid = pid;
    p.dead = dead;
    p.process_gone = process_gone;
    snap.sessions[p.session] = p;
    return snap;
}

} // namespace

TEST(ExitReport, ADeadPaneOrAGoneProcessIsRecorded) {
    EXPECT_TRUE(check_exit_report(with_pane(42, true, false), "gt-r1-witness", 42, true).record);
    EXPECT_TRUE(check_exit_report(with_pane(42, false, true), "gt-r1-witness", 42, true).record);
    // The report may name no pane (tmux left #{pane_pid} empty): the session's own pane decides.
    EXPECT_TRUE(check_exit_report(with_pane(42, true, false), "gt-r1-witness", 0, false).record);
}

TEST(ExitReport, ALivePaneIsNeverRecordedAsEnded) {
    auto check = check_exit_report(with_pane(42, false, false), "gt-r1-witness", 42, false);
    EXPECT_FALSE(check.record);
    EXPECT_EQ(check.why_not, "its pane process 42 is alive");
    EXPECT_FALSE(check_exit_report(with_pane(42, false, false), "gt-r1-witness", 0, false).record);
}

TEST(ExitReport, AnotherPaneThanTheSessionsIsNotRecorded) {
    // A late report of a pane already replaced, or a forged one: the dead pane is not this one.
    auto check = check_exit_report(with_pane(42, true, false), "gt-r1-witness", 4242, true);
    EXPECT_FALSE(check.record);
    EXPECT_EQ(check.why_not, "its pane process is 42, not 4242");
}

TEST(ExitReport, AGoneSessionTakesTheReportedProcessGoneToo) {
    tmux::Snapshot none;
    EXPECT_TRUE(check_exit_report(none, "gt-r1-witness", 42, true).record);
    EXPECT_FALSE(check_exit_report(none, "gt-r1-witness", 42, false).record);
    EXPECT_FALSE(check_exit_report(none, "gt-r1-witness", 0, true).record);
}
