#include "support/temp_dir.hpp"
#include "util/file_lock.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <optional>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace gt::util;

TEST(FileLock, CreatesPrivateFileAndExcludesOthersUntilDestroyed) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/.lock";
    std::optional<FileLock> held;
    {
        auto lock = FileLock::acquire(path);
        ASSERT_TRUE(lock.ok()) << lock.error();
        held.emplace(std::move(*lock));
    }
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    std::atomic<bool> second_got_it{false};
    std::thread waiter([&] {
        auto second = FileLock::acquire(path);
        second_got_it = second.ok();
    });
    // Another open file description cannot take the lock while it is held.
    int probe = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(probe, 0);
    EXPECT_NE(::flock(probe, LOCK_EX | LOCK_NB), 0);
    EXPECT_FALSE(second_got_it);
    held.reset();
    waiter.join();
    EXPECT_TRUE(second_got_it);
    EXPECT_EQ(::flock(probe, LOCK_EX | LOCK_NB), 0);
    ::close(probe);
}

TEST(FileLock, DescriptorIsCloseOnExecAndSymlinkIsRefused) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/.lock";
    ASSERT_EQ(::symlink("/tmp/elsewhere", path.c_str()), 0);
    EXPECT_FALSE(FileLock::acquire(path).ok());
    ::unlink(path.c_str());
    auto lock = FileLock::acquire(path);
    ASSERT_TRUE(lock.ok());
    // Every descriptor we just opened on the lock file carries FD_CLOEXEC.
    bool found = false;
    for (int fd = 3; fd < 1024; ++fd) {
        char link[64];
        char target[4096];
        std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = ::readlink(link, target, sizeof target - 1);
        if (n > 0 && std::string(target, static_cast<std::size_t>(n)) == path) {
            found = true;
            EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
        }
    }
    EXPECT_TRUE(found);
}

TEST(FileLock, GivesUpAfterTheTimeoutWhileAnotherHoldsIt) {
    gt::test::TempDir dir("gt-lock");
    std::string path = dir.path() + "/x.lock";
    auto held = gt::util::FileLock::acquire(path);
    ASSERT_TRUE(held);
    auto second = gt::util::FileLock::acquire(path, 0600, std::chrono::milliseconds(50));
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().find("still held"), std::string::npos) << second.error();
}
