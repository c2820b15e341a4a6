// An idle daemon: 20 agents, the heartbeat at its default (3 min), a window with no heartbeat
// in it. What it costs to have it around: memory, CPU time, and how often it wakes up.
#include "bench_town.hpp"
#include "proc/process.hpp"
#include "sections.hpp"
#include "support/harness.hpp"

#include <algorithm>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace gt::bench {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// What `strace -f` saw the daemon do for `seconds`: system calls counted by thread and name,
/// and the first lines. Null when strace is missing or cannot attach (ptrace refused).
json strace_daemon(pid_t pid, int seconds) {
    test::TempDir dir("gt-bench-strace");
    const std::string out = dir.path() + "/trace";
    proc::RealProcessRunner runner;
    proc::RunOptions o;
    o.argv = {"timeout", "-s",  "INT", std::to_string(seconds), "strace",
              "-f",      "-tt", "-p",  std::to_string(pid),     "-o",
              out};
    o.timeout = std::chrono::seconds(seconds + 10);
    auto r = runner.run(o);
    std::string text = test::slurp(out);
    if (!r || text.empty()) {
        return nullptr;
    }
    std::map<std::string, long> calls; // "<tid> <syscall>"
    json lines = json::array();
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string tid, time, call;
        words >> tid >> time >> call;
        auto paren = call.find('(');
        if (paren == std::string::npos || call.rfind("<...", 0) == 0) {
            continue; // a resumed call, counted where it started
        }
        ++calls[tid + " " + call.substr(0, paren)];
        if (lines.size() < 20) {
            lines.push_back(line.substr(0, 200));
        }
    }
    json counts = json::object();
    std::string summary;
    for (const auto& [k, v] : calls) {
        counts[k] = v;
        summary += (summary.empty() ? "" : ", ") + std::to_string(v) + " " + k;
    }
    if (text.find("daemon/daemon.lock\"") != std::string::npos) {
        summary += "; daemon/daemon.lock is stat()ed on each wake-up";
    }
    return {{"seconds", seconds},
            {"calls_by_thread", counts},
            {"summary", summary},
            {"first_lines", lines}};
}

/// `12 main (gt), 0 pool …` per thread, busiest first.
std::string by_thread(const ProcSample& a, const ProcSample& b, json& detail) {
    std::vector<std::pair<long, std::string>> rows;
    for (const auto& [tid, t] : b.threads) {
        auto before = a.threads.find(tid);
        long delta = t.voluntary + t.nonvoluntary;
        if (before != a.threads.end()) {
            delta -= before->second.voluntary + before->second.nonvoluntary;
        }
        detail[std::to_string(tid)] = {{"comm", t.comm}, {"switches", delta}};
        rows.emplace_back(delta, "thread " + std::to_string(tid) + " (" + t.comm + ")");
    }
    std::sort(rows.rbegin(), rows.rend());
    std::string text;
    for (const auto& [delta, who] : rows) {
        text += (text.empty() ? "" : ", ") + std::to_string(delta) + " in " + who;
    }
    return text;
}

/// What the idle window saw: /proc at its start and end, and the heartbeats in it.
struct Window {
    pid_t pid = 0;
    ProcSample start;
    ProcSample end;
    double seconds = 0;
    long heartbeats = 0;
    nlohmann::json trace; ///< strace after the window, when it saw wake-ups
};

/// A town of 20 sleeping agents whose daemon has done its first heartbeat, then `seconds`
/// of leaving it alone (the next heartbeat is 3 minutes after the first).
Window idle_window(int seconds) {
    test::TmuxTown town;
    configure_sleepers(town, "");
    add_agents(town, 20);
    if (!town.gt({"daemon", "start"}).success()) {
        throw std::runtime_error("gt daemon start failed");
    }
    if (!test::eventually([&] { return town.heartbeats() >= 1 && live_panes(town).size() == 20; },
                          2min)) {
        throw std::runtime_error("agents not running after the first heartbeat");
    }
    Window w;
    w.pid = town.pid_from_state();
    std::this_thread::sleep_for(2s); // the state write and the pane watch after the heartbeat
    const long beats = town.heartbeats();
    w.start = sample_process(w.pid);
    auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    w.end = sample_process(w.pid);
    w.seconds = ms_since(start) / 1000;
    w.heartbeats = town.heartbeats() - beats;
    if (w.end.switches() > w.start.switches()) {
        w.trace = strace_daemon(w.pid, 5); // after the window: ptrace wakes it up
    }
    return w;
}

Figure rss_figure(const Window& w) {
    Figure rss;
    rss.id = "idle.rss_kib";
    rss.name = "idle daemon, 20 agents: RSS (VmRSS at the end of the window)";
    rss.value = fmt(static_cast<double>(w.end.vm_rss_kb) / 1024) + " MiB";
    rss.number = static_cast<double>(w.end.vm_rss_kb);
    rss.unit = "KiB";
    rss.target = "< 10 MB";
    rss.compared_to = "peak (VmHWM) " + fmt(static_cast<double>(w.end.vm_hwm_kb) / 1024) + " MiB";
    rss.met = static_cast<double>(w.end.vm_rss_kb) * 1024 < 10e6;
    rss.detail = {{"vm_rss_kib_start", w.start.vm_rss_kb},
                  {"vm_rss_kib_end", w.end.vm_rss_kb},
                  {"vm_hwm_kib", w.end.vm_hwm_kb}};
    return rss;
}

Figure cpu_figure(const Window& w) {
    const double tick_ms = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
    Figure cpu;
    cpu.id = "idle.cpu_ms";
    cpu.name = "idle daemon, 20 agents: CPU time (utime+stime) over the window";
    cpu.number = w.end.cpu_ms - w.start.cpu_ms;
    cpu.value = fmt(cpu.number) + " ms (counted in " + fmt(tick_ms) + " ms ticks)";
    cpu.unit = "ms";
    cpu.compared_to = "window " + fmt(w.seconds) + " s";
    cpu.ratio = fmt(100 * cpu.number / (w.seconds * 1000)) + " % of one core";
    cpu.detail = {{"window_s", w.seconds}};
    return cpu;
}

/// Context switches of every thread over the window; when there are any, what strace says the
/// daemon did meanwhile.
Figure wake_figure(const Window& w, json& threads) {
    const long wakeups = w.end.switches() - w.start.switches();
    const std::string who = by_thread(w.start, w.end, threads);
    Figure wake;
    wake.id = "idle.wakeups";
    wake.name = "idle daemon, 20 agents: wake-ups (context switches, all threads) over the "
                "window";
    wake.value = std::to_string(wakeups);
    wake.number = static_cast<double>(wakeups);
    wake.unit = "switches";
    wake.target = "0 between heartbeats";
    wake.compared_to = std::to_string(w.heartbeats) + " heartbeats in the window";
    wake.ratio = fmt(static_cast<double>(wakeups) / w.seconds) + " per s";
    wake.met = wakeups == 0 && w.heartbeats == 0;
    if (wakeups > 0) {
        wake.note = "by thread: " + who + ". ";
        wake.note += w.trace.is_object() ? "strace -f over 5 s (thread, system call): " +
                                               w.trace["summary"].get<std::string>() + "."
                                         : "strace was not there or could not attach.";
    }
    wake.detail = {{"by_thread", threads}, {"heartbeats_in_window", w.heartbeats}};
    return wake;
}

} // namespace

void bench_idle(const Options& o, Report& report) {
    progress("idle: 20 agents, heartbeat at its default, " + std::to_string(o.idle_seconds) +
             " s window");
    const Window w = idle_window(o.idle_seconds);
    json threads = json::object();
    report.add(rss_figure(w));
    report.add(cpu_figure(w));
    report.add(wake_figure(w, threads));
    report.section("idle", {{"pid", w.pid},
                            {"window_s", w.seconds},
                            {"threads", threads},
                            {"heartbeats_in_window", w.heartbeats},
                            {"strace", w.trace}});
}

} // namespace gt::bench
