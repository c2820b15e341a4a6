#include "support/temp_dir.hpp"
#include "util/file.hpp"
#include "util/stamped_cache.hpp"

#include <chrono>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>

using namespace gt::util;
using namespace std::chrono_literals;

namespace {

TimePoint real_now() {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

/// A cache of file contents that counts the reads it makes.
struct CountedReads {
    StampedCache<std::string> cache;
    int reads = 0;
    Result<std::string> get(const std::string& path, TimePoint now) {
        return cache.get(path, false, now, [this](const std::string& p) {
            ++reads;
            return read_file(p, 1024, false);
        });
    }
};

/// Rewrites `path` in place (same inode, same size) once its stamp can show it: file times move
/// in ticks, of a few milliseconds here and up to 2 s on some file systems.
void overwrite_in_place(const std::string& path, const std::string& text) {
    auto before = file_stamp(path, false);
    for (int i = 0; i < 300; ++i) {
        std::ofstream(path, std::ios::in | std::ios::out) << text;
        if (!before || !(*file_stamp(path, false) == *before)) {
            return;
        }
        std::this_thread::sleep_for(10ms);
    }
}

} // namespace

TEST(StampedCache, ReadsASettledFileOnceWhileItsStampStays) {
    gt::test::TempDir dir;
    const std::string path = dir.path() + "/a.json";
    ASSERT_TRUE(write_file_atomic(path, "one"));
    CountedReads c;
    const TimePoint later = real_now() + 1h; // the file last changed long before
    EXPECT_EQ(*c.get(path, later), "one");
    EXPECT_EQ(*c.get(path, later), "one");
    EXPECT_EQ(*c.get(path, later), "one");
    EXPECT_EQ(c.reads, 1);
    EXPECT_EQ(c.cache.hits(), 2u);

    // Replaced (a new inode, the way agents write), then changed in place with the same size:
    // each shows at the next look.
    ASSERT_TRUE(write_file_atomic(path, "two"));
    EXPECT_EQ(*c.get(path, later), "two");
    overwrite_in_place(path, "six");
    EXPECT_EQ(*c.get(path, later), "six");
    EXPECT_EQ(c.reads, 3);
}

// A file changed within k_stamp_settle of the read may change again within the same
// timestamp tick, leaving its stamp as it was: it is read every time until it has settled.
TEST(StampedCache, ReadsAFreshFileEveryTime) {
    gt::test::TempDir dir;
    const std::string path = dir.path() + "/a.json";
    ASSERT_TRUE(write_file_atomic(path, "one"));
    CountedReads c;
    EXPECT_EQ(*c.get(path, real_now()), "one");
    std::ofstream(path, std::ios::in | std::ios::out) << "two"; // may well share "one"'s stamp
    EXPECT_EQ(*c.get(path, real_now()), "two");
    EXPECT_EQ(c.reads, 2);
    EXPECT_EQ(c.cache.size(), 0u);
}

TEST(StampedCache, MissingFilesAreReadEveryTimeAndForgottenOnesSwept) {
    gt::test::TempDir dir;
    const std::string a = dir.path() + "/a", b = dir.path() + "/b";
    CountedReads c;
    const TimePoint later = real_now() + 1h;
    EXPECT_FALSE(c.get(a, later));
    ASSERT_TRUE(write_file_atomic(a, "here"));
    EXPECT_EQ(*c.get(a, later), "here");
    ASSERT_TRUE(write_file_atomic(b, "b"));
    EXPECT_EQ(*c.get(b, later), "b");
    EXPECT_EQ(c.cache.size(), 2u);
    c.cache.sweep();
    EXPECT_EQ(*c.get(a, later), "here"); // only a asked about in this pass
    c.cache.sweep();
    EXPECT_EQ(c.cache.size(), 1u);
    ASSERT_EQ(::unlink(a.c_str()), 0);
    EXPECT_FALSE(c.get(a, later));
    EXPECT_EQ(c.cache.size(), 0u);
    EXPECT_EQ(c.reads, 4);
}

// A failed read (descriptors or memory ran out) is never kept: the next look reads again.
TEST(StampedCache, AFailedReadIsNotKept) {
    gt::test::TempDir dir;
    const std::string path = dir.path() + "/a.json";
    ASSERT_TRUE(write_file_atomic(path, "one"));
    StampedCache<std::string> cache;
    int reads = 0;
    auto flaky = [&](const std::string& p) -> Result<std::string> {
        if (++reads == 1) {
            return Error{p + ": Too many open files", EMFILE};
        }
        return read_file(p, 1024, false);
    };
    const TimePoint later = real_now() + 1h;
    EXPECT_EQ(cache.get(path, false, later, flaky).error_code(), EMFILE);
    EXPECT_EQ(*cache.get(path, false, later, flaky), "one");
    EXPECT_EQ(*cache.get(path, false, later, flaky), "one");
    EXPECT_EQ(reads, 2);
}

TEST(StampedCache, SettledMeansUnchangedForTheMargin) {
    FileStamp s;
    const TimePoint now = real_now();
    auto ns = [](TimePoint t) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    };
    s.mtime_ns = s.ctime_ns = ns(now - k_stamp_settle);
    EXPECT_TRUE(stamp_settled(s, now));
    s.ctime_ns = ns(now - k_stamp_settle + 1ms); // the later of the two times counts
    EXPECT_FALSE(stamp_settled(s, now));
    s.ctime_ns = ns(now + 1h); // a file from the future (a clock set back)
    EXPECT_FALSE(stamp_settled(s, now));
}

TEST(StampedCache, StampsFollowSymlinksOnlyWhenAsked) {
    gt::test::TempDir dir;
    const std::string file = dir.path() + "/f", link = dir.path() + "/l";
    ASSERT_TRUE(write_file_atomic(file, "12345"));
    ASSERT_EQ(::symlink(file.c_str(), link.c_str()), 0);
    EXPECT_EQ(file_stamp(link, true)->size, 5);
    EXPECT_EQ(file_stamp(link, true)->ino, file_stamp(file, false)->ino);
    EXPECT_NE(file_stamp(link, false)->ino, file_stamp(file, false)->ino);
    EXPECT_EQ(file_stamp(dir.path() + "/none", false).error_code(), ENOENT);
}
