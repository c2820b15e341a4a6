// How long a user waits: `gt daemon start`, `gt daemon status`, `gt lifecycle restart` to a
// new pane, an agent killed to running again, 100 agents killed at once to all back, and the
// 8-way start race (only ever one daemon).
#include "bench_town.hpp"
#include "sections.hpp"
#include "support/harness.hpp"

#include <algorithm>
#include <csignal>
#include <thread>

namespace gt::bench {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// Crash restarts at the pace of a benchmark: a short backoff that does not grow, no crash
/// loop, a start budget that holds nothing back. The defaults (30 s backoff doubling, 5 starts
/// per 10 s) would make every trial after the first measure the backoff instead.
void fast_restarts(const test::TmuxTown& town) {
    town.configure({{"daemon",
                     {{"restart",
                       {{"initial_backoff", "10ms"},
                        {"max_backoff", "10ms"},
                        {"multiplier", 1},
                        {"crash_loop_count", 1000}}},
                      {"start_budget", 1000},
                      {"mass_death_count", 1000}}}});
}

void start_with_agents(const test::TmuxTown& town, int agents) {
    if (!town.gt({"daemon", "start"}).success()) {
        throw std::runtime_error("gt daemon start failed");
    }
    if (!test::eventually(
            [&] {
                return town.heartbeats() >= 1 &&
                       live_panes(town).size() == static_cast<std::size_t>(agents);
            },
            2min)) {
        throw std::runtime_error("agents not running after the first heartbeat");
    }
}

/// Polls (one `list-panes -a` each) until every session in `old` has a live pane with another
/// pid: ms from `since`, or a negative number after `timeout`.
double until_replaced(const test::TmuxTown& town, const std::map<std::string, long>& old,
                      Clock::time_point since, std::chrono::milliseconds timeout) {
    while (Clock::now() - since < timeout) {
        auto now = live_panes(town);
        bool all = true;
        for (const auto& [session, pid] : old) {
            auto it = now.find(session);
            all = all && it != now.end() && it->second != pid;
        }
        if (all) {
            return ms_since(since);
        }
        std::this_thread::sleep_for(2ms);
    }
    return -1;
}

Figure timed_figure(const std::string& id, const std::string& name,
                    const std::vector<double>& samples, const std::string& target,
                    double limit_ms) {
    std::vector<double> ok;
    long failed = 0;
    for (double v : samples) {
        if (v >= 0) {
            ok.push_back(v);
        } else {
            ++failed;
        }
    }
    Stats s = stats_of(ok);
    Figure f;
    f.id = id;
    f.name = name;
    f.value = fmt_stats(s, "ms") + (failed ? ", " + std::to_string(failed) + " failed" : "");
    f.number = s.median;
    f.unit = "ms";
    f.target = target;
    if (limit_ms > 0) {
        f.met = failed == 0 && s.n > 0 && s.median < limit_ms;
        f.compared_to = "p90 " + std::string(s.p90 < limit_ms ? "within" : "beyond") + " target";
    }
    f.detail = {{"samples_ms", samples}, {"stats", to_json(s)}, {"failed", failed}};
    return f;
}

/// `gt daemon start` to "Daemon started" (the first heartbeat awaited and the daemon stopped
/// between trials, untimed); then `gt daemon status` against the running daemon.
void start_and_status(const Options& o, Report& report) {
    progress("latency: gt daemon start, gt daemon status");
    test::TmuxTown town;
    configure_sleepers(town, "1h");
    std::vector<double> start_ms;
    for (int i = 0; i < o.trials(15); ++i) {
        pid_t old = town.pid_from_state();
        auto t = Clock::now();
        auto r = town.gt({"daemon", "start"});
        double ms = ms_since(t);
        start_ms.push_back(r.success() && test::has(r.out, "Daemon started") ? ms : -1);
        test::eventually([&] { return town.pid_from_state() != old && town.heartbeats() >= 1; });
        town.gt({"daemon", "stop"});
    }
    report.add(timed_figure("latency.start_ms", "`gt daemon start` to started", start_ms,
                            "< 200 ms", 200));

    start_with_agents(town, 3);
    std::vector<double> status_ms;
    for (int i = 0; i < o.trials(30); ++i) {
        auto t = Clock::now();
        auto r = town.gt({"daemon", "status"});
        status_ms.push_back(r.exit_code == 0 ? ms_since(t) : -1);
    }
    report.add(timed_figure("latency.status_ms", "`gt daemon status` on a running daemon",
                            status_ms, "", 0));
}

/// `gt lifecycle restart` to its new pane, and an agent SIGKILLed to its replacement running
/// (the pane watch and the pane-died hook; the heartbeat is 1 h away).
void restart_and_crash(const Options& o, Report& report) {
    progress("latency: lifecycle restart, crash recovery");
    test::TmuxTown town;
    configure_sleepers(town, "1h");
    fast_restarts(town);
    start_with_agents(town, 3);
    const std::string session = "gt-r1-witness";

    std::vector<double> restart_ms;
    for (int i = 0; i < o.trials(15); ++i) {
        std::map<std::string, long> old{{session, live_panes(town)[session]}};
        auto t = Clock::now();
        bool asked = town.gt({"lifecycle", "restart", "--as", "r1/witness"}).success();
        double ms = until_replaced(town, old, t, 30s);
        restart_ms.push_back(asked ? ms : -1);
        std::this_thread::sleep_for(200ms);
    }
    report.add(timed_figure("latency.lifecycle_restart_ms",
                            "`gt lifecycle restart` to a new pane (heartbeat 1 h)", restart_ms,
                            "< 1 s", 1000));

    std::vector<double> crash_ms;
    for (int i = 0; i < o.trials(15); ++i) {
        std::this_thread::sleep_for(300ms); // past the 10 ms backoff, and the previous pass
        std::map<std::string, long> old{{session, live_panes(town)[session]}};
        auto t = Clock::now();
        ::kill(static_cast<pid_t>(old[session]), SIGKILL);
        crash_ms.push_back(until_replaced(town, old, t, 30s));
    }
    report.add(timed_figure("latency.crash_ms",
                            "agent SIGKILLed to running again (pane-died path, heartbeat 1 h)",
                            crash_ms, "< 5 s", 5000));
}

/// 100 agents SIGKILLed at once to all 100 running again.
void mass_death(const Options& o, Report& report) {
    progress("latency: 100 agents killed at once");
    test::TmuxTown town;
    configure_sleepers(town, "1h");
    fast_restarts(town);
    add_agents(town, 100);
    start_with_agents(town, 100);
    std::vector<double> samples;
    for (int i = 0; i < o.trials(3); ++i) {
        std::this_thread::sleep_for(1s);
        auto old = live_panes(town);
        auto t = Clock::now();
        for (const auto& [session, pid] : old) {
            ::kill(static_cast<pid_t>(pid), SIGKILL);
        }
        samples.push_back(old.size() == 100 ? until_replaced(town, old, t, 60s) : -1);
    }
    report.add(timed_figure("latency.mass_death_ms", "100 agents SIGKILLed at once to all back",
                            samples, "< 10 s", 10000));
}

/// 8 `gt daemon start` at once, `trials` times: every caller exits 0 and exactly one daemon
/// runs afterwards (the losers' daemons exit once they see the lock held).
void start_race(const Options& o, Report& report) {
    progress("latency: 8-way start race");
    test::TmuxTown town;
    configure_sleepers(town, "1h");
    const int trials = o.trials(20);
    int good = 0;
    std::vector<double> race_ms;
    json failures = json::array();
    for (int i = 0; i < trials; ++i) {
        std::vector<int> codes(8, -1);
        std::vector<std::thread> threads;
        auto t = Clock::now();
        for (int k = 0; k < 8; ++k) {
            threads.emplace_back([&, k] { codes[k] = town.gt({"daemon", "start"}).exit_code; });
        }
        for (auto& th : threads) {
            th.join();
        }
        race_ms.push_back(ms_since(t));
        bool one = test::eventually([&] { return test::daemon_pids(town.root()).size() == 1; }, 3s);
        bool all_zero = std::all_of(codes.begin(), codes.end(), [](int c) { return c == 0; });
        if (one && all_zero) {
            ++good;
        } else {
            failures.push_back({{"trial", i},
                                {"daemons", test::daemon_pids(town.root()).size()},
                                {"exit_codes", codes}});
        }
        town.gt({"daemon", "stop"});
        test::eventually([&] { return test::daemon_pids(town.root()).empty(); });
    }
    Figure f;
    f.id = "latency.start_race";
    f.name = "8-way `gt daemon start` race: trials with exactly one daemon, all exit 0";
    f.value = std::to_string(good) + " / " + std::to_string(trials);
    f.number = good;
    f.unit = "trials";
    f.target = "every trial";
    Stats s = stats_of(race_ms);
    f.compared_to = "race wall time " + fmt_stats(s, "ms");
    f.met = good == trials;
    f.detail = {{"trials", trials},
                {"survivors", good},
                {"race_ms", race_ms},
                {"race_stats", to_json(s)},
                {"failures", failures}};
    report.add(f);
}

} // namespace

void bench_latency(const Options& o, Report& report) {
    start_and_status(o, report);
    restart_and_crash(o, report);
    mass_death(o, report);
    start_race(o, report);
}

} // namespace gt::bench
