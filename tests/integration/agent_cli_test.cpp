// gt agent report|simulate, gt polecat add, gt mail list, gt deacon heartbeat through the real
// binary. No tmux involved.

#include "support/harness.hpp"

#include "state/agent_state.hpp"
#include "util/file.hpp"

#include <csignal>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

using namespace gt::test;
using gt::state::AgentStatus;

namespace {

/// A town with rig `gastown`.
class AgentCli : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(t.gt({"rig", "add", "gastown"}).exit_code, 0); }
    gt::util::Result<gt::state::AgentState> state_of(const std::string& rel) const {
        return gt::state::read_agent_state(t.root() + "/agents/" + rel + ".json");
    }
    TownFixture t;
};

} // namespace

TEST_F(AgentCli, ReportWithAsWritesCanonicalState) {
    auto r = t.gt({"agent", "report", "--as", "gastown-witness", "--state", "working", "--hook",
                   "gt-1", "--note", "on it"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "gastown/witness")) << r.out;
    auto s = state_of("gastown/witness");
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->identity, "gastown/witness");
    EXPECT_EQ(s->status, AgentStatus::working);
    EXPECT_EQ(s->hook, "gt-1");
    EXPECT_EQ(s->note, "on it");
}

TEST_F(AgentCli, ReportTakesIdentityFromEnvironment) {
    auto r = t.gt({"agent", "report", "--state", "idle"}, {"BD_ACTOR=gastown/refinery"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(state_of("gastown/refinery")->status, AgentStatus::idle);
    auto role = t.gt({"agent", "report", "--state", "stuck"},
                     {"GT_ROLE=polecat", "GT_RIG=gastown", "GT_POLECAT=nux"});
    ASSERT_EQ(role.exit_code, 0) << role.err;
    EXPECT_EQ(state_of("gastown/polecats/nux")->status, AgentStatus::stuck);
    auto deacon = t.gt({"agent", "report", "--state", "running"}, {"GT_ROLE=deacon"});
    ASSERT_EQ(deacon.exit_code, 0) << deacon.err;
    EXPECT_EQ(state_of("deacon")->status, AgentStatus::running);
    auto none = t.gt({"agent", "report", "--state", "running"});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_TRUE(has(none.err, "--as")) << none.err;
}

TEST_F(AgentCli, HostileIdentitiesAndBadStatesExit2AndWriteNothing) {
    for (const std::string bad :
         {"../x", "a;b", "$(id)/witness", "gastown/../../x", "a b/witness", "", "gastown/mayor"}) {
        auto r = t.gt({"agent", "report", "--as", bad, "--state", "idle"});
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
        EXPECT_TRUE(has(r.err, "invalid identity")) << r.err;
    }
    auto env = t.gt({"agent", "report", "--state", "idle"}, {"BD_ACTOR=$(id)"});
    EXPECT_EQ(env.exit_code, 2) << env.err;
    for (const std::string bad : {"dead", "starting", "RUNNING", "napping", ""}) {
        auto r = t.gt({"agent", "report", "--as", "deacon", "--state", bad});
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    }
    EXPECT_TRUE(gt::state::list_agent_files(t.root()).empty());
    EXPECT_FALSE(gt::util::path_exists(t.root() + "/x.json"));
}

TEST_F(AgentCli, ReportKeepsHookAndDaemonFields) {
    gt::state::AgentState daemon_wrote;
    daemon_wrote.identity = "gastown/witness";
    daemon_wrote.status = AgentStatus::dead;
    daemon_wrote.hook = "gt-7";
    daemon_wrote.updated_at = *gt::util::parse_time("2026-11-22T10:00:00Z");
    daemon_wrote.previous_state = "running";
    daemon_wrote.marked_dead_at = *gt::util::parse_time("2026-11-22T10:15:00Z");
    daemon_wrote.started_by_daemon_at = *gt::util::parse_time("2026-11-22T09:00:00Z");
    ASSERT_TRUE(gt::util::make_dirs(t.root() + "/agents/gastown").ok());
    ASSERT_TRUE(gt::util::write_file_atomic(t.root() + "/agents/gastown/witness.json",
                                            gt::state::agent_state_json(daemon_wrote))
                    .ok());
    ASSERT_EQ(t.gt({"agent", "report", "--as", "gastown/witness", "--state", "running"}).exit_code,
              0);
    auto s = state_of("gastown/witness");
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->status, AgentStatus::running);
    EXPECT_GT(s->updated_at, daemon_wrote.updated_at);
    EXPECT_EQ(s->hook, "gt-7");
    EXPECT_EQ(s->previous_state, "running");
    EXPECT_EQ(s->marked_dead_at, daemon_wrote.marked_dead_at);
    EXPECT_EQ(s->started_by_daemon_at, daemon_wrote.started_by_daemon_at);
    ASSERT_EQ(t.gt({"agent", "report", "--as", "gastown/witness", "--state", "idle", "--hook", ""})
                  .exit_code,
              0);
    EXPECT_EQ(state_of("gastown/witness")->hook, "");
}

TEST_F(AgentCli, PolecatAdd) {
    auto r = t.gt({"polecat", "add", "gastown", "nux", "--hook", "gt-9"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(gt::util::path_exists(t.root() + "/gastown/polecats/nux"));
    auto s = state_of("gastown/polecats/nux");
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->status, AgentStatus::idle);
    EXPECT_EQ(s->hook, "gt-9");
    auto again = t.gt({"polecat", "add", "gastown", "nux"});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_TRUE(has(again.err, "already exists")) << again.err;
    EXPECT_EQ(state_of("gastown/polecats/nux")->hook, "gt-9");
}

TEST_F(AgentCli, PolecatAddRefusesHostileNamesAndUnknownRigWithExit2) {
    for (const std::string& bad :
         std::vector<std::string>{"../x", "a;b", "$(id)", "a b", "witness", "refinery", "crew",
                                  "a-b", std::string(200, 'a')}) {
        auto r = t.gt({"polecat", "add", "gastown", bad});
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
        auto rig = t.gt({"polecat", "add", bad, "nux"});
        EXPECT_EQ(rig.exit_code, 2) << bad << ": " << rig.err;
    }
    auto unknown = t.gt({"polecat", "add", "nowhere", "nux"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_TRUE(has(unknown.err, "no rig named 'nowhere'")) << unknown.err;
    EXPECT_FALSE(gt::util::path_exists(t.root() + "/nowhere"));
    EXPECT_TRUE(gt::state::list_agent_files(t.root()).empty());
}

TEST_F(AgentCli, MailList) {
    gt::state::Mail m;
    m.to = "gastown/witness";
    m.subject = "GUPP_VIOLATION: gastown/polecats/nux stuck for 31m";
    m.kind = "GUPP_VIOLATION";
    auto sent = gt::state::send_mail(t.root(), m);
    ASSERT_TRUE(sent.ok()) << sent.error();

    auto human = t.gt({"mail", "list", "gastown-witness"});
    ASSERT_EQ(human.exit_code, 0) << human.err;
    EXPECT_TRUE(has(human.out, "GUPP_VIOLATION: gastown/polecats/nux stuck for 31m")) << human.out;
    EXPECT_TRUE(has(human.out, gt::util::format_time(sent->timestamp))) << human.out;

    auto js = t.gt({"mail", "list", "gastown/witness", "--json"});
    ASSERT_EQ(js.exit_code, 0) << js.err;
    auto doc = nlohmann::json::parse(js.out, nullptr, false);
    ASSERT_TRUE(doc.is_array()) << js.out;
    ASSERT_EQ(doc.size(), 1u);
    EXPECT_EQ(doc[0]["id"], sent->id);
    EXPECT_EQ(doc[0]["from"], "daemon");
    EXPECT_EQ(doc[0]["to"], "gastown/witness");
    EXPECT_EQ(doc[0]["kind"], "GUPP_VIOLATION");

    auto empty = t.gt({"mail", "list", "deacon", "--json"});
    ASSERT_EQ(empty.exit_code, 0) << empty.err;
    EXPECT_EQ(nlohmann::json::parse(empty.out, nullptr, false), nlohmann::json::array());
    for (const std::string bad : {"../x", "a;b", "$(id)/witness"}) {
        EXPECT_EQ(t.gt({"mail", "list", bad}).exit_code, 2) << bad;
    }
}

TEST_F(AgentCli, DeaconHeartbeatIncrementsCycle) {
    for (int cycle = 1; cycle <= 2; ++cycle) {
        auto r = t.gt({"deacon", "heartbeat", "patrol"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(has(r.out, "cycle " + std::to_string(cycle))) << r.out;
    }
    auto doc = nlohmann::json::parse(slurp(t.root() + "/deacon/heartbeat.json"), nullptr, false);
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(doc["cycle"], 2);
    EXPECT_EQ(doc["last_action"], "patrol");
    EXPECT_TRUE(doc["timestamp"].is_string());
}

TEST_F(AgentCli, SimulateReportsRunningAndExitsWithTheGivenCode) {
    auto r = t.gt({"agent", "simulate", "--as", "gastown/witness", "--report-every", "50ms",
                   "--exit-after", "200ms", "--exit-code", "3"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_TRUE(has(r.out, "running")) << r.out;
    auto s = state_of("gastown/witness");
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->status, AgentStatus::running);
    EXPECT_GT(s->updated_at, gt::util::now() - std::chrono::minutes(1));
}

TEST_F(AgentCli, SimulateKeepsHookAndTakesIdentityFromEnvironment) {
    ASSERT_EQ(t.gt({"polecat", "add", "gastown", "nux", "--hook", "gt-5"}).exit_code, 0);
    auto r = run_gt({"agent", "simulate", "--exit-after", "0s"},
                    {"BD_ACTOR=gastown/polecats/nux", "GT_TOWN_ROOT=" + t.root()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto s = state_of("gastown/polecats/nux");
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->status, AgentStatus::running);
    EXPECT_EQ(s->hook, "gt-5");
}

TEST_F(AgentCli, SimulateRefusesBadInput) {
    EXPECT_EQ(t.gt({"agent", "simulate", "--as", "a;b", "--exit-after", "0s"}).exit_code, 2);
    EXPECT_EQ(t.gt({"agent", "simulate", "--as", "deacon", "--report-every", "soon"}).exit_code, 2);
    EXPECT_EQ(t.gt({"agent", "simulate", "--as", "deacon", "--report-every", "0"}).exit_code, 2);
    EXPECT_EQ(t.gt({"agent", "simulate", "--as", "deacon", "--exit-code", "300"}).exit_code, 2);
}

TEST_F(AgentCli, SimulateDiesPromptlyOnSigtermWithoutReporting) {
    gt::proc::SpawnOptions o;
    o.argv = {GT_BINARY, "--town", t.root(), "agent", "simulate", "--as", "deacon"};
    o.env = gt::proc::make_env({"GT_TOWN_ROOT", "BD_ACTOR", "GT_ROLE", "GT_RIG"});
    auto pid = gt::proc::spawn(o);
    ASSERT_TRUE(pid.ok()) << pid.error();
    std::string path = t.root() + "/agents/deacon.json";
    bool reported = eventually([&] { return gt::state::read_agent_state(path).ok(); });
    EXPECT_TRUE(reported);
    // The deacon's simulated agent beats too.
    EXPECT_TRUE(
        eventually([&] { return gt::util::path_exists(t.root() + "/deacon/heartbeat.json"); }));
    std::string before = slurp(path);
    ASSERT_EQ(::kill(*pid, SIGTERM), 0);
    int status = 0;
    bool exited = gt::proc::wait_for_exit(*pid, std::chrono::seconds(5), status);
    if (!exited) {
        ::kill(*pid, SIGKILL);
        gt::proc::wait_for_exit(*pid, std::chrono::seconds(5), status);
    }
    ASSERT_TRUE(exited);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
    EXPECT_EQ(slurp(path), before);
}

TEST_F(AgentCli, TmuxSocketFromTheEnvironmentMustBeAPlainName) {
    for (const char* bad : {"../x", "a/b", ".."}) {
        auto r = t.gt({"agent", "list"}, {std::string("GT_TMUX_SOCKET=") + bad});
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out << r.err;
        EXPECT_TRUE(has(r.err, "GT_TMUX_SOCKET: ")) << r.err;
        EXPECT_TRUE(has(r.err, std::string("'") + bad + "'")) << r.err;
    }
}
