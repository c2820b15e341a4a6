// Benchmarks of the daemon's process lifecycle (§9). They print figures; nothing here asserts
// a time. Run: build/bench/gt_bench

#include "support/harness.hpp"

#include <benchmark/benchmark.h>
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

BENCHMARK_MAIN();
