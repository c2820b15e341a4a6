// gt agent report|list|simulate, gt deacon heartbeat, gt polecat add, gt mail list.
#include "cli.hpp"

#include "client/agent_list.hpp"
#include "client/commands.hpp"
#include "client/request_writer.hpp"
#include "state/agent_state.hpp"
#include "state/names.hpp"
#include "state/polecat.hpp"
#include "state/simulated_agent.hpp"
#include "state/town.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

namespace gt::cli {

namespace {

/// The identity text from the session environment the daemon sets (design §5.4): BD_ACTOR, else
/// GT_ROLE completed with GT_RIG and GT_POLECAT / GT_CREW.
std::string identity_from_env() {
    if (std::string actor = util::env_or("BD_ACTOR"); !actor.empty()) {
        return actor;
    }
    std::string role = util::env_or("GT_ROLE");
    std::string rig = util::env_or("GT_RIG");
    if (rig.empty()) {
        return role;
    }
    if (role == "witness" || role == "refinery") {
        return rig + "/" + role;
    }
    if (role == "polecat") {
        return rig + "/polecats/" + util::env_or("GT_POLECAT");
    }
    if (role == "crew") {
        return rig + "/crew/" + util::env_or("GT_CREW");
    }
    return role;
}

/// `--as` when given, else the environment's identity, parsed and validated.
util::Result<state::Identity> resolve_identity(const CLI::Option* as_opt, const std::string& as) {
    std::string text = as_opt->count() > 0 ? as : identity_from_env();
    if (as_opt->count() == 0 && text.empty()) {
        return util::err("no identity: use --as ID, or set BD_ACTOR (or GT_ROLE)");
    }
    return state::parse_identity(text);
}

/// Options of `gt agent report` and `gt agent simulate` that name the agent.
struct AsOption {
    std::shared_ptr<std::string> value = std::make_shared<std::string>();
    CLI::Option* option = nullptr;

    void add(CLI::App* cmd) {
        option = cmd->add_option("--as", *value,
                                 "Agent identity (default: $BD_ACTOR, else $GT_ROLE with $GT_RIG)");
    }
    util::Result<state::Identity> resolve() const { return resolve_identity(option, *value); }
};

void add_report(CLI::App* agent, Globals& g, Action& action) {
    auto* report = agent->add_subcommand("report", "Record this agent's state (design §4)");
    AsOption as;
    as.add(report);
    auto state_text = std::make_shared<std::string>();
    auto hook = std::make_shared<std::string>();
    auto note = std::make_shared<std::string>();
    report->add_option("--state", *state_text, "idle, running, working, stuck or stopped")
        ->required();
    auto* hook_opt =
        report->add_option("--hook", *hook, "Hooked work (\"\" clears; default: keep)");
    auto* note_opt = report->add_option("--note", *note, "Free text about this report");
    report->callback([&g, &action, as, state_text, hook, note, hook_opt, note_opt] {
        action = [&g, as, state_text, hook, note, hook_opt, note_opt] {
            auto id = as.resolve();
            if (!id) {
                return fail("agent report", id.error(), k_exit_usage);
            }
            auto status = state::parse_status(*state_text);
            if (!state::agent_may_report(status)) {
                return fail("agent report",
                            "invalid state '" + *state_text +
                                "': agents report idle, running, working, stuck or stopped",
                            k_exit_usage);
            }
            std::string town = town_or_exit(g);
            auto written = state::report_agent_state(
                town, *id, status, hook_opt->count() ? std::optional(*hook) : std::nullopt,
                note_opt->count() ? std::optional(*note) : std::nullopt);
            if (!written) {
                return fail("agent report", written.error(),
                            client::failure_exit_code(written.error_code()));
            }
            std::cout << "Reported " << written->identity << ": " << status_name(status)
                      << (written->hook.empty() ? "" : " (hook: " + written->hook + ")") << "\n";
            return 0;
        };
    });
}

void add_list(CLI::App* agent, Globals& g, Action& action) {
    auto* list = agent->add_subcommand("list", "Every known agent: session, state, restarts");
    auto as_json = std::make_shared<bool>(false);
    list->add_flag("--json", *as_json, "One JSON array");
    list->callback([&g, &action, as_json] {
        action = [&g, as_json] { return client::list_agents(town_or_exit(g), *as_json); };
    });
}

/// Ends the process the way the signal would have, so the pane shows the real cause.
[[noreturn]] void die_by_signal(int sig) {
    std::cout.flush();
    std::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::raise(sig);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    std::_Exit(128 + sig);
}

void add_simulate(CLI::App* agent, Globals& g, Action& action) {
    auto* sim = agent->add_subcommand(
        "simulate", "Run the built-in simulated agent (reports running until killed)");
    AsOption as;
    as.add(sim);
    auto every = std::make_shared<std::string>("30s");
    auto exit_after = std::make_shared<std::string>();
    auto exit_code = std::make_shared<int>(0);
    auto screen = std::make_shared<std::string>();
    sim->add_option("--report-every", *every, "Report interval (default 30s)");
    sim->add_option("--screen", *screen,
                    "Show this file's text as the agent's screen (and report silently)");
    sim->add_option("--exit-after", *exit_after, "Exit by itself after this long");
    sim->add_option("--exit-code", *exit_code, "Exit code for --exit-after (default 0)")
        ->check(CLI::Range(0, 255));
    sim->callback([&g, &action, as, every, exit_after, exit_code, screen] {
        action = [&g, as, every, exit_after, exit_code, screen] {
            auto id = as.resolve();
            if (!id) {
                return fail("agent simulate", id.error(), k_exit_usage);
            }
            state::SimulateOptions o{town_or_exit(g), *id};
            o.report_every = duration_or_exit("--report-every", *every).value_or(o.report_every);
            if (o.report_every.count() <= 0) {
                return fail("agent simulate", "--report-every must be positive", k_exit_usage);
            }
            o.exit_after = duration_or_exit("--exit-after", *exit_after);
            o.exit_code = *exit_code;
            if (!screen->empty()) {
                auto text = util::read_file(*screen, util::k_max_file_size);
                if (!text) {
                    return fail("agent simulate", "--screen: " + text.error(), k_exit_usage);
                }
                o.screen = std::move(*text);
            } else {
                std::cout << "Simulated agent " << id->str() << " in " << o.town_root
                          << ": reporting every " << util::format_duration(o.report_every)
                          << std::endl;
            }
            auto outcome = state::run_simulated_agent(o, std::cout);
            if (outcome.signal != 0) {
                die_by_signal(outcome.signal);
            }
            return outcome.exit_code;
        };
    });
}

void add_deacon(CLI::App& app, Globals& g, Action& action) {
    auto* deacon = app.add_subcommand("deacon", "Deacon tools");
    deacon->require_subcommand(1);
    auto* beat = deacon->add_subcommand("heartbeat", "Write deacon/heartbeat.json (cycle + 1)");
    auto what = std::make_shared<std::string>();
    beat->add_option("ACTION", *what, "What the deacon just did (last_action)");
    beat->callback([&g, &action, what] {
        action = [&g, what] {
            auto b = state::beat_deacon(town_or_exit(g), *what);
            if (!b) {
                return fail("deacon heartbeat", b.error(),
                            client::failure_exit_code(b.error_code()));
            }
            std::cout << "Deacon heartbeat: cycle " << b->cycle << " (" << b->healthy_agents
                      << " healthy, " << b->unhealthy_agents << " unhealthy agents)\n";
            return 0;
        };
    });
}

/// Input errors of `gt polecat add` (exit 2): bad names, or a rig not in rigs.json.
int check_polecat_input(const std::string& town, const std::string& rig, const std::string& name) {
    for (auto st : {state::validate_name("rig", rig), state::validate_name("polecat", name)}) {
        if (!st) {
            return fail("polecat add", st.error(), k_exit_usage);
        }
    }
    auto rigs = state::load_rigs(town);
    if (!rigs) {
        return fail("polecat add", rigs.error(), client::failure_exit_code(rigs.error_code()));
    }
    if (std::none_of(rigs->begin(), rigs->end(), [&](const auto& r) { return r.name == rig; })) {
        return fail("polecat add", "no rig named '" + rig + "' (see 'gt rig list')", k_exit_usage);
    }
    return 0;
}

void add_polecat(CLI::App& app, Globals& g, Action& action) {
    auto* polecat = app.add_subcommand("polecat", "Manage polecats");
    polecat->require_subcommand(1);
    auto* add = polecat->add_subcommand("add", "Create a polecat's directory and agent state");
    auto rig = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto hook = std::make_shared<std::string>();
    add->add_option("RIG", *rig, "Rig name")->required();
    add->add_option("NAME", *name, "Polecat name")->required();
    add->add_option("--hook", *hook, "Work to hook on the new polecat");
    add->callback([&g, &action, rig, name, hook] {
        action = [&g, rig, name, hook] {
            std::string town = town_or_exit(g);
            if (int rc = check_polecat_input(town, *rig, *name); rc != 0) {
                return rc;
            }
            if (auto st = state::add_polecat(town, *rig, *name, *hook); !st) {
                return fail("polecat add", st.error(), client::failure_exit_code(st.error_code()));
            }
            std::cout << "Added polecat " << *rig << "/polecats/" << *name
                      << (hook->empty() ? "" : " (hook: " + *hook + ")") << "\n";
            return 0;
        };
    });
}

void print_mail(const std::vector<state::Mail>& mails, bool as_json) {
    if (as_json) {
        auto list = nlohmann::json::array();
        for (const auto& m : mails) {
            list.push_back(state::mail_json(m));
        }
        std::cout << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
    }
    for (const auto& m : mails) {
        std::cout << util::format_time(m.timestamp) << "  " << (m.kind.empty() ? "-" : m.kind)
                  << "  " << m.subject << "\n";
    }
}

void add_mail(CLI::App& app, Globals& g, Action& action) {
    auto* mail = app.add_subcommand("mail", "Notifications to agents");
    mail->require_subcommand(1);
    auto* list = mail->add_subcommand("list", "List the notifications for an address");
    auto address = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    list->add_option("ADDRESS", *address, "An identity, e.g. gastown/witness")->required();
    list->add_flag("--json", *as_json, "A JSON array");
    list->callback([&g, &action, address, as_json] {
        action = [&g, address, as_json] {
            auto id = state::parse_identity(*address);
            if (!id) {
                return fail("mail list", id.error(), k_exit_usage);
            }
            std::vector<std::string> skipped;
            auto mails = state::list_mail(town_or_exit(g), *id, &skipped);
            if (!mails) {
                return fail("mail list", mails.error(), 1);
            }
            for (const auto& s : skipped) {
                std::cerr << "gt mail list: skipping " << s << "\n";
            }
            print_mail(*mails, *as_json);
            return 0;
        };
    });
}

/// `gt lifecycle cycle|restart|shutdown [--as ID]` (design §6).
void add_lifecycle(CLI::App& app, Globals& g, Action& action) {
    auto* lifecycle =
        app.add_subcommand("lifecycle", "Ask the daemon to cycle, restart or shut down an agent");
    lifecycle->require_subcommand(1);
    const std::pair<const char*, state::LifecycleAction> actions[] = {
        {"cycle", state::LifecycleAction::cycle},
        {"restart", state::LifecycleAction::restart},
        {"shutdown", state::LifecycleAction::shutdown}};
    for (const auto& [name, act] : actions) {
        auto* cmd = lifecycle->add_subcommand(
            name, act == state::LifecycleAction::shutdown
                      ? "Kill the agent's session; it stays down until a cycle or restart"
                      : "Kill the agent's session (if any) and start a fresh one");
        AsOption as;
        as.add(cmd);
        cmd->callback([&g, &action, as, act = act] {
            action = [&g, as, act] {
                auto id = as.resolve();
                if (!id) {
                    return fail("lifecycle", id.error(), k_exit_usage);
                }
                std::string town = town_or_exit(g);
                auto dir = state::TownPaths(town).requests_dir();
                if (auto st = util::make_dirs(dir, 0700, true); !st) {
                    return fail("lifecycle", st.error(), 1);
                }
                auto req = client::write_request(dir, *id, act);
                if (!req) {
                    return fail("lifecycle", req.error(), 1);
                }
                std::cout << "Queued " << state::lifecycle_action_name(act) << " of " << id->str()
                          << " (request " << req->id << ")\n";
                if (auto pid = client::signal_daemon(town, SIGUSR1)) {
                    std::cout << "Daemon (PID " << *pid << ") notified\n";
                } else {
                    std::cout << "No daemon is running: the request waits for the next "
                                 "'gt daemon start'\n";
                }
                return 0;
            };
        });
    }
}

} // namespace

void add_agent_commands(CLI::App& app, Globals& g, Action& action) {
    auto* agent = app.add_subcommand("agent", "Agent state: report, list, simulate");
    agent->require_subcommand(1);
    add_report(agent, g, action);
    add_list(agent, g, action);
    add_simulate(agent, g, action);
    add_deacon(app, g, action);
    add_polecat(app, g, action);
    add_mail(app, g, action);
    add_lifecycle(app, g, action);
}

} // namespace gt::cli
