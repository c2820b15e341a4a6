// The control socket, live status, hung-daemon detection and fast recovery (design §3, design §5.6,
// design §7), against a private real tmux server with the real gt binary.
#include "client/control_client.hpp"
#include "daemon/socket_path.hpp"
#include "integration/control_helpers.hpp"
#include "support/tmux_town.hpp"
#include "util/fd.hpp"
#include "util/file.hpp"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace gt::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// SIGKILLs r1/witness's agent, sees it replaced, and sees the pane-died hook reach the daemon.
/// The pid killed goes to `killed`.
void kill_witness_and_see_the_hook_arrive(const TmuxTown& t, long* killed) {
    {
        auto tty = hold_pane_tty(t, "gt-r1-witness");
        ASSERT_TRUE(tty) << "cannot open the pane's tty";
        // The heartbeat is an hour away: only the pane-died hook (or the pidfd watch) can bring
        // it back this soon.
        ASSERT_TRUE(kill_and_see_replaced(t, "gt-r1-witness", killed)) << t.log();
    }
    // The daemon's pidfd watch restarts the agent without the hook too: only this line, logged
    // when a notify reaches the control socket, proves that the hook ran and reached it.
    std::string notified = "r1/witness: notified of its pane's end (exit code unknown, signal 9, "
                           "pane pid " +
                           std::to_string(*killed) + ")";
    EXPECT_TRUE(eventually([&] { return has(t.log(), notified); })) << notified << "\n" << t.log();
}

void check_status_and_fast_recovery(TmuxTown& t) {
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    auto st = t.gt({"daemon", "status", "--json"});
    ASSERT_EQ(st.exit_code, 0) << st.out << st.err;
    auto j = json::parse(st.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << st.out;
    for (auto key : {"pid", "town", "started_at", "last_heartbeat", "heartbeat_count",
                     "next_heartbeat_at", "agents", "socket"}) {
        EXPECT_TRUE(j.contains(key)) << key << " in " << st.out;
    }
    EXPECT_EQ(j["pid"], t.pid_from_state());
    EXPECT_EQ(j["town"], t.root());
    std::set<std::string> ids;
    for (auto& a : j["agents"]) {
        ids.insert(a["identity"].get<std::string>());
    }
    EXPECT_EQ(ids, (std::set<std::string>{"deacon", "r1/refinery", "r1/witness"}));

    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-r1-witness").has_value(); }));
    std::this_thread::sleep_for(200ms); // past the first backoff (100 ms)
    long killed = 0;
    ASSERT_NO_FATAL_FAILURE(kill_witness_and_see_the_hook_arrive(t, &killed));
    ASSERT_TRUE(eventually([&] { return !t.events("exited", "r1/witness").empty(); })) << t.log();
    // Reported once, by whichever saw it first: the pane-died hook or the heartbeat.
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(t.gt({"daemon", "heartbeat"}).exit_code, 0);
    auto exited = t.events("exited", "r1/witness");
    ASSERT_EQ(exited.size(), 1u);
    EXPECT_EQ(exited[0]["detail"].get<std::string>().rfind("signal 9", 0), 0u);
    auto rs = json::parse(slurp(t.root() + "/daemon/restart_state.json"));
    EXPECT_EQ(rs["r1/witness"]["last_signal"], 9);
}

} // namespace

TEST(Control, StatusJsonAndFastRecoveryThroughThePaneDiedHook) {
    TmuxTown t;
    setup(t);
    check_status_and_fast_recovery(t);
}

TEST(Control, TownPathWithSpacesQuotesAndDollarWorks) {
    TmuxTown t(false, "my town's \"$HOME\" #1");
    setup(t);
    check_status_and_fast_recovery(t);
    EXPECT_EQ(t.state()["socket"], t.root() + "/daemon/daemon.sock");
}

TEST(Control, TownPathTooLongForSunPathUsesAShortSocket) {
    TmuxTown t(false, std::string(110, 'x') + " long");
    ASSERT_GT(t.root().size() + 20, 108u);
    setup(t);
    check_status_and_fast_recovery(t);
    std::string socket = t.state()["socket"];
    EXPECT_LT(socket.size(), 108u);
    EXPECT_NE(socket, t.root() + "/daemon/daemon.sock");
}

TEST(Control, ClientsFindTheSocketTheDaemonPublished) {
    // A daemon started with XDG_RUNTIME_DIR (as systemd starts it) puts a long town's socket
    // there; a plain shell, and the pane-died hook run by a tmux server started from one, have
    // no such variable. They must read the path the daemon published, not compute their own.
    TmuxTown t(false, std::string(110, 'x') + " long");
    setup(t);
    TempDir run("gt-run"); // 0700, ours: what a runtime directory must be
    ASSERT_TRUE(t.tmux({"new-session", "-d", "-s", "a-plain-shell", "sleep", "1000"}).success());
    auto start = t.gt({"daemon", "start"}, {"XDG_RUNTIME_DIR=" + run.path()});
    ASSERT_TRUE(start.success()) << start.out << start.err;
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    std::string socket = t.state()["socket"];
    ASSERT_EQ(socket.rfind(run.path() + "/", 0), 0u) << socket;

    const std::vector<std::string> plain_shell{"XDG_RUNTIME_DIR="};
    auto status = t.gt({"daemon", "status"}, plain_shell);
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    auto beat = t.gt({"daemon", "heartbeat"}, plain_shell);
    EXPECT_EQ(beat.exit_code, 0) << beat.out << beat.err;
    auto notify = t.gt({"daemon", "notify", "--agent", "r1/refinery"}, plain_shell);
    EXPECT_EQ(notify.exit_code, 0) << notify.out << notify.err;

    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-r1-witness").has_value(); }));
    long killed = 0;
    ASSERT_NO_FATAL_FAILURE(kill_witness_and_see_the_hook_arrive(t, &killed));
}
