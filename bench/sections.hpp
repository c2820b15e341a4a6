#pragma once

// The sections of gt_bench_system, each measuring its figures into the report.

#include "report.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace gt::bench {

/// What to measure and how often (bench/run.sh passes them on).
struct Options {
    bool quick = false;                           ///< fewer trials: a smoke run, not figures
    std::vector<int> agents{10, 100, 1000, 5000}; ///< N of the heartbeat section
    int idle_seconds = 60;
    std::set<std::string> sections{"heartbeat", "idle", "latency"};
    /// More or fewer trials than the default, scaled: `quick` divides by about three.
    int trials(int normal) const { return quick ? std::max(2, normal / 3) : normal; }
};

/// Heartbeat wall time and tmux processes per heartbeat at each N, beside the Go original's
/// per-agent pattern and one bare `list-panes -a`.
void bench_heartbeat(const Options& o, Report& report);

/// An idle daemon with 20 agents over `idle_seconds`: RSS, CPU time, wake-ups.
void bench_idle(const Options& o, Report& report);

/// Start, status, lifecycle restart, crash recovery, 100 deaths at once, the 8-way start race.
void bench_latency(const Options& o, Report& report);

/// Folds the Google Benchmark JSON of gt_bench_micro (`--benchmark_format=json`) into the
/// report; false when the file cannot be read.
bool fold_micro(const std::string& path, Report& report);

} // namespace gt::bench
