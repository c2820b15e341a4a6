// Injected faults (issue 13): a state write that fails (a read-only daemon/, a full file system,
// a file size limit), a tmux that hangs, the tmux server killed under the daemon, and the daemon
// SIGKILLed again and again while lifecycle requests flow. The real gt binary, real tmux.

#include "client/control_client.hpp"
#include "proc/process.hpp"
#include "support/harness.hpp"
#include "support/temp_dir.hpp"
#include "support/tmux_town.hpp"
#include "util/file.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace gt;
using namespace gt::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// Runs gt on `t` with a hang guard (killed after 15 s).
proc::RunResult gt_guarded(const TmuxTown& t, std::vector<std::string> args) {
    args.insert(args.begin(), {"--town", t.root()});
    return run_gt(args, {"GT_TMUX_SOCKET=" + t.socket()}, 15s);
}

/// The heartbeats the live daemon has done, asked over its socket (state.json may be stale on
/// purpose); -1 when it does not answer.
long live_heartbeats(const TmuxTown& t) {
    auto reply = client::control_request(t.root(), {{"cmd", "status"}}, 5000ms);
    return reply && reply->value("ok", false) ? reply->value("heartbeat_count", 0L) : -1;
}

/// A town of `sleep` agents (deacon, r1's witness and refinery, `polecats` hooked polecats)
/// whose daemon runs and has done a first heartbeat.
void start_sleep_town(const TmuxTown& t, int polecats = 0, const json& daemon_config = {}) {
    t.set_all_commands({"sleep", "1000"});
    if (!daemon_config.is_null()) {
        t.configure({{"daemon", daemon_config}});
    }
    t.add_polecats(polecats);
    auto start = gt_guarded(t, {"daemon", "start"});
    ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }, 20s));
}

/// state.json as it is now, checked to parse.
std::string state_text(const TmuxTown& t) {
    std::string text = slurp(t.root() + "/daemon/state.json");
    EXPECT_FALSE(json::parse(text, nullptr, false).is_discarded()) << text;
    return text;
}

/// A failed state.json write leaves the last one, the daemon beating and saying so; once
/// writing works again the next heartbeat writes it. `fail` makes writes fail, `heal` undoes it;
/// `logged_at_failure` says whether the log itself can be written meanwhile.
void check_state_write_fault(const TmuxTown& t, const std::function<void()>& fail,
                             const std::function<void()>& heal, bool logged_at_failure,
                             const std::string& reason) {
    ASSERT_EQ(gt_guarded(t, {"daemon", "heartbeat"}).exit_code, 0);
    // The write strand writes state.json right after the pass: wait for it to say so.
    long beats = live_heartbeats(t);
    ASSERT_TRUE(eventually([&] { return t.heartbeats() == beats; }, 5s));
    const std::string before = state_text(t);
    const std::size_t log_at = t.log().size(); // what this fault adds to the log comes after
    auto new_log = [&] { return t.log().substr(std::min(log_at, t.log().size())); };
    fail();
    for (int i = 0; i < 3; ++i) {
        auto beat = gt_guarded(t, {"daemon", "heartbeat"});
        ASSERT_FALSE(beat.timed_out) << "the daemon hung";
        EXPECT_EQ(beat.exit_code, 0) << beat.out << beat.err;
    }
    EXPECT_GE(live_heartbeats(t), beats + 3) << "the heartbeats stopped";
    EXPECT_FALSE(daemon_pids(t.root()).empty()) << "the daemon died";
    std::this_thread::sleep_for(200ms); // the strand's write, had it worked, would be done
    EXPECT_EQ(slurp(t.root() + "/daemon/state.json"), before)
        << "state.json is not the last good one";
    if (logged_at_failure) {
        std::string log = new_log();
        EXPECT_TRUE(has(log, "state.json")) << log;
        EXPECT_TRUE(has(log, reason)) << log;
        EXPECT_TRUE(has(log, "the previous file is kept")) << log;
        bool evented = false;
        for (const auto& e : t.events("write_failed")) {
            evented = evented || (has(e.value("detail", ""), "state.json") &&
                                  has(e.value("detail", ""), reason));
        }
        EXPECT_TRUE(evented) << "no write_failed event for state.json";
    }
    heal();
    ASSERT_EQ(gt_guarded(t, {"daemon", "heartbeat"}).exit_code, 0);
    long now = live_heartbeats(t);
    EXPECT_TRUE(eventually([&] { return t.heartbeats() == now; }, 5s))
        << "state.json not written again: " << slurp(t.root() + "/daemon/state.json");
    EXPECT_TRUE(eventually([&] { return has(new_log(), "state.json written again after"); }, 5s))
        << new_log();
    EXPECT_TRUE(has(new_log(), reason)) << new_log();
}

/// Restores a directory's mode when the test ends, however it ends.
class ModeGuard {
public:
    ModeGuard(std::string path, mode_t mode) : m_path(std::move(path)), m_mode(mode) {}
    ~ModeGuard() { ::chmod(m_path.c_str(), m_mode); }

private:
    std::string m_path;
    mode_t m_mode;
};

} // namespace

// 1a. A read-only daemon/: every write into it fails, the files already open (the log, the
// events) still take lines.
TEST(Faults, StateWriteIntoAReadOnlyDaemonDirectoryKeepsTheLastStateAndRecovers) {
    if (::geteuid() == 0) {
        GTEST_SKIP() << "running as root, which writes into a read-only directory anyway: "
                        "chmod cannot make the write fail (the suite runs this again as nobody)";
    }
    TmuxTown t;
    start_sleep_town(t);
    std::string dir = t.root() + "/daemon";
    ModeGuard guard(dir, 0700);
    check_state_write_fault(
        t, [&] { ASSERT_EQ(::chmod(dir.c_str(), 0500), 0); },
        [&] { ASSERT_EQ(::chmod(dir.c_str(), 0700), 0); }, true, "Permission denied");
    auto stop = gt_guarded(t, {"daemon", "stop", "--timeout", "5s"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped")) << stop.out << stop.err;
}

namespace {

/// A tmpfs mounted on `dir` for the test's life (root with CAP_SYS_ADMIN only). Unmounted
/// lazily, after `before_unmount` (which stops the daemon holding files in it).
class TmpfsMount {
public:
    TmpfsMount(std::string dir, const std::string& options, std::function<void()> before_unmount)
        : m_dir(std::move(dir)), m_before(std::move(before_unmount)) {
        m_mounted =
            ::mount("tmpfs", m_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
        m_error = m_mounted ? "" : util::errno_text(errno);
    }
    ~TmpfsMount() {
        if (m_mounted) {
            m_before();
            ::umount2(m_dir.c_str(), MNT_DETACH);
        }
    }
    bool mounted() const { return m_mounted; }
    const std::string& error() const { return m_error; }

private:
    std::string m_dir;
    std::function<void()> m_before;
    bool m_mounted = false;
    std::string m_error;
};

/// Creates empty files `prefix`0, 1, … in `dir` until the file system refuses one (ENOSPC).
int fill_inodes(const std::string& dir) {
    for (int n = 0; n < 100000; ++n) {
        util::Fd fd = util::open_cloexec(dir + "/filler-" + std::to_string(n),
                                         O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (!fd) {
            return errno == ENOSPC ? n : -1;
        }
    }
    return -1;
}

/// Appends to `path` until the file system is full (ENOSPC).
bool fill_bytes(const std::string& path) {
    util::Fd fd = util::open_cloexec(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::string block(64 * 1024, 'x');
    for (int n = 0; n < 100000; ++n) {
        if (::write(fd.get(), block.data(), block.size()) < 0) {
            return errno == ENOSPC;
        }
    }
    return false;
}

} // namespace

// 1b. A full file system under daemon/ (a tmpfs: out of inodes, then out of space).
TEST(Faults, StateWriteOnAFullFileSystemKeepsTheLastStateAndRecovers) {
    TmuxTown t;
    std::string dir = t.root() + "/daemon";
    TmpfsMount mount(dir, "size=4m,nr_inodes=200,mode=0700", [&] {
        gt_guarded(t, {"daemon", "stop", "--timeout", "5s"});
    });
    if (!mount.mounted()) {
        GTEST_SKIP() << "cannot mount a tmpfs on daemon/ (" << mount.error()
                     << "; needs root with CAP_SYS_ADMIN): the file size limit "
                        "(Faults.StateWriteBeyondTheFileSizeLimit...) makes writes fail instead";
    }
    start_sleep_town(t);
    // Out of inodes: new files (the temp file of every atomic write) fail, appends to the
    // log and the events still work, so the failure is logged as it happens.
    check_state_write_fault(
        t, [&] { ASSERT_GT(fill_inodes(dir), 0); },
        [&] {
            for (int n = 0; util::path_exists(dir + "/filler-" + std::to_string(n)); ++n) {
                ::unlink((dir + "/filler-" + std::to_string(n)).c_str());
            }
        },
        true, "No space left on device");
    // Out of space: the log cannot take the line either; the one logged once writing works
    // again says what happened.
    check_state_write_fault(
        t, [&] { ASSERT_TRUE(fill_bytes(dir + "/filler")); },
        [&] { ::unlink((dir + "/filler").c_str()); }, false, "No space left on device");
}

// 1c. A file size limit (RLIMIT_FSIZE, which any user may lower on their own process): every
// write fails with EFBIG, and SIGXFSZ, whose default kills, is ignored by the daemon.
TEST(Faults, StateWriteBeyondTheFileSizeLimitKeepsTheLastStateAndRecovers) {
    TmuxTown t;
    start_sleep_town(t);
    pid_t pid = t.pid_from_state();
    ASSERT_GT(pid, 0);
    rlimit old{};
    ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, nullptr, &old), 0) << util::errno_text(errno);
    check_state_write_fault(
        t,
        [&] {
            rlimit tiny{1, old.rlim_max}; // lowered, never above the hard limit
            ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, &tiny, nullptr), 0) << util::errno_text(errno);
        },
        [&] { ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, &old, nullptr), 0); }, false,
        "File too large");
    EXPECT_EQ(t.pid_from_state(), pid) << "another daemon took over";
    auto stop = gt_guarded(t, {"daemon", "stop", "--timeout", "5s"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped")) << stop.out << stop.err;
}

// 2. A tmux that hangs: each call is killed at tmux_timeout and the heartbeat completes
// (degraded); SIGTERM kills the call in flight instead of waiting for its timeout, so the
// daemon stops within 2 s although tmux_timeout is longer.
TEST(Faults, AHungTmuxIsKilledAtItsTimeoutAndStopStillTakesUnderTwoSeconds) {
    TownFixture t;
    t.set_daemon_field("tmux_timeout", "\"3s\"");
    TempDir bin("gt-hung-tmux");
    std::string calls = bin.path() + "/calls";
    {
        std::ofstream out(bin.path() + "/tmux");
        out << "#!/bin/sh\necho \"$$ $*\" >> '" << calls << "'\nexec sleep 120\n";
    }
    ::chmod((bin.path() + "/tmux").c_str(), 0755);
    std::string path = bin.path() + ":" + (std::getenv("PATH") ? std::getenv("PATH") : "/bin");
    ASSERT_EQ(t.gt({"daemon", "start"}, {"PATH=" + path}).exit_code, 0);
    auto state_beats = [&] {
        auto s = json::parse(slurp(t.root() + "/daemon/state.json"), nullptr, false);
        return s.is_object() ? s.value("heartbeat_count", 0L) : 0L;
    };
    ASSERT_TRUE(eventually([&] { return state_beats() >= 1; }, 20s))
        << "the heartbeat never completed";
    std::string log = slurp(t.root() + "/daemon/daemon.log");
    EXPECT_TRUE(has(log, "tmux timed out")) << log;
    auto first_call = slurp(calls);
    pid_t hung = static_cast<pid_t>(std::strtol(first_call.c_str(), nullptr, 10));
    ASSERT_GT(hung, 0) << first_call;
    EXPECT_TRUE(eventually([&] { return !proc::process_alive(hung); }, 5s))
        << "the hung call " << hung << " was not killed";

    // A new pass, its first call hanging: stop now, ~3 s before that call's timeout.
    std::size_t lines = std::count(first_call.begin(), first_call.end(), '\n');
    ASSERT_EQ(::kill(t.pid_from_file(), SIGUSR1), 0);
    ASSERT_TRUE(eventually(
        [&] {
            std::string now = slurp(calls);
            return static_cast<std::size_t>(std::count(now.begin(), now.end(), '\n')) > lines;
        },
        10s));
    auto stop = t.gt({"daemon", "stop", "--timeout", "2s"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped")) << stop.out << stop.err;
    EXPECT_FALSE(has(stop.err, "SIGKILL")) << "the daemon needed SIGKILL: " << stop.err;
    EXPECT_TRUE(has(slurp(t.root() + "/daemon/daemon.log"), "daemon stopped"));
}

namespace {

std::set<std::string> expected_sessions(int polecats) {
    std::set<std::string> s{"gt-deacon", "gt-r1-witness", "gt-r1-refinery"};
    for (int i = 0; i < polecats; ++i) {
        s.insert("gt-r1-p" + std::to_string(i));
    }
    return s;
}

/// Exactly the agents' sessions, one each, every pane alive.
bool one_live_session_per_agent(const TmuxTown& t, int polecats) {
    auto names = t.sessions();
    std::set<std::string> unique(names.begin(), names.end());
    return names.size() == unique.size() && unique == expected_sessions(polecats) &&
           t.alive_sessions() == unique.size();
}

std::string describe_sessions(const TmuxTown& t) {
    std::string out;
    for (const auto& s : t.sessions()) {
        out += s + (t.pane_pid(s) ? " (alive) " : " (dead) ");
    }
    return out;
}

} // namespace

// 3. The tmux server killed under the daemon: every agent's session comes back, once.
TEST(Faults, TheTmuxServerKilledMidRunHasEverySessionRecreated) {
    TmuxTown t;
    // A budget above the 5 first starts, so that the restarts are not held for its window.
    start_sleep_town(t, 2, {{"start_budget", 50}, {"restart", {{"initial_backoff", "200ms"}}}});
    ASSERT_TRUE(eventually([&] { return one_live_session_per_agent(t, 2); }, 20s))
        << describe_sessions(t);
    for (int round = 0; round < 2; ++round) {
        SCOPED_TRACE("kill-server #" + std::to_string(round + 1));
        long before = live_heartbeats(t);
        t.tmux({"kill-server"});
        // The pane watch sees the agents die and runs a pass at once; no heartbeat is due.
        EXPECT_TRUE(eventually([&] { return one_live_session_per_agent(t, 2); }, 30s))
            << describe_sessions(t) << "\n"
            << t.log();
        EXPECT_GT(live_heartbeats(t), before);
    }
    EXPECT_EQ(t.events("start_failed").size(), 0u) << t.log();
}

namespace {

/// Every outcome the daemon records for a lifecycle request (design §6), by request id.
std::map<std::string, std::string> request_outcomes(const TmuxTown& t) {
    std::map<std::string, std::string> out;
    static const std::regex id(R"(\d{8}T\d{6}\.\d{3}Z-\d+-[0-9a-f]{8})");
    for (const auto& e : t.events()) {
        std::string kind = e.value("kind", "");
        if (kind != "lifecycle" && kind != "collapsed" && kind != "rejected" && kind != "expired" &&
            kind != "lifecycle_failed") {
            continue;
        }
        std::string detail = e.value("detail", "");
        // A collapsed request names the one that superseded it after its own id.
        std::smatch m;
        if (std::regex_search(detail, m, id)) {
            out.emplace(m.str(), kind);
        }
    }
    return out;
}

/// Every temp file of an atomic write anywhere under `dir`.
std::vector<std::string> temp_files(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (util::is_atomic_temp_name(it->path().filename().string())) {
            out.push_back(it->path().string());
        }
    }
    return out;
}

/// The `*.json` requests left in `dir` (not in its subdirectories).
std::vector<std::string> requests_in(const std::string& dir) {
    std::vector<std::string> out;
    auto list = util::list_dir(dir);
    for (const auto& e : list ? *list : std::vector<util::DirEntry>{}) {
        if (e.name.ends_with(".json")) {
            out.push_back(e.name);
        }
    }
    return out;
}

} // namespace

// 4. The daemon SIGKILLed at random points of many short heartbeats while requests flow: each
// next daemon picks up what the last one left, and in the end every request was carried out,
// superseded or rejected, nothing is left claimed, no temp file is left, and every agent has
// exactly one session.
TEST(Faults, SigkilledDaemonsAtRandomPointsConvergeWithNothingLost) {
    constexpr int k_polecats = 2;
    constexpr int k_kills = 30;
    TmuxTown t;
    start_sleep_town(
        t, k_polecats,
        {{"heartbeat_interval", "100ms"},
         {"start_grace", "1s"},
         {"mass_death_count", 1000},
         {"start_budget", 1000},
         {"restart",
          {{"initial_backoff", "50ms"}, {"max_backoff", "200ms"}, {"crash_loop_count", 1000}}}});
    const std::vector<std::string> agents = {"deacon", "r1/witness", "r1/refinery",
                                             "r1/polecats/p0", "r1/polecats/p1"};
    std::mt19937 rng(std::random_device{}());
    std::mutex mutex;
    std::set<std::string> written; // request ids gt lifecycle queued
    std::atomic<bool> done{false};
    const std::regex queued(R"(\(request ([^)]+)\))");
    auto lifecycle = [&](const std::string& action, const std::string& who) {
        auto r = run_gt({"--town", t.root(), "lifecycle", action, "--as", who},
                        {"GT_TMUX_SOCKET=" + t.socket()}, 15s);
        std::smatch m;
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        if (std::regex_search(r.out, m, queued)) {
            std::lock_guard lock(mutex);
            written.insert(m[1].str());
        }
    };
    std::thread client([&] {
        std::mt19937 crng(std::random_device{}());
        const char* actions[] = {"restart", "cycle", "shutdown"};
        for (int n = 0; !done; ++n) {
            if (n % 7 == 3) {
                // Not an agent of this town: rejected, never lost.
                lifecycle("restart", "r9/witness");
            } else {
                lifecycle(actions[crng() % 3], agents[crng() % agents.size()]);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(30 + crng() % 120));
        }
    });
    for (int kill = 0; kill < k_kills; ++kill) {
        auto start = gt_guarded(t, {"daemon", "start"});
        ASSERT_EQ(start.exit_code, 0) << "start #" << kill << ": " << start.out << start.err;
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 700));
        for (pid_t pid : daemon_pids(t.root())) {
            ::kill(pid, SIGKILL);
        }
        ASSERT_TRUE(eventually([&] { return daemon_pids(t.root()).empty(); }, 10s));
    }
    done = true;
    client.join();
    // The last word for every agent is a restart: each must end with one live session.
    for (const auto& who : agents) {
        lifecycle("restart", who);
    }
    auto start = gt_guarded(t, {"daemon", "start"});
    ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
    const std::string requests = t.root() + "/daemon/requests";
    auto converged = [&] {
        auto outcomes = request_outcomes(t);
        std::lock_guard lock(mutex);
        for (const auto& id : written) {
            if (!outcomes.count(id) && !util::path_exists(requests + "/rejected/" + id + ".json")) {
                return false;
            }
        }
        return requests_in(requests).empty() && requests_in(requests + "/claimed").empty() &&
               one_live_session_per_agent(t, k_polecats);
    };
    // Each look parses events.jsonl: not every 10 ms.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!converged() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(converged()) << "claimed: " << requests_in(requests + "/claimed").size()
                             << ", pending: " << requests_in(requests).size()
                             << ", sessions: " << describe_sessions(t);
    {
        std::lock_guard lock(mutex);
        auto outcomes = request_outcomes(t);
        std::size_t lost = 0;
        for (const auto& id : written) {
            if (!outcomes.count(id) && !util::path_exists(requests + "/rejected/" + id + ".json")) {
                ADD_FAILURE() << "request " << id << " has no outcome";
                ++lost;
            }
        }
        EXPECT_EQ(lost, 0u) << "of " << written.size() << " requests";
        EXPECT_GT(written.size(), 20u) << "too few requests to prove anything";
        for (const auto& [id, kind] : outcomes) {
            if (kind == "rejected") {
                EXPECT_TRUE(written.count(id)) << id;
            }
        }
    }
    auto stop = gt_guarded(t, {"daemon", "stop", "--timeout", "5s"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped")) << stop.out << stop.err;
    EXPECT_TRUE(one_live_session_per_agent(t, k_polecats)) << describe_sessions(t);
    EXPECT_EQ(temp_files(t.root()), std::vector<std::string>{});
}
