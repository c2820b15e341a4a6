// gt_bench_micro: the in-process parts of a heartbeat, timed with Google Benchmark: parsing the
// tmux snapshot, the pure decision over 10,000 agents, reading a 40-line screen, reading the
// state files. bench/run.sh folds its --benchmark_format=json output into the table.
#include "policy/decide.hpp"
#include "screen/screen.hpp"
#include "state/agent_state.hpp"
#include "state/config.hpp"
#include "state/json_file.hpp"
#include "state/town.hpp"
#include "support/harness.hpp"
#include "support/temp_dir.hpp"
#include "tmux/tmux.hpp"
#include "util/file.hpp"
#include "util/time.hpp"

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace gt;
using namespace std::chrono_literals;

namespace {

const util::TimePoint k_now = *util::parse_time("2026-11-22T10:00:00Z");

/// `list-panes -a` output in the daemon's format for `n` agent sessions, as tmux prints it.
std::string snapshot_text(long n) {
    std::string out;
    const long activity =
        std::chrono::duration_cast<std::chrono::seconds>(k_now.time_since_epoch()).count();
    for (long i = 0; i < n; ++i) {
        std::string session = "gt-r" + std::to_string(i / 2) + (i % 2 ? "-refinery" : "-witness");
        out += session + "\t0\t" + std::to_string(100000 + i) + "\t0\t\t\t" +
               std::to_string(activity - i % 600) + "\t4242\t/home/a/town\t" +
               (i % 3 ? "claude" : "node") + "\n";
    }
    return out;
}

void BM_ParseSnapshot(benchmark::State& state) {
    const std::string text = snapshot_text(state.range(0));
    for (auto _ : state) {
        auto snap = tmux::parse_snapshot(text);
        benchmark::DoNotOptimize(snap);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.SetLabel("parse a `list-panes -a` snapshot of " + std::to_string(state.range(0)) +
                   " panes");
}
BENCHMARK(BM_ParseSnapshot)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

/// A town of 10,000 supervised agents (deacon, mayor, 4,999 rigs), each with a fresh `running`
/// report; `dead_every` > 0: every such agent's session is missing (a start is decided).
struct DecideTown {
    state::TownConfig config;
    policy::RestartTracker tracker{state::RestartConfig{}, [] { return 1.0; }};
    policy::TickInput in;

    explicit DecideTown(int dead_every) {
        config.roles["mayor"].enabled = true;
        in.config = &config;
        in.tracker = &tracker;
        in.now = k_now;
        in.snapshot = tmux::Snapshot{};
        for (int i = 0; i < 4999; ++i) {
            in.rigs.push_back("r" + std::to_string(i));
        }
        int k = 0;
        auto add = [&](const std::string& text) {
            state::Identity id = *state::parse_identity(text);
            policy::AgentFacts& f = in.agents[id.str()];
            f.id = id;
            state::AgentState r;
            r.identity = id.str();
            r.status = state::AgentStatus::running;
            r.raw_state = "running";
            r.updated_at = k_now - 1min;
            f.report = r;
            f.report_age = 1min;
            if (dead_every > 0 && ++k % dead_every == 0) {
                return;
            }
            tmux::Pane p;
            p.session = id.session();
            p.pid = 1000 + k;
            p.command = "claude";
            p.agent_alive = true;
            p.activity = k_now - 5s;
            in.snapshot->sessions[p.session] = p;
        };
        add("deacon");
        add("mayor");
        for (const auto& rig : in.rigs) {
            add(rig + "/witness");
            add(rig + "/refinery");
        }
    }
};

/// Built once per argument: Google Benchmark calls a benchmark several times to size it.
const DecideTown& decide_town(int dead_every) {
    static std::map<int, std::unique_ptr<DecideTown>> towns;
    auto& town = towns[dead_every];
    if (!town) {
        town = std::make_unique<DecideTown>(dead_every);
    }
    return *town;
}

void BM_Decide(benchmark::State& state) {
    const DecideTown& town = decide_town(static_cast<int>(state.range(0)));
    const int dead_every = static_cast<int>(state.range(0));
    std::size_t actions = 0;
    for (auto _ : state) {
        auto d = policy::decide(town.in);
        actions = d.actions.size();
        benchmark::DoNotOptimize(d);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<long>(town.in.agents.size()));
    state.counters["actions"] = static_cast<double>(actions);
    state.SetLabel("decide one heartbeat over " + std::to_string(town.in.agents.size()) +
                   " agents, " +
                   (dead_every ? "1 in " + std::to_string(dead_every) + " dead" : "all healthy"));
}
BENCHMARK(BM_Decide)->Arg(0)->Arg(10)->Unit(benchmark::kMillisecond);

/// The captured screens of tests/fixtures/agent-screens whose name starts with `prefix`.
std::vector<std::string> screens(const std::string& prefix) {
    const std::string dir = std::string(GT_BENCH_FIXTURES) + "/agent-screens";
    std::vector<std::string> names; // list_dir sorts them
    auto entries = util::list_dir(dir);
    for (const auto& e : entries ? *entries : std::vector<util::DirEntry>{}) {
        if (e.name.starts_with(prefix) && e.name.ends_with(".txt")) {
            names.push_back(e.name);
        }
    }
    std::vector<std::string> out;
    for (const auto& n : names) {
        out.push_back(test::slurp(dir + "/" + n));
    }
    return out;
}

/// One screen read per iteration, going round the captures of one CLI (40 lines each, as
/// tmux's capture-pane of a 40-line pane gives them). range(0): 0 claude, 1 codex, 2 every
/// capture with the generic (all) patterns, 3 every capture read as a dead pane's.
void BM_ClassifyScreen(benchmark::State& state) {
    static const screen::Matcher matcher = *screen::Matcher::make({});
    const long mode = state.range(0);
    const char* prefix[] = {"claude-", "codex-", "", ""};
    const screen::AgentKind kind[] = {screen::AgentKind::claude, screen::AgentKind::codex,
                                      screen::AgentKind::generic, screen::AgentKind::generic};
    const auto texts = screens(prefix[mode]);
    if (texts.empty()) {
        state.SkipWithError("no captures in tests/fixtures/agent-screens");
        return;
    }
    screen::ReadContext ctx;
    ctx.now = k_now;
    std::size_t i = 0;
    for (auto _ : state) {
        const std::string& text = texts[i++ % texts.size()];
        if (mode == 3) {
            benchmark::DoNotOptimize(matcher.read_dead(text, kind[mode], ctx));
        } else {
            benchmark::DoNotOptimize(matcher.read_live(text, kind[mode], ctx));
        }
    }
    const char* what[] = {"Claude Code screens, claude patterns", "Codex screens, codex patterns",
                          "every captured screen, all patterns (generic)",
                          "every captured screen as a dead pane's"};
    state.SetLabel(std::string("classify a 40-line screen: ") + what[mode] + " (" +
                   std::to_string(texts.size()) + " captures)");
}
BENCHMARK(BM_ClassifyScreen)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

/// A town on disk for the state-file reads: gt init's town.json, `rigs` rigs, one agent file.
struct DiskTown {
    test::TempDir dir{"gt-bench-micro"};
    std::string root = dir.path() + "/town";
    std::string agent_file;

    explicit DiskTown(int rigs) {
        if (!state::init_town(root, "bench")) {
            throw std::runtime_error("init_town failed");
        }
        // rigs.json in one write: gt rig add would rewrite it once per rig.
        nlohmann::json doc = {{"version", 1}, {"rigs", nlohmann::json::object()}};
        for (int i = 0; i < rigs; ++i) {
            doc["rigs"]["r" + std::to_string(i)] = {{"git_url", ""},
                                                    {"added_at", util::format_time(util::now())}};
        }
        (void)state::write_json(state::TownPaths(root).rigs_json(), doc);
        state::Identity id = *state::parse_identity("r0/witness");
        agent_file = state::TownPaths(root).agent_file(id);
        (void)util::make_dirs(agent_file.substr(0, agent_file.rfind('/')), 0755);
        state::AgentState s;
        s.identity = id.str();
        s.status = state::AgentStatus::working;
        s.raw_state = "working";
        s.hook = "gt-1234";
        s.note = "refactoring the parser";
        s.updated_at = util::now();
        s.started_by_daemon_at = util::now() - 1h;
        (void)util::write_file_atomic(agent_file, state::agent_state_json(s), 0644);
    }
};

void BM_ReadAgentState(benchmark::State& state) {
    DiskTown town(1);
    for (auto _ : state) {
        auto s = state::read_agent_state(town.agent_file);
        if (!s) {
            state.SkipWithError(s.error().c_str());
            break;
        }
        benchmark::DoNotOptimize(s);
    }
    state.SetLabel("read and validate one agent state file");
}
BENCHMARK(BM_ReadAgentState)->Unit(benchmark::kMicrosecond);

void BM_LoadTownConfig(benchmark::State& state) {
    DiskTown town(0);
    for (auto _ : state) {
        auto c = state::load_town_config(town.root);
        if (!c) {
            state.SkipWithError(c.error().c_str());
            break;
        }
        benchmark::DoNotOptimize(c);
    }
    state.SetLabel("read and validate mayor/town.json (as gt init writes it)");
}
BENCHMARK(BM_LoadTownConfig)->Unit(benchmark::kMicrosecond);

void BM_LoadRigs(benchmark::State& state) {
    DiskTown town(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        auto r = state::load_rigs(town.root);
        if (!r) {
            state.SkipWithError(r.error().c_str());
            break;
        }
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.SetLabel("read mayor/rigs.json with " + std::to_string(state.range(0)) + " rigs");
}
BENCHMARK(BM_LoadRigs)->Arg(10)->Arg(1000)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
