// Single instance under races: commands racing each other with and without a daemon, and
// signals at start-up and of every kind. The real gt binary, real processes, real files.

#include "client/control_client.hpp"
#include "daemon/lock.hpp"
#include "support/harness.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace gt;
using namespace gt::test;
using namespace std::chrono_literals;

namespace {

/// Every PID a command printed ("PID 123").
std::vector<pid_t> printed_pids(const std::string& out) {
    std::vector<pid_t> pids;
    static const std::regex re("PID ([0-9]+)");
    for (std::sregex_iterator it(out.begin(), out.end(), re), end; it != end; ++it) {
        pids.push_back(static_cast<pid_t>(std::stol((*it)[1])));
    }
    return pids;
}

/// The PIDs of every daemon that ever started in this town, from its log.
std::set<pid_t> logged_daemon_pids(const TownFixture& t) {
    std::set<pid_t> pids;
    std::string log = slurp(t.root() + "/daemon/daemon.log");
    static const std::regex re("daemon started: pid ([0-9]+)");
    for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it) {
        pids.insert(static_cast<pid_t>(std::stol((*it)[1])));
    }
    return pids;
}

/// Runs `fn(i)` on `threads` threads, `rounds` times each.
void in_parallel(int threads, int rounds, const std::function<void(int)>& fn) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int r = 0; r < rounds; ++r) {
                fn(t);
            }
        });
    }
    for (auto& th : pool) {
        th.join();
    }
}

} // namespace

// Point 1: with no daemon, commands that look at the lock must never take one another for the
// daemon: no command killed by a signal, no "stopped (was PID …)", no false "hung".
TEST(Hardening, RacingCommandsWithoutADaemonNeverTakeEachOtherForIt) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "status"}).exit_code, 3); // creates nothing, nothing runs
    ::mkdir((t.root() + "/daemon").c_str(), 0700);
    std::mutex m;
    std::vector<std::string> problems;
    in_parallel(4, 25, [&](int which) {
        proc::RunResult r;
        switch (which) {
        case 0:
            r = t.gt({"daemon", "status"});
            if (r.exit_code != 3) {
                std::lock_guard l(m);
                problems.push_back("status exit " + std::to_string(r.exit_code) + ": " + r.out);
            }
            break;
        case 1:
            r = t.gt({"daemon", "stop"});
            if (!has(r.out, "Daemon is not running")) {
                std::lock_guard l(m);
                problems.push_back("stop: " + r.out + r.err);
            }
            break;
        case 2:
            r = t.gt({"lifecycle", "restart", "--as", "deacon"});
            if (r.exit_code != 0 || has(r.out, "notified")) {
                std::lock_guard l(m);
                problems.push_back("lifecycle: " + r.out + r.err);
            }
            break;
        default:
            r = t.gt({"daemon", "clear-backoff", "deacon"});
            break;
        }
        if (r.signal != 0) {
            std::lock_guard l(m);
            problems.push_back("a gt command was killed by signal " + std::to_string(r.signal));
        }
    });
    EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems[0];
}

// Point 1 with a daemon: every PID any command prints is the daemon's, never a caller's.
TEST(Hardening, RacingCommandsWithADaemonOnlyEverNameTheDaemon) {
    TownFixture t;
    auto started = t.gt({"daemon", "start"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    pid_t daemon = t.pid_from_file();
    ASSERT_GT(daemon, 0);
    std::mutex m;
    std::vector<std::string> problems;
    in_parallel(4, 15, [&](int which) {
        proc::RunResult r;
        if (which == 0) {
            r = t.gt({"daemon", "status"});
            if (r.exit_code != 0) {
                std::lock_guard l(m);
                problems.push_back("status exit " + std::to_string(r.exit_code) + ": " + r.out);
            }
        } else if (which == 1) {
            r = t.gt({"daemon", "start"});
        } else if (which == 2) {
            r = t.gt({"lifecycle", "cycle", "--as", "deacon"});
        } else {
            r = t.gt({"daemon", "clear-backoff", "deacon"});
        }
        std::lock_guard l(m);
        if (r.signal != 0) {
            problems.push_back("killed by signal " + std::to_string(r.signal));
        }
        for (pid_t p : printed_pids(r.out + r.err)) {
            if (p != daemon) {
                problems.push_back("printed PID " + std::to_string(p) +
                                   ", not the daemon's: " + r.out + r.err);
            }
        }
    });
    EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems[0];
    auto stop = t.gt({"daemon", "stop"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped (was PID " + std::to_string(daemon) + ")"))
        << stop.out << stop.err;
}

// Point 1, everything at once: starts, stops, statuses and lifecycle requests racing. Whatever
// PID a command prints must be one of the daemons that really ran.
TEST(Hardening, StartStopStatusLifecycleRacesNameOnlyRealDaemons) {
    TownFixture t;
    std::mutex m;
    std::vector<std::string> printed;
    std::vector<std::string> problems;
    in_parallel(4, 12, [&](int which) {
        static const std::vector<std::vector<std::string>> commands = {
            {"daemon", "start"},
            {"daemon", "stop", "--timeout", "5s"},
            {"daemon", "status"},
            {"lifecycle", "restart", "--as", "deacon"}};
        auto r = t.gt(commands[static_cast<std::size_t>(which)]);
        std::lock_guard l(m);
        if (r.signal != 0) {
            problems.push_back(commands[static_cast<std::size_t>(which)][1] + " killed by signal " +
                               std::to_string(r.signal));
        }
        if (which == 2 && r.exit_code == 4) {
            problems.push_back("status said hung: " + r.out);
        }
        printed.push_back(r.out + r.err);
    });
    t.gt({"daemon", "stop"});
    auto daemons = logged_daemon_pids(t);
    for (const auto& out : printed) {
        for (pid_t p : printed_pids(out)) {
            if (!daemons.count(p)) {
                problems.push_back("PID " + std::to_string(p) + " never was a daemon: " + out);
            }
        }
    }
    EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems[0];
}

// Point 2: a SIGUSR1 (what `gt lifecycle` sends) the instant the daemon holds its lock must
// not kill it: `start` reports it started, and it is still running afterwards.
TEST(Hardening, SignalsDuringStartUpWaitInsteadOfKillingTheDaemon) {
    TownFixture t;
    std::string lock = t.root() + "/daemon/daemon.lock";
    for (int round = 0; round < 8; ++round) {
        std::atomic<bool> done{false};
        std::atomic<int> sent{0};
        std::thread spammer([&] {
            while (!done) {
                if (auto holder = daemon::lock_holder(lock); holder && *holder > 0) {
                    ::kill(*holder, SIGUSR1);
                    ++sent;
                }
            }
        });
        auto r = t.gt({"daemon", "start"});
        std::this_thread::sleep_for(50ms);
        done = true;
        spammer.join();
        EXPECT_TRUE(has(r.out, "Daemon started (PID "))
            << "round " << round << ": " << r.out << r.err;
        EXPECT_GT(sent.load(), 0);
        auto status = t.gt({"daemon", "status"});
        EXPECT_EQ(status.exit_code, 0) << "round " << round << ": " << status.out;
        ASSERT_EQ(t.gt({"daemon", "stop"}).exit_code, 0);
    }
}

// Point 3: signals whose default action is fatal are logged and ignored; only SIGTERM stops.
TEST(Hardening, StraySignalsDoNotKillTheDaemon) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    pid_t pid = t.pid_from_file();
    ASSERT_GT(pid, 0);
    for (int sig :
         {SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGPWR, SIGTRAP, SIGQUIT, SIGSTKFLT, SIGIO,
          SIGTSTP, SIGTTIN, SIGTTOU, SIGRTMIN, SIGRTMIN + 5, SIGRTMAX}) {
        ASSERT_EQ(::kill(pid, sig), 0);
        std::this_thread::sleep_for(10ms);
    }
    auto status = t.gt({"daemon", "status", "--json"});
    EXPECT_EQ(status.exit_code, 0) << status.out;
    EXPECT_TRUE(has(status.out, "\"pid\": " + std::to_string(pid))) << status.out;
    EXPECT_TRUE(eventually([&] {
        std::string log = slurp(t.root() + "/daemon/daemon.log");
        return has(log, "received SIGALRM") && has(log, "received SIGRTMIN+5") &&
               has(log, "received SIGQUIT");
    })) << slurp(t.root() + "/daemon/daemon.log");
    auto stop = t.gt({"daemon", "stop"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped")) << stop.out << stop.err;
    EXPECT_FALSE(util::path_exists(t.root() + "/daemon/daemon.sock"));
}

// Point 4, daemon/ deleted under a running daemon (it stops by itself, and a new start never
// runs beside it): Hardening.DaemonDirectory* in hardening_test.cpp.
