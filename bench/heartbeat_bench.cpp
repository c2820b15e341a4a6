// Heartbeat wall time and tmux processes per heartbeat at N agents on a private tmux server,
// beside what a user would otherwise have: the Go original's two tmux processes per agent, and
// the floor, one bare `list-panes -a` over the same server. Then the one heartbeat that reads
// every screen: all N panes quiet and never read, as after a daemon's start (design §16.2).
#include "bench_town.hpp"
#include "sections.hpp"
#include "support/harness.hpp"

#include <algorithm>
#include <thread>

namespace gt::bench {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// The format the daemon's snapshot uses (internal/tmux), for the floor with the same output.
constexpr const char* k_daemon_format =
    "#{session_name}\t#{pane_index}\t#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t"
    "#{pane_dead_signal}\t#{window_activity}\t#{pane_current_command}";

/// Up to this many agents the Go pattern is timed over all of them; above, over k_go_sample
/// of them, evenly spread, and scaled to all. Each of its tmux processes costs the server time
/// in proportion to the sessions, so the whole pattern grows with N²: some 10,000 processes of
/// ~0.1 s each at 5,000 agents.
constexpr std::size_t k_go_full = 1000;
constexpr std::size_t k_go_sample = 250;

/// Pseudo-terminals left for everyone else while a town of N agents runs.
constexpr long k_pty_margin = 256;

struct Samples {
    std::vector<double> gt_ms;
    std::vector<double> floor_ms;
    std::vector<double> floor_format_ms;
    std::vector<double> go_ms;
    std::vector<double> daemon_calls;  ///< state.json, heartbeats where no pane changed
    std::vector<double> wrapper_calls; ///< the counting tmux on PATH, same
    double cpu_ms_per_beat = 0;        ///< the daemon's utime+stime over the timed beats
    long changed = 0;                  ///< heartbeats that read screens (left out of the counts)
    double setup_s = 0;
    std::vector<std::string> wrapper_log; ///< the last invocations the wrapper saw
    json screens_pass;                    ///< the heartbeat that read every screen
};

/// Starts the town's daemon (with `env`) and waits for its first heartbeat and for all `n`
/// panes to be live. Returns the state.json written after that heartbeat.
json start_daemon(const test::TmuxTown& town, int n, const std::vector<std::string>& env) {
    pid_t old = town.pid_from_state();
    auto r = town.gt({"daemon", "start"}, env);
    if (!r.success()) {
        throw std::runtime_error("gt daemon start: " + r.err);
    }
    bool up = test::eventually(
        [&] {
            return town.pid_from_state() != old && town.heartbeats() >= 1 &&
                   live_panes(town).size() == static_cast<std::size_t>(n);
        },
        20min);
    if (!up) {
        throw std::runtime_error("agents not all running after the first heartbeat");
    }
    return town.state();
}

void stop_daemon(const test::TmuxTown& town) {
    if (!town.gt({"daemon", "stop"}).success()) {
        throw std::runtime_error("gt daemon stop failed");
    }
}

/// A few heartbeats under the counting tmux: the daemon's own counter and the wrapper's.
void count_calls(const test::TmuxTown& town, const CountingTmux& counting, int beats, Samples& s) {
    for (int i = 0; i < beats; ++i) {
        long before = counting.calls();
        json st = trigger_heartbeat(town);
        if (st.is_null()) {
            throw std::runtime_error("heartbeat did not finish");
        }
        long wrapper = counting.calls() - before;
        if (st.value("last_heartbeat_captures", 0L) != 0) {
            ++s.changed;
            continue;
        }
        s.daemon_calls.push_back(st.value("last_heartbeat_tmux_calls", -1.0));
        s.wrapper_calls.push_back(static_cast<double>(wrapper));
    }
}

/// Heartbeats timed by the daemon, each beside one bare and one formatted `list-panes -a`.
void time_beats(const test::TmuxTown& town, int beats, int floors, Samples& s) {
    const pid_t pid = town.pid_from_state();
    const double cpu_before = sample_process(pid).cpu_ms;
    for (int i = 0; i < std::max(beats, floors); ++i) {
        if (i < beats) {
            json st = trigger_heartbeat(town);
            if (st.is_null()) {
                throw std::runtime_error("heartbeat did not finish");
            }
            s.gt_ms.push_back(st.value("last_heartbeat_ms", -1.0));
            if (st.value("last_heartbeat_captures", 0L) != 0) {
                ++s.changed;
            } else {
                s.daemon_calls.push_back(st.value("last_heartbeat_tmux_calls", -1.0));
            }
            if (i + 1 == beats) {
                s.cpu_ms_per_beat = (sample_process(pid).cpu_ms - cpu_before) / beats;
            }
        }
        if (i < floors) {
            s.floor_ms.push_back(timed_run({"tmux", "-L", town.socket(), "list-panes", "-a"}));
            s.floor_format_ms.push_back(timed_run(
                {"tmux", "-L", town.socket(), "list-panes", "-a", "-F", k_daemon_format}));
        }
    }
}

/// The Go original's check of every agent: `has-session -t =S`, then `list-panes -t S -F
/// '#{pane_current_command}'`, two tmux processes per agent, one after the other (above
/// k_go_full agents: over a sample, scaled).
double go_pattern_ms(const test::TmuxTown& town, const std::vector<std::string>& sessions) {
    const std::size_t step =
        sessions.size() <= k_go_full ? 1 : std::max<std::size_t>(1, sessions.size() / k_go_sample);
    std::size_t timed = 0;
    auto start = Clock::now();
    for (std::size_t i = 0; i < sessions.size(); i += step, ++timed) {
        timed_run({"tmux", "-L", town.socket(), "has-session", "-t", "=" + sessions[i]});
        timed_run({"tmux", "-L", town.socket(), "list-panes", "-t", sessions[i], "-F",
                   "#{pane_current_command}"});
    }
    return ms_since(start) * static_cast<double>(sessions.size()) / static_cast<double>(timed);
}

Samples measure(const Options& o, int n) {
    Samples s;
    test::TmuxTown town;
    configure_sleepers(town, "1h");
    // Output this recent counts as working: no screen is read while the sleepers' panes are
    // younger than that, so every heartbeat below is one where no pane changed.
    town.configure({{"daemon", {{"screens", {{"quiet_after", "1000h"}}}}}});
    auto sessions = add_agents(town, n);
    auto setup = Clock::now();
    start_agents_in_bulk(town, sessions);

    // 1. Counted by a tmux on the daemon's PATH (one more `sh` per call, so not timed).
    CountingTmux counting;
    start_daemon(town, n, {counting.path_env()});
    s.setup_s = ms_since(setup) / 1000;
    progress("  " + std::to_string(n) + " agents supervised after " + fmt(s.setup_s) + " s");
    count_calls(town, counting, o.quick ? 2 : 3, s);
    s.wrapper_log = counting.last(3);
    stop_daemon(town);

    // 2. Timed, with the real tmux, beside the floor and the Go pattern on the same server.
    start_daemon(town, n, {});
    const int beats = o.trials(n <= 100 ? 15 : n <= 1000 ? 10 : 5);
    time_beats(town, beats, std::max(beats, o.trials(15)), s);
    const int reps = o.quick ? 1 : n <= 100 ? 5 : n < 1000 ? 3 : 1;
    for (int i = 0; i < reps; ++i) {
        s.go_ms.push_back(go_pattern_ms(town, sessions));
    }
    stop_daemon(town);

    // 3. Every pane quiet and never read: a fresh daemon's first heartbeat reads all N screens.
    progress("  the heartbeat that reads all " + std::to_string(n) + " screens");
    town.configure({{"daemon", {{"screens", {{"quiet_after", "1s"}}}}}});
    std::this_thread::sleep_for(1100ms);
    CountingTmux all_screens;
    json st = start_daemon(town, n, {all_screens.path_env()});
    s.screens_pass = {{"ms", st.value("last_heartbeat_ms", -1L)},
                      {"daemon_counter", st.value("last_heartbeat_tmux_calls", -1L)},
                      {"path_wrapper", all_screens.calls()},
                      {"screens_read", st.value("last_heartbeat_captures", -1L)},
                      {"path_wrapper_last_calls", all_screens.last(3)}};
    return s;
}

std::string ratio_text(double num, double den, const std::string& label) {
    return den > 0 ? fmt(num / den) + "x (" + label + ")" : "";
}

/// The heartbeat's time beside the floor (the target applies at 1,000 agents).
Figure gt_figure(int n, const Samples& s) {
    Stats gt = stats_of(s.gt_ms), floor = stats_of(s.floor_ms),
          floor_format = stats_of(s.floor_format_ms);
    Figure f;
    f.id = "heartbeat.n" + std::to_string(n) + ".gt_ms";
    f.name = "heartbeat, " + std::to_string(n) + " agents: gt (the daemon's own time)";
    f.value = fmt_stats(gt, "ms") + "; daemon CPU " + fmt(s.cpu_ms_per_beat) + " ms per beat";
    f.number = gt.median;
    f.unit = "ms";
    f.compared_to = "floor: one bare `tmux list-panes -a` " + fmt_stats(floor, "ms") +
                    "; with gt's -F format " + fmt(floor_format.median) + " ms";
    f.ratio = ratio_text(gt.median, floor.median, "gt/floor");
    if (n == 1000) {
        f.target = "≤ 1.5x floor";
        f.met = gt.median <= 1.5 * floor.median;
        if (!*f.met) {
            f.note = "beyond the snapshot (gt's format alone: " + fmt(floor_format.median) +
                     " ms) a heartbeat reads every agent's state file (a stat, open, lock and "
                     "read each), each pane's /proc/<pid>/stat and rigs.json, and builds the "
                     "agent table; see the README's Benchmarks section.";
        }
    }
    f.detail = {{"samples_ms", s.gt_ms},
                {"stats", to_json(gt)},
                {"cpu_ms_per_beat", s.cpu_ms_per_beat},
                {"floor_ms", s.floor_ms},
                {"floor", to_json(floor)},
                {"floor_with_gt_format_ms", s.floor_format_ms},
                {"floor_with_gt_format", to_json(floor_format)},
                {"setup_s", s.setup_s},
                {"heartbeats_that_read_screens", s.changed}};
    return f;
}

/// The Go original's per-agent pattern beside gt's heartbeat.
Figure go_figure(int n, const Samples& s) {
    Stats gt = stats_of(s.gt_ms), go = stats_of(s.go_ms);
    Figure g;
    g.id = "heartbeat.n" + std::to_string(n) + ".go_ms";
    g.name = "heartbeat, " + std::to_string(n) + " agents: the Go original's per-agent pattern (" +
             std::to_string(2 * n) + " tmux processes" +
             (static_cast<std::size_t>(n) > k_go_full
                  ? "; timed on " + std::to_string(k_go_sample) + " agents, scaled"
                  : "") +
             ")";
    g.value = fmt_stats(go, "ms");
    g.number = go.median;
    g.unit = "ms";
    g.compared_to = "gt " + fmt(gt.median) + " ms";
    g.ratio = ratio_text(go.median, gt.median, "go/gt");
    g.detail = {{"samples_ms", s.go_ms}, {"stats", to_json(go)}};
    return g;
}

/// tmux processes per heartbeat when no pane changed, counted by the daemon and on PATH.
Figure calls_figure(int n, const Samples& s) {
    Stats daemon = stats_of(s.daemon_calls), wrapper = stats_of(s.wrapper_calls);
    auto count = [](double v) { return std::to_string(static_cast<long>(v)); };
    Figure c;
    c.id = "heartbeat.n" + std::to_string(n) + ".tmux_calls";
    c.name = "tmux processes per heartbeat, " + std::to_string(n) + " agents, no pane changed";
    c.value = count(daemon.max) + " (daemon's counter, " + std::to_string(daemon.n) + " beats); " +
              count(wrapper.max) + " (counting tmux on PATH, " + std::to_string(wrapper.n) +
              " beats)";
    c.number = std::max(daemon.max, wrapper.max);
    c.unit = "processes";
    c.target = "≤ 2";
    c.compared_to = "Go: " + std::to_string(2 * n);
    c.met = daemon.n > 0 && wrapper.n > 0 && c.number <= 2 && daemon.min >= 1;
    c.detail = {{"daemon_counter", s.daemon_calls},
                {"path_wrapper", s.wrapper_calls},
                {"path_wrapper_last_calls", s.wrapper_log}};
    return c;
}

/// The heartbeat that reads every screen (design §16.2): the snapshot and one capture call per
/// 12 KiB of arguments, about 100 sessions (tmux refuses a command over 16 KiB).
Figure screens_figure(int n, const Samples& s) {
    const json& p = s.screens_pass;
    const long calls = std::max(p.value("daemon_counter", -1L), p.value("path_wrapper", -1L));
    const long most = 1 + (n + 99) / 100;
    Figure q;
    q.id = "heartbeat.n" + std::to_string(n) + ".all_screens";
    q.name = "the heartbeat that reads all " + std::to_string(n) +
             " agents' screens (all quiet, never read)";
    q.value = std::to_string(p.value("daemon_counter", -1L)) + " tmux processes (" +
              std::to_string(p.value("path_wrapper", -1L)) + " on PATH), " +
              std::to_string(p.value("screens_read", -1L)) + " screens read, " +
              std::to_string(p.value("ms", -1L)) + " ms";
    q.number = static_cast<double>(calls);
    q.unit = "processes";
    q.target = "≤ 1 + N/100, N screens (§16.2)";
    q.compared_to = "Go reads no screens";
    q.met = calls >= 1 && calls <= most && p.value("screens_read", -1L) == n;
    if (!*q.met) {
        q.note = "more tmux processes than the snapshot and one capture per ~100 sessions, or "
                 "screens left unread: see the daemon's log in the bench town";
    }
    q.detail = p;
    return q;
}

void add_figures(int n, const Samples& s, Report& report) {
    report.add(gt_figure(n, s));
    report.add(go_figure(n, s));
    report.add(calls_figure(n, s));
    report.add(screens_figure(n, s));
}

} // namespace

void bench_heartbeat(const Options& o, Report& report) {
    json section = json::array();
    for (int n : o.agents) {
        progress("heartbeat: " + std::to_string(n) + " agents");
        auto start = Clock::now();
        const long ptys = free_ptys();
        if (ptys >= 0 && ptys < n + k_pty_margin) {
            progress("  skipped: " + std::to_string(ptys) + " ptys free");
            std::string max = test::slurp("/proc/sys/kernel/pty/max");
            max.erase(std::remove(max.begin(), max.end(), '\n'), max.end());
            Figure f;
            f.id = "heartbeat.n" + std::to_string(n) + ".skipped";
            f.name = "heartbeat, " + std::to_string(n) + " agents";
            f.value = "not measured";
            f.skipped = true;
            f.note = "each agent's pane holds a pseudo-terminal and only " + std::to_string(ptys) +
                     " are free (kernel.pty.max " + max +
                     "); raise it (as root: `sysctl -w kernel.pty.max=" +
                     std::to_string(std::max(16384L, 2L * n)) + "`) and run again.";
            report.add(f);
            section.push_back({{"agents", n}, {"skipped", f.note}});
            continue;
        }
        try {
            add_figures(n, measure(o, n), report);
        } catch (const std::exception& e) {
            progress("  failed: " + std::string(e.what()));
            Figure f;
            f.id = "heartbeat.n" + std::to_string(n) + ".error";
            f.name = "heartbeat, " + std::to_string(n) + " agents: could not be measured";
            f.value = e.what();
            f.met = false;
            report.add(f);
        }
        section.push_back({{"agents", n}, {"seconds", ms_since(start) / 1000}});
        progress("  done in " + fmt(ms_since(start) / 1000) + " s");
    }
    report.section("heartbeat", section);
}

} // namespace gt::bench
