#pragma once

// A town for executor tests: rig r1, a recording runner instead of tmux, a clock the test sets.
#include "client/request_writer.hpp"
#include "executor/recovery.hpp"
#include "fakes/recording_runner.hpp"
#include "state/agent_state.hpp"
#include "state/town.hpp"
#include "support/ident.hpp"
#include "support/temp_dir.hpp"
#include "util/clock.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace gt::test {

/// A town with rig r1 (deacon, witness and refinery supervised), an event log, and a runner
/// whose `list-panes` shows the sessions listed in `alive`.
struct ExecutorTown {
    test::TempDir dir{"gt-executor"};
    state::TownConfig config;
    test::RecordingRunner runner;
    executor::EventLog events{dir.path() + "/daemon/events.jsonl", 1 << 20, 2};
    /// The wall clock the daemon reads. Moving it moves the monotonic clocks along, unless
    /// set_wall_clock() or sleep() says otherwise.
    util::TimePoint now = util::now();
    util::Millis wall_set{0}; ///< how far the wall clock has been set, in all
    util::Millis slept{0};    ///< how long the machine has slept, in all
    const util::TimePoint created = now;
    /// The daemon's clocks: monotonic and boottime run from 1000 s at `created`.
    util::ClockReading clocks() const {
        auto ran = std::chrono::duration_cast<util::Millis>(now - created) - wall_set;
        return {now, util::Millis(1000000) + ran - slept, util::Millis(1000000) + ran};
    }
    executor::Recovery::Clock clock() {
        return [this] { return clocks(); };
    }
    /// The wall clock is set by `by`; no time passes.
    void set_wall_clock(util::Millis by) {
        now += by;
        wall_set += by;
    }
    /// The machine sleeps for `d`: wall and boottime move on, the monotonic clock does not.
    void sleep(util::Millis d) {
        now += d;
        slept += d;
    }
    executor::Recovery recovery{dir.path(), runner, events, "", clock(), "/usr/bin/gt"};

    ExecutorTown() {
        EXPECT_TRUE(state::init_town(dir.path(), "t"));
        EXPECT_TRUE(state::add_rig(dir.path(), "r1"));
        EXPECT_TRUE(util::make_dirs(dir.path() + "/daemon/requests", 0700, true));
        EXPECT_TRUE(events.open());
        show({"gt-deacon", "gt-r1-witness", "gt-r1-refinery"});
        recovery.set_type_pause(util::Millis(0));
        input({"", "❯ ", ""}, 2, 1);
    }
    /// What every pane shows before the daemon types into it (design §19.3): `lines`, the cursor
    /// at (`x`, `y`), `attached` clients.
    void input(std::vector<std::string> lines, int x, int y, int attached = 0) {
        runner.on_call("display-message", [=](const std::vector<std::string>&) {
            std::string out = std::to_string(x) + "\t" + std::to_string(y) + "\t" +
                              std::to_string(attached) + "\t0\n";
            for (const auto& l : lines) {
                out += l + "\n";
            }
            return test::ok_reply(out);
        });
    }
    /// Sessions whose agent is alive (the pane process is this test: it exists, and its
    /// command is not a shell).
    /// Their panes last printed at `activity` (default: now, so busy: no screen is captured).
    void show(const std::vector<std::string>& sessions,
              std::optional<util::TimePoint> activity = std::nullopt) {
        std::string out;
        for (const auto& s : sessions) {
            out += s + "\t0\t" + std::to_string(::getpid()) + "\t0\t0\t0\t" +
                   std::to_string(util::SystemClock::to_time_t(activity.value_or(now))) + "\t1\t" +
                   mark() + "\tclaude\n";
        }
        runner.on("list-panes", test::ok_reply(out));
    }
    /// The town's mark, as its sessions carry it (design §19.1).
    std::string mark() const { return tmux::town_mark(dir.path()); }
    /// Answers every capture with `screen` for each session asked for.
    void screens(const std::string& screen) {
        runner.on_call("capture-pane",
                       test::capture_answer([screen](std::size_t) { return screen; }));
    }
    executor::HeartbeatSummary pass() { return recovery.run(config, {"r1"}); }
    std::vector<std::string> started_sessions() const {
        std::vector<std::string> out;
        for (const auto& c : runner.calls_of("new-session")) {
            auto it = std::find(c.argv.begin(), c.argv.end(), "-s");
            out.push_back(it != c.argv.end() ? *(it + 1) : "?");
        }
        return out;
    }
    std::string events_text() const {
        auto text = util::read_file(dir.path() + "/daemon/events.jsonl");
        return text ? *text : "";
    }
    /// How many events of `kind` were recorded.
    std::size_t events_of(const std::string& kind) const {
        std::size_t n = 0;
        std::string text = events_text();
        const std::string key = "\"kind\":\"" + kind + "\"";
        for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
            ++n;
        }
        return n;
    }
    /// Writes `id`'s agent file: in state `status`, last reported at `at`.
    void report(const std::string& id, const std::string& status, util::TimePoint at) {
        state::AgentState s;
        s.identity = test::ident(id).str();
        s.status = state::parse_status(status);
        s.raw_state = status;
        s.updated_at = at;
        std::string path = dir.path() + "/" + test::ident(id).state_file();
        ASSERT_TRUE(util::make_dirs(path.substr(0, path.rfind('/')), 0700));
        ASSERT_TRUE(util::write_file_atomic(path, state::agent_state_json(s)));
    }
    /// Queues a lifecycle request from r1/witness, and sets the clock to its time.
    void request(state::LifecycleAction action) {
        auto req =
            client::write_request(dir.path() + "/daemon/requests", ident("r1/witness"), action);
        ASSERT_TRUE(req) << req.error();
        now = req->timestamp;
    }
    std::vector<std::string> claimed() const {
        std::vector<std::string> names;
        if (auto entries = util::list_dir(dir.path() + "/daemon/requests/claimed")) {
            for (const auto& e : *entries) {
                names.push_back(e.name);
            }
        }
        return names;
    }
};

} // namespace gt::test
