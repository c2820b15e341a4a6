#include "proc/exit_watch.hpp"
#include "proc/process.hpp"
#include "proc/process_table.hpp"

#include <chrono>
#include <csignal>
#include <optional>
#include <sys/wait.h>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <set>
#include <sstream>
#include <unistd.h>

using namespace gt::proc;
using namespace std::chrono_literals;

TEST(ProcessRunner, CapturesOutputAndExitCode) {
    RealProcessRunner r;
    auto res = r.run({{"sh", "-c", "echo out; echo err >&2; exit 3"}, 5s});
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res->out, "out\n");
    EXPECT_EQ(res->err, "err\n");
    EXPECT_EQ(res->exit_code, 3);
    EXPECT_FALSE(res->success());
}

TEST(ProcessRunner, KillsAtTimeoutIncludingGrandchildren) {
    RealProcessRunner r;
    auto start = std::chrono::steady_clock::now();
    auto res = r.run({{"sh", "-c", "sleep 30 & sleep 30"}, 200ms});
    ASSERT_TRUE(res.ok());
    EXPECT_TRUE(res->timed_out);
    EXPECT_FALSE(res->success());
    // Generous bound: the point is that it did not wait 30 s.
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(ProcessRunner, MissingProgramIsAnError) {
    RealProcessRunner r;
    auto res = r.run({{"gt-no-such-program-xyz"}, 1s});
    EXPECT_FALSE(res.ok());
}

TEST(ProcessRunner, ChildSeesNoDescriptorAboveTwo) {
    // Leak two descriptors without O_CLOEXEC, as a careless library would.
    int leak = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(leak, 0);
    ASSERT_EQ(::dup2(leak, 57), 57);
    ASSERT_EQ(::dup2(leak, 7), 7);
    RealProcessRunner r;
    auto res = r.run({{"ls", "/proc/self/fd"}, 5s});
    ::close(leak);
    ::close(57);
    ::close(7);
    ASSERT_TRUE(res.ok());
    ASSERT_TRUE(res->success()) << res->err;
    std::set<int> fds;
    std::istringstream in(res->out);
    int fd;
    while (in >> fd) {
        fds.insert(fd);
    }
    // ls itself opens one descriptor (3) to read the directory it lists.
    EXPECT_TRUE(fds.count(0) && fds.count(1) && fds.count(2));
    for (int f : fds) {
        EXPECT_LE(f, 3) << "child inherited descriptor " << f << ": " << res->out;
    }
    EXPECT_EQ(fds.count(7), 0u);
    EXPECT_EQ(fds.count(57), 0u);
}

TEST(ProcessRunner, PassesEnvironmentAndWorkingDirectory) {
    RealProcessRunner r;
    RunOptions o{{"sh", "-c", "echo \"$GT_X\"; pwd"}, 5s};
    o.env = make_env({"GT_X"}, {"GT_X=a;b $(id)"});
    o.cwd = "/";
    auto res = r.run(o);
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res->out, "a;b $(id)\n/\n");
}

TEST(ProcessInfo, StartTimeIdentifiesProcess) {
    EXPECT_GT(process_start_time(::getpid()), 0u);
    EXPECT_TRUE(process_alive(::getpid()));
    EXPECT_EQ(process_start_time(0), 0u);
    EXPECT_FALSE(process_alive(4194303));
}

TEST(ProcessTable, ZombieWaitStatusTellsHowAnUnreapedChildEnded) {
    pid_t exited = ::fork();
    if (exited == 0) {
        ::_exit(3);
    }
    pid_t killed = ::fork();
    if (killed == 0) {
        ::pause();
        ::_exit(0);
    }
    ::kill(killed, SIGKILL);
    std::optional<int> a, b;
    for (int i = 0; i < 500 && (!a || !b); ++i) { // until both are zombies
        a = gt::proc::zombie_wait_status(exited);
        b = gt::proc::zombie_wait_status(killed);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(WIFEXITED(*a));
    EXPECT_EQ(WEXITSTATUS(*a), 3);
    EXPECT_TRUE(WIFSIGNALED(*b));
    EXPECT_EQ(WTERMSIG(*b), SIGKILL);
    EXPECT_FALSE(gt::proc::zombie_wait_status(::getpid())); // alive
    int st;
    ::waitpid(exited, &st, 0);
    ::waitpid(killed, &st, 0);
    EXPECT_FALSE(gt::proc::zombie_wait_status(exited)); // reaped
}

TEST(ProcessRunner, CancelKillsRunningChildrenAndRefusesNewOnes) {
    RealProcessRunner runner;
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        runner.cancel();
    });
    RunOptions o;
    o.argv = {"sleep", "30"};
    o.timeout = std::chrono::seconds(60);
    auto r = runner.run(o);
    canceller.join();
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_TRUE(r->cancelled);
    EXPECT_FALSE(r->timed_out);
    EXPECT_EQ(r->signal, SIGKILL);
    EXPECT_EQ(r->describe(), "cancelled");
    auto again = runner.run(o);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error_code(), ECANCELED);
}

namespace {

/// A child that waits to be killed; the caller reaps it.
pid_t pausing_child() {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::pause();
        ::_exit(0);
    }
    return pid;
}

/// Waits until `pid` is a zombie (killed, not reaped).
bool becomes_zombie(pid_t pid) {
    for (int i = 0; i < 500; ++i) {
        if (gt::proc::zombie_wait_status(pid)) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

} // namespace

// What process_gone() answers, for many processes at once: live ones not ended, zombies and
// reaped or unknown pids ended; with pidfds and without (a budget of 0).
/// Whether this kernel (and sandbox) gives pidfds; without, the watch asks /proc for all.
bool have_pidfds() {
    return static_cast<bool>(open_pidfd(::getpid()));
}

TEST(ExitWatch, TellsWhichProcessesEndedAsProcAnswers) {
    for (std::size_t limit : {std::size_t{64}, std::size_t{0}}) {
        if (!have_pidfds()) {
            limit = 0; // the same answers, from /proc
        }
        SCOPED_TRACE(limit);
        ExitWatch watch(limit);
        std::vector<pid_t> kids;
        for (int i = 0; i < 6; ++i) {
            kids.push_back(pausing_child());
        }
        EXPECT_EQ(watch.ended(kids), std::vector<bool>(6, false));
        EXPECT_EQ(watch.size(), limit == 0 ? 0u : 6u);

        ::kill(kids[1], SIGKILL); // a zombie
        ::kill(kids[4], SIGKILL); // reaped
        ASSERT_TRUE(becomes_zombie(kids[1]));
        int st;
        ::waitpid(kids[4], &st, 0);
        std::vector<pid_t> asked = kids;
        asked.push_back(4194303); // no such process
        EXPECT_EQ(watch.ended(asked),
                  (std::vector<bool>{false, true, false, false, true, false, true}));
        EXPECT_EQ(gt::proc::process_gone(kids[1]), true);
        EXPECT_EQ(gt::proc::process_gone(kids[0]), false);

        // Processes not asked about any more are let go.
        EXPECT_EQ(watch.ended({kids[0]}), std::vector<bool>{false});
        EXPECT_EQ(watch.size(), limit == 0 ? 0u : 1u);
        for (pid_t pid : kids) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &st, 0);
        }
        EXPECT_EQ(watch.ended({kids[0]}), std::vector<bool>{true});
        EXPECT_EQ(watch.size(), 0u);
    }
}

// Beyond its budget the watch asks /proc: same answers, no more descriptors.
TEST(ExitWatch, KeepsWithinItsBudgetOfDescriptors) {
    if (!have_pidfds()) {
        GTEST_SKIP() << "no pidfds here";
    }
    ExitWatch watch(2);
    std::vector<pid_t> kids;
    for (int i = 0; i < 5; ++i) {
        kids.push_back(pausing_child());
    }
    ::kill(kids[3], SIGKILL);
    ASSERT_TRUE(becomes_zombie(kids[3]));
    EXPECT_EQ(watch.ended(kids), (std::vector<bool>{false, false, false, true, false}));
    EXPECT_EQ(watch.size(), 2u);
    for (pid_t pid : kids) {
        int st;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &st, 0);
    }
}

TEST(ExitWatch, PidfdsAreCloseOnExec) {
    pid_t kid = pausing_child();
    auto fd = open_pidfd(kid);
    if (!fd && (errno == ENOSYS || errno == EPERM)) {
        int st;
        ::kill(kid, SIGKILL);
        ::waitpid(kid, &st, 0);
        GTEST_SKIP() << "no pidfd_open here";
    }
    ASSERT_TRUE(fd);
    EXPECT_NE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0);
    EXPECT_LE(pidfd_budget(100), 100u);
    int st;
    ::kill(kid, SIGKILL);
    ::waitpid(kid, &st, 0);
}
