#include "support/temp_dir.hpp"
#include "util/file.hpp"
#include "util/rotating_file.hpp"

#include <cerrno>
#include <dirent.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace gt::util;

namespace {

int count_entries(const std::string& dir) {
    int n = 0;
    DIR* d = ::opendir(dir.c_str());
    while (dirent* e = ::readdir(d)) {
        n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
    }
    ::closedir(d);
    return n;
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

} // namespace

TEST(AtomicWrite, WritesExactModeAndLeavesNoTemp) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/f.json";
    ASSERT_TRUE(write_file_atomic(path, "{}\n").ok());
    EXPECT_EQ(*read_file(path), "{}\n");
    EXPECT_EQ(mode_of(path), 0600u);
    ASSERT_TRUE(write_file_atomic(path, "second").ok());
    EXPECT_EQ(*read_file(path), "second");
    EXPECT_EQ(count_entries(dir.path()), 1);
}

TEST(AtomicWrite, FailsCleanlyInMissingDirectory) {
    gt::test::TempDir dir;
    auto st = write_file_atomic(dir.path() + "/nope/f", "x");
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.error().find("nope"), std::string::npos);
}

TEST(ReadFile, CapsSizeAndReportsErrno) {
    gt::test::TempDir dir;
    std::string big = dir.path() + "/big";
    std::ofstream(big) << std::string(2 * 1024 * 1024, 'x');
    auto r = read_file(big);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error_code(), EFBIG);
    auto missing = read_file(dir.path() + "/missing");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error_code(), ENOENT);
    auto directory = read_file(dir.path());
    EXPECT_FALSE(directory.ok());
}

TEST(ReadFile, RefusesSymlinkWhenAsked) {
    gt::test::TempDir dir;
    std::string target = dir.path() + "/t";
    std::ofstream(target) << "x";
    std::string link = dir.path() + "/l";
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    EXPECT_TRUE(read_file(link).ok());
    auto r = read_file(link, k_max_file_size, false);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error_code(), ELOOP);
}

TEST(MakeDirs, EnforcesMode) {
    gt::test::TempDir dir;
    std::string d = dir.path() + "/a/b/daemon";
    ASSERT_TRUE(make_dirs(d, 0700, true).ok());
    EXPECT_EQ(mode_of(d), 0700u);
    ::chmod(d.c_str(), 0755);
    ASSERT_TRUE(make_dirs(d, 0700, true).ok());
    EXPECT_EQ(mode_of(d), 0700u);
}

TEST(RotatingFile, RotatesAtSizeAndKeepsMaxFiles) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/log";
    RotatingFile f(path, 4096, 2);
    ASSERT_TRUE(f.open().ok());
    std::string line(1000, 'a');
    line += "\n";
    for (int i = 0; i < 20; ++i) {
        f.append(line);
    }
    EXPECT_TRUE(path_exists(path + ".1"));
    EXPECT_TRUE(path_exists(path + ".2"));
    EXPECT_FALSE(path_exists(path + ".3"));
    EXPECT_LE(read_file(path)->size(), 4096u);
    EXPECT_EQ(mode_of(path), 0600u);
}

TEST(ListDir, TypesEntriesWithoutFollowingSymlinksAndRefusesSymlinkedDir) {
    gt::test::TempDir dir;
    std::string d = dir.path();
    ASSERT_TRUE(make_dirs(d + "/sub").ok());
    std::ofstream(d + "/b.json") << "{}";
    ASSERT_EQ(::symlink((d + "/sub").c_str(), (d + "/a_link").c_str()), 0);
    auto list = list_dir(d);
    ASSERT_TRUE(list.ok()) << list.error();
    ASSERT_EQ(list->size(), 3u);
    EXPECT_EQ((*list)[0].name, "a_link");
    EXPECT_EQ((*list)[0].type, DirEntry::Type::symlink);
    EXPECT_EQ((*list)[1].name, "b.json");
    EXPECT_EQ((*list)[1].type, DirEntry::Type::file);
    EXPECT_EQ((*list)[2].type, DirEntry::Type::dir);
    auto linked = list_dir(d + "/a_link");
    ASSERT_FALSE(linked.ok());
    EXPECT_EQ(linked.error_code(), ELOOP);
    EXPECT_EQ(list_dir(d + "/missing").error_code(), ENOENT);
}

TEST(MakeDirsBelow, CreatesEachLevelWithModeAndKeepsExisting) {
    gt::test::TempDir dir;
    ASSERT_TRUE(make_dirs(dir.path() + "/a", 0755).ok());
    ASSERT_TRUE(make_dirs_below(dir.path(), "a/b/c", 0700).ok());
    EXPECT_EQ(mode_of(dir.path() + "/a"), 0755u);
    EXPECT_EQ(mode_of(dir.path() + "/a/b"), 0700u);
    EXPECT_EQ(mode_of(dir.path() + "/a/b/c"), 0700u);
    EXPECT_TRUE(make_dirs_below(dir.path(), "a/b/c", 0700).ok());
}
