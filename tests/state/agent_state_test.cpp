// Agent state files (design §4): reading hostile files, the locked read-modify-write, the agents/
// walk.
#include "state/agent_state.hpp"
#include "state/town.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace gt::state;
using gt::util::TimePoint;

namespace {

bool has(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

void put(const std::string& path, const std::string& content) {
    ASSERT_TRUE(gt::util::make_dirs(gt::util::dir_name(path), 0755).ok());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

Identity id_of(const std::string& text) {
    auto id = parse_identity(text);
    EXPECT_TRUE(id.ok()) << text;
    return id.ok() ? *id : Identity{};
}

/// A town with one rig, in a temp dir.
class AgentStateTest : public ::testing::Test {
protected:
    void SetUp() override {
        root = dir.path() + "/town";
        ASSERT_TRUE(init_town(root, "t").ok());
        ASSERT_TRUE(add_rig(root, "gastown").ok());
    }
    std::string file(const std::string& identity) {
        return root + "/" + id_of(identity).state_file();
    }

    gt::test::TempDir dir;
    std::string root;
};

AgentState sample() {
    AgentState s;
    s.identity = "gastown/witness";
    s.status = AgentStatus::running;
    s.raw_state = "running";
    s.hook = "gt-123";
    s.updated_at = *gt::util::parse_time("2026-11-22T10:00:00.123Z");
    s.note = "patrolling";
    s.previous_state = "working";
    s.marked_dead_at = *gt::util::parse_time("2026-11-22T10:05:00Z");
    s.started_by_daemon_at = *gt::util::parse_time("2026-11-22T09:00:00.5Z");
    return s;
}

} // namespace

TEST(AgentStatus, NamesRoundTripAndOnlyAgentStatesMayBeReported) {
    for (const char* name :
         {"starting", "idle", "running", "working", "stuck", "stopped", "dead"}) {
        EXPECT_STREQ(status_name(parse_status(name)), name);
    }
    EXPECT_EQ(parse_status("Running"), AgentStatus::unknown);
    EXPECT_EQ(parse_status(""), AgentStatus::unknown);
    EXPECT_TRUE(agent_may_report(AgentStatus::stuck));
    EXPECT_FALSE(agent_may_report(AgentStatus::dead));
    EXPECT_FALSE(agent_may_report(AgentStatus::starting));
    EXPECT_FALSE(agent_may_report(AgentStatus::unknown));
}

TEST_F(AgentStateTest, RoundTripKeepsEveryField) {
    std::string path = file("gastown/witness");
    put(path, agent_state_json(sample()));
    auto back = read_agent_state(path);
    ASSERT_TRUE(back.ok()) << back.error();
    AgentState want = sample();
    EXPECT_EQ(back->identity, want.identity);
    EXPECT_EQ(back->status, want.status);
    EXPECT_EQ(back->raw_state, "running");
    EXPECT_EQ(back->hook, want.hook);
    EXPECT_EQ(back->updated_at, want.updated_at);
    EXPECT_EQ(back->note, want.note);
    EXPECT_EQ(back->previous_state, want.previous_state);
    EXPECT_EQ(back->marked_dead_at, want.marked_dead_at);
    EXPECT_EQ(back->started_by_daemon_at, want.started_by_daemon_at);
}

TEST_F(AgentStateTest, DaemonFieldsAreWrittenOnlyWhenSet) {
    AgentState s = sample();
    s.previous_state.clear();
    s.marked_dead_at.reset();
    s.started_by_daemon_at.reset();
    std::string text = agent_state_json(s);
    EXPECT_FALSE(has(text, "previous_state"));
    EXPECT_FALSE(has(text, "marked_dead_at"));
    EXPECT_FALSE(has(text, "started_by_daemon_at"));
    EXPECT_TRUE(has(text, "\"updated_at\": \"2026-11-22T10:00:00.123Z\"")) << text;
}

TEST_F(AgentStateTest, GoStyleFileIsAccepted) {
    std::string path = file("deacon");
    put(path,
        R"({"identity":"deacon","state":"working","updated_at":"2026-11-22T10:00:00.123456789+02:00"})");
    auto s = read_agent_state(path);
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->status, AgentStatus::working);
    EXPECT_EQ(s->updated_at, *gt::util::parse_time("2026-11-22T08:00:00.123Z"));
    EXPECT_EQ(s->hook, "");
}

TEST_F(AgentStateTest, UnknownStateIsNotAnErrorButUnknown) {
    std::string path = file("gastown/witness");
    put(path, R"({"state":"napping","updated_at":"2026-11-22T10:00:00Z"})");
    auto s = read_agent_state(path);
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->status, AgentStatus::unknown);
    EXPECT_EQ(s->raw_state, "napping");
    EXPECT_TRUE(has(agent_state_json(*s), "\"napping\""));
}

TEST_F(AgentStateTest, EveryMalformedFileIsAnErrorNamingFileAndReason) {
    std::string path = file("gastown/witness");
    struct Case {
        std::string name;
        std::string content;
        std::string reason;
    };
    const std::string ok_time = R"("updated_at":"2026-11-22T10:00:00Z")";
    std::vector<Case> cases = {
        {"empty", "", "empty"},
        {"binary", std::string("\x00\xff\xfe{\x01garbage", 12), "not valid JSON"},
        {"truncated", R"({"state":"running","updated_)", "not valid JSON"},
        {"array", R"([{"state":"running"}])", "expected a JSON object"},
        {"state number", R"({"state": 7, )" + ok_time + "}", "state: not a string"},
        {"state missing", "{" + ok_time + "}", "state: missing"},
        {"updated_at missing", R"({"state":"idle"})", "updated_at: missing"},
        {"updated_at bad", R"({"state":"idle","updated_at":"yesterday"})", "updated_at: not an"},
        {"updated_at number", R"({"state":"idle","updated_at":12})", "updated_at: not a string"},
        {"hook object", R"({"state":"idle","hook":{},)" + ok_time + "}", "hook: not a string"},
        {"note null", R"({"state":"idle","note":null,)" + ok_time + "}", "note: not a string"},
        {"marked_dead_at bad", R"({"state":"dead","marked_dead_at":"x",)" + ok_time + "}",
         "marked_dead_at"},
        {"huge", R"({"state":"idle","note":")" + std::string(2 << 20, 'x') + "\"}", "too large"},
    };
    for (const auto& c : cases) {
        put(path, c.content);
        auto s = read_agent_state(path);
        ASSERT_FALSE(s.ok()) << c.name;
        EXPECT_TRUE(has(s.error(), "agents/gastown/witness.json")) << c.name << ": " << s.error();
        EXPECT_TRUE(has(s.error(), c.reason)) << c.name << ": " << s.error();
    }
}

TEST_F(AgentStateTest, MissingFileAndSymlinkAreErrors) {
    auto missing = read_agent_state(file("gastown/refinery"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error_code(), ENOENT);
    EXPECT_TRUE(has(missing.error(), "agents/gastown/refinery.json"));

    std::string target = root + "/elsewhere.json";
    put(target, agent_state_json(sample()));
    std::string path = file("gastown/witness");
    ASSERT_TRUE(gt::util::make_dirs(gt::util::dir_name(path)).ok());
    ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
    auto linked = read_agent_state(path);
    ASSERT_FALSE(linked.ok());
    EXPECT_TRUE(has(linked.error(), "agents/gastown/witness.json")) << linked.error();
    EXPECT_TRUE(has(linked.error(), "symlink")) << linked.error();
}

TEST_F(AgentStateTest, UpdateCreatesPrivateDirsAndFileAndForcesIdentity) {
    Identity id = id_of("gastown-polecat-nux");
    auto written = update_agent_state(root, id, [](const std::optional<AgentState>& cur) {
        EXPECT_FALSE(cur.has_value());
        AgentState s = sample();
        s.identity = "someone/else";
        return std::optional<AgentState>(s);
    });
    ASSERT_TRUE(written.ok()) << written.error();
    ASSERT_TRUE(written->has_value());
    EXPECT_EQ((*written)->identity, "gastown/polecats/nux");
    std::string path = root + "/agents/gastown/polecats/nux.json";
    EXPECT_EQ(read_agent_state(path)->identity, "gastown/polecats/nux");
    EXPECT_EQ(mode_of(path), 0600u);
    EXPECT_EQ(mode_of(root + "/agents/gastown"), 0700u);
    EXPECT_EQ(mode_of(root + "/agents/gastown/polecats"), 0700u);
    EXPECT_EQ(mode_of(root + "/agents/gastown/polecats/nux.json.lock"), 0600u);
    EXPECT_FALSE(gt::util::path_exists(root + "/agents/.lock")); // no lock shared by all agents
}

TEST_F(AgentStateTest, UpdateReturningNulloptWritesNothing) {
    auto r = update_agent_state(root, id_of("mayor"),
                                [](const std::optional<AgentState>&) { return std::nullopt; });
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_FALSE(r->has_value());
    EXPECT_FALSE(gt::util::path_exists(root + "/agents/mayor.json"));
}

TEST_F(AgentStateTest, UpdateSeesInvalidFileAsMissingAndReplacesIt) {
    put(file("deacon"), "\x01\x02 not json");
    bool saw_current = true;
    auto r = update_agent_state(root, id_of("deacon"), [&](const std::optional<AgentState>& c) {
        saw_current = c.has_value();
        return std::optional<AgentState>(sample());
    });
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_FALSE(saw_current);
    EXPECT_TRUE(read_agent_state(file("deacon")).ok());
}

TEST_F(AgentStateTest, ReportKeepsDaemonFieldsAndHookUnlessGiven) {
    Identity id = id_of("gastown/witness");
    put(file("gastown/witness"), agent_state_json(sample()));
    auto before = gt::util::now();
    auto r = report_agent_state(root, id, AgentStatus::idle, std::nullopt, std::nullopt);
    ASSERT_TRUE(r.ok()) << r.error();
    auto s = *read_agent_state(file("gastown/witness"));
    EXPECT_EQ(s.status, AgentStatus::idle);
    EXPECT_GE(s.updated_at, before);
    EXPECT_EQ(s.hook, "gt-123");
    EXPECT_EQ(s.note, "");
    EXPECT_EQ(s.previous_state, "working");
    EXPECT_EQ(s.marked_dead_at, sample().marked_dead_at);
    EXPECT_EQ(s.started_by_daemon_at, sample().started_by_daemon_at);

    ASSERT_TRUE(report_agent_state(root, id, AgentStatus::working, "gt-456", "busy").ok());
    s = *read_agent_state(file("gastown/witness"));
    EXPECT_EQ(s.hook, "gt-456");
    EXPECT_EQ(s.note, "busy");
    ASSERT_TRUE(report_agent_state(root, id, AgentStatus::working, "", std::nullopt).ok());
    EXPECT_EQ(read_agent_state(file("gastown/witness"))->hook, "");
}

namespace {

/// One locked increment of a counter kept in `note`.
bool increment(const std::string& root, const Identity& id) {
    auto r = update_agent_state(root, id, [](const std::optional<AgentState>& cur) {
        AgentState s = cur.value_or(AgentState{});
        s.status = AgentStatus::running;
        s.updated_at = gt::util::now();
        s.note = std::to_string(s.note.empty() ? 1 : std::stol(s.note) + 1);
        return std::optional<AgentState>(s);
    });
    return r.ok();
}

} // namespace

TEST_F(AgentStateTest, ConcurrentUpdatesFromThreadsLoseNothing) {
    constexpr int k_threads = 8;
    constexpr int k_each = 200;
    Identity id = id_of("gastown/witness");
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < k_threads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < k_each; ++i) {
                failures += increment(root, id) ? 0 : 1;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(read_agent_state(file("gastown/witness"))->note, std::to_string(k_threads * k_each));
}

TEST_F(AgentStateTest, ConcurrentUpdatesFromProcessesLoseNothing) {
    constexpr int k_procs = 4;
    constexpr int k_each = 100;
    Identity id = id_of("deacon");
    std::vector<pid_t> pids;
    for (int p = 0; p < k_procs; ++p) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            bool ok = true;
            for (int i = 0; i < k_each; ++i) {
                ok = increment(root, id) && ok;
            }
            ::_exit(ok ? 0 : 1);
        }
        pids.push_back(pid);
    }
    for (pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    EXPECT_EQ(read_agent_state(file("deacon"))->note, std::to_string(k_procs * k_each));
}

TEST_F(AgentStateTest, AnUpdateWaitsOnlyForItsOwnAgent) {
    Identity a = id_of("gastown/witness");
    Identity b = id_of("gastown/polecats/nux");
    std::promise<void> inside;
    std::promise<void> release;
    // Holds a's lock the way every updater does: from inside an update of a.
    std::thread holder([&] {
        auto held = update_agent_state(root, a, [&](const std::optional<AgentState>&) {
            inside.set_value();
            release.get_future().wait();
            return std::optional<AgentState>(sample());
        });
        EXPECT_TRUE(held.ok()) << held.error();
    });
    inside.get_future().wait();
    auto write_sample = [](const std::optional<AgentState>&) {
        return std::optional<AgentState>(sample());
    };
    auto other = update_agent_state(root, b, write_sample, std::chrono::seconds(5));
    EXPECT_TRUE(other.ok()) << other.error();
    EXPECT_TRUE(
        report_agent_state(root, id_of("deacon"), AgentStatus::idle, std::nullopt, std::nullopt)
            .ok());
    auto same = update_agent_state(root, a, write_sample, std::chrono::milliseconds(100));
    EXPECT_FALSE(same.ok());
    release.set_value();
    holder.join();
    EXPECT_TRUE(update_agent_state(root, a, write_sample, std::chrono::seconds(5)).ok());
}

TEST_F(AgentStateTest, ASymlinkedLockFileIsRefused) {
    std::string target = root + "/elsewhere";
    put(target, "keep");
    ASSERT_TRUE(update_agent_state(root, id_of("mayor"), [](const auto&) {
                    return std::optional<AgentState>(sample());
                }).ok());
    std::string lock = root + "/agents/mayor.json.lock";
    ASSERT_TRUE(gt::util::path_exists(lock));
    ASSERT_EQ(::unlink(lock.c_str()), 0);
    ASSERT_EQ(::symlink(target.c_str(), lock.c_str()), 0);
    auto r = update_agent_state(
        root, id_of("mayor"), [](const auto&) { return std::optional<AgentState>(sample()); },
        std::chrono::milliseconds(100));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(*gt::util::read_file(target), "keep");
}

TEST_F(AgentStateTest, ListFindsValidFilesAndSkipsHostileOnes) {
    for (const char* valid : {"deacon", "mayor", "gastown/witness", "gastown/refinery",
                              "gastown/polecats/nux", "gastown/crew/max", "other_rig/witness"}) {
        put(file(valid), agent_state_json(sample()));
    }
    std::string a = root + "/agents";
    for (const char* bad :
         {"/bad-rig/witness.json", "/gastown/polecats/witness.json", "/gastown/polecats/a;b.json",
          "/gastown/polecats/.json", "/gastown/other.json", "/random.txt", "/gastown/crew/x y.json",
          "/gastown/polecats/nested/deep.json", "/daemon/witness.json", "/Mail/refinery.json"}) {
        put(a + bad, "{}");
    }
    put(a + "/deacon.json.tmp.123.456", "{}");
    ASSERT_EQ(::symlink((a + "/gastown").c_str(), (a + "/linked").c_str()), 0);
    ASSERT_EQ(::symlink("/etc/passwd", (a + "/gastown/polecats/evil.json").c_str()), 0);
    for (const char* updated : {"deacon", "gastown/witness", "gastown/polecats/nux"}) {
        ASSERT_TRUE(update_agent_state(root, id_of(updated), [](const auto&) {
                        return std::optional<AgentState>(sample());
                    }).ok()); // leaves its lock file beside its state file
    }
    put(a + "/.lock", ""); // the lock all agents shared before each got its own

    std::vector<std::string> skipped;
    auto files = list_agent_files(root, &skipped);
    std::vector<std::string> found;
    for (const auto& f : files) {
        EXPECT_EQ(f.path, root + "/" + f.id.state_file());
        found.push_back(f.id.str());
    }
    std::sort(found.begin(), found.end());
    EXPECT_EQ(found, (std::vector<std::string>{"deacon", "gastown/crew/max", "gastown/polecats/nux",
                                               "gastown/refinery", "gastown/witness", "mayor",
                                               "other_rig/witness"}));
    std::string all;
    for (const auto& s : skipped) {
        all += s + "\n";
    }
    for (const char* expect :
         {"bad-rig", "polecats/witness.json", "a;b.json", "other.json", "random.txt", "x y.json",
          "nested", "linked", "evil.json", "agents/daemon: invalid rig name 'daemon': reserved",
          "agents/Mail: invalid rig name 'Mail': reserved"}) {
        EXPECT_TRUE(has(all, expect)) << expect << " not in:\n" << all;
    }
    EXPECT_FALSE(has(all, ".lock")) << all;
    EXPECT_FALSE(has(all, ".tmp.")) << all;
}

TEST(AgentFiles, MissingAgentsDirIsEmpty) {
    gt::test::TempDir dir;
    std::vector<std::string> skipped;
    EXPECT_TRUE(list_agent_files(dir.path(), &skipped).empty());
    EXPECT_TRUE(skipped.empty());
}
