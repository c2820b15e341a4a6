// Benchmarks of the daemon's process lifecycle (design §9). They print figures; nothing here
// asserts a time. Run: build/bench/gt_bench

#include "support/harness.hpp"
#include "support/tmux_town.hpp"

#include <benchmark/benchmark.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace gt::test;

/// `gt daemon start` until it prints "Daemon started" (target < 200 ms), with a stop between.
static void BM_DaemonStart(benchmark::State& state) {
    TownFixture town;
    for (auto _ : state) {
        auto r = town.gt({"daemon", "start"});
        if (r.exit_code != 0) {
            state.SkipWithError("start failed");
            break;
        }
        state.PauseTiming();
        town.gt({"daemon", "stop"});
        state.ResumeTiming();
    }
}
BENCHMARK(BM_DaemonStart)->Unit(benchmark::kMillisecond)->Iterations(20);

/// 8 concurrent `gt daemon start`: wall time of the whole race, and trials with exactly one daemon.
static void BM_ConcurrentStart8(benchmark::State& state) {
    TownFixture town;
    int good = 0, trials = 0;
    for (auto _ : state) {
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i) {
            threads.emplace_back([&] { town.gt({"daemon", "start"}); });
        }
        for (auto& t : threads) {
            t.join();
        }
        state.PauseTiming();
        ++trials;
        good += daemon_pids(town.root()).size() == 1;
        town.gt({"daemon", "stop"});
        state.ResumeTiming();
    }
    state.counters["exactly_one_daemon"] = good;
    state.counters["trials"] = trials;
}
BENCHMARK(BM_ConcurrentStart8)->Unit(benchmark::kMillisecond)->Iterations(50);

/// `gt daemon status` against a running daemon.
static void BM_Status(benchmark::State& state) {
    TownFixture town;
    town.gt({"daemon", "start"});
    for (auto _ : state) {
        benchmark::DoNotOptimize(town.gt({"daemon", "status"}));
    }
}
BENCHMARK(BM_Status)->Unit(benchmark::kMillisecond)->Iterations(50);

/// One heartbeat over N healthy agents on a real (private) tmux server (target: < 150 ms for
/// 1000). Each iteration triggers a heartbeat with SIGUSR1; the figure is the daemon's own
/// measurement of the heartbeat (state.json `last_heartbeat_ms`), reported as manual time.
static void BM_HeartbeatHealthyAgents(benchmark::State& state) {
    const long agents = state.range(0); // deacon + witness and refinery per rig
    TmuxTown town;
    town.configure({{"daemon", {{"heartbeat_interval", "1h"}, {"start_grace", "0s"}}}});
    town.set_all_commands({"sleep", "1000"});
    for (long i = 2; i <= (agents - 1) / 2; ++i) {
        town.gt({"rig", "add", "r" + std::to_string(i)});
    }
    town.gt({"daemon", "start"});
    if (!eventually([&] { return town.heartbeats() >= 1; }, std::chrono::minutes(5))) {
        state.SkipWithError("first heartbeat did not finish");
        return;
    }
    state.counters["sessions"] = static_cast<double>(town.sessions().size());
    for (auto _ : state) {
        long before = town.heartbeats();
        ::kill(town.pid_from_state(), SIGUSR1);
        eventually([&] { return town.heartbeats() > before; }, std::chrono::minutes(1));
        state.SetIterationTime(town.state()["last_heartbeat_ms"].get<double>() / 1000.0);
    }
}
BENCHMARK(BM_HeartbeatHealthyAgents)
    ->Arg(201)
    ->Arg(1001)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(20);

/// One heartbeat over N agents whose panes print twice a second, of which `pct` % went quiet
/// since the previous heartbeat (design §16): the daemon's heartbeat time (manual time) and the
/// tmux processes it ran and the screens it read, per heartbeat. pct 0 is the all-busy case the
/// others compare to.
static void BM_HeartbeatScreens(benchmark::State& state) {
    const long agents = state.range(0); // deacon + witness and refinery per rig
    const long pct = state.range(1);
    TmuxTown town;
    const std::string flags = town.root() + "/quiet";
    town.gt({"rig", "add", "r0"}); // r1 exists; name list below covers r1..rN
    std::filesystem::create_directories(flags);
    town.configure({{"daemon",
                     {{"heartbeat_interval", "1h"},
                      {"start_grace", "0s"},
                      {"screens", {{"quiet_after", "3s"}}}}}});
    // Prints until its flag file appears, then is silent for good.
    town.set_all_commands({"perl", "-e",
                           "$|=1; $f=\"$ARGV[0]/\".($ENV{GT_RIG}//'town').\"-$ENV{GT_ROLE}\"; "
                           "until (-e $f) { print '.'; select(undef,undef,undef,0.5) } sleep 1e6",
                           flags});
    std::vector<std::string> names{"town-deacon"};
    names.push_back("r0-witness");
    names.push_back("r0-refinery");
    names.push_back("r1-witness");
    names.push_back("r1-refinery");
    for (long i = 2; i <= (agents - 1) / 2 - 1; ++i) {
        town.gt({"rig", "add", "r" + std::to_string(i)});
        names.push_back("r" + std::to_string(i) + "-witness");
        names.push_back("r" + std::to_string(i) + "-refinery");
    }
    town.gt({"daemon", "start"});
    if (!eventually([&] { return town.heartbeats() >= 1; }, std::chrono::minutes(5))) {
        state.SkipWithError("first heartbeat did not finish");
        return;
    }
    state.counters["sessions"] = static_cast<double>(town.sessions().size());
    double calls = 0, captures = 0;
    std::size_t next = 0;
    for (auto _ : state) {
        const std::size_t batch = names.size() * pct / 100;
        for (std::size_t i = 0; i < batch && next < names.size(); ++i, ++next) {
            std::ofstream(flags + "/" + names[next]) << "quiet\n";
        }
        std::this_thread::sleep_for(std::chrono::seconds(4)); // past quiet_after
        long before = town.heartbeats();
        ::kill(town.pid_from_state(), SIGUSR1);
        eventually([&] { return town.heartbeats() > before; }, std::chrono::minutes(1));
        auto st = town.state();
        state.SetIterationTime(st["last_heartbeat_ms"].get<double>() / 1000.0);
        calls += st.value("last_heartbeat_tmux_calls", 0.0);
        captures += st.value("last_heartbeat_captures", 0.0);
    }
    state.counters["tmux_calls"] = benchmark::Counter(calls, benchmark::Counter::kAvgIterations);
    state.counters["screens_read"] =
        benchmark::Counter(captures, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_HeartbeatScreens)
    ->Args({1001, 0})
    ->Args({1001, 10})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

/// Polls until `session`'s pane pid differs from `old` (1 ms steps); false after 30 s.
static bool wait_new_pane(const TmuxTown& town, const std::string& session, long old) {
    return eventually(
        [&] {
            auto pid = town.pane_pid(session);
            return pid && *pid != old;
        },
        std::chrono::seconds(30));
}

/// `gt lifecycle restart` to a new pane running (target < 1 s), heartbeat interval 1 h.
static void BM_LifecycleRestartToNewPane(benchmark::State& state) {
    TmuxTown town;
    town.configure({{"daemon", {{"heartbeat_interval", "1h"}, {"start_grace", "0s"}}}});
    town.set_all_commands({"sleep", "1000"});
    town.gt({"daemon", "start"});
    eventually([&] { return town.pane_pid("gt-r1-witness").has_value(); });
    for (auto _ : state) {
        long old = town.pane_pid("gt-r1-witness").value_or(0);
        town.gt({"lifecycle", "restart", "--as", "r1/witness"});
        if (!wait_new_pane(town, "gt-r1-witness", old)) {
            state.SkipWithError("no new pane");
            break;
        }
    }
}
BENCHMARK(BM_LifecycleRestartToNewPane)->Unit(benchmark::kMillisecond)->Iterations(20);

/// An agent's process killed to its replacement running (target < 5 s), heartbeat 1 h: the
/// pane watch and the pane-died hook, not the heartbeat. Backoff kept below the loop's pace.
static void BM_CrashToAgentRunning(benchmark::State& state) {
    TmuxTown town;
    town.configure(
        {{"daemon",
          {{"heartbeat_interval", "1h"},
           {"start_grace", "0s"},
           {"restart",
            {{"initial_backoff", "10ms"}, {"multiplier", 1}, {"crash_loop_count", 1000}}}}}});
    town.set_all_commands({"sleep", "1000"});
    town.gt({"daemon", "start"});
    eventually([&] { return town.pane_pid("gt-r1-witness").has_value(); });
    for (auto _ : state) {
        state.PauseTiming();
        std::this_thread::sleep_for(std::chrono::milliseconds(200)); // past the backoff
        long old = town.pane_pid("gt-r1-witness").value_or(0);
        state.ResumeTiming();
        ::kill(static_cast<pid_t>(old), SIGKILL);
        if (!wait_new_pane(town, "gt-r1-witness", old)) {
            state.SkipWithError("not restarted");
            break;
        }
    }
}
BENCHMARK(BM_CrashToAgentRunning)->Unit(benchmark::kMillisecond)->Iterations(10);

BENCHMARK_MAIN();
