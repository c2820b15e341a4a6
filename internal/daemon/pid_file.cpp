#include "pid_file.hpp"

#include "proc/process.hpp"
#include "util/file.hpp"

#include <cctype>
#include <unistd.h>

namespace gt::daemon {

bool PidInfo::matches_live_process() const {
    if (!proc::process_alive(pid)) {
        return false;
    }
    return start_time == 0 || proc::process_start_time(pid) == start_time;
}

util::Status write_pid_file(const std::string& path) {
    pid_t pid = ::getpid();
    return util::write_file_atomic(
        path, std::to_string(pid) + "\n" + std::to_string(proc::process_start_time(pid)) + "\n",
        0600);
}

util::Result<PidInfo> read_pid_file(const std::string& path) {
    auto text = util::read_file(path, 4096);
    if (!text) {
        return util::Error{text.error(), text.error_code()};
    }
    PidInfo info;
    const std::string& s = *text;
    std::size_t pos = 0;
    auto number = [&](unsigned long long& out) {
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) {
            ++pos;
        }
        std::size_t start = pos;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
            ++pos;
        }
        if (pos == start || pos - start > 19) {
            return false;
        }
        out = std::stoull(s.substr(start, pos - start));
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r')) {
            ++pos;
        }
        return pos == s.size() || s[pos] == '\n';
    };
    unsigned long long pid = 0;
    if (!number(pid) || pid == 0 || pid > 4194304) {
        return util::err(path + ": not a PID file");
    }
    info.pid = static_cast<pid_t>(pid);
    if (pos < s.size()) {
        ++pos;
        if (pos < s.size() && !number(info.start_time)) {
            return util::err(path + ": malformed start time on line 2");
        }
    }
    return info;
}

} // namespace gt::daemon
