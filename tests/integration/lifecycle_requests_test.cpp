// Lifecycle requests (design §6) against a private real tmux server, with the real gt binary.
#include "support/tmux_town.hpp"
#include "util/file.hpp"
#include "util/time.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace gt::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// A town with rig r1 whose agents are `sleep`, heartbeat every `interval`.
void setup(const TmuxTown& t, const std::string& interval) {
    t.configure({{"daemon", {{"heartbeat_interval", interval}, {"start_grace", "500ms"}}}});
    t.set_all_commands({"sleep", "1000"});
}

bool new_pid(const TmuxTown& t, const std::string& session, long old) {
    auto pid = t.pane_pid(session);
    return pid && *pid != old;
}

std::size_t files_in(const std::string& dir) {
    auto entries = gt::util::list_dir(dir);
    if (!entries) {
        return 0;
    }
    std::size_t n = 0;
    for (auto& e : *entries) {
        n += e.type == gt::util::DirEntry::Type::file;
    }
    return n;
}

} // namespace

TEST(LifecycleRequests, RestartIsServedAtOnceNotAtTheNextHeartbeat) {
    TmuxTown t;
    setup(t, "1h");
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    long old = *t.pane_pid("gt-r1-witness");
    auto r = t.gt({"lifecycle", "restart", "--as", "r1/witness"});
    ASSERT_TRUE(r.success()) << r.err;
    EXPECT_NE(r.out.find("notified"), std::string::npos) << r.out;
    ASSERT_TRUE(eventually([&] { return new_pid(t, "gt-r1-witness", old); }));
    ASSERT_TRUE(eventually([&] { return !t.events("lifecycle", "r1/witness").empty(); }));
    EXPECT_EQ(files_in(t.root() + "/daemon/requests"), 0u);
    EXPECT_EQ(files_in(t.root() + "/daemon/requests/claimed"), 0u);
    // A requested restart is not a crash: no backoff recorded for it.
    auto rs = json::parse(slurp(t.root() + "/daemon/restart_state.json"));
    EXPECT_EQ(rs["r1/witness"]["restart_count"], 0); // nor is the daemon's first start
}

TEST(LifecycleRequests, ShutdownStaysDownUntilCycle) {
    TmuxTown t;
    setup(t, "200ms");
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-r1-refinery").has_value(); }));
    ASSERT_TRUE(t.gt({"lifecycle", "shutdown", "--as", "r1-refinery"}).success());
    ASSERT_TRUE(eventually([&] { return !t.pane_pid("gt-r1-refinery").has_value(); }));
    ASSERT_TRUE(t.wait_heartbeats(3));
    EXPECT_FALSE(t.pane_pid("gt-r1-refinery").has_value());
    auto state = json::parse(slurp(t.root() + "/agents/r1/refinery.json"));
    EXPECT_EQ(state["state"], "stopped");
    ASSERT_TRUE(t.gt({"lifecycle", "cycle", "--as", "r1/refinery"}).success());
    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-r1-refinery").has_value(); }));
}

TEST(LifecycleRequests, ConcurrentProducersAndASignalStormLoseNothing) {
    TmuxTown t;
    setup(t, "1h");
    ASSERT_TRUE(t.gt({"rig", "add", "r2"}).success());
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    pid_t daemon = t.pid_from_state();
    const char* ids[] = {"r1/witness", "r1/refinery", "r2/witness", "r2/refinery", "deacon"};
    std::atomic<bool> storm{true};
    std::thread signaller([&] {
        while (storm) {
            ::kill(daemon, SIGUSR1);
            std::this_thread::sleep_for(2ms);
        }
    });
    std::vector<std::thread> producers;
    std::atomic<int> ok{0};
    for (int p = 0; p < 10; ++p) {
        producers.emplace_back([&, p] {
            for (int i = 0; i < 5; ++i) {
                const char* action = (p + i) % 2 ? "restart" : "cycle";
                ok += t.gt({"lifecycle", action, "--as", ids[(p + i) % 5]}).success();
            }
        });
    }
    for (auto& th : producers) {
        th.join();
    }
    storm = false;
    signaller.join();
    ASSERT_EQ(ok, 50);
    ::kill(daemon, SIGUSR1);
    ASSERT_TRUE(eventually(
        [&] { return t.events("lifecycle").size() + t.events("collapsed").size() == 50; }, 30s));
    EXPECT_EQ(files_in(t.root() + "/daemon/requests"), 0u);
    EXPECT_EQ(files_in(t.root() + "/daemon/requests/claimed"), 0u);
    EXPECT_EQ(t.events("rejected").size(), 0u) << slurp(t.root() + "/daemon/events.jsonl");
    EXPECT_EQ(daemon_pids(t.root()).size(), 1u);
    // Every request is accounted for exactly once, by its id.
    std::set<std::string> seen;
    for (auto kind : {"lifecycle", "collapsed"}) {
        for (auto& e : t.events(kind)) {
            std::string d = e["detail"];
            auto at = d.find("request ");
            ASSERT_NE(at, std::string::npos) << d;
            std::string id = d.substr(at + 8, d.find_first_of("):", at + 8) - at - 8);
            EXPECT_TRUE(seen.insert(id).second) << "twice: " << id;
        }
    }
    EXPECT_EQ(seen.size(), 50u);
}

TEST(LifecycleRequests, ABurstOfSignalsCausesAHandfulOfPasses) {
    TmuxTown t;
    setup(t, "1h");
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    pid_t daemon = t.pid_from_state();
    long before = t.heartbeats();
    for (int i = 0; i < 100; ++i) {
        ::kill(daemon, SIGUSR1);
    }
    ASSERT_TRUE(eventually([&] { return t.heartbeats() > before; }));
    std::this_thread::sleep_for(300ms); // let any queued pass finish
    EXPECT_LE(t.heartbeats() - before, 10);
    EXPECT_EQ(daemon_pids(t.root()).size(), 1u);
}

TEST(LifecycleRequests, ARequestClaimedByAKilledDaemonIsExecutedByTheNext) {
    TmuxTown t;
    setup(t, "1h");
    TempDir bin("gt-wrapper");
    std::string real = "tmux";
    for (const char* d : {"/usr/bin/tmux", "/bin/tmux", "/usr/local/bin/tmux"}) {
        if (::access(d, X_OK) == 0) {
            real = d;
            break;
        }
    }
    // Starting the witness is slowed down, so the daemon can be killed mid-request.
    {
        std::ofstream w(bin.path() + "/tmux");
        w << "#!/bin/sh\ncase \"$*\" in *'-s gt-r1-witness '*) sleep 3;; esac\nexec '" << real
          << "' \"$@\"\n";
    }
    ::chmod((bin.path() + "/tmux").c_str(), 0755);
    std::string path = bin.path() + ":" + std::getenv("PATH");
    ASSERT_TRUE(t.gt({"daemon", "start"}, {"PATH=" + path}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }, 20s));
    ASSERT_TRUE(t.gt({"lifecycle", "restart", "--as", "r1/witness"}).success());
    ASSERT_TRUE(eventually([&] { return files_in(t.root() + "/daemon/requests/claimed") == 1; }));
    pid_t first = t.pid_from_state();
    ASSERT_EQ(::kill(first, SIGKILL), 0);
    // Dead, not dying: an exiting process's command line reads empty before its descriptors
    // (and so the lock) are closed; a zombie has closed them.
    ASSERT_TRUE(eventually([&] { return !gt::proc::process_alive(first); }));
    EXPECT_TRUE(t.events("lifecycle", "r1/witness").empty());
    auto second = t.gt({"daemon", "start"});
    ASSERT_TRUE(second.success()) << second.out << second.err;
    ASSERT_TRUE(eventually([&] { return !t.events("lifecycle", "r1/witness").empty(); }))
        << second.out << second.err << t.log() << slurp(t.root() + "/daemon/events.jsonl")
        << slurp("/proc/locks");
    EXPECT_EQ(files_in(t.root() + "/daemon/requests/claimed"), 0u);
    EXPECT_TRUE(eventually([&] { return t.pane_pid("gt-r1-witness").has_value(); }));
    // The killed daemon's slowed tmux call is still sleeping: stop it before it starts a
    // tmux server that outlives the test.
    std::system(("pkill -f '" + bin.path() + "/tmux'").c_str());
}

TEST(LifecycleRequests, HostileRequestsAreRejectedWithReasonsAndTouchNothing) {
    TmuxTown t;
    setup(t, "1h");
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    std::map<std::string, long> pids;
    for (auto s : t.sessions()) {
        pids[s] = *t.pane_pid(s);
    }
    std::string in = t.root() + "/daemon/requests/";
    auto req = [](const std::string& from, const std::string& action) {
        return json({{"from", from},
                     {"action", action},
                     {"timestamp", gt::util::format_time(gt::util::now())}})
            .dump();
    };
    std::map<std::string, std::string> files{
        {"a.json", "this is not json"},
        {"b.json", "[\"restart\"]"},
        {"c.json", req("r1/witness", "explode")},
        {"d.json", req("../../etc", "restart")},
        {"e.json", req("a;b", "restart")},
        {"f.json", req("$(id)/witness", "restart")},
        {"g.json", std::string(1024 * 1024, ' ') + req("r1/witness", "restart")},
        {"i.json", req("r1/polecats/ghost", "restart")}, // no such polecat
        {"j.json", req("mayor", "restart")},             // the mayor is not enabled
    };
    for (auto& [name, content] : files) {
        std::ofstream(in + name, std::ios::binary) << content;
    }
    std::ofstream(t.root() + "/outside.json") << req("r1/witness", "restart");
    ASSERT_EQ(::symlink((t.root() + "/outside.json").c_str(), (in + "h.json").c_str()), 0);
    ::kill(t.pid_from_state(), SIGUSR1);
    ASSERT_TRUE(eventually([&] { return t.events("rejected").size() == 10; }));
    for (auto name : {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}) {
        EXPECT_FALSE(slurp(in + "rejected/" + name + ".json.reason").empty()) << name;
    }
    EXPECT_NE(slurp(in + "rejected/c.json.reason").find("unknown action"), std::string::npos);
    EXPECT_NE(slurp(in + "rejected/g.json.reason").find("64 KiB"), std::string::npos);
    for (auto& [s, pid] : pids) {
        EXPECT_EQ(t.pane_pid(s), pid) << s;
    }
    EXPECT_EQ(daemon_pids(t.root()).size(), 1u);
    EXPECT_TRUE(t.sessions().size() == pids.size()); // no session for the ghost
    EXPECT_TRUE(eventually([&] { return t.state()["counters"]["lifecycle_rejected"] == 10; }));
}

TEST(LifecycleRequests, ARequestOlderThanTheMaxAgeIsNotExecuted) {
    TmuxTown t;
    setup(t, "1h");
    t.configure({{"daemon", {{"lifecycle_max_age", "1m"}}}});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    long old = *t.pane_pid("gt-r1-witness");
    std::ofstream(t.root() + "/daemon/requests/old.json")
        << json({{"id", "old"},
                 {"from", "r1/witness"},
                 {"action", "restart"},
                 {"timestamp", gt::util::format_time(gt::util::now() - 2min)}})
               .dump();
    ::kill(t.pid_from_state(), SIGUSR1);
    ASSERT_TRUE(eventually([&] { return !t.events("expired", "r1/witness").empty(); }));
    EXPECT_EQ(t.pane_pid("gt-r1-witness"), old);
    EXPECT_TRUE(t.events("lifecycle").empty());
    EXPECT_FALSE(gt::util::path_exists(t.root() + "/daemon/requests/claimed/old.json"));
}

TEST(LifecycleRequests, AFloodOfRestartsAndCyclesRestartsTheAgentOnce) {
    TmuxTown t;
    setup(t, "1h");
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    long old = *t.pane_pid("gt-r1-witness");
    std::size_t restarted = t.events("restarted", "r1/witness").size();
    std::string in = t.root() + "/daemon/requests/";
    auto base = gt::util::now() - 1s;
    constexpr int k_flood = 200;
    for (int i = 0; i < k_flood; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "flood-%04d", i);
        std::ofstream(in + id + ".json")
            << json({{"id", id},
                     {"from", "r1/witness"},
                     {"action", i % 2 ? "cycle" : "restart"},
                     {"timestamp", gt::util::format_time(base + std::chrono::milliseconds(i))}})
                   .dump();
    }
    ::kill(t.pid_from_state(), SIGUSR1);
    ASSERT_TRUE(eventually(
        [&] { return t.events("lifecycle").size() + t.events("collapsed").size() >= k_flood; },
        30s));
    auto done = t.events("lifecycle", "r1/witness");
    ASSERT_EQ(done.size(), 1u);
    EXPECT_NE(done[0]["detail"].get<std::string>().find("cycle requested (request flood-0199)"),
              std::string::npos)
        << done[0];
    EXPECT_EQ(t.events("collapsed", "r1/witness").size(), k_flood - 1u);
    EXPECT_EQ(t.events("restarted", "r1/witness").size(), restarted + 1);
    EXPECT_TRUE(new_pid(t, "gt-r1-witness", old));
    EXPECT_EQ(files_in(in), 0u);
    EXPECT_EQ(files_in(in + "claimed"), 0u);
}

TEST(LifecycleRequests, ADirectoryAndARequestFromTheFutureAreRejectedWithReasons) {
    TmuxTown t;
    setup(t, "1h");
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    long old = *t.pane_pid("gt-r1-witness");
    std::string in = t.root() + "/daemon/requests/";
    ASSERT_EQ(::mkdir((in + "dir.json").c_str(), 0700), 0);
    std::ofstream(in + "dir.json/inner.json") << "{}";
    std::ofstream(in + "future.json")
        << json({{"id", "future"},
                 {"from", "r1/witness"},
                 {"action", "restart"},
                 {"timestamp", gt::util::format_time(gt::util::now() + 1h)}})
               .dump();
    ::kill(t.pid_from_state(), SIGUSR1);
    ASSERT_TRUE(eventually([&] { return t.events("rejected").size() == 2; }));
    EXPECT_NE(slurp(in + "rejected/dir.json.reason").find("directory"), std::string::npos);
    EXPECT_TRUE(gt::util::path_exists(in + "rejected/dir.json/inner.json"));
    EXPECT_FALSE(gt::util::path_exists(in + "dir.json"));
    EXPECT_NE(slurp(in + "rejected/future.json.reason").find("in the future"), std::string::npos);
    EXPECT_FALSE(gt::util::path_exists(in + "claimed/future.json"));
    EXPECT_TRUE(t.events("lifecycle").empty());
    EXPECT_EQ(t.pane_pid("gt-r1-witness"), old);
}
