#include "daemon/lock.hpp"
#include "support/mounts.hpp"
#include "support/temp_dir.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <memory>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace gt::daemon;

TEST(Lock, SecondAcquireFailsAndHolderIsNamed) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/daemon.lock";
    EXPECT_FALSE(lock_holder(path).has_value());
    auto first = DaemonLock::acquire(path);
    ASSERT_TRUE(first.ok()) << first.error();
    auto holder = lock_holder(path);
    ASSERT_TRUE(holder.has_value());
    EXPECT_EQ(*holder, ::getpid());
    auto second = DaemonLock::acquire(path);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error_code(), EWOULDBLOCK);
    first->release();
    EXPECT_FALSE(lock_holder(path).has_value());
}

TEST(Lock, SharedProbeIsNeverTakenForTheDaemon) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/daemon.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_SH | LOCK_NB), 0);
    EXPECT_FALSE(lock_holder(path).has_value()) << "a shared lock was named as the holder";
    ::close(fd);
}

TEST(Lock, RefusesALockPathThatIsNotARegularFile) {
    gt::test::TempDir dir;
    std::string fifo = dir.path() + "/daemon.lock";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto lock = DaemonLock::acquire(fifo);
    ASSERT_FALSE(lock.ok());
    EXPECT_NE(lock.error().find("not a regular file (a FIFO)"), std::string::npos) << lock.error();
}

TEST(Lock, StillAtNoticesTheLockFileDeletedOrReplaced) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/daemon.lock";
    auto lock = DaemonLock::acquire(path);
    ASSERT_TRUE(lock.ok()) << lock.error();
    EXPECT_TRUE(lock->still_at(path));
    ASSERT_EQ(::unlink(path.c_str()), 0);
    EXPECT_FALSE(lock->still_at(path));
    auto second = DaemonLock::acquire(path); // a new inode: nothing stops a second daemon now
    ASSERT_TRUE(second.ok()) << second.error();
    EXPECT_FALSE(lock->still_at(path));
    EXPECT_TRUE(second->still_at(path));
}

TEST(Lock, LostDaemonIsTheProcessLockingADeletedLockFile) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/daemon.lock";
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // Only async-signal-safe calls here: lock, say so, wait to be killed.
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
        char ok = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 'y' : 'n';
        [[maybe_unused]] auto n = ::write(ready[1], &ok, 1);
        for (;;) {
            ::pause();
        }
    }
    ::close(ready[1]);
    char ok = 0;
    ASSERT_EQ(::read(ready[0], &ok, 1), 1);
    ::close(ready[0]);
    ASSERT_EQ(ok, 'y');
    EXPECT_FALSE(lost_daemon(path, "/no/such/town").has_value()) << "the file is still there";
    ASSERT_EQ(::unlink(path.c_str()), 0);
    auto mine = DaemonLock::acquire(path);
    ASSERT_TRUE(mine.ok()) << mine.error();
    auto other = lost_daemon(path, "/no/such/town");
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(*other, child);
    EXPECT_FALSE(lost_daemon(path, "/no/such/town").has_value());
}

namespace {

void* hold_a_while(void*) {
    ::usleep(400'000);
    return nullptr;
}

} // namespace

/// The lock file's directory: a temp dir, or a btrfs or mixed overlayfs mounted for the test,
/// where /proc/locks and stat() name different devices (design §5.1).
class LockOn : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() != "tmp") {
            m_mount = std::make_unique<gt::test::TestMount>(
                GetParam() == "btrfs" ? gt::test::TestMount::Kind::btrfs
                                      : gt::test::TestMount::Kind::mixed_overlay);
            if (!m_mount->ok()) {
                GTEST_SKIP() << "cannot mount " << GetParam() << ": " << m_mount->why();
            }
        }
    }
    std::string lock_path() const {
        return (m_mount ? m_mount->path() : m_dir.path()) + "/daemon.lock";
    }

private:
    gt::test::TempDir m_dir;
    std::unique_ptr<gt::test::TestMount> m_mount;
};

INSTANTIATE_TEST_SUITE_P(FileSystems, LockOn, ::testing::Values("tmp", "btrfs", "overlay"),
                         [](const auto& info) { return info.param; });

TEST_P(LockOn, TheHolderIsNamed) {
    std::string path = lock_path();
    auto lock = DaemonLock::acquire(path);
    ASSERT_TRUE(lock.ok()) << lock.error();
    EXPECT_EQ(lock_holder(path), std::optional<pid_t>(::getpid()));
    lock->release();
    EXPECT_FALSE(lock_holder(path).has_value());
}

TEST_P(LockOn, AZombieWhoseThreadsStillHoldTheLockIsWaitedForNotNamed) {
    // A daemon killed mid-fsync: its leader thread is a zombie already, another thread still
    // runs, and the lock goes only with it. Named as the holder, the zombie made `gt daemon
    // start` right after `kill -9` say "already running" and start nothing.
    std::string path = lock_path();
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto lock = DaemonLock::acquire(path);
        pthread_t t;
        if (!lock || ::pthread_create(&t, nullptr, hold_a_while, nullptr) != 0) {
            ::_exit(1);
        }
        // The leader thread goes (no unwinding into the test runner); the process and the lock
        // live on with the other thread.
        ::syscall(SYS_exit, 0);
    }
    auto state = [&] {
        char buf[512] = {};
        int fd = ::open(("/proc/" + std::to_string(child) + "/stat").c_str(), O_RDONLY);
        ssize_t n = fd >= 0 ? ::read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0) {
            ::close(fd);
        }
        const char* close = n > 0 ? std::strrchr(buf, ')') : nullptr;
        return close ? close[2] : '?';
    };
    for (int i = 0; i < 200 && state() != 'Z'; ++i) {
        ::usleep(1000);
    }
    ASSERT_EQ(state(), 'Z');
    EXPECT_FALSE(lock_holder(path).has_value());
    EXPECT_TRUE(DaemonLock::acquire(path).ok());
    int status = 0;
    ::waitpid(child, &status, 0);
}
