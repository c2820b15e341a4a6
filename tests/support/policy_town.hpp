#pragma once

// A town for decision tests: one rig, every role healthy, a fixed clock; spoilt one fact at a
// time.
#include "policy/decide.hpp"
#include "support/fixed_time.hpp"
#include "support/ident.hpp"

#include <string>
#include <vector>

namespace gt::test {

using namespace std::chrono_literals;

/// A town with one rig and every role healthy, to be spoilt one fact at a time.
struct Town {
    using AgentStatus = state::AgentStatus;
    using Action = policy::Action;
    using ActionKind = policy::ActionKind;
    using AgentFacts = policy::AgentFacts;
    state::TownConfig config;
    policy::RestartTracker tracker{state::RestartConfig{}, [] { return 1.0; }};
    policy::TickInput in;

    Town() {
        in.config = &config;
        in.rigs = {"gastown"};
        in.snapshot = tmux::Snapshot{};
        in.tracker = &tracker;
        in.now = t0();
        for (auto id : {"deacon", "gastown/witness", "gastown/refinery"}) {
            healthy_session(id);
            report(id, AgentStatus::running, 1min);
        }
    }
    void healthy_session(const std::string& id, bool alive = true) {
        tmux::Pane p;
        p.session = ident(id).session();
        p.pid = 100;
        p.command = alive ? "claude" : "bash";
        p.agent_alive = alive;
        in.snapshot->sessions[p.session] = p;
    }
    void no_session(const std::string& id) { in.snapshot->sessions.erase(ident(id).session()); }
    state::AgentState& report(const std::string& id, AgentStatus s, util::Millis age,
                              const std::string& hook = "") {
        AgentFacts& f = in.agents[ident(id).str()];
        f.id = ident(id);
        state::AgentState r;
        r.identity = f.id.str();
        r.status = s;
        r.raw_state = state::status_name(s);
        r.updated_at = in.now - age;
        r.hook = hook;
        f.report = r;
        f.report_age = age;
        return *f.report;
    }
    void no_report(const std::string& id) { in.agents[ident(id).str()].report.reset(); }
    void polecat(const std::string& name, AgentStatus s, const std::string& hook, bool session) {
        std::string id = "gastown/polecats/" + name;
        report(id, s, 1min, hook);
        if (session) {
            healthy_session(id);
        }
    }

    std::vector<Action> actions() { return policy::decide(in).actions; }
    std::vector<Action> of(ActionKind k, const std::string& id = "") {
        std::vector<Action> out;
        for (auto& a : actions()) {
            if (a.kind == k && (id.empty() || a.id.str() == ident(id).str())) {
                out.push_back(a);
            }
        }
        return out;
    }
};

} // namespace gt::test
