// A town on the file systems where stat() and /proc/locks name the lock file's device
// differently (design §5.1, "Finding the holder"): btrfs, the default of Fedora and openSUSE, and
// an overlayfs whose layers lie on two file systems. Each is really mounted (a loop-mounted btrfs
// image; an overlay of $TMPDIR and a tmpfs), which needs root: elsewhere the tests are skipped
// and say why.

#include "daemon/lock.hpp"
#include "support/mounts.hpp"
#include "support/tmux_town.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

using namespace gt;
using namespace gt::test;
using namespace std::chrono_literals;

namespace {

class OnFileSystem : public ::testing::TestWithParam<TestMount::Kind> {};

std::string name_of(const ::testing::TestParamInfo<TestMount::Kind>& info) {
    return info.param == TestMount::Kind::btrfs ? "btrfs" : "MixedOverlayfs";
}

/// The device numbers stat() and /proc/locks give for the lock file differ: the case this test
/// exists for (if they agree, the kernel changed and the test proves less than it claims).
bool devices_disagree(const std::string& lock_file, pid_t holder) {
    struct stat st {};
    if (::stat(lock_file.c_str(), &st) != 0) {
        return false;
    }
    std::string locks = slurp("/proc/locks");
    std::string needle = " " + std::to_string(holder) + " ";
    auto at = locks.find(needle);
    if (at == std::string::npos) {
        return false;
    }
    char ours[64];
    std::snprintf(ours, sizeof ours, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long>(st.st_ino));
    std::string line = locks.substr(at, locks.find('\n', at) - at);
    return line.find(ours) == std::string::npos;
}

} // namespace

TEST_P(OnFileSystem, CommandsFindTheDaemon) {
    TestMount fs(GetParam());
    if (!fs.ok()) {
        GTEST_SKIP() << "cannot mount the file system: " << fs.why();
    }
    TmuxTown t(false, "town", fs.path());
    t.configure({{"daemon", {{"heartbeat_interval", "1h"}, {"start_grace", "500ms"}}}});
    t.set_all_commands({"sleep", "1000"});
    auto start = t.gt({"daemon", "start"});
    ASSERT_TRUE(start.success()) << start.out << start.err;
    pid_t pid = t.pid_from_state();
    ASSERT_GT(pid, 0);
    const std::string lock_file = t.root() + "/daemon/daemon.lock";
    EXPECT_TRUE(devices_disagree(lock_file, pid)) << slurp("/proc/locks");

    EXPECT_EQ(daemon::lock_holder(lock_file), std::optional<pid_t>(pid))
        << "the running daemon's lock was not found";

    auto status = t.gt({"daemon", "status"});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    EXPECT_TRUE(has(status.out, std::to_string(pid))) << status.out;
    EXPECT_EQ(::access((t.root() + "/daemon/daemon.pid").c_str(), F_OK), 0)
        << "status removed the live daemon's PID file";

    // A request is served at once (SIGUSR1), not at the next heartbeat an hour away.
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    long old = t.pane_pid("gt-r1-witness").value_or(0);
    auto queued = t.gt({"lifecycle", "restart", "--as", "r1/witness"});
    ASSERT_TRUE(queued.success()) << queued.err;
    EXPECT_TRUE(has(queued.out, "notified")) << queued.out;
    EXPECT_TRUE(eventually([&] { return !t.events("lifecycle", "r1/witness").empty(); }, 10s));
    EXPECT_NE(t.pane_pid("gt-r1-witness").value_or(old), old);

    // restart replaces the daemon; stop stops it.
    auto restart = t.gt({"daemon", "restart"});
    ASSERT_TRUE(restart.success()) << restart.out << restart.err;
    EXPECT_TRUE(has(restart.out, "Daemon stopped (was PID " + std::to_string(pid) + ")"))
        << restart.out;
    auto pids = daemon_pids(t.root());
    ASSERT_EQ(pids.size(), 1u);
    EXPECT_NE(pids[0], pid);
    auto stop = t.gt({"daemon", "stop"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped (was PID " + std::to_string(pids[0]) + ")"))
        << stop.out << stop.err;
    EXPECT_TRUE(eventually([&] { return daemon_pids(t.root()).empty(); }, 5s));
}

INSTANTIATE_TEST_SUITE_P(FileSystems, OnFileSystem,
                         ::testing::Values(TestMount::Kind::btrfs, TestMount::Kind::mixed_overlay),
                         name_of);
