#pragma once

#include "util/fd.hpp"
#include "util/result.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace gt::proc {

/// How to start a child. The child always gets stdin from /dev/null unless `stdin_fd` is set,
/// and every descriptor above 2 closed except the ones mapped in `keep_fds`.
struct SpawnOptions {
    std::vector<std::string> argv;               ///< argv[0] is looked up on PATH
    std::optional<std::vector<std::string>> env; ///< full environment; default: ours
    std::string cwd;                             ///< empty: inherit
    bool new_session = false;                    ///< setsid() in the child
    bool new_process_group = false;              ///< setpgid(0, 0) in the child
    int stdout_fd = -1;                          ///< -1: /dev/null
    int stderr_fd = -1;                          ///< -1: /dev/null
    std::vector<std::pair<int, int>> keep_fds;   ///< {parent fd, child fd}; child fd > 2
    /// Signals blocked in the child from its first instruction (default: none). `gt daemon
    /// start` uses it so that the daemon cannot die of a signal before it handles them.
    std::optional<sigset_t> blocked_signals;
};

/// Starts a child with posix_spawnp. Returns its pid. The caller owns reaping it.
util::Result<pid_t> spawn(const SpawnOptions& options);

/// The outcome of a finished child.
struct RunResult {
    int exit_code = -1;     ///< exit status when it exited normally, else -1
    int signal = 0;         ///< terminating signal, else 0
    bool timed_out = false; ///< killed by us at the timeout
    bool cancelled = false; ///< killed by us because the runner was cancelled (shutdown)
    std::string out;        ///< everything it wrote to stdout (capped)
    std::string err;        ///< everything it wrote to stderr (capped)
    /// True when it exited 0 by itself.
    bool success() const { return !timed_out && signal == 0 && exit_code == 0; }
    /// A one-line description for logs: "exit 1", "signal 9", "timed out".
    std::string describe() const;
};

/// What to run and for how long.
struct RunOptions {
    std::vector<std::string> argv;
    std::chrono::milliseconds timeout{5000};
    std::optional<std::vector<std::string>> env;
    std::string cwd;
};

/// Runs commands to completion. The real one spawns; fakes (tests/fakes) script the results.
class ProcessRunner {
public:
    virtual ~ProcessRunner() = default;
    /// Runs `options.argv`, capturing its output, killing its process group at the timeout.
    /// Fails only when the program could not be started at all.
    virtual util::Result<RunResult> run(const RunOptions& options) = 0;
    /// Kills every child running now and refuses every later run (a daemon told to stop must
    /// not wait for a hung tmux). Thread-safe.
    virtual void cancel() {}
};

/// Counts the runs it passes on to another runner (tmux processes per heartbeat, design §16).
class CountingRunner final : public ProcessRunner {
public:
    explicit CountingRunner(ProcessRunner& inner) : m_inner(inner) {}
    util::Result<RunResult> run(const RunOptions& options) override {
        ++m_runs;
        return m_inner.run(options);
    }
    void cancel() override { m_inner.cancel(); }
    /// Runs so far. Thread-safe.
    long runs() const { return m_runs; }

private:
    ProcessRunner& m_inner;
    std::atomic<long> m_runs{0};
};

/// Runs real processes: posix_spawnp, close-on-exec pipes, every descriptor above 2 closed in the
/// child, its own process group killed at the timeout, the exact pid reaped.
class RealProcessRunner final : public ProcessRunner {
public:
    RealProcessRunner();
    util::Result<RunResult> run(const RunOptions& options) override;
    /// Each run in progress returns at once, `cancelled`; later ones fail with ECANCELED.
    void cancel() override;

private:
    std::atomic<bool> m_cancelled{false};
    util::Fd m_cancel_event; ///< an eventfd, readable once cancel() ran: wakes every run's poll
};

/// Our environment without the variables named in `drop`, with `set` ("K=V") added or replacing.
std::vector<std::string> make_env(const std::vector<std::string>& drop,
                                  const std::vector<std::string>& set = {});

/// Waits for `pid` to exit, at most `timeout`. Returns true and fills `status` when it did.
bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int& status);

/// The process start time (field 22 of /proc/<pid>/stat, clock ticks since boot); 0 when the
/// process does not exist.
unsigned long long process_start_time(pid_t pid);

/// True when `pid` exists (and is not a zombie).
bool process_alive(pid_t pid);

} // namespace gt::proc
