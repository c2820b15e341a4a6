#include "proc_sample.hpp"

#include "harness.hpp"
#include "util/file.hpp"

#include <cstdlib>
#include <sstream>
#include <unistd.h>

namespace gt::test {

long ProcSample::switches() const {
    long sum = 0;
    for (const auto& [tid, t] : threads) {
        sum += t.voluntary + t.nonvoluntary;
    }
    return sum;
}

namespace {

/// The number after `key` in a /proc status text, or 0.
long status_field(const std::string& text, const std::string& key) {
    auto at = text.find("\n" + key + ":");
    if (at == std::string::npos) {
        return 0;
    }
    return std::strtol(text.c_str() + at + key.size() + 2, nullptr, 10);
}

double cpu_ms(pid_t pid) {
    std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    // After the command: state is field 3, utime field 14, stime field 15.
    std::istringstream in(stat.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i >= 14) {
            ticks += std::strtod(field.c_str(), nullptr);
        }
    }
    return ticks * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

} // namespace

ProcSample sample_process(pid_t pid) {
    ProcSample s;
    const std::string base = "/proc/" + std::to_string(pid);
    std::string status = "\n" + slurp(base + "/status");
    s.vm_rss_kb = status_field(status, "VmRSS");
    s.vm_hwm_kb = status_field(status, "VmHWM");
    s.cpu_ms = cpu_ms(pid);
    if (auto fds = util::list_dir(base + "/fd")) {
        s.fds = static_cast<long>(fds->size());
    }
    auto tasks = util::list_dir(base + "/task");
    for (const auto& e : tasks ? *tasks : std::vector<util::DirEntry>{}) {
        char* end = nullptr;
        long tid = std::strtol(e.name.c_str(), &end, 10);
        if (*end != '\0' || tid <= 0) {
            continue;
        }
        const std::string task = base + "/task/" + e.name;
        std::string text = "\n" + slurp(task + "/status");
        ProcSample::Thread t;
        t.comm = slurp(task + "/comm");
        if (!t.comm.empty() && t.comm.back() == '\n') {
            t.comm.pop_back();
        }
        t.voluntary = status_field(text, "voluntary_ctxt_switches");
        t.nonvoluntary = status_field(text, "nonvoluntary_ctxt_switches");
        s.threads[tid] = t;
    }
    return s;
}

} // namespace gt::test
