#include "daemon/pid_file.hpp"
#include "support/temp_dir.hpp"

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
