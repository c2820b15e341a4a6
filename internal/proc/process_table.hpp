#pragma once

#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gt::proc {

/// One process as /proc/<pid>/stat shows it.
struct ProcessEntry {
    pid_t pid = 0;
    pid_t ppid = 0;
    std::string comm; ///< the kernel's name for it (at most 15 characters)
    pid_t pgrp = -1;  ///< its process group
    pid_t tpgid = -1; ///< the foreground process group of its terminal (-1: none)
};

/// True for the idle shells of design §5.5 (bash zsh sh dash fish tcsh ksh, also as login
/// shells, `-bash`), by a process's name.
bool is_shell(const std::string& comm);

/// True for programs that read the keyboard for themselves when they run in a terminal: shells,
/// editors, pagers and other interactive tools. Keystrokes meant for an agent must not reach
/// them.
bool reads_the_keyboard(const std::string& comm);

/// A snapshot of every process's parent and name, read once from /proc.
class ProcessTable {
public:
    /// Reads /proc now. Processes that vanish while it reads are skipped.
    static ProcessTable read();
    /// Builds a table from entries (tests).
    explicit ProcessTable(std::vector<ProcessEntry> entries);

    /// True when `root` or one of its descendants has a name in `names`.
    bool tree_has(pid_t root, const std::vector<std::string>& names) const;
    std::size_t size() const { return m_entries.size(); }
    /// Why the agent in the pane whose process is `pane_pid` is not the one reading its
    /// terminal's keyboard ("vim (pid 12) has the terminal"); "" when it is: its terminal's
    /// foreground group is the pane process's own, and no other member of it is a program that
    /// reads the keyboard (reads_the_keyboard()).
    std::string not_the_agent_in_front(pid_t pane_pid) const;

private:
    std::map<pid_t, ProcessEntry> m_entries;
    std::multimap<pid_t, pid_t> m_children; ///< ppid → pid
};

/// True when `pid` has ended: no such process, or a zombie. Any other failure to read /proc
/// (descriptors exhausted, …) is "not known to be gone": false, so nothing is killed on it.
bool process_gone(pid_t pid);

/// The wait status (as waitpid reports it) of a zombie — a process that has ended and not yet
/// been reaped by its parent — from field 52 of /proc/<pid>/stat; nullopt for a live, reaped
/// or unknown process. Lets the daemon learn how an agent ended when tmux is slow to tell.
std::optional<int> zombie_wait_status(pid_t pid);

/// Parses the contents of /proc/<pid>/stat (the name may hold spaces and parentheses).
bool parse_stat(const std::string& text, ProcessEntry& out);

} // namespace gt::proc
