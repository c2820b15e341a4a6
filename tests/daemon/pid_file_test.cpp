#include "daemon/lock.hpp"
#include "daemon/pid_file.hpp"
#include "support/temp_dir.hpp"

#include <cerrno>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace gt::daemon;

TEST(PidFile, RoundTripWithStartTime) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/daemon.pid";
    ASSERT_TRUE(write_pid_file(path).ok());
    auto info = read_pid_file(path);
    ASSERT_TRUE(info.ok()) << info.error();
    EXPECT_EQ(info->pid, ::getpid());
    EXPECT_GT(info->start_time, 0u);
    EXPECT_TRUE(info->matches_live_process());
}

TEST(PidFile, AcceptsBarePidAndRejectsGarbage) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/daemon.pid";
    std::ofstream(path) << ::getpid() << "\n";
    auto info = read_pid_file(path);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->start_time, 0u);
    EXPECT_TRUE(info->matches_live_process());
    for (const char* bad : {"", "abc", "-5", "0", "12 34", "99999999999999999999999", "\x01\x02"}) {
        std::ofstream(path, std::ios::trunc) << bad;
        EXPECT_FALSE(read_pid_file(path).ok()) << bad;
    }
}

TEST(PidFile, WrongStartTimeMeansReusedPid) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/daemon.pid";
    std::ofstream(path) << ::getpid() << "\n12345\n";
    auto info = read_pid_file(path);
    ASSERT_TRUE(info.ok());
    EXPECT_FALSE(info->matches_live_process());
}

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
    EXPECT_FALSE(with_lock_held(path, [] {}));
    first->release();
    EXPECT_FALSE(lock_holder(path).has_value());
    bool ran = false;
    EXPECT_TRUE(with_lock_held(path, [&] { ran = true; }));
    EXPECT_TRUE(ran);
}
