// The lock-path guard (design §5.1): inotify tells when daemon/daemon.lock may no longer be the
// file the daemon holds; without inotify, a check once a second.
#include "daemon/lock_watch.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <cstdio>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace gt::daemon;
using namespace std::chrono_literals;

namespace {

/// A town root with daemon/daemon.lock, and a LockWatch asking whether the lock path still
/// names the file it named at the start (as DaemonLock::still_at() does).
struct Watched {
    gt::test::TempDir dir;
    std::string root = dir.path() + "/town";
    std::string daemon_dir = root + "/daemon";
    std::string lock = daemon_dir + "/daemon.lock";
    asio::io_context io;
    ino_t held = 0;
    int lost = 0;
    LockWatch watch{io, [this] { return still_ours(); }, [this] { ++lost; }};

    Watched() {
        EXPECT_TRUE(gt::util::make_dirs(daemon_dir, 0700));
        EXPECT_TRUE(gt::util::write_file_atomic(lock, ""));
        struct stat st {};
        EXPECT_EQ(::stat(lock.c_str(), &st), 0);
        held = st.st_ino;
    }
    /// Watches the lock file, daemon/ and the town root, as the daemon does.
    void start() {
        std::string why;
        ASSERT_TRUE(watch.start({lock, daemon_dir, root}, why)) << why;
    }
    bool still_ours() const {
        struct stat st {};
        return ::stat(lock.c_str(), &st) == 0 && st.st_ino == held;
    }
    /// Runs the loop until the watch reported a loss, at most `limit`.
    void run_until_lost(std::chrono::milliseconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (lost == 0 && std::chrono::steady_clock::now() < deadline) {
            io.run_for(20ms);
        }
    }
};

} // namespace

TEST(LockWatch, WakesOnlyWhenTheLockPathIsTouched) {
    Watched w;
    w.start();
    w.io.run_for(300ms);
    EXPECT_EQ(w.watch.checks(), 1u); // the one at the start; no clock
    // Files written beside the lock (state.json, the log) are not watched.
    ASSERT_TRUE(gt::util::write_file_atomic(w.daemon_dir + "/state.json", "{}"));
    w.io.run_for(200ms);
    EXPECT_EQ(w.watch.checks(), 1u);
    // A touch of the lock file is looked at, and is no loss.
    ASSERT_EQ(::chmod(w.lock.c_str(), 0644), 0);
    w.io.run_for(200ms);
    EXPECT_EQ(w.watch.checks(), 2u);
    EXPECT_EQ(w.lost, 0);
    ASSERT_EQ(::unlink(w.lock.c_str()), 0);
    w.run_until_lost(5s);
    EXPECT_EQ(w.lost, 1);
    EXPECT_EQ(w.watch.checks(), 3u);
}

TEST(LockWatch, SeesTheLockRenamedOverAndTheDirectoriesMoved) {
    {
        Watched w; // another file renamed onto daemon.lock: the held one loses a link
        w.start();
        ASSERT_TRUE(gt::util::write_file_atomic(w.lock, "new"));
        w.run_until_lost(5s);
        EXPECT_EQ(w.lost, 1);
    }
    {
        Watched w; // daemon/ moved aside and made anew
        w.start();
        ASSERT_EQ(::rename(w.daemon_dir.c_str(), (w.root + "/daemon.old").c_str()), 0);
        w.run_until_lost(5s);
        EXPECT_EQ(w.lost, 1);
    }
    {
        Watched w; // the town moved
        w.start();
        ASSERT_EQ(::rename(w.root.c_str(), (w.root + ".moved").c_str()), 0);
        w.run_until_lost(5s);
        EXPECT_EQ(w.lost, 1);
    }
}

// A loss before the watches were in place is seen at once, not at the next event.
TEST(LockWatch, ALossBeforeTheStartIsSeenAtOnce) {
    Watched w;
    ASSERT_TRUE(gt::util::write_file_atomic(w.lock, "replaced before the start"));
    w.start();
    w.run_until_lost(1s);
    EXPECT_EQ(w.lost, 1);
}

// Where a watch cannot be set, a check once a second instead, and why.
TEST(LockWatch, FallsBackToACheckEverySecond) {
    Watched w;
    std::string why;
    EXPECT_FALSE(w.watch.start({w.lock, w.root + "/no-such-directory"}, why));
    EXPECT_NE(why.find("no-such-directory"), std::string::npos) << why;
    w.io.run_for(2500ms);
    EXPECT_GE(w.watch.checks(), 2u);
    EXPECT_EQ(w.lost, 0);
    ASSERT_EQ(::unlink(w.lock.c_str()), 0);
    w.run_until_lost(3s);
    EXPECT_EQ(w.lost, 1);
}
