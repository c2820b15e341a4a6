// gt: the command line. Argument parsing and wiring only; the work lives in internal/.

#include "client/commands.hpp"
#include "client/daemon_requests.hpp"
#include "daemon/daemon.hpp"
#include "daemon/signals.hpp"
#include "state/config.hpp"
#include "state/demo.hpp"
#include "state/names.hpp"
#include "state/town.hpp"
#include "util/file.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

#include "cli.hpp"
#include "completion.hpp"
#include "version.hpp"
#include <iostream>
#include <optional>
#include <string>

namespace gt::cli {

void add_town_commands(CLI::App& app, Globals& g, Action& action) {
    auto* init = app.add_subcommand("init", "Create a town (mayor/town.json and the layout)");
    auto dir = std::make_shared<std::string>(".");
    auto name = std::make_shared<std::string>();
    init->add_option("DIR", *dir, "Directory of the new town (default: .)");
    init->add_option("--name", *name, "Town name (default: the directory's name)");
    auto demo = std::make_shared<bool>(false);
    init->add_flag("--demo", *demo,
                   "A demo town: rig 'demo', two hooked polecats, every role the simulated agent");
    init->callback([&action, dir, name, demo] {
        action = [dir, name, demo] {
            std::string target = *dir;
            auto st = *demo ? gt::state::init_demo_town(target, *name, gt::util::self_exe())
                            : gt::state::init_town(target, *name);
            if (!st) {
                return fail("init", st.error(),
                            st.error().rfind("refusing", 0) == 0 ? k_exit_usage : 1);
            }
            std::cout << "Created town at " << target << "\n";
            return 0;
        };
    });

    auto* rig = app.add_subcommand("rig", "Manage the town's rigs");
    rig->require_subcommand(1);
    auto rig_name = std::make_shared<std::string>();
    auto* rig_add = rig->add_subcommand("add", "Add a rig and create its directories");
    rig_add->add_option("NAME", *rig_name, "Rig name")->required();
    rig_add->callback([&, rig_name] {
        action = [&g, rig_name] {
            std::string town = town_or_exit(g);
            if (auto st = gt::state::validate_name("rig", *rig_name); !st) {
                return fail("rig add", st.error(), k_exit_usage);
            }
            if (auto st = gt::state::add_rig(town, *rig_name); !st) {
                return fail("rig add", st.error(), gt::client::failure_exit_code(st.error_code()));
            }
            std::cout << "Added rig " << *rig_name << "\n";
            return 0;
        };
    });
    auto* rig_remove =
        rig->add_subcommand("remove", "Remove a rig from rigs.json (directories are kept)");
    rig_remove->add_option("NAME", *rig_name, "Rig name")->required();
    rig_remove->callback([&, rig_name] {
        action = [&g, rig_name] {
            std::string town = town_or_exit(g);
            if (auto st = gt::state::validate_name("rig", *rig_name); !st) {
                return fail("rig remove", st.error(), k_exit_usage);
            }
            if (auto st = gt::state::remove_rig(town, *rig_name); !st) {
                return fail("rig remove", st.error(),
                            gt::client::failure_exit_code(st.error_code()));
            }
            std::cout << "Removed rig " << *rig_name << " (its directories are kept)\n";
            return 0;
        };
    });
    auto* rig_list = rig->add_subcommand("list", "List the town's rigs");
    rig_list->callback([&] {
        action = [&g] {
            auto rigs = gt::state::load_rigs(town_or_exit(g));
            if (!rigs) {
                return fail("rig list", rigs.error(),
                            gt::client::failure_exit_code(rigs.error_code()));
            }
            for (const auto& r : *rigs) {
                std::cout << r.name << (r.added_at.empty() ? "" : "\tadded " + r.added_at) << "\n";
            }
            return 0;
        };
    });
}

void add_daemon_commands(CLI::App& app, Globals& g, Action& action) {
    auto* daemon = app.add_subcommand("daemon", "Run and control the town's recovery daemon");
    daemon->require_subcommand(1);

    auto* run = daemon->add_subcommand("run", "Run the daemon in the foreground");
    auto ready_fd = std::make_shared<int>(-1);
    run->add_option("--ready-fd", *ready_fd, "Descriptor to report readiness on (used by start)")
        ->group("");
    run->callback([&, ready_fd] {
        g.daemon_run = true;
        action = [&g, ready_fd] {
            gt::daemon::DaemonOptions o;
            o.town = town_or_exit(g);
            o.ready_fd = *ready_fd;
            auto socket = gt::state::tmux_socket_from_env();
            if (!socket) {
                return fail("daemon run", socket.error(), k_exit_usage);
            }
            o.tmux_socket = *socket;
            o.log_to_stderr = *ready_fd < 0;
            return gt::daemon::run_daemon(o);
        };
    });

    daemon->add_subcommand("start", "Start the daemon in the background")->callback([&] {
        action = [&g] {
            // Checked here too: a bad name must be an error of `start`, not of the daemon.
            if (auto socket = gt::state::tmux_socket_from_env(); !socket) {
                return fail("daemon start", socket.error(), k_exit_usage);
            }
            return gt::client::start_daemon(town_or_exit(g));
        };
    });

    auto timeout = std::make_shared<std::string>();
    auto* stop =
        daemon->add_subcommand("stop", "Stop the daemon (SIGTERM, then SIGKILL after the timeout)");
    stop->add_option("--timeout", *timeout,
                     "How long to wait before SIGKILL (default: daemon.stop_timeout, 10s)");
    stop->callback([&, timeout] {
        action = [&g, timeout] {
            std::string town = town_or_exit(g);
            return gt::client::stop_daemon(town, duration_or_exit("--timeout", *timeout));
        };
    });
    auto* restart = daemon->add_subcommand("restart", "Stop, then start the daemon");
    restart->add_option("--timeout", *timeout, "Stop timeout before SIGKILL");
    restart->callback([&, timeout] {
        action = [&g, timeout] {
            std::string town = town_or_exit(g);
            return gt::client::restart_daemon(town, duration_or_exit("--timeout", *timeout));
        };
    });

    auto as_json = std::make_shared<bool>(false);
    auto* status = daemon->add_subcommand(
        "status", "Show the daemon's state (exit 0 running, 3 not running, 4 not responding)");
    status->add_flag("--json", *as_json, "One JSON object");
    status->callback([&, as_json] {
        action = [&g, as_json] { return gt::client::status_daemon(town_or_exit(g), *as_json); };
    });

    auto identity = std::make_shared<std::string>();
    auto* clear = daemon->add_subcommand("clear-backoff",
                                         "Clear an agent's restart backoff and crash-loop state");
    clear->add_option("IDENTITY", *identity, "e.g. deacon, gastown/witness")->required();
    clear->callback([&, identity] {
        action = [&g, identity] { return gt::client::clear_backoff(town_or_exit(g), *identity); };
    });

    daemon->add_subcommand("heartbeat", "Run a heartbeat now, wait for it, print its summary")
        ->callback([&] { action = [&g] { return gt::client::heartbeat_now(town_or_exit(g)); }; });

    auto agent = std::make_shared<std::string>();
    auto exit_code = std::make_shared<std::string>();
    auto signal = std::make_shared<std::string>();
    auto* notify = daemon->add_subcommand(
        "notify", "Tell the daemon an agent's pane died (run by the tmux pane-died hook)");
    notify->add_option("--agent", *agent, "The agent's identity")->required();
    notify->add_option("--exit-code", *exit_code, "The pane's exit status (may be empty)");
    notify->add_option("--signal", *signal, "The signal that ended it (may be empty)");
    auto pane_pid = std::make_shared<std::string>();
    notify->add_option("--pane-pid", *pane_pid, "The dead pane's process id");
    notify->callback([&, agent, exit_code, signal, pane_pid] {
        action = [&g, agent, exit_code, signal, pane_pid] {
            return gt::client::notify_daemon(town_or_exit(g), *agent, *exit_code, *signal,
                                             *pane_pid);
        };
    });

    auto systemd = std::make_shared<bool>(false);
    auto launchd = std::make_shared<bool>(false);
    auto print = std::make_shared<bool>(false);
    auto example = std::make_shared<bool>(false);
    auto* install = daemon->add_subcommand(
        "install", "Write a per-town systemd user unit or launchd agent that runs the daemon");
    auto* as_systemd = install->add_flag("--systemd", *systemd, "A systemd user unit");
    auto* as_launchd = install->add_flag("--launchd", *launchd, "A launchd agent (macOS)");
    as_systemd->excludes(as_launchd);
    install->add_flag("--print", *print, "Print it; write nothing");
    install->add_flag("--example", *example, "Print it for an example town")->group("");
    install->callback([&, systemd, launchd, print, example] {
        action = [&g, systemd, launchd, print, example] {
            if (*systemd == *launchd) {
                return fail("daemon install", "say which: --systemd or --launchd", k_exit_usage);
            }
            auto m = *systemd ? gt::client::ServiceManager::systemd
                              : gt::client::ServiceManager::launchd;
            if (*example) {
                return gt::client::print_example_unit(m);
            }
            return gt::client::install_service(town_or_exit(g), m, *print);
        };
    });
    auto* uninstall = daemon->add_subcommand(
        "uninstall", "Stop, disable and remove the town's unit (the agents keep running)");
    auto* un_systemd = uninstall->add_flag("--systemd", *systemd, "Only the systemd unit");
    un_systemd->excludes(uninstall->add_flag("--launchd", *launchd, "Only the launchd agent"));
    uninstall->callback([&, systemd, launchd] {
        action = [&g, systemd, launchd] {
            std::optional<gt::client::ServiceManager> only;
            if (*systemd) {
                only = gt::client::ServiceManager::systemd;
            } else if (*launchd) {
                only = gt::client::ServiceManager::launchd;
            }
            return gt::client::uninstall_service(town_or_exit(g), only);
        };
    });

    auto lines = std::make_shared<int>(50);
    auto follow = std::make_shared<bool>(false);
    auto* logs = daemon->add_subcommand("logs", "Show daemon/daemon.log");
    logs->add_option("-n,--lines", *lines, "Number of lines (default 50)")
        ->check(CLI::NonNegativeNumber);
    logs->add_flag("-f,--follow", *follow, "Follow the log, across rotation");
    logs->callback([&, lines, follow] {
        action = [&g, lines, follow] {
            return gt::client::show_logs(town_or_exit(g), *lines, *follow);
        };
    });
}

} // namespace gt::cli

int main(int argc, char** argv) {
    // First of all: a signal the daemon handles (a `gt lifecycle`'s SIGUSR1, say) must wait
    // until it can, not kill it while it starts. Every other command unblocks after parsing.
    gt::daemon::block_daemon_signals();
    gt::util::init_stderr_logging();
    CLI::App app{"gt: the town recovery daemon and its tools"};
    app.set_version_flag("--version", gt::cli::version_line());
    app.require_subcommand(1);
    app.fallthrough();
    gt::cli::Globals g;
    app.add_option("--town", g.town,
                   "Town root (default: $GT_TOWN_ROOT, else the nearest "
                   "ancestor holding mayor/town.json)");
    gt::cli::Action action;
    gt::cli::add_town_commands(app, g, action);
    gt::cli::add_daemon_commands(app, g, action);
    gt::cli::add_agent_commands(app, g, action);
    gt::cli::add_completion_command(app, action);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return gt::cli::k_exit_usage;
    }
    if (!g.daemon_run) {
        gt::daemon::unblock_daemon_signals();
    }
    return action ? action() : gt::cli::k_exit_usage;
}
