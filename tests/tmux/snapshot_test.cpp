#include "proc/process_table.hpp"
#include "tmux/tmux.hpp"

#include <gtest/gtest.h>

using namespace gt::tmux;

TEST(Snapshot, ParsesFirstPaneOfEachSession) {
    auto s = parse_snapshot("gt-deacon\t0\t123\t0\t\t\t1795492487\t42\t/t/a\tclaude\n"
                            "gt-x-witness\t1\t200\t0\t\t\t1795492487\t42\t\tbash\n"
                            "gt-x-witness\t0\t199\t1\t\t9\t\t42\t\tnode\n"
                            "gt-y-witness\t0\t300\t1\t3\t\t1\t42\t/t/b\tmy\tcmd\n"
                            "garbage line\n"
                            "bad\tx\t1\t0\t\t\t1\t42\t\tsh\n"
                            "bad-activity\t0\t1\t0\t\t\tsoon\t42\t\tsh\n"
                            "too-short\t0\t1\t0\t\t\t1\t42\tsh\n");
    ASSERT_EQ(s.sessions.size(), 3u);
    EXPECT_EQ(s.sessions["gt-deacon"].pid, 123);
    EXPECT_EQ(s.sessions["gt-deacon"].command, "claude");
    EXPECT_FALSE(s.sessions["gt-deacon"].dead);
    EXPECT_EQ(s.sessions["gt-x-witness"].index, 0);
    EXPECT_TRUE(s.sessions["gt-x-witness"].dead);
    EXPECT_EQ(s.sessions["gt-x-witness"].dead_signal, 9);
    EXPECT_EQ(s.sessions["gt-y-witness"].dead_status, 3);
    EXPECT_EQ(s.sessions["gt-x-witness"].dead_status, -1); // signalled: no exit status
    EXPECT_EQ(s.sessions["gt-y-witness"].command, "my\tcmd");
    EXPECT_EQ(s.sessions["gt-deacon"].owner, "/t/a");
    EXPECT_EQ(s.sessions["gt-y-witness"].owner, "/t/b");
    EXPECT_EQ(s.sessions["gt-x-witness"].owner, ""); // unmarked
    EXPECT_EQ(s.sessions["gt-deacon"].activity,
              gt::util::TimePoint(std::chrono::seconds(1795492487)));
    EXPECT_EQ(s.sessions["gt-x-witness"].activity, gt::util::TimePoint{}); // not said: the epoch
}

// Found by fuzz/tmux_snapshot_fuzz.cpp: seconds this large overflowed as milliseconds.
TEST(Snapshot, SkipsActivityThatIsNoTime) {
    auto s = parse_snapshot("huge\t0\t1\t0\t\t\t9999999999999999\t42\t\tsh\n"
                            "negative\t0\t1\t0\t\t\t-1\t42\t\tsh\n"
                            "last\t0\t1\t0\t\t\t253402300799\t42\t\tsh\n");
    ASSERT_EQ(s.sessions.size(), 1u);
    EXPECT_EQ(s.sessions["last"].activity, gt::util::TimePoint(std::chrono::seconds(253402300799)));
}

TEST(Snapshot, ClassifiesErrors) {
    EXPECT_EQ(classify("no server running on /tmp/tmux-0/x"), ErrorKind::no_server);
    EXPECT_EQ(classify("error connecting to /tmp/tmux-0/x (No such file or directory)"),
              ErrorKind::no_server);
    EXPECT_EQ(classify("can't find session: =gt-x"), ErrorKind::session_not_found);
    EXPECT_EQ(classify("duplicate session: gt-x"), ErrorKind::duplicate_session);
    EXPECT_EQ(classify("something else"), ErrorKind::other);
}

TEST(Snapshot, ShellsAndSeparatorEscaping) {
    for (const char* sh : {"bash", "-bash", "zsh", "sh", "dash", "fish", "tcsh", "ksh"}) {
        EXPECT_TRUE(gt::proc::is_shell(sh)) << sh;
    }
    for (const char* cmd : {"claude", "node", "gt", "bashful", ""}) {
        EXPECT_FALSE(gt::proc::is_shell(cmd)) << cmd;
    }
    EXPECT_EQ(escape_argument("a;"), "a\\;");
    EXPECT_EQ(escape_argument(";"), "\\;");
    EXPECT_EQ(escape_argument("a;b"), "a;b");
    EXPECT_EQ(escape_argument(""), "");
}

TEST(Snapshot, TownMarksAreOneFieldAndReadBack) {
    EXPECT_EQ(town_mark("/home/a/town"), "/home/a/town");
    EXPECT_EQ(town_mark("/t/a\tb\nc%d"), "/t/a%09b%0Ac%25d");
    for (std::string root : {"/home/a/town", "/t/a\tb\nc%d", "/t/#(x)#{y}", "/t/%zz%4"}) {
        EXPECT_EQ(mark_root(town_mark(root)), root) << root;
        EXPECT_EQ(town_mark(root).find_first_of("\t\n"), std::string::npos) << root;
    }
    // A tab in the town path does not move the command out of its field.
    auto s = parse_snapshot("gt-deacon\t0\t1\t0\t\t\t1\t42\t" + town_mark("/a\tb") + "\tclaude\n");
    EXPECT_EQ(s.sessions["gt-deacon"].command, "claude");
    EXPECT_EQ(mark_root(s.sessions["gt-deacon"].owner), "/a\tb");
}
