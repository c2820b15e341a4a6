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

gt::util::Fd connect_to(const std::string& town) {
    std::string path = gt::daemon::control_socket_path(town);
    gt::util::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        return gt::util::Fd();
    }
    return fd;
}

void send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            return; // the daemon may close a misbehaving client early
        }
        sent += static_cast<std::size_t>(n);
    }
}

/// Reads until a newline or EOF (5 s at most).
std::string read_line(int fd) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char c;
    while (::recv(fd, &c, 1, 0) == 1 && c != '\n') {
        out += c;
    }
    return out;
}

/// `status --json` works and names every supervised agent; then fast recovery works.
} // namespace

TEST(Control, SigstoppedDaemonIsReportedHungThenRecovers) {
    TmuxTown t;
    setup(t);
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    pid_t pid = t.pid_from_state();
    ASSERT_EQ(::kill(pid, SIGSTOP), 0);
    auto hung = t.gt({"daemon", "status"});
    ::kill(pid, SIGCONT);
    EXPECT_EQ(hung.exit_code, 4) << hung.out << hung.err;
    EXPECT_NE(hung.out.find("not responding"), std::string::npos) << hung.out;
    auto ok = t.gt({"daemon", "status"});
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

TEST(Control, HeartbeatNotifyAndClearBackoffCommands) {
    TmuxTown t;
    setup(t);
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    auto hb = t.gt({"daemon", "heartbeat"});
    ASSERT_EQ(hb.exit_code, 0) << hb.err;
    EXPECT_NE(hb.out.find("3 supervised, 3 healthy"), std::string::npos) << hb.out;
    EXPECT_NE(hb.out.find("Heartbeat #2"), std::string::npos) << hb.out;
    auto cleared = t.gt({"daemon", "clear-backoff", "r1/witness"});
    EXPECT_EQ(cleared.exit_code, 0) << cleared.err;
    EXPECT_NE(cleared.out.find("Cleared"), std::string::npos);
    EXPECT_EQ(t.events("backoff_cleared", "r1/witness").size(), 1u);
    EXPECT_EQ(t.gt({"daemon", "notify", "--agent", "../x"}).exit_code, 2);
    EXPECT_EQ(t.gt({"daemon", "notify", "--agent", "r1/witness", "--exit-code", "x"}).exit_code, 2);
    EXPECT_EQ(
        t.gt({"daemon", "notify", "--agent", "r1/witness", "--exit-code", "", "--signal", "9"})
            .exit_code,
        0);
    // What the hook sends, forged for a healthy agent: its live pane, or a pane it never had.
    // Neither is recorded as an end, however often it is said.
    const std::string pane = std::to_string(t.pane_pid("gt-r1-refinery").value_or(0));
    for (const auto& pid : {pane, pane, std::string("4242")}) {
        EXPECT_EQ(t.gt({"daemon", "notify", "--agent", "r1/refinery", "--exit-code", "1",
                        "--signal", "", "--pane-pid", pid})
                      .exit_code,
                  0);
    }
    ASSERT_EQ(t.gt({"daemon", "heartbeat"}).exit_code, 0); // the notifies are served by now
    EXPECT_TRUE(t.events("exited", "r1/refinery").empty());
    EXPECT_TRUE(has(t.log(), "r1/refinery: a report of its pane's end is not recorded: its pane "
                             "process " +
                                 pane + " is alive"))
        << t.log();
    EXPECT_TRUE(has(t.log(), "its pane process is " + pane + ", not 4242")) << t.log();
    EXPECT_EQ(t.pane_pid("gt-r1-refinery").value_or(0), std::stol(pane));
    EXPECT_FALSE(
        json::parse(slurp(t.root() + "/daemon/restart_state.json"))["r1/refinery"].contains(
            "last_exit_status"))
        << slurp(t.root() + "/daemon/restart_state.json");
    // Every session the daemon starts carries the hook.
    auto hooks = t.tmux({"show-hooks", "-w", "-t", "=gt-r1-witness:"}).out;
    EXPECT_NE(hooks.find("pane-died"), std::string::npos) << hooks;
    EXPECT_NE(hooks.find("'daemon' 'notify' '--agent' 'r1/witness'"), std::string::npos) << hooks;
}

TEST(Control, GarbageOnTheSocketNeverHurtsTheDaemon) {
    TmuxTown t;
    setup(t);
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    {
        auto fd = connect_to(t.root());
        ASSERT_TRUE(fd);
        send_all(fd.get(), std::string("\x00\x01\xff\xfe garbage\n", 13));
        auto reply = json::parse(read_line(fd.get()), nullptr, false);
        ASSERT_TRUE(reply.is_object());
        EXPECT_EQ(reply["ok"], false);
        send_all(fd.get(), "{\"cmd\":\"explode\"}\n");
        reply = json::parse(read_line(fd.get()), nullptr, false);
        EXPECT_EQ(reply["error"], "unknown command 'explode'");
        send_all(fd.get(), "[1,2,3]\n");
        EXPECT_EQ(json::parse(read_line(fd.get()))["ok"], false);
    }
    {
        auto fd = connect_to(t.root());
        ASSERT_TRUE(fd);
        send_all(fd.get(), std::string(1024 * 1024, 'a') + "\n");
        auto line = read_line(fd.get());
        if (!line.empty()) {
            EXPECT_NE(line.find("line too long"), std::string::npos) << line;
        }
    }
    {
        auto fd = connect_to(t.root());
        ASSERT_TRUE(fd);
        send_all(fd.get(), "{\"cmd\":\"sta");
    } // closed half-way
    std::vector<gt::util::Fd> idle;
    for (int i = 0; i < 100; ++i) {
        idle.push_back(connect_to(t.root()));
    }
    auto st = t.gt({"daemon", "status", "--json"});
    EXPECT_EQ(st.exit_code, 0) << st.out << st.err;
    EXPECT_EQ(daemon_pids(t.root()).size(), 1u);
    idle.clear();
    EXPECT_EQ(t.gt({"daemon", "status"}).exit_code, 0);
}

TEST(Control, SocketAndDaemonFilesArePrivate) {
    TmuxTown t;
    setup(t);
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    ASSERT_TRUE(t.gt({"lifecycle", "restart", "--as", "r1/witness"}).success());
    ASSERT_TRUE(eventually([&] { return !t.events("lifecycle").empty(); }));
    std::vector<std::string> todo{t.root() + "/daemon"};
    int files = 0;
    while (!todo.empty()) {
        std::string dir = todo.back();
        todo.pop_back();
        struct stat st {};
        ASSERT_EQ(::lstat(dir.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0700u) << dir;
        auto entries = gt::util::list_dir(dir);
        ASSERT_TRUE(entries);
        for (auto& e : *entries) {
            std::string path = dir + "/" + e.name;
            if (e.type == gt::util::DirEntry::Type::dir) {
                todo.push_back(path);
                continue;
            }
            ASSERT_EQ(::lstat(path.c_str(), &st), 0);
            EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
            ++files;
        }
    }
    EXPECT_GE(files, 7); // lock, pid, state, log, events, restart state, socket
    struct stat sock {};
    ASSERT_EQ(::lstat((t.root() + "/daemon/daemon.sock").c_str(), &sock), 0);
    EXPECT_TRUE(S_ISSOCK(sock.st_mode));
}

TEST(Control, NotifyRefusesBadNumbersAndAgentsNotOfThisTown) {
    TmuxTown t;
    setup(t);
    ASSERT_EQ(::mkdir((t.root() + "/r1/polecats/nux").c_str(), 0755), 0);
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    struct Case {
        std::vector<std::string> args;
        std::string flag;
        std::string value;
    };
    for (const auto& c : std::vector<Case>{
             {{"--exit-code", "abc"}, "--exit-code", "'abc'"},
             {{"--exit-code", "1.5"}, "--exit-code", "'1.5'"},
             {{"--exit-code", "256"}, "--exit-code", "'256'"},
             {{"--exit-code=-1"}, "--exit-code", "'-1'"},
             {{"--exit-code", "+3"}, "--exit-code", "'+3'"},
             {{"--exit-code", " 3"}, "--exit-code", "' 3'"},
             {{"--exit-code", "99999999999999999999"}, "--exit-code", "'9999"},
             {{"--signal", "65"}, "--signal", "'65'"},
             {{"--signal", "x"}, "--signal", "'x'"},
             {{"--pane-pid", "0"}, "--pane-pid", "'0'"},
             {{"--pane-pid=-5"}, "--pane-pid", "'-5'"},
             {{"--pane-pid", "12x"}, "--pane-pid", "'12x'"},
         }) {
        std::vector<std::string> args{"daemon", "notify", "--agent", "r1/witness"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        auto r = t.gt(args);
        EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << c.value << ": " << r.err;
        EXPECT_NE(r.err.find(c.flag), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(c.value), std::string::npos) << r.err;
    }
    for (const auto& [agent, why] : std::vector<std::pair<std::string, std::string>>{
             {"../x", "--agent"},
             {"r9/witness", "rig 'r9' is not in"},
             {"r9-witness", "rig 'r9' is not in"},
             {"r1/polecats/ghost", "r1/polecats/ghost is missing"},
             {"mayor", "role 'mayor' is not enabled"}}) {
        auto r = t.gt({"daemon", "notify", "--agent", agent, "--exit-code", "1"});
        EXPECT_EQ(r.exit_code, 2) << agent << ": " << r.err;
        EXPECT_NE(r.err.find("--agent"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    }
    // What tmux's hook passes: empty values are "unknown".
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--agent", "r1/witness", "--exit-code", "", "--signal", "9", "--pane-pid", ""},
             {"--agent", "r1/witness", "--exit-code", "0", "--signal", "", "--pane-pid", "1"},
             {"--agent", "r1-witness", "--exit-code", "255", "--signal", "64"},
             {"--agent", "r1/polecats/nux", "--exit-code", "007"}}) {
        std::vector<std::string> full{"daemon", "notify"};
        full.insert(full.end(), args.begin(), args.end());
        auto r = t.gt(full);
        EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
    }
    ASSERT_EQ(t.gt({"daemon", "heartbeat"}).exit_code, 0);
    EXPECT_TRUE(t.events("exited", "r9/witness").empty());
    EXPECT_TRUE(t.events("exited", "r1/polecats/ghost").empty());
    // Taken as numbers ("007" is 7), and weighed against the pane, which lives on: no end.
    EXPECT_TRUE(has(t.log(), "r1/polecats/nux: notified of its pane's end (exit code 7, signal 0, "
                             "pane pid 0)"))
        << t.log();
    EXPECT_TRUE(t.events("exited", "r1/polecats/nux").empty());
}

TEST(Control, FirstStartsAreNotRestartsAndHealthyAgentsAreNotInBackoff) {
    TmuxTown t(true); // the demo town: five agents, all started by the first heartbeat
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    auto st = t.gt({"daemon", "status", "--json"});
    ASSERT_EQ(st.exit_code, 0) << st.out << st.err;
    auto j = json::parse(st.out, nullptr, false);
    ASSERT_TRUE(j.is_object() && j["agents"].is_array()) << st.out;
    EXPECT_GE(j["agents"].size(), 5u) << st.out;
    for (const auto& a : j["agents"]) {
        EXPECT_EQ(a["gate"], "allowed") << a.dump();
        EXPECT_EQ(a["restarts"], 0) << a.dump();
    }
    auto text = t.gt({"daemon", "status"});
    EXPECT_EQ(text.out.find("backoff"), std::string::npos) << text.out;
    auto rs = json::parse(slurp(t.root() + "/daemon/restart_state.json"), nullptr, false);
    ASSERT_TRUE(rs.is_object()) << slurp(t.root() + "/daemon/restart_state.json");
    for (const auto& [id, r] : rs.items()) {
        EXPECT_EQ(r["restart_count"], 0) << id;
        EXPECT_FALSE(r.contains("backoff_until")) << id;
    }

    // A crash is a restart: counted, and the next one backed off; yet the agent it brought
    // back is alive, so it is not shown in backoff.
    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-demo-witness").has_value(); }));
    long old = *t.pane_pid("gt-demo-witness");
    ASSERT_EQ(::kill(static_cast<pid_t>(old), SIGKILL), 0);
    ASSERT_TRUE(eventually(
        [&] {
            auto r = json::parse(slurp(t.root() + "/daemon/restart_state.json"), nullptr, false);
            return r.is_object() && r.contains("demo/witness") &&
                   r["demo/witness"].value("restart_count", 0) == 1;
        },
        15s))
        << t.log();
    rs = json::parse(slurp(t.root() + "/daemon/restart_state.json"));
    EXPECT_TRUE(rs["demo/witness"].contains("backoff_until"));
    ASSERT_TRUE(eventually([&] {
        auto pid = t.pane_pid("gt-demo-witness");
        return pid && *pid != old;
    }));
    auto list = json::parse(t.gt({"agent", "list", "--json"}).out, nullptr, false);
    ASSERT_TRUE(list.is_array());
    bool seen = false;
    for (const auto& a : list) {
        if (a["identity"] == "demo/witness") {
            seen = true;
            EXPECT_EQ(a["restarts"], 1) << a.dump();
            EXPECT_EQ(a["alive"], true) << a.dump();
            EXPECT_EQ(a["gate"], "allowed") << a.dump();
            EXPECT_FALSE(a.contains("blocked_until")) << a.dump();
        } else {
            EXPECT_EQ(a["restarts"], 0) << a.dump();
            EXPECT_EQ(a["gate"], "allowed") << a.dump();
        }
    }
    EXPECT_TRUE(seen) << list.dump();
}

TEST(Control, RestartStateWriteFailureIsLoggedOncePerError) {
    TmuxTown t;
    setup(t);
    std::string path = t.root() + "/daemon/restart_state.json";
    ASSERT_EQ(::mkdir(path.c_str(), 0700), 0); // where the file should be: every save fails
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-r1-witness").has_value(); }));
    ASSERT_TRUE(kill_and_see_replaced(t, "gt-r1-witness")) << t.log();
    ASSERT_EQ(t.gt({"daemon", "heartbeat"}).exit_code, 0);
    auto errors = [&] {
        std::vector<std::string> lines;
        std::istringstream in(t.log());
        for (std::string line; std::getline(in, line);) {
            if (line.find(" error ") != std::string::npos &&
                line.find("restart_state.json") != std::string::npos) {
                lines.push_back(line);
            }
        }
        return lines;
    };
    auto first = errors();
    ASSERT_EQ(first.size(), 1u) << t.log(); // three starts, an exit, a restart: one message
    EXPECT_NE(first[0].find("cannot save " + path), std::string::npos) << first[0];
    // Once it can be written again, that is logged; a new failure is logged again.
    ASSERT_EQ(::rmdir(path.c_str()), 0);
    auto old = t.pane_pid("gt-r1-witness");
    ASSERT_TRUE(old.has_value());
    ASSERT_EQ(::kill(static_cast<pid_t>(*old), SIGKILL), 0);
    ASSERT_TRUE(
        eventually([&] { return !gt::util::is_dir(path) && gt::util::path_exists(path); }, 15s))
        << t.log();
    // The line is written just after the file: wait for it, do not race it.
    EXPECT_TRUE(eventually([&] { return t.log().find("saved again") != std::string::npos; }))
        << t.log();
    EXPECT_EQ(errors().size(), 1u) << t.log();
}
