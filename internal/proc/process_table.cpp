#include "process_table.hpp"

#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <iterator>
#include <string_view>

namespace gt::proc {

bool parse_stat(const std::string& text, ProcessEntry& out) {
    auto open = text.find('(');
    auto close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open ||
        close + 4 >= text.size()) {
        return false;
    }
    char* end = nullptr;
    long pid = std::strtol(text.c_str(), &end, 10);
    // After ") " come the state (one character), a space, then the parent's pid, the process
    // group, the session, the terminal and the terminal's foreground process group.
    const char* at = text.c_str() + close + 4;
    long fields[5] = {-1, -1, -1, -1, -1};
    for (long& f : fields) {
        f = std::strtol(at, &end, 10);
        if (end == at) {
            break;
        }
        at = end;
    }
    long ppid = fields[0];
    if (pid <= 0 || ppid < 0) {
        return false;
    }
    out.pid = static_cast<pid_t>(pid);
    out.ppid = static_cast<pid_t>(ppid);
    out.pgrp = static_cast<pid_t>(fields[1]);
    out.tpgid = static_cast<pid_t>(fields[4]);
    out.comm = text.substr(open + 1, close - open - 1);
    return true;
}

bool process_gone(pid_t pid) {
    auto text = util::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
    if (!text) {
        return text.error_code() == ENOENT || text.error_code() == ESRCH;
    }
    auto close = text->rfind(')');
    return close != std::string::npos && close + 2 < text->size() && (*text)[close + 2] == 'Z';
}

std::optional<int> zombie_wait_status(pid_t pid) {
    auto text = util::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
    if (!text) {
        return std::nullopt;
    }
    auto close = text->rfind(')');
    if (close == std::string::npos || close + 2 >= text->size() || (*text)[close + 2] != 'Z') {
        return std::nullopt;
    }
    // Fields after the name start at 3 (the state); exit_code is field 52.
    std::size_t pos = close + 2;
    for (int field = 3; field < 52; ++field) {
        pos = text->find(' ', pos);
        if (pos == std::string::npos) {
            return std::nullopt;
        }
        ++pos;
    }
    char* end = nullptr;
    long code = std::strtol(text->c_str() + pos, &end, 10);
    if (end == text->c_str() + pos) {
        return std::nullopt;
    }
    return static_cast<int>(code);
}

ProcessTable::ProcessTable(std::vector<ProcessEntry> entries) {
    for (auto& e : entries) {
        m_children.emplace(e.ppid, e.pid);
        m_entries.emplace(e.pid, std::move(e));
    }
}

ProcessTable ProcessTable::read() {
    std::vector<ProcessEntry> entries;
    DIR* dir = ::opendir("/proc"); // opendir uses O_CLOEXEC
    if (!dir) {
        return ProcessTable({});
    }
    while (auto* d = ::readdir(dir)) {
        if (d->d_name[0] < '1' || d->d_name[0] > '9') {
            continue;
        }
        auto text = util::read_file(std::string("/proc/") + d->d_name + "/stat", 4096);
        ProcessEntry e;
        if (text && parse_stat(*text, e)) {
            entries.push_back(std::move(e));
        }
    }
    ::closedir(dir);
    return ProcessTable(std::move(entries));
}

std::string ProcessTable::not_the_agent_in_front(pid_t pane_pid) const {
    auto pane = m_entries.find(pane_pid);
    if (pane == m_entries.end()) {
        return "the pane's process is not known";
    }
    const pid_t front = pane->second.tpgid;
    if (front <= 0) {
        return ""; // no terminal at all: nothing there reads a keyboard
    }
    auto named = [&](const ProcessEntry& e) {
        return e.comm + " (pid " + std::to_string(e.pid) + ")";
    };
    if (front != pane->second.pgrp) {
        // A shell with job control, or the agent itself, gave the terminal to another group.
        for (const auto& [pid, e] : m_entries) {
            if (e.pgrp == front && (pid == front || m_entries.count(front) == 0)) {
                return named(e) + " has the terminal";
            }
        }
        return "process group " + std::to_string(front) + " has the terminal";
    }
    // The pane's group has it: none of its members but the pane's own process may be a
    // program that reads the keyboard for itself.
    for (const auto& [pid, e] : m_entries) {
        if (e.pgrp == front && pid != pane_pid && reads_the_keyboard(e.comm)) {
            return named(e) + " has the terminal";
        }
    }
    return "";
}

namespace {

/// `name` is one of `names`, also with a leading `-` (a login shell).
template <std::size_t N>
bool named(const std::string& name, const char* const (&names)[N]) {
    std::string_view n = name;
    if (!n.empty() && n.front() == '-') {
        n.remove_prefix(1);
    }
    return std::find(std::begin(names), std::end(names), n) != std::end(names);
}

} // namespace

bool is_shell(const std::string& comm) {
    static const char* const shells[] = {"bash", "zsh", "sh", "dash", "fish", "tcsh", "ksh"};
    return named(comm, shells);
}

bool reads_the_keyboard(const std::string& comm) {
    // Not interpreters such as python or node: an agent's own helpers (MCP servers) are those.
    static const char* const programs[] = {
        "csh",  "vi",  "vim",  "nvim",  "view",    "nano", "pico", "emacs", "mg",   "micro",
        "hx",   "kak", "ed",   "less",  "more",    "most", "man",  "top",   "htop", "watch",
        "tmux", "ssh", "psql", "mysql", "sqlite3", "fzf",  "tig",  "mc"};
    return is_shell(comm) || named(comm, programs);
}

bool ProcessTable::tree_has(pid_t root, const std::vector<std::string>& names) const {
    std::vector<pid_t> todo{root};
    std::size_t visited = 0;
    while (!todo.empty() && visited++ < m_entries.size() + 1) {
        pid_t pid = todo.back();
        todo.pop_back();
        if (auto it = m_entries.find(pid); it != m_entries.end()) {
            if (std::find(names.begin(), names.end(), it->second.comm) != names.end()) {
                return true;
            }
        }
        auto [first, last] = m_children.equal_range(pid);
        for (auto c = first; c != last; ++c) {
            todo.push_back(c->second);
        }
    }
    return false;
}

} // namespace gt::proc
