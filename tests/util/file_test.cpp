#include "support/temp_dir.hpp"
#include "util/file.hpp"
#include "util/rotating_file.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
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
    EXPECT_EQ(r.error_code(), k_not_regular);
}

// Whatever is there instead of a file, the refusal carries one code (commands exit 2 on it)
// and names it; a loop of symlinks is named as one, not as "a symlink".
TEST(ReadFile, NamesWhatIsThereInsteadOfAFileWithOneCode) {
    gt::test::TempDir dir;
    std::string d = dir.path();
    ASSERT_EQ(::mkfifo((d + "/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::symlink("/dev/zero", (d + "/zero").c_str()), 0);
    ASSERT_EQ(::mkdir((d + "/dir").c_str(), 0700), 0);
    ASSERT_EQ(::symlink((d + "/b").c_str(), (d + "/a").c_str()), 0);
    ASSERT_EQ(::symlink((d + "/a").c_str(), (d + "/b").c_str()), 0);
    for (const auto& [name, what] : {std::pair{"fifo", "(a FIFO)"},
                                     {"zero", "(a device)"},
                                     {"dir", "(a directory)"},
                                     {"a", "(a symlink loop)"}}) {
        auto r = read_file(d + "/" + name);
        ASSERT_FALSE(r.ok()) << name;
        EXPECT_EQ(r.error_code(), k_not_regular) << name << ": " << r.error();
        EXPECT_NE(r.error().find(d + "/" + name + ": not a regular file " + what),
                  std::string::npos)
            << r.error();
    }
    auto st = write_file_atomic(d + "/dir", "{}");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error_code(), k_not_regular);
    EXPECT_NE(st.error().find(d + "/dir: not a regular file (a directory)"), std::string::npos)
        << st.error();
    auto left = list_dir(d);
    ASSERT_TRUE(left.ok());
    EXPECT_EQ(left->size(), 5u) << "the temp file was left behind";
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

TEST(OpenRegular, RefusesAFifoForReadingAndWritingWithoutBlocking) {
    gt::test::TempDir dir;
    std::string fifo = dir.path() + "/events.jsonl";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    // Both would block forever in open() without O_NONBLOCK (no writer / no reader).
    for (int flags : {O_RDONLY, O_WRONLY | O_CREAT | O_APPEND, O_RDWR | O_CREAT}) {
        auto fd = open_regular(fifo, flags);
        ASSERT_FALSE(fd.ok()) << flags;
        EXPECT_NE(fd.error().find("not a regular file (a FIFO)"), std::string::npos) << fd.error();
    }
    auto text = read_file(fifo);
    ASSERT_FALSE(text.ok());
    EXPECT_NE(text.error().find("not a regular file"), std::string::npos) << text.error();
}

TEST(OpenRegular, RefusesDirectoriesDevicesAndSymlinksAndOpensFiles) {
    gt::test::TempDir dir;
    auto d = open_regular(dir.path(), O_RDONLY);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().find("a directory"), std::string::npos) << d.error();
    auto dev = open_regular("/dev/null", O_WRONLY);
    ASSERT_FALSE(dev.ok());
    EXPECT_NE(dev.error().find("a device"), std::string::npos) << dev.error();
    std::string file = dir.path() + "/daemon.log";
    auto created = open_regular(file, O_WRONLY | O_CREAT | O_APPEND, 0600);
    ASSERT_TRUE(created.ok()) << created.error();
    EXPECT_EQ(mode_of(file), 0600);
    EXPECT_EQ(::fcntl(created->get(), F_GETFL) & O_NONBLOCK, 0) << "left non-blocking";
    EXPECT_NE(::fcntl(created->get(), F_GETFD) & FD_CLOEXEC, 0);
    std::string link = dir.path() + "/link";
    ASSERT_EQ(::symlink(file.c_str(), link.c_str()), 0);
    auto via_link = open_regular(link, O_WRONLY | O_APPEND);
    ASSERT_FALSE(via_link.ok());
    EXPECT_NE(via_link.error().find("a symlink"), std::string::npos) << via_link.error();
    EXPECT_TRUE(open_regular(link, O_RDONLY, 0, true).ok());
}

TEST(RotatingFile, RefusesAFifoInsteadOfBlocking) {
    gt::test::TempDir dir;
    std::string fifo = dir.path() + "/daemon.log";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    RotatingFile f(fifo, 4096, 2);
    auto st = f.open();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().find("a FIFO"), std::string::npos) << st.error();
}

// A daemon SIGKILLed mid-write and started again a moment later: its temp file is fresh, but
// its writer is gone, so it goes at once; a live writer's stays.
TEST(StaleTempFiles, RemovesAFreshTempFileWhoseWriterIsGone) {
    gt::test::TempDir dir;
    std::string d = dir.path();
    for (const char* name : {"state.json.tmp.123.456", "metrics.prom.tmp.77.1"}) {
        std::ofstream(d + "/" + name) << "x";
    }
    auto removed = remove_stale_temp_files(d, gt::util::now(), std::chrono::minutes(1), 0,
                                           [](pid_t writer) { return writer == 123; });
    EXPECT_EQ(removed, std::vector<std::string>{d + "/state.json.tmp.123.456"});
    EXPECT_TRUE(path_exists(d + "/metrics.prom.tmp.77.1"));
}

TEST(StaleTempFiles, RemovesOnlyOldTempFilesOfAtomicWrites) {
    gt::test::TempDir dir;
    std::string d = dir.path();
    ASSERT_EQ(::mkdir((d + "/rig").c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((d + "/rig/deep").c_str(), 0700), 0);
    for (const char* name :
         {"state.json.tmp.123.456", "rig/witness.json.tmp.9.1", "rig/deep/x.json.tmp.1.2",
          "state.json", "notes.tmp.txt", "a.tmp.1.x", "daemon.pid.tmp.77.88"}) {
        std::ofstream(d + "/" + name) << "x";
    }
    auto now = gt::util::now();
    // Nothing is a minute old yet: a writer may still be at work.
    EXPECT_TRUE(remove_stale_temp_files(d, now, std::chrono::minutes(1), 1).empty());
    auto removed =
        remove_stale_temp_files(d, now + std::chrono::minutes(2), std::chrono::minutes(1), 1);
    std::sort(removed.begin(), removed.end());
    std::vector<std::string> want{d + "/daemon.pid.tmp.77.88", d + "/rig/witness.json.tmp.9.1",
                                  d + "/state.json.tmp.123.456"};
    EXPECT_EQ(removed, want); // rig/deep is below the depth asked for
    EXPECT_TRUE(path_exists(d + "/state.json"));
    EXPECT_TRUE(path_exists(d + "/notes.tmp.txt"));
    EXPECT_TRUE(path_exists(d + "/a.tmp.1.x"));
    EXPECT_TRUE(path_exists(d + "/rig/deep/x.json.tmp.1.2"));
    EXPECT_TRUE(is_atomic_temp_name("restart_state.json.tmp.4242.123456789"));
    EXPECT_FALSE(is_atomic_temp_name(".tmp.1.2"));
}

TEST(RotatingFile, OpensAgainOnceTheFileCanBeOpened) {
    gt::test::TempDir dir;
    std::string path = dir.path() + "/daemon.log";
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    RotatingFile f(path, 4096, 2);
    ASSERT_FALSE(f.open().ok());
    ASSERT_EQ(::unlink(path.c_str()), 0);
    f.append("found\n"); // the first retry is at once
    std::ifstream in(path);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(line, "found");
}
