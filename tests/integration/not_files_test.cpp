// Files that are not files (issue 13, design §2 "Opening"): every path the daemon or a command
// reads may hold a FIFO, a device (a symlink to /dev/null or /dev/zero: mknod needs root, and the
// suite also runs as nobody), a directory or a symlink loop. The daemon must not block or crash
// (its heartbeats go on, the file is logged and counted, `gt daemon stop` stops it at once); a
// command whose input it is exits 2 naming the path and what is there. One table row per path,
// each kind in turn on one daemon; every command runs under a hang guard.

#include "client/control_client.hpp"
#include "support/harness.hpp"
#include "support/tmux_town.hpp"
#include "util/file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

using namespace gt;
using namespace gt::test;
using namespace std::chrono_literals;

namespace {

enum class Kind { fifo, dev_null, dev_zero, directory, loop };
constexpr Kind k_kinds[] = {Kind::fifo, Kind::dev_null, Kind::dev_zero, Kind::directory,
                            Kind::loop};

const char* kind_name(Kind k) {
    switch (k) {
    case Kind::fifo:
        return "a FIFO";
    case Kind::dev_null:
        return "a symlink to /dev/null";
    case Kind::dev_zero:
        return "a symlink to /dev/zero";
    case Kind::directory:
        return "a directory";
    case Kind::loop:
        return "a symlink loop";
    }
    return "?";
}

/// Makes `kind` at `path`, which must be free: 0, or -1 with errno set.
int make(Kind kind, const std::string& path) {
    int rc = 0;
    switch (kind) {
    case Kind::fifo:
        rc = ::mkfifo(path.c_str(), 0600);
        break;
    case Kind::dev_null:
        rc = ::symlink("/dev/null", path.c_str());
        break;
    case Kind::dev_zero:
        rc = ::symlink("/dev/zero", path.c_str());
        break;
    case Kind::directory:
        rc = ::mkdir(path.c_str(), 0700);
        break;
    case Kind::loop:
        rc = ::symlink((path + ".loop").c_str(), path.c_str());
        if (rc == 0) {
            rc = ::symlink(path.c_str(), (path + ".loop").c_str());
        }
        break;
    }
    return rc;
}

/// Puts `kind` at `path` in place of whatever is there (a loop is `path` -> `path`.loop -> `path`).
/// The daemon's write for a pass that already answered may rename a regular file back between the
/// removal and the making (EEXIST): then both are done again, a bounded number of times.
void put(Kind kind, const std::string& path) {
    int rc = 0;
    int err = 0;
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::filesystem::remove_all(path);
        std::filesystem::remove_all(path + ".loop");
        rc = make(kind, path);
        err = rc == 0 ? 0 : errno;
        if (err != EEXIST) {
            break;
        }
    }
    ASSERT_EQ(rc, 0) << "cannot make " << kind_name(kind) << " at " << path << ": "
                     << std::strerror(err);
}

/// What gt says of `path` holding `kind`: read through symlinks (`followed`), a symlink to
/// /dev/zero is a device; read without, it is a symlink.
std::string says(Kind kind, bool followed) {
    switch (kind) {
    case Kind::fifo:
        return "not a regular file (a FIFO)";
    case Kind::directory:
        return "not a regular file (a directory)";
    case Kind::dev_null:
    case Kind::dev_zero:
        return followed ? "not a regular file (a device)" : "not a regular file (a symlink)";
    case Kind::loop:
        return followed ? "not a regular file (a symlink loop)" : "not a regular file (a symlink)";
    }
    return "?";
}

/// Runs gt on `t` with a hang guard: a command that blocks is killed after 10 s and fails.
proc::RunResult gt_guarded(const TmuxTown& t, std::vector<std::string> args) {
    args.insert(args.begin(), {"--town", t.root()});
    return run_gt(args, {"GT_TMUX_SOCKET=" + t.socket()}, 10s);
}

/// What the running daemon answers about itself (an empty object when it does not answer).
nlohmann::json daemon_status(const TmuxTown& t) {
    auto reply = client::control_request(t.root(), {{"cmd", "status"}}, 5000ms);
    return reply ? *reply : nlohmann::json::object();
}

std::uint64_t counter(const nlohmann::json& status, const std::string& name) {
    return status.value("counters", nlohmann::json::object()).value(name, std::uint64_t{0});
}

/// A town on a private tmux server whose agents (deacon, r1's witness and refinery, hooked
/// polecat p0) are `sleep`s, with mail for r1/witness and a deacon heartbeat.
struct Town {
    TmuxTown t;
    Town() {
        t.set_all_commands({"sleep", "1000"});
        t.add_polecats(1);
        EXPECT_EQ(t.gt({"deacon", "heartbeat"}).exit_code, 0);
        std::filesystem::create_directories(t.root() + "/mail/r1/witness");
        t.write_file("mail/r1/witness/20260101T000000.000Z-0000000a.json",
                     R"({"id":"0000000a","from":"daemon","to":"r1/witness","subject":"s",)"
                     R"("body":"","kind":"k","timestamp":"2026-01-01T00:00:00Z"})");
    }
};

/// A command that reads the path, and what it must do with something that is not a file there.
struct Reader {
    std::vector<std::string> args;
    /// 2 where the file is the command's input; 0 where it is one of many, skipped and named
    /// (agent list, mail list), or where the command repairs it (a stale PID file).
    int exit_code = 2;
    /// For a directory, when that differs (a daemon that cannot write state.json: exit 1).
    std::optional<int> exit_code_for_directory = std::nullopt;
    /// The command says the path and what is there (else it only must not hang).
    bool names_it = true;
};

/// What the running daemon does with the path.
enum class Daemon {
    reads,    ///< logs the path and what is there, counts it in `counter`
    rejects,  ///< a lifecycle request: moved to requests/rejected/ with its reason, counted
    writes,   ///< only writes it: puts a regular file back, or (a directory) logs it
    keeps_on, ///< has it open or reads it only at start: it just keeps beating
};

/// How the daemon comes to look at the path.
enum class Trigger { heartbeat, sigusr2, restart };

struct PathCase {
    std::string test_name;
    std::string rel;       ///< from the town root
    bool followed = false; ///< read through symlinks
    Daemon daemon = Daemon::reads;
    Trigger trigger = Trigger::heartbeat;
    std::string counter;         ///< for reads and rejects
    std::vector<Reader> running; ///< commands run while the daemon runs
    std::vector<Reader> stopped; ///< commands run with no daemon (after the daemon's part)
    /// False for daemon.lock: replaced under a running daemon, it means daemon/ was lost, and
    /// the daemon stops on purpose (design §5.1).
    bool while_running = true;
};

std::ostream& operator<<(std::ostream& out, const PathCase& c) {
    return out << c.rel;
}

const Reader k_agent_list{{"agent", "list"}, 0};

std::vector<PathCase> cases() {
    return {
        {"TownJson",
         "mayor/town.json",
         true,
         Daemon::reads,
         Trigger::heartbeat,
         "bad_files",
         {{{"agent", "list"}},
          {{"daemon", "notify", "--agent", "r1/witness"}},
          {{"daemon", "install", "--systemd", "--print"}}},
         {{{"daemon", "start"}}}},
        {"RigsJson",
         "mayor/rigs.json",
         true,
         Daemon::reads,
         Trigger::heartbeat,
         "bad_files",
         {{{"rig", "list"}},
          {{"rig", "add", "r2"}},
          {{"rig", "remove", "r1"}},
          {{"polecat", "add", "r1", "p9"}},
          {{"daemon", "notify", "--agent", "r1/witness"}},
          k_agent_list},
         {}},
        {"DeaconAgentFile",
         "agents/deacon.json",
         false,
         Daemon::reads,
         Trigger::heartbeat,
         "bad_files",
         {{{"agent", "report", "--as", "deacon", "--state", "idle"}}, k_agent_list},
         {}},
        {"WitnessAgentFile",
         "agents/r1/witness.json",
         false,
         Daemon::reads,
         Trigger::heartbeat,
         "bad_files",
         {{{"agent", "report", "--as", "r1/witness", "--state", "working"}}, k_agent_list},
         {}},
        {"PolecatAgentFile",
         "agents/r1/polecats/p0.json",
         false,
         Daemon::reads,
         Trigger::heartbeat,
         "bad_files",
         {{{"agent", "report", "--as", "r1/polecats/p0", "--state", "idle", "--hook", "w"}},
          k_agent_list},
         {}},
        {"AgentLockFile",
         "agents/deacon.json.lock",
         false,
         Daemon::keeps_on,
         Trigger::heartbeat,
         "",
         {{{"agent", "report", "--as", "deacon", "--state", "idle"}}},
         {}},
        {"DeaconHeartbeat",
         "deacon/heartbeat.json",
         false,
         Daemon::reads,
         Trigger::heartbeat,
         "bad_files",
         {{{"deacon", "heartbeat"}}},
         {}},
        {"DeaconHeartbeatLock",
         "deacon/.heartbeat.lock",
         false,
         Daemon::keeps_on,
         Trigger::heartbeat,
         "",
         {{{"deacon", "heartbeat"}}},
         {}},
        {"RestartState",
         "daemon/restart_state.json",
         false,
         Daemon::reads,
         Trigger::sigusr2,
         "bad_files",
         {k_agent_list},
         {{{"daemon", "clear-backoff", "deacon"}}}},
        {"RestartStateLock",
         "daemon/restart_state.lock",
         false,
         Daemon::keeps_on,
         Trigger::sigusr2,
         "",
         {},
         {{{"daemon", "clear-backoff", "deacon"}}}},
        {"Screens",
         "daemon/screens.json",
         true,
         Daemon::reads,
         Trigger::restart,
         "bad_files",
         {k_agent_list},
         {}},
        {"Storms",
         "daemon/storms.json",
         true,
         Daemon::reads,
         Trigger::restart,
         "bad_files",
         {},
         {}},
        {"PendingRequest",
         "daemon/requests/20260101T000000.000Z-1-0000000a.json",
         false,
         Daemon::rejects,
         Trigger::heartbeat,
         "lifecycle_rejected",
         {},
         {}},
        {"ClaimedRequest",
         "daemon/requests/claimed/20260101T000000.000Z-1-0000000b.json",
         false,
         Daemon::rejects,
         Trigger::heartbeat,
         "lifecycle_rejected",
         {},
         {}},
        {"Mail",
         "mail/r1/witness/20260101T000000.000Z-0000000a.json",
         false,
         Daemon::keeps_on,
         Trigger::heartbeat,
         "",
         {{{"mail", "list", "r1/witness"}, 0}},
         {}},
        {"PidFile",
         "daemon/daemon.pid",
         true,
         Daemon::writes,
         Trigger::heartbeat,
         "",
         {},
         {{{"daemon", "status"}, 3}, {{"daemon", "start"}, 0, std::nullopt, false}}},
        {"StateJson",
         "daemon/state.json",
         true,
         Daemon::writes,
         Trigger::heartbeat,
         "",
         {},
         {{{"daemon", "status"}, 3, std::nullopt, false}, {{"daemon", "start"}, 0, 1, false}}},
        {"Metrics", "daemon/metrics.prom", true, Daemon::writes, Trigger::heartbeat, "", {}, {}},
        {"DaemonLog",
         "daemon/daemon.log",
         false,
         Daemon::keeps_on,
         Trigger::heartbeat,
         "",
         {{{"daemon", "logs"}}},
         {{{"daemon", "logs"}}, {{"daemon", "start"}, 1}}},
        {"EventLog",
         "daemon/events.jsonl",
         false,
         Daemon::keeps_on,
         Trigger::heartbeat,
         "",
         {},
         {{{"daemon", "start"}, 0, std::nullopt, false}}},
        {"DaemonLock",
         "daemon/daemon.lock",
         false,
         Daemon::keeps_on,
         Trigger::heartbeat,
         "",
         {},
         {{{"daemon", "start"}, 1}, {{"daemon", "status"}, 3, std::nullopt, false}},
         false},
        {"StateLock",
         "daemon/state.lock",
         false,
         Daemon::keeps_on,
         Trigger::heartbeat,
         "",
         {},
         {{{"daemon", "start"}, 0, std::nullopt, false}}},
    };
}

/// Its full name is NotFiles/AtEveryPath.…/<path>: `--gtest_filter='NotFiles*'` runs them all.
class AtEveryPath : public ::testing::TestWithParam<PathCase> {};

/// How many times `needle` occurs in `haystack`.
std::size_t occurrences(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

/// Makes the daemon look at the path, and waits for the pass that did.
void trigger(const TmuxTown& t, Trigger how) {
    if (how == Trigger::restart) {
        auto stop = gt_guarded(t, {"daemon", "stop", "--timeout", "5s"});
        ASSERT_TRUE(has(stop.out, "Daemon stopped")) << stop.out << stop.err;
        auto start = gt_guarded(t, {"daemon", "start"});
        ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
    } else if (how == Trigger::sigusr2) {
        // kill() returns once the signal is pending, not once the daemon's loop has taken it: a
        // heartbeat asked for before that may be answered by a pass that did not re-read the
        // file. The daemon logs the signal on its loop right before it asks for the re-read.
        const auto taken = [&] { return occurrences(t.log(), "received SIGUSR2"); };
        const std::size_t before = taken();
        ASSERT_EQ(::kill(t.pid_from_state(), SIGUSR2), 0);
        ASSERT_TRUE(eventually([&] { return taken() > before; }, 10s))
            << "the daemon did not take SIGUSR2:\n"
            << t.log();
    }
    auto beat = gt_guarded(t, {"daemon", "heartbeat"});
    ASSERT_FALSE(beat.timed_out) << "the daemon hung";
    ASSERT_EQ(beat.exit_code, 0) << beat.out << beat.err;
}

void check_reader(const Reader& r, const std::string& path, Kind kind, bool followed,
                  const proc::RunResult& run) {
    std::string cmd;
    for (const auto& a : r.args) {
        cmd += " " + a;
    }
    SCOPED_TRACE("gt" + cmd);
    ASSERT_FALSE(run.timed_out) << "hung on " << kind_name(kind) << " at " << path;
    EXPECT_EQ(run.signal, 0) << "killed by a signal";
    int expected =
        kind == Kind::directory ? r.exit_code_for_directory.value_or(r.exit_code) : r.exit_code;
    EXPECT_EQ(run.exit_code, expected) << run.out << run.err;
    if (r.names_it) {
        EXPECT_TRUE(has(run.err, path + ": " + says(kind, followed)))
            << "does not name " << path << " and " << kind_name(kind) << ":\n"
            << run.err;
    }
}

TEST_P(AtEveryPath, NeitherBlocksNorCrashesTheDaemonAndCommandsSayWhatIsThere) {
    const PathCase& c = GetParam();
    Town town;
    const TmuxTown& t = town.t;
    const std::string path = t.root() + "/" + c.rel;
    const std::string original = slurp(path);
    const bool existed = util::path_exists(path);
    std::filesystem::create_directories(util::dir_name(path));
    ASSERT_EQ(gt_guarded(t, {"daemon", "start"}).exit_code, 0);
    ASSERT_TRUE(t.wait_heartbeats(1));

    for (Kind kind : k_kinds) {
        if (!c.while_running) {
            break;
        }
        SCOPED_TRACE(c.rel + " as " + kind_name(kind));
        auto before = daemon_status(t);
        ASSERT_TRUE(before.value("ok", false)) << "the daemon does not answer";
        put(kind, path);
        trigger(t, c.trigger);
        auto after = daemon_status(t);
        ASSERT_TRUE(after.value("ok", false)) << "the daemon stopped answering";
        if (c.trigger != Trigger::restart) {
            EXPECT_GT(after.value("heartbeat_count", 0), before.value("heartbeat_count", 0));
            if (!c.counter.empty()) {
                EXPECT_GT(counter(after, c.counter), counter(before, c.counter))
                    << c.counter << " not counted:\n"
                    << t.log();
            }
        } else if (!c.counter.empty()) {
            EXPECT_GT(counter(after, c.counter), 0u) << c.counter << " not counted";
        }
        // Logged during the pass; the state.json strand writes right after it.
        auto logged = [&](const std::string& text) {
            return eventually([&] { return has(t.log(), text); }, 5s);
        };
        const std::string name = c.rel.substr(c.rel.rfind('/') + 1);
        switch (c.daemon) {
        case Daemon::reads:
            EXPECT_TRUE(logged(path + ": " + says(kind, c.followed)))
                << "the daemon's log does not name it:\n"
                << t.log();
            break;
        case Daemon::rejects: {
            std::string why =
                kind == Kind::directory ? "a directory, not a request file" : says(kind, false);
            EXPECT_TRUE(logged("lifecycle request " + name + " rejected: " + why)) << t.log();
            EXPECT_FALSE(util::path_exists(path)) << "left in the inbox";
            EXPECT_TRUE(util::path_exists(t.root() + "/daemon/requests/rejected/" + name));
            EXPECT_TRUE(
                has(slurp(t.root() + "/daemon/requests/rejected/" + name + ".reason"), why));
            break;
        }
        case Daemon::writes:
            if (kind == Kind::directory) {
                EXPECT_TRUE(logged(path + ": " + says(kind, true)))
                    << "the failed write is not logged:\n"
                    << t.log();
            } else {
                EXPECT_TRUE(eventually(
                    [&] { return util::describe_file_type(path) == "a regular file"; }, 5s))
                    << "not replaced by the daemon's write: " << util::describe_file_type(path);
            }
            break;
        case Daemon::keeps_on:
            break;
        }
        for (const auto& r : c.running) {
            put(kind, path); // as it was, whatever the daemon or a command did to it
            check_reader(r, path, kind, c.followed, gt_guarded(t, r.args));
        }
        std::filesystem::remove_all(path);
        std::filesystem::remove_all(path + ".loop");
        for (const auto& rejected :
             {name, name + ".reason", name + ".loop", name + ".loop.reason"}) {
            std::filesystem::remove_all(t.root() + "/daemon/requests/rejected/" + rejected);
        }
        if (existed) {
            t.write_file(c.rel, original);
        }
    }
    auto stop = gt_guarded(t, {"daemon", "stop", "--timeout", "5s"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped")) << stop.out << stop.err;
    EXPECT_FALSE(has(stop.err, "SIGKILL")) << stop.err;

    for (Kind kind : k_kinds) {
        SCOPED_TRACE(c.rel + " as " + kind_name(kind) + ", no daemon running");
        for (const auto& r : c.stopped) {
            put(kind, path);
            check_reader(r, path, kind, c.followed, gt_guarded(t, r.args));
            auto stopped = gt_guarded(t, {"daemon", "stop", "--timeout", "5s"});
            EXPECT_FALSE(stopped.timed_out);
            EXPECT_FALSE(has(stopped.err, "SIGKILL")) << stopped.err;
        }
        std::filesystem::remove_all(path);
        std::filesystem::remove_all(path + ".loop");
        if (existed) {
            t.write_file(c.rel, original);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(NotFiles, AtEveryPath, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<PathCase>& info) {
                             return info.param.test_name;
                         });

} // namespace
