// Ownership (design §19.1): which sessions are the town's, and what the policy does about an
// agent whose session name another town's session holds.
#include "policy/ownership.hpp"

#include "support/fixed_time.hpp"
#include "support/policy_town.hpp"

#include <gtest/gtest.h>

using namespace gt;
using namespace gt::policy;
using namespace std::chrono_literals;
using state::AgentStatus;
using test::ident;
using test::t0;
using test::Town;

namespace {

tmux::Pane pane(const std::string& session, const std::string& owner) {
    tmux::Pane p;
    p.session = session;
    p.owner = owner;
    p.pid = 100;
    p.agent_alive = true;
    return p;
}

} // namespace

TEST(Ownership, OnlyTheTownsMarkedSessionsStayInTheSnapshot) {
    const std::string mark = tmux::town_mark("/home/a/town");
    tmux::Snapshot snap;
    for (auto p : {pane("gt-deacon", mark), pane("gt-r1-witness", tmux::town_mark("/home/b/town")),
                   pane("gt-r1-refinery", ""), pane("gt-mayor", ""), pane("main", ""),
                   pane("gt-r1-p1", mark + "x")}) {
        snap.sessions[p.session] = p;
    }
    std::vector<std::string> asked;
    auto owners = sort_owners(snap, mark, [&](const std::string& name, const tmux::Pane&) {
        asked.push_back(name);
        return name == "gt-mayor"; // its environment names this town
    });
    EXPECT_EQ(asked, (std::vector<std::string>{"gt-mayor", "gt-r1-refinery"}))
        << "only unmarked agent sessions are asked about";
    EXPECT_EQ(owners.adopt, std::vector<std::string>{"gt-mayor"});
    EXPECT_EQ(owners.foreign, (std::map<std::string, std::string>{{"gt-r1-witness", "/home/b/town"},
                                                                  {"gt-r1-refinery", ""},
                                                                  {"gt-r1-p1", "/home/a/townx"}}));
    std::vector<std::string> kept;
    for (const auto& [name, p] : snap.sessions) {
        kept.push_back(name);
    }
    EXPECT_EQ(kept, (std::vector<std::string>{"gt-deacon", "gt-mayor"}));
}

TEST(Ownership, AConflictIsToldOnceAndNothingIsDoneToIt) {
    Town t;
    t.no_session("gastown/witness");
    t.in.foreign["gt-gastown-witness"] = "/home/b/town";
    // Its report is stale, and it has hooked work: neither marks it dead nor mails GUPP.
    t.report("gastown/witness", AgentStatus::working, 2h, "task-1");
    auto d = decide(t.in);
    std::vector<ActionKind> kinds;
    for (const auto& a : d.actions) {
        EXPECT_EQ(a.id.str(), "gastown/witness");
        kinds.push_back(a.kind);
    }
    EXPECT_EQ(kinds, (std::vector<ActionKind>{ActionKind::warn, ActionKind::notify}));
    EXPECT_EQ(d.actions[0].event, "session_conflict");
    EXPECT_EQ(d.actions[1].subject,
              "SESSION_CONFLICT: session gt-gastown-witness belongs to the town at /home/b/town: "
              "left alone, gastown/witness is not started");
    EXPECT_TRUE(d.conditions.count("SESSION_CONFLICT:gastown/witness"));
    // Once told, the next pass is silent while it lasts.
    t.in.active_conditions = d.conditions;
    EXPECT_TRUE(t.actions().empty());
    // Gone: the agent is started as usual.
    t.in.foreign.clear();
    EXPECT_EQ(t.of(ActionKind::start, "gastown/witness").size(), 1u);
}

TEST(Ownership, ALifecycleRequestForAConflictedAgentIsRefused) {
    Town t;
    t.no_session("deacon");
    t.in.foreign["gt-deacon"] = "";
    state::LifecycleRequest r{"req-1", ident("deacon"), state::LifecycleAction::restart, t0(),
                              "/x/claimed/req-1.json"};
    t.in.requests = {r};
    auto refused = t.of(ActionKind::refuse, "deacon");
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].reason,
              "restart request req-1 refused: session gt-deacon carries no town's mark");
    EXPECT_TRUE(t.of(ActionKind::restart).empty());
    EXPECT_TRUE(t.of(ActionKind::start).empty());
}

TEST(Ownership, WhileTheAgentsLiveOnAnotherServerNothingIsStartedAndRequestsWait) {
    Town t;
    t.in.snapshot->sessions.clear(); // the new server holds none of them
    t.in.snapshot->server_running = false;
    t.report("gastown/witness", AgentStatus::working, 2h, "task-1"); // stale: not judged
    t.in.server_moved = ServerMove{"/tmp/tmux-1000/old", 4242, 3, "/tmp/tmux-1000/new"};
    state::LifecycleRequest r{"req-1", ident("deacon"), state::LifecycleAction::restart, t0(),
                              "/x/claimed/req-1.json"};
    t.in.requests = {r};
    auto d = decide(t.in);
    std::vector<ActionKind> kinds;
    for (const auto& a : d.actions) {
        kinds.push_back(a.kind);
    }
    EXPECT_EQ(kinds, (std::vector<ActionKind>{ActionKind::warn, ActionKind::notify}));
    EXPECT_EQ(d.actions[0].event, "server_changed");
    EXPECT_EQ(d.actions[1].subject,
              "SERVER_CHANGED: 3 of this town's sessions run on the tmux server "
              "/tmp/tmux-1000/old (server process 4242), but the daemon is set to use "
              "/tmp/tmux-1000/new: "
              "no agent is started there. Set tmux.socket (or GT_TMUX_SOCKET) back to \"old\" "
              "and run gt daemon restart; or, to move the town, end those agents first (tmux -S "
              "/tmp/tmux-1000/old kill-server, if it runs nothing else)");
    t.in.active_conditions = d.conditions;
    EXPECT_TRUE(t.actions().empty()) << "told once";
    EXPECT_EQ(server_moved_text({"/tmp/tmux-1000/default", 1, 1, "/x"})
                      .find("back to \"\" (the "
                            "default server)") != std::string::npos,
              true);
}
