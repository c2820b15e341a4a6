// mayor/town.json (design §8): never a crash, and what is accepted keeps every rule of §8.
// The town's own screen patterns are then matched against a screen, as the daemon would.
#include "fuzz_support.hpp"
#include "state/config.hpp"

#include <chrono>

using namespace std::chrono_literals;
using gt::util::Millis;

namespace {

void check_duration(Millis d, Millis min, const char* field) {
    GT_FUZZ_CHECK(d >= min && d <= std::chrono::hours(24 * 1000),
                  std::string(field) + " = " + std::to_string(d.count()) + "ms");
}

void check_command(const std::vector<std::string>& command, bool may_be_empty, const char* field) {
    GT_FUZZ_CHECK(may_be_empty || !command.empty(), field);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = (gt::fuzz::quiet_logs(), true);
    (void)quiet;
    auto config =
        gt::state::parse_town_config(std::string(gt::fuzz::text_of(data, size)), "town.json");
    if (!config) {
        GT_FUZZ_CHECK(config.error().rfind("town.json: ", 0) == 0, config.error());
        return 0;
    }
    const gt::state::TownConfig& c = *config;
    const auto& d = c.daemon;
    GT_FUZZ_CHECK(c.version >= 1 && c.version <= 1000, "version");
    check_duration(d.heartbeat_interval, 10ms, "heartbeat_interval");
    check_duration(d.dead_agent_timeout, 1ms, "dead_agent_timeout");
    check_duration(d.gupp_timeout, 1ms, "gupp_timeout");
    check_duration(d.deacon_stale, 1ms, "deacon_stale");
    check_duration(d.deacon_kill, d.deacon_stale, "deacon_kill");
    check_duration(d.start_grace, 0ms, "start_grace");
    check_duration(d.lifecycle_max_age, 1ms, "lifecycle_max_age");
    check_duration(d.stop_timeout, 1ms, "stop_timeout");
    check_duration(d.tmux_timeout, 10ms, "tmux_timeout");
    check_duration(d.mass_death_window, 1ms, "mass_death_window");
    check_duration(d.start_budget_window, 1ms, "start_budget_window");
    GT_FUZZ_CHECK(d.mass_death_count >= 2 && d.mass_death_count <= 1000, "mass_death_count");
    GT_FUZZ_CHECK(d.start_budget >= 1 && d.start_budget <= 1000, "start_budget");
    check_duration(d.restart.initial_backoff, 1ms, "initial_backoff");
    check_duration(d.restart.max_backoff, d.restart.initial_backoff, "max_backoff");
    GT_FUZZ_CHECK(d.restart.multiplier >= 1 && d.restart.multiplier <= 100, "multiplier");
    GT_FUZZ_CHECK(d.restart.crash_loop_count >= 1 && d.restart.crash_loop_count <= 1000,
                  "crash_loop_count");
    check_duration(d.restart.crash_loop_window, 1ms, "crash_loop_window");
    check_duration(d.restart.crash_loop_expiry, 1ms, "crash_loop_expiry");
    check_duration(d.restart.stability_period, 1ms, "stability_period");
    GT_FUZZ_CHECK(d.log.max_size >= 4096, "log.max_size");
    GT_FUZZ_CHECK(d.log.max_files >= 1 && d.log.max_files <= 100, "log.max_files");
    check_duration(d.screens.quiet_after, 1s, "quiet_after");
    check_duration(d.screens.usage_probe, 1s, "usage_probe");
    check_duration(d.screens.resume_margin, 0ms, "resume_margin");
    const std::string& resume = d.screens.resume_text;
    GT_FUZZ_CHECK(!resume.empty() && resume.size() <= 1000 &&
                      resume.find_first_of("\r\n") == std::string::npos,
                  resume);
    check_command(c.agent_command, false, "agent.command");
    for (const auto& name : c.process_names) {
        GT_FUZZ_CHECK(!name.empty(), "agent.process_names");
    }
    for (const auto& [role, rc] : c.roles) {
        GT_FUZZ_CHECK(role == "deacon" || role == "mayor" || role == "witness" ||
                          role == "refinery" || role == "polecat" || role == "crew",
                      role);
        check_command(rc.command, true, "roles.command");
        check_command(c.command_for(role), false, "command_for");
    }
    GT_FUZZ_CHECK(gt::state::validate_tmux_socket_name("tmux.socket", c.tmux_socket).ok(),
                  c.tmux_socket);
    // The town's patterns on a screen: RE2 with whatever the town wrote.
    static const std::string k_screen = "Welcome back!\n> continue\n"
                                        "You've hit your limit · resets 3pm (UTC)\n"
                                        "Do you want to proceed?\n❯ 1. Yes\n  2. No\n"
                                        "esc to interrupt\n";
    gt::screen::ReadContext ctx;
    ctx.now = gt::util::TimePoint(Millis(1'795'341'600'000));
    for (auto kind : {gt::screen::AgentKind::generic, c.kind_for("witness")}) {
        for (const auto& r : c.daemon.screens.matcher().read_live(k_screen, kind, ctx)) {
            GT_FUZZ_CHECK(gt::fuzz::valid_utf8(r.evidence) && r.evidence.size() <= 200, r.evidence);
        }
    }
    return 0;
}
