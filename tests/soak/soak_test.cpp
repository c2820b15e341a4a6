// The soak (design §10): 10,000 heartbeats at a 10 ms interval over 20 agents on a private real
// tmux server, with lifecycle requests, control-socket clients and pane deaths mixed in. What a
// week of unattended running would show slowly shows here at once: a descriptor or memory leak
// per heartbeat, a request lost under load, an error the daemon logs and carries on past.
#include "support/proc_sample.hpp"
#include "support/tmux_town.hpp"
#include "util/fd.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <gtest/gtest.h>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace gt::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// One look at the daemon process: open descriptors and resident memory.
struct Sample {
    long heartbeats = 0;
    long fds = 0;
    long rss_kb = 0;
};

/// The least value of one field over `samples`: what the daemon holds between heartbeats, without
/// the pipes of a tmux call or a client's connection that a sample may catch.
long least(const std::vector<Sample>& samples, long Sample::*field) {
    return (*std::min_element(
               samples.begin(), samples.end(),
               [&](const Sample& a, const Sample& b) { return a.*field < b.*field; })).*
           field;
}

/// A control-socket client that connects and sends `line` (possibly nothing, possibly not a
/// whole line) and hangs up without waiting for the answer: the rude clients a socket meets.
void rude_client(const std::string& socket_path, const std::string& line) {
    gt::util::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (!fd || socket_path.size() >= sizeof addr.sun_path) {
        return;
    }
    socket_path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        !line.empty()) {
        [[maybe_unused]] auto n = ::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL);
    }
}

/// The request id in a lifecycle/collapsed event's detail ("... request <id>): ...").
std::string request_id(const json& event) {
    std::string d = event.value("detail", "");
    auto at = d.find("request ");
    if (at == std::string::npos) {
        return "";
    }
    return d.substr(at + 8, d.find_first_of("):", at + 8) - at - 8);
}

} // namespace

TEST(Soak, TenThousandHeartbeatsWithRequestsClientsAndDeathsStayFlat) {
    constexpr long k_heartbeats = 10000;
    constexpr long k_warm_up = 500;
    TmuxTown t;
    for (int r = 2; r <= 5; ++r) {
        ASSERT_TRUE(t.gt({"rig", "add", "r" + std::to_string(r)}).success());
    }
    t.add_polecats(9); // deacon + 5 rigs x (witness, refinery) + 9 polecats = 20 agents
    t.configure(
        {{"daemon",
          {{"heartbeat_interval", "10ms"},
           {"start_grace", "0s"},
           // Deaths here are the test's doing, neither a storm to hold nor a crash
           // loop to stop: the storm and the loop have tests of their own.
           {"mass_death_count", 1000},
           {"mass_death_window", "1s"},
           {"start_budget", 1000},
           {"start_budget_window", "1s"},
           {"restart",
            {{"initial_backoff", "10ms"}, {"multiplier", 1}, {"crash_loop_count", 1000}}}}}});
    t.set_all_commands({"sleep", "100000"});
    auto started = t.gt({"daemon", "start"});
    ASSERT_TRUE(started.success()) << started.err;
    ASSERT_TRUE(eventually([&] { return t.alive_sessions() == 20; }, 30s)) << t.log();
    ASSERT_TRUE(t.wait_heartbeats(k_warm_up, 120s)) << t.log();
    const pid_t daemon = t.pid_from_state();
    ASSERT_GT(daemon, 0);
    const std::string socket_path = t.state().value("socket", "");
    ASSERT_FALSE(socket_path.empty());
    const long start = t.heartbeats();

    std::atomic<bool> done{false};
    std::atomic<int> requests{0}, request_failures{0}, status_failures{0}, deaths{0};
    std::mutex samples_mutex;
    std::vector<Sample> samples;
    std::vector<std::thread> workers;
    // Lifecycle requests: restarts and cycles of the rig agents.
    workers.emplace_back([&] {
        const char* ids[] = {"r1/witness", "r2/refinery", "r3/witness", "r4/refinery", "deacon"};
        for (int i = 0; !done; ++i) {
            auto r = t.gt({"lifecycle", i % 3 ? "restart" : "cycle", "--as", ids[i % 5]});
            (r.success() ? requests : request_failures)++;
            std::this_thread::sleep_for(150ms);
        }
    });
    // Control-socket clients: status through the socket, and rude ones that hang up.
    workers.emplace_back([&] {
        const std::string rude[] = {"", "{\"cmd\":\"status\"}", "{\"cmd\":", "not json\n",
                                    "{\"cmd\":\"status\"}\n"};
        for (int i = 0; !done; ++i) {
            if (!t.gt({"daemon", "status"}).success()) {
                ++status_failures;
            }
            rude_client(socket_path, rude[i % 5]);
            std::this_thread::sleep_for(50ms);
        }
    });
    // Pane deaths: a polecat's agent killed now and then.
    workers.emplace_back([&] {
        std::mt19937 rng(12345);
        while (!done) {
            std::this_thread::sleep_for(400ms);
            auto pid = t.pane_pid("gt-r1-p" + std::to_string(rng() % 9));
            if (pid && ::kill(static_cast<pid_t>(*pid), SIGKILL) == 0) {
                ++deaths;
            }
        }
    });
    // Samples of the daemon's descriptors and memory, once a second.
    workers.emplace_back([&] {
        while (!done) {
            ProcSample p = sample_process(daemon);
            Sample s{t.heartbeats(), p.fds, p.vm_rss_kb};
            {
                std::lock_guard lock(samples_mutex);
                samples.push_back(s);
            }
            std::this_thread::sleep_for(1s);
        }
    });
    bool reached = t.wait_heartbeats(start + k_heartbeats, 900s);
    done = true;
    for (auto& w : workers) {
        w.join();
    }
    ASSERT_TRUE(reached) << "heartbeats: " << t.heartbeats() - start << "\n" << t.log();
    ASSERT_EQ(t.pid_from_state(), daemon) << "the daemon was replaced";

    // Every request written was executed: as a lifecycle action or collapsed into one.
    ::kill(daemon, SIGUSR1);
    ASSERT_TRUE(eventually(
        [&] {
            return t.events("lifecycle").size() + t.events("collapsed").size() ==
                   static_cast<std::size_t>(requests.load());
        },
        60s))
        << "requests " << requests << ", lifecycle " << t.events("lifecycle").size()
        << ", collapsed " << t.events("collapsed").size();
    std::set<std::string> ids;
    for (auto kind : {"lifecycle", "collapsed"}) {
        for (auto& e : t.events(kind)) {
            EXPECT_TRUE(ids.insert(request_id(e)).second) << "executed twice: " << e.dump();
        }
    }
    EXPECT_EQ(request_failures, 0);
    EXPECT_EQ(status_failures, 0);
    EXPECT_GT(requests, 50);
    EXPECT_GT(deaths, 10);
    auto pending = gt::util::list_dir(t.root() + "/daemon/requests/claimed");
    ASSERT_TRUE(pending);
    EXPECT_TRUE(pending->empty()) << pending->size() << " requests left claimed";

    // No error events, and no error in the log.
    for (auto kind : {"start_failed", "lifecycle_failed", "rejected", "directory_lost", "degraded",
                      "crash_loop", "marked_dead", "clock_jump", "held", "write_failed"}) {
        EXPECT_TRUE(t.events(kind).empty()) << kind << ": " << t.events(kind).front().dump();
    }
    std::istringstream log(t.log());
    for (std::string line; std::getline(log, line);) {
        EXPECT_EQ(line.find("Z error "), std::string::npos) << line;
        EXPECT_EQ(line.find("Z critical "), std::string::npos) << line;
    }
    // Every killed agent came back.
    EXPECT_TRUE(eventually([&] { return t.alive_sessions() == 20; }, 30s));

    // Flat after warm-up: the first and the last ten samples, by their least values. A leak of
    // one descriptor per heartbeat would add 10,000, of one per request hundreds; of 200 bytes
    // per heartbeat, 2 MB.
    ASSERT_GE(samples.size(), 20u) << "the run was too short to compare";
    std::vector<Sample> first(samples.begin(), samples.begin() + 10);
    std::vector<Sample> last(samples.end() - 10, samples.end());
    long fds_first = least(first, &Sample::fds), fds_last = least(last, &Sample::fds);
    long rss_first = least(first, &Sample::rss_kb), rss_last = least(last, &Sample::rss_kb);
    RecordProperty("fds_first", static_cast<int>(fds_first));
    RecordProperty("fds_last", static_cast<int>(fds_last));
    RecordProperty("rss_kb_first", static_cast<int>(rss_first));
    RecordProperty("rss_kb_last", static_cast<int>(rss_last));
    std::cout << "soak: " << t.heartbeats() - start << " heartbeats, " << samples.size()
              << " samples, " << requests << " requests, " << deaths << " deaths; fds " << fds_first
              << " -> " << fds_last << ", RSS " << rss_first << " -> " << rss_last << " kB\n";
    EXPECT_LE(fds_last, fds_first + 2);
    EXPECT_LE(rss_last, rss_first + 2048);
}
