// `gt daemon install` and `uninstall` with the real binary (design §18.1): the unit passes
// systemd's own verifier, the plist parses, a hostile town path survives both, and uninstall
// leaves nothing behind.
#include "proc/process.hpp"
#include "support/tmux_town.hpp"
#include "util/file.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using gt::test::has;
using gt::test::TmuxTown;
using json = nlohmann::json;

namespace {

/// A HOME of its own: the units go there, never into the real user's.
struct Home {
    gt::test::TempDir dir{"gt-home"};
    std::vector<std::string> env() const {
        return {"HOME=" + dir.path(), "XDG_CONFIG_HOME=", "PATH=/usr/local/bin:/usr/bin:/bin"};
    }
    std::string units() const { return dir.path() + "/.config/systemd/user"; }
};

/// The file a `Wrote <path>` line names.
std::string written(const std::string& out) {
    auto at = out.find("Wrote ");
    if (at == std::string::npos) {
        return "";
    }
    return out.substr(at + 6, out.find('\n', at) - at - 6);
}

const char* const k_hostile = "town a;b $(id) 100% \"q\" `x` \\n";

} // namespace

TEST(Install, TheSystemdUnitOfAHostilePathPassesSystemdAnalyzeVerify) {
    TmuxTown t(false, k_hostile);
    Home home;
    auto r = t.gt({"daemon", "install", "--systemd"}, home.env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string path = written(r.out);
    ASSERT_EQ(path.rfind(home.units() + "/gt-tmuxtown-", 0), 0u) << r.out;
    EXPECT_TRUE(has(r.out, "systemctl --user enable --now gt-tmuxtown-")) << r.out;
    // The warning unless lingering is on (CI has no logind: it cannot tell, and says so).
    auto linger = gt::test::run_command(
        {"sh", "-c", "loginctl show-user \"$(id -un)\" --property=Linger --value"});
    EXPECT_EQ(has(r.out, "loginctl enable-linger"), linger.out != "yes\n") << r.out;

    // systemd's verifier, as a user manager would load it; any warning is a failure.
    gt::test::TempDir runtime("gt-runtime");
    ::chmod(runtime.path().c_str(), 0700);
    auto verify =
        gt::test::run_command({"systemd-analyze", "--user", "verify", path},
                              {"XDG_RUNTIME_DIR=" + runtime.path(), "HOME=" + home.dir.path()});
    EXPECT_EQ(verify.exit_code, 0) << verify.err;
    EXPECT_EQ(verify.err, "") << gt::test::slurp(path);

    // The same unit a second time changes nothing; --print shows it and writes nothing.
    auto again = t.gt({"daemon", "install", "--systemd"}, home.env());
    EXPECT_TRUE(has(again.out, "Unchanged: " + path)) << again.out;
    auto print = t.gt({"daemon", "install", "--systemd", "--print"}, home.env());
    EXPECT_EQ(print.out, gt::test::slurp(path));

    // A second town gets a second unit.
    TmuxTown other;
    auto second = other.gt({"daemon", "install", "--systemd"}, home.env());
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_NE(written(second.out), path);
    EXPECT_TRUE(gt::util::path_exists(written(second.out)));
}

TEST(Install, AGtBinaryAtAHostilePathIsFoundBySystemdAsWritten) {
    // systemd-analyze verify checks that ExecStart's program exists: here, only once its
    // quoting is undone exactly.
    TmuxTown t;
    Home home;
    gt::test::TempDir bin("gt-bin");
    const std::string dir = bin.path() + "/b 100% $x;(y)&|*";
    ASSERT_TRUE(gt::util::make_dirs(dir, 0755));
    std::filesystem::copy_file(GT_BINARY, dir + "/gt");
    auto r = gt::test::run_command(
        {dir + "/gt", "--town", t.root(), "daemon", "install", "--systemd"}, home.env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string path = written(r.out);
    gt::test::TempDir runtime("gt-runtime");
    ::chmod(runtime.path().c_str(), 0700);
    auto verify = gt::test::run_command({"systemd-analyze", "--user", "verify", path},
                                        {"XDG_RUNTIME_DIR=" + runtime.path()});
    EXPECT_EQ(verify.exit_code, 0) << verify.err;
    EXPECT_EQ(verify.err, "") << gt::test::slurp(path);
    // And it really is that path that is checked: a missing one fails.
    std::filesystem::remove(dir + "/gt");
    auto missing = gt::test::run_command({"systemd-analyze", "--user", "verify", path},
                                         {"XDG_RUNTIME_DIR=" + runtime.path()});
    EXPECT_TRUE(has(missing.err, "b 100% $x;(y)&|*/gt is not executable")) << missing.err;

    // Quotes and backslashes systemd refuses in a program's path: said at once, exit 2.
    const std::string quoted = bin.path() + "/q\"'";
    ASSERT_TRUE(gt::util::make_dirs(quoted, 0755));
    std::filesystem::copy_file(GT_BINARY, quoted + "/gt");
    auto refused = gt::test::run_command(
        {quoted + "/gt", "--town", t.root(), "daemon", "install", "--systemd", "--print"},
        home.env());
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_TRUE(has(refused.err, "systemd cannot run a program whose path holds a quote"))
        << refused.err;
}

TEST(Install, TheLaunchdPlistParsesWithTheExpectedKeysAndTheExactArguments) {
    TmuxTown t(false, k_hostile);
    Home home;
    auto r = t.gt({"daemon", "install", "--launchd"}, home.env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string path = written(r.out);
    ASSERT_EQ(path.rfind(home.dir.path() + "/Library/LaunchAgents/gt.gt-tmuxtown-", 0), 0u)
        << r.out;
    // Python's plistlib, on the expat XML parser.
    auto parsed =
        gt::test::run_command({"/usr/bin/python3", "-c",
                               "import json, plistlib, sys\n"
                               "print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))",
                               path});
    ASSERT_TRUE(parsed.success()) << parsed.err;
    json p = json::parse(parsed.out);
    EXPECT_EQ(p["ProgramArguments"], json::array({GT_BINARY, "--town", t.root(), "daemon", "run"}));
    EXPECT_EQ(p["KeepAlive"], json({{"SuccessfulExit", false}}));
    EXPECT_EQ(p["AbandonProcessGroup"], true);
    EXPECT_EQ(p["RunAtLoad"], true);
    EXPECT_EQ(p["ThrottleInterval"], 10);
    EXPECT_EQ(p["ExitTimeOut"], 30);
    EXPECT_EQ(p["StandardErrorPath"], t.root() + "/daemon/launchd.log");
    EXPECT_EQ(p["EnvironmentVariables"]["PATH"], "/usr/local/bin:/usr/bin:/bin");
    EXPECT_EQ(p["EnvironmentVariables"]["GT_TMUX_SOCKET"], t.socket());
    EXPECT_EQ(p["Label"].get<std::string>().rfind("gt.gt-tmuxtown-", 0), 0u);
    EXPECT_TRUE(gt::util::is_dir(t.root() + "/daemon"));
}

TEST(Install, UninstallRemovesTheUnitAndItsLinkAndSaysSoOnceThenExitsOne) {
    TmuxTown t;
    Home home;
    t.set_all_commands({"sleep", "1000"});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    auto r = t.gt({"daemon", "install", "--systemd"}, home.env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The unit's daemon would find the lock held: install says so.
    EXPECT_TRUE(
        has(r.out, "A daemon runs for this town (PID " + std::to_string(t.pid_from_state()) + ")"))
        << r.out;
    std::string path = written(r.out);
    std::string name = path.substr(path.rfind('/') + 1);
    // What `systemctl --user enable` makes.
    std::string wants = home.units() + "/default.target.wants";
    ASSERT_TRUE(gt::util::make_dirs(wants, 0755));
    ASSERT_EQ(::symlink(path.c_str(), (wants + "/" + name).c_str()), 0);

    auto un = t.gt({"daemon", "uninstall"}, home.env());
    EXPECT_EQ(un.exit_code, 0) << un.err;
    EXPECT_TRUE(has(un.out, "Removed " + path)) << un.out;
    EXPECT_FALSE(gt::util::path_exists(path));
    struct stat st {};
    EXPECT_NE(::lstat((wants + "/" + name).c_str(), &st), 0);

    auto twice = t.gt({"daemon", "uninstall"}, home.env());
    EXPECT_EQ(twice.exit_code, 1);
    EXPECT_TRUE(has(twice.err, "no unit of this town is installed")) << twice.err;
}

TEST(Install, BadUseExitsTwoAndWritesNothing) {
    TmuxTown t;
    Home home;
    for (auto args : {std::vector<std::string>{"daemon", "install"},
                      std::vector<std::string>{"daemon", "install", "--systemd", "--launchd"}}) {
        auto r = t.gt(args, home.env());
        EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    }
    auto bad_socket = gt::test::run_gt({"--town", t.root(), "daemon", "install", "--systemd"},
                                       {"HOME=" + home.dir.path(), "GT_TMUX_SOCKET=../x"});
    EXPECT_EQ(bad_socket.exit_code, 2);
    EXPECT_TRUE(has(bad_socket.err, "GT_TMUX_SOCKET")) << bad_socket.err;
    EXPECT_FALSE(gt::util::path_exists(home.units()));
}

TEST(Install, ARenamedTownKeepsOneUnitAndUninstallNeedsNoTownJson) {
    TmuxTown t;
    Home home;
    auto first = t.gt({"daemon", "install", "--systemd"}, home.env());
    ASSERT_EQ(first.exit_code, 0) << first.err;
    std::string path = written(first.out);
    t.configure({{"name", "renamed"}});
    auto second = t.gt({"daemon", "install", "--systemd"}, home.env());
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_TRUE(has(second.err, "this town already has " + path)) << second.err;
    EXPECT_TRUE(has(second.err, "daemon uninstall")) << second.err;

    // A town.json that no longer parses does not strand the unit.
    t.write_file("mayor/town.json", "{ not json");
    auto un = t.gt({"daemon", "uninstall"}, home.env());
    EXPECT_EQ(un.exit_code, 0) << un.err;
    EXPECT_FALSE(gt::util::path_exists(path));
}
