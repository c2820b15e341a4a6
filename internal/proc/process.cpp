#include "process.hpp"

#include "util/file.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace gt::proc {

namespace {

constexpr std::size_t k_output_cap = 16 * 1024 * 1024;

std::vector<char*> c_strings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) {
        out.push_back(const_cast<char*>(s.c_str()));
    }
    out.push_back(nullptr);
    return out;
}

/// RAII for posix_spawn's two attribute objects.
struct SpawnAttrs {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    SpawnAttrs() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~SpawnAttrs() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
};

int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

} // namespace

std::string RunResult::describe() const {
    if (cancelled) {
        return "cancelled";
    }
    if (timed_out) {
        return "timed out";
    }
    if (signal != 0) {
        return "signal " + std::to_string(signal);
    }
    return "exit " + std::to_string(exit_code);
}

util::Result<pid_t> spawn(const SpawnOptions& o) {
    if (o.argv.empty()) {
        return util::err("spawn: empty argv");
    }
    SpawnAttrs a;
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    // The daemon blocks and handles signals; the child must start with a clean slate.
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&a.attr, o.blocked_signals ? &*o.blocked_signals : &empty);
    posix_spawnattr_setsigdefault(&a.attr, &all);
    if (o.new_session) {
        flags |= POSIX_SPAWN_SETSID;
    } else if (o.new_process_group) {
        flags |= POSIX_SPAWN_SETPGROUP;
        posix_spawnattr_setpgroup(&a.attr, 0);
    }
    posix_spawnattr_setflags(&a.attr, flags);

    posix_spawn_file_actions_addopen(&a.actions, 0, "/dev/null", O_RDONLY, 0);
    if (o.stdout_fd >= 0) {
        posix_spawn_file_actions_adddup2(&a.actions, o.stdout_fd, 1);
    } else {
        posix_spawn_file_actions_addopen(&a.actions, 1, "/dev/null", O_WRONLY, 0);
    }
    if (o.stderr_fd >= 0) {
        posix_spawn_file_actions_adddup2(&a.actions, o.stderr_fd, 2);
    } else {
        posix_spawn_file_actions_addopen(&a.actions, 2, "/dev/null", O_WRONLY, 0);
    }
    int highest = 2;
    for (auto [parent_fd, child_fd] : o.keep_fds) {
        // dup2 onto a different number clears FD_CLOEXEC on the copy only.
        posix_spawn_file_actions_adddup2(&a.actions, parent_fd, child_fd);
        highest = std::max(highest, child_fd);
    }
    // Everything else is closed even if some library forgot O_CLOEXEC: the tmux server this
    // child may fork lives on and would hold it forever.
    posix_spawn_file_actions_addclosefrom_np(&a.actions, highest + 1);
    if (!o.cwd.empty()) {
        posix_spawn_file_actions_addchdir_np(&a.actions, o.cwd.c_str());
    }
    auto argv = c_strings(o.argv);
    std::vector<char*> envp;
    if (o.env) {
        envp = c_strings(*o.env);
    }
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, argv[0], &a.actions, &a.attr, argv.data(),
                            o.env ? envp.data() : environ);
    if (rc != 0) {
        return util::err("cannot run " + o.argv[0] + ": " + util::errno_text(rc), rc);
    }
    return pid;
}

bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int& status) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    util::Fd pidfd(pidfd_open(pid));
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return true;
        }
        if (r < 0 && errno != EINTR) {
            status = 0;
            return true; // not our child or already reaped: nothing to wait for
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        if (pidfd) {
            pollfd p{pidfd.get(), POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        } else {
            std::this_thread::sleep_for(
                std::chrono::milliseconds(std::min<long long>(left.count(), 5)));
        }
    }
}

RealProcessRunner::RealProcessRunner() : m_cancel_event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

void RealProcessRunner::cancel() {
    m_cancelled = true;
    if (m_cancel_event) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(m_cancel_event.get(), &one, sizeof one);
    }
}

util::Result<RunResult> RealProcessRunner::run(const RunOptions& o) {
    if (m_cancelled) {
        return util::err("not started: shutting down", ECANCELED);
    }
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
        return util::err(std::string("pipe: ") + util::errno_text(errno), errno);
    }
    util::Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        return util::err(std::string("pipe: ") + util::errno_text(errno), errno);
    }
    util::Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

    SpawnOptions so;
    so.argv = o.argv;
    so.env = o.env;
    so.cwd = o.cwd;
    so.new_process_group = true;
    so.stdout_fd = out_w.get();
    so.stderr_fd = err_w.get();
    auto spawned = spawn(so);
    if (!spawned) {
        return util::Error{spawned.error(), spawned.error_code()};
    }
    pid_t pid = *spawned;
    out_w.reset();
    err_w.reset();

    RunResult result;
    util::Fd pidfd(pidfd_open(pid));
    auto deadline = std::chrono::steady_clock::now() + o.timeout;
    char buf[util::k_small_read_size];
    bool exited = false;
    int status = 0;
    while (out_r || err_r || !exited) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            result.timed_out = true;
            break;
        }
        if (m_cancelled) {
            // Each run kills its own child: only the thread that reaps it knows it is not reused.
            result.cancelled = true;
            break;
        }
        pollfd fds[4];
        int n = 0;
        if (out_r) {
            fds[n++] = {out_r.get(), POLLIN, 0};
        }
        if (err_r) {
            fds[n++] = {err_r.get(), POLLIN, 0};
        }
        int pidfd_index = -1;
        if (!exited && pidfd) {
            pidfd_index = n;
            fds[n++] = {pidfd.get(), POLLIN, 0};
        }
        int cancel_index = -1;
        if (m_cancel_event) {
            cancel_index = n;
            fds[n++] = {m_cancel_event.get(), POLLIN, 0};
        }
        int timeout_ms = static_cast<int>(std::min<long long>(left.count(), 1000));
        if (!pidfd && !exited && !out_r && !err_r) {
            timeout_ms = std::min(timeout_ms, 5);
        }
        int rc = ::poll(fds, static_cast<nfds_t>(n), timeout_ms);
        if (rc < 0 && errno != EINTR) {
            break;
        }
        for (int i = 0; i < n && rc > 0; ++i) {
            if (i == pidfd_index || i == cancel_index || fds[i].revents == 0) {
                continue;
            }
            util::Fd& which = fds[i].fd == out_r.get() ? out_r : err_r;
            std::string& sink = &which == &out_r ? result.out : result.err;
            ssize_t got = ::read(which.get(), buf, sizeof buf);
            if (got > 0) {
                if (sink.size() < k_output_cap) {
                    sink.append(buf, static_cast<std::size_t>(got));
                }
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                which.reset();
            }
        }
        if (!exited) {
            pid_t r = ::waitpid(pid, &status, WNOHANG);
            if (r == pid) {
                exited = true;
            }
        }
        // A grandchild (the tmux server, say) may keep our pipes open after the child exits:
        // once the child is gone, stop waiting for EOF.
        if (exited && (out_r || err_r)) {
            pollfd rest[2];
            int m = 0;
            if (out_r) {
                rest[m++] = {out_r.get(), POLLIN, 0};
            }
            if (err_r) {
                rest[m++] = {err_r.get(), POLLIN, 0};
            }
            if (::poll(rest, static_cast<nfds_t>(m), 0) <= 0) {
                break;
            }
        }
    }
    if (result.timed_out || result.cancelled) {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
    }
    if (!exited) {
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }
    return result;
}

std::vector<std::string> make_env(const std::vector<std::string>& drop,
                                  const std::vector<std::string>& set) {
    std::vector<std::string> out;
    auto named = [](const std::string& entry, const std::string& name) {
        return entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
               entry[name.size()] == '=';
    };
    for (char** e = environ; e && *e; ++e) {
        std::string entry(*e);
        bool skip = false;
        for (const auto& d : drop) {
            skip = skip || named(entry, d);
        }
        for (const auto& s : set) {
            skip = skip || named(entry, s.substr(0, s.find('=')));
        }
        if (!skip) {
            out.push_back(std::move(entry));
        }
    }
    out.insert(out.end(), set.begin(), set.end());
    return out;
}

unsigned long long process_start_time(pid_t pid) {
    if (pid <= 0) {
        return 0;
    }
    auto stat = util::read_file("/proc/" + std::to_string(pid) + "/stat", util::k_small_read_size);
    if (!stat) {
        return 0;
    }
    // Field 2 (comm) may contain spaces and parentheses: parse after the last ')'.
    auto close = stat->rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::size_t pos = close + 2;
    // pos is at field 3; field 22 is 19 fields further.
    for (int field = 3; field < 22; ++field) {
        pos = stat->find(' ', pos);
        if (pos == std::string::npos) {
            return 0;
        }
        ++pos;
    }
    return std::strtoull(stat->c_str() + pos, nullptr, 10);
}

bool process_alive(pid_t pid) {
    if (pid <= 0) {
        return false;
    }
    auto stat = util::read_file("/proc/" + std::to_string(pid) + "/stat", util::k_small_read_size);
    if (!stat) {
        return false;
    }
    auto close = stat->rfind(')');
    return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

} // namespace gt::proc
