// gt_bench_system: the process-level figures of issue 13 (heartbeat at N agents, the idle
// daemon, start/restart/recovery latencies, the start race), measured against the real gt
// binary on private tmux servers, printed as one table with gt_bench_micro's figures folded
// in, and written as JSON. Nothing here asserts a time. Run it through bench/run.sh.
#include "bench_town.hpp"
#include "proc/process.hpp"
#include "sections.hpp"
#include "support/harness.hpp"

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/utsname.h>

namespace gt::bench {

using nlohmann::json;

namespace {

struct Args {
    Options options;
    std::string json_path = "results.json";
    std::string micro_path;
    double started_s = 0; ///< epoch seconds when run.sh began (for the total wall time)
    double build_s = -1;
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string part;
    while (std::getline(in, part, sep)) {
        if (!part.empty()) {
            out.push_back(part);
        }
    }
    return out;
}

void usage() {
    std::cerr
        << "usage: gt_bench_system [--json FILE] [--micro FILE] [--quick]\n"
           "         [--agents 10,100,1000,5000] [--idle-seconds 60]\n"
           "         [--sections heartbeat,idle,latency] [--started EPOCH] [--build-seconds S]\n";
}

bool parse(int argc, char** argv, Args& a) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (arg == "--quick") {
            a.options.quick = true;
        } else if (arg == "--json") {
            a.json_path = value();
        } else if (arg == "--micro") {
            a.micro_path = value();
        } else if (arg == "--agents") {
            a.options.agents.clear();
            for (const auto& n : split(value(), ',')) {
                a.options.agents.push_back(std::stoi(n));
            }
        } else if (arg == "--idle-seconds") {
            a.options.idle_seconds = std::stoi(value());
        } else if (arg == "--sections") {
            auto s = split(value(), ',');
            a.options.sections = {s.begin(), s.end()};
        } else if (arg == "--started") {
            a.started_s = std::stod(value());
        } else if (arg == "--build-seconds") {
            a.build_s = std::stod(value());
        } else {
            return false;
        }
    }
    return true;
}

std::string first_line(const std::vector<std::string>& argv) {
    auto r = test::run_command(argv);
    std::string out = r.out.substr(0, r.out.find('\n'));
    return out;
}

json conditions() {
    utsname u{};
    ::uname(&u);
    double load[3] = {0, 0, 0};
    ::getloadavg(load, 3);
    return {{"gt", first_line({GT_BINARY, "--version"})},
            {"tmux", first_line({"tmux", "-V"})},
            {"kernel", std::string(u.sysname) + " " + u.release},
            {"cpus", ::sysconf(_SC_NPROCESSORS_ONLN)},
            {"loadavg", {load[0], load[1], load[2]}}};
}

/// One section; one that fails (a daemon that would not start, tmux missing) is a row saying
/// so, and the others still run.
void run_section(const std::string& name, void (*section)(const Options&, Report&),
                 const Options& o, Report& report) {
    try {
        section(o, report);
    } catch (const std::exception& e) {
        progress(name + " failed: " + e.what());
        Figure f;
        f.id = name + ".error";
        f.name = name + ": could not be measured";
        f.value = e.what();
        f.met = false;
        report.add(f);
    }
}

double now_s() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

int run(int argc, char** argv) {
    Args a;
    if (!parse(argc, argv, a)) {
        usage();
        return 2;
    }
    Report report;
    json run = conditions();
    run["quick"] = a.options.quick;
    auto start = Clock::now();
    const std::vector<std::pair<std::string, void (*)(const Options&, Report&)>> sections{
        {"heartbeat", bench_heartbeat}, {"idle", bench_idle}, {"latency", bench_latency}};
    for (const auto& [name, section] : sections) {
        if (a.options.sections.count(name)) {
            run_section(name, section, a.options, report);
        }
    }
    if (!a.micro_path.empty() && !fold_micro(a.micro_path, report)) {
        std::cerr << "cannot read " << a.micro_path << "\n";
    }
    run["system_seconds"] = ms_since(start) / 1000;
    if (a.started_s > 0) {
        run["total_seconds"] = now_s() - a.started_s;
    }
    if (a.build_s >= 0) {
        run["build_seconds"] = a.build_s;
    }
    double load[3] = {0, 0, 0};
    ::getloadavg(load, 3);
    run["loadavg_end"] = {load[0], load[1], load[2]};

    report.print_table(std::cout);
    std::cout << "\n"
              << run["gt"].get<std::string>() << ", " << run["tmux"].get<std::string>() << ", "
              << run["cpus"] << " CPUs, load " << fmt(load[0]) << "; system figures took "
              << fmt(run["system_seconds"].get<double>()) << " s";
    if (run.contains("total_seconds")) {
        std::cout << ", bench/run.sh " << fmt(run["total_seconds"].get<double>()) << " s";
        if (run.contains("build_seconds")) {
            std::cout << " (build " << fmt(a.build_s) << " s)";
        }
    }
    std::cout << "\n";

    json doc = report.to_json();
    doc["run"] = run;
    std::ofstream out(a.json_path);
    out << doc.dump(2) << "\n";
    if (!out) {
        std::cerr << "cannot write " << a.json_path << "\n";
        return 1;
    }
    std::cout << "JSON: " << a.json_path << "\n";
    return 0;
}

} // namespace gt::bench

int main(int argc, char** argv) {
    try {
        return gt::bench::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "gt_bench_system: " << e.what() << "\n";
        return 1;
    }
}
