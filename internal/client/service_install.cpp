// `gt daemon install` and `gt daemon uninstall` (design §18.1): write or remove the town's unit,
// say what to run next, warn when lingering is off.
#include "commands.hpp"
#include "probe.hpp"
#include "proc/process.hpp"
#include "service_files.hpp"
#include "state/config.hpp"
#include "state/town.hpp"
#include "util/file.hpp"
#include "util/text.hpp"

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <pwd.h>
#include <unistd.h>

namespace gt::client {

namespace {

constexpr int k_exit_usage = 2;

/// Where the unit goes: systemd's user unit directory, or launchd's LaunchAgents.
util::Result<std::string> unit_dir(ServiceManager m) {
    std::string home = util::env_or("HOME");
    if (m == ServiceManager::systemd) {
        std::string config = util::env_or("XDG_CONFIG_HOME");
        if (config.empty() || config[0] != '/') {
            if (home.empty()) {
                return util::err("neither XDG_CONFIG_HOME nor HOME is set: no place for the unit");
            }
            config = home + "/.config";
        }
        return config + "/systemd/user";
    }
    if (home.empty()) {
        return util::err("HOME is not set: no place for the launchd agent");
    }
    return home + "/Library/LaunchAgents";
}

util::Result<ServiceSpec> spec_for(const std::string& town) {
    auto config = state::load_town_config(town);
    if (!config) {
        return util::err(config.error());
    }
    auto socket = state::tmux_socket_from_env();
    if (!socket) {
        return util::err(socket.error());
    }
    return ServiceSpec{
        town,    config->name, util::self_exe(), util::env_or("PATH", "/usr/bin:/bin"),
        *socket, GT_VERSION};
}

struct UnitFile {
    std::string path;
    std::string name; ///< what systemctl or launchctl calls it
    std::string text;
};

util::Result<UnitFile> unit_file(const ServiceSpec& spec, ServiceManager m) {
    auto dir = unit_dir(m);
    if (!dir) {
        return util::err(dir.error());
    }
    if (m == ServiceManager::systemd) {
        auto text = systemd_unit(spec);
        if (!text) {
            return util::err(text.error());
        }
        std::string name = service_name(spec) + ".service";
        return UnitFile{*dir + "/" + name, name, *text};
    }
    auto text = launchd_plist(spec);
    if (!text) {
        return util::err(text.error());
    }
    std::string label = launchd_label(spec);
    return UnitFile{*dir + "/" + label + ".plist", label, *text};
}

/// The town's units in `dir`, by file name: whatever name the town had when they were written.
std::vector<std::string> installed_units(const std::string& dir, const std::string& town,
                                         ServiceManager m) {
    std::vector<std::string> found;
    if (auto entries = util::list_dir(dir)) {
        for (const auto& e : *entries) {
            if (is_unit_of(e.name, town_suffix(town), m)) {
                found.push_back(e.name);
            }
        }
    }
    return found;
}

std::string user_name() {
    if (const passwd* pw = ::getpwuid(::getuid())) {
        return pw->pw_name;
    }
    return std::to_string(::getuid());
}

/// Runs a service-manager command; its output, or why it failed, in one line.
proc::RunResult run_tool(const std::vector<std::string>& argv) {
    proc::RealProcessRunner runner;
    proc::RunOptions o;
    o.argv = argv;
    o.timeout = std::chrono::seconds(15);
    auto r = runner.run(o);
    if (!r) {
        proc::RunResult failed;
        failed.err = r.error();
        return failed;
    }
    return *r;
}

std::string first_line(std::string text) {
    if (auto nl = text.find('\n'); nl != std::string::npos) {
        text.resize(nl);
    }
    return text;
}

/// Without lingering, systemd stops the user's manager at logout, and this unit, the tmux
/// server and every agent with it (design §18.1).
void warn_about_lingering() {
    auto r = run_tool({"loginctl", "show-user", user_name(), "--property=Linger", "--value"});
    std::string linger = first_line(r.out);
    if (r.success() && linger == "yes") {
        return;
    }
    std::cout << "\nwarning: ";
    if (r.success()) {
        std::cout << "lingering is off for " << user_name() << ":";
    } else {
        std::cout << "could not tell whether lingering is on for " << user_name()
                  << " (loginctl: " << first_line(r.err.empty() ? r.describe() : r.err) << "):";
    }
    std::cout << " without it systemd stops your user services when you log out, and this\n"
                 "daemon, the tmux server and every agent with them. Turn it on with:\n"
                 "  loginctl enable-linger "
              << user_name() << "\n";
}

} // namespace

int install_service(const std::string& town, ServiceManager m, bool print) {
    auto spec = spec_for(town);
    if (!spec) {
        std::cerr << "gt daemon install: " << spec.error() << "\n";
        return k_exit_usage;
    }
    auto unit = unit_file(*spec, m);
    if (!unit) {
        std::cerr << "gt daemon install: " << unit.error() << "\n";
        return k_exit_usage;
    }
    if (print) {
        std::cout << unit->text;
        return 0;
    }
    const std::string dir = util::dir_name(unit->path);
    const std::string file = unit->path.substr(dir.size() + 1);
    for (const auto& other : installed_units(dir, town, m)) {
        if (other != file) {
            // Written when the town had another name: two units would fight over one lock.
            std::cerr << "gt daemon install: this town already has " << dir << "/" << other
                      << " (written under its earlier name); remove it first: gt --town "
                      << util::shell_word(town) << " daemon uninstall\n";
            return 1;
        }
    }
    auto old = util::read_file(unit->path);
    if (auto st = util::make_dirs(util::dir_name(unit->path), 0755); !st) {
        std::cerr << "gt daemon install: " << st.error() << "\n";
        return 1;
    }
    if (m == ServiceManager::launchd) {
        // launchd opens the log before it starts the daemon, which would make daemon/ itself.
        state::TownPaths paths(town);
        if (auto st = util::make_dirs(paths.daemon_dir(), 0700, true); !st) {
            std::cerr << "gt daemon install: " << st.error() << "\n";
            return 1;
        }
    }
    if (auto st = util::write_file_atomic(unit->path, unit->text, 0644); !st) {
        std::cerr << "gt daemon install: " << st.error() << "\n";
        return 1;
    }
    std::cout << (!old                 ? "Wrote "
                  : *old == unit->text ? "Unchanged: "
                                       : "Updated ")
              << unit->path << "\n";
    if (auto running = probe(state::TownPaths(town)).pid) {
        std::cout << "\nA daemon runs for this town (PID " << *running
                  << "). If you started it by hand, stop it before you enable the unit (the "
                     "agents keep running):\n  gt --town "
                  << util::shell_word(town) << " daemon stop\n";
    }
    std::cout << "\nNext:\n";
    if (m == ServiceManager::systemd) {
        std::cout << "  systemctl --user daemon-reload\n  systemctl --user enable --now "
                  << unit->name << "\n  systemctl --user status " << unit->name << "\n";
        warn_about_lingering();
    } else {
        std::cout << "  launchctl bootstrap gui/" << ::getuid() << " "
                  << util::shell_word(unit->path) << "\n  launchctl print gui/" << ::getuid() << "/"
                  << unit->name << "\n";
    }
    return 0;
}

int print_example_unit(ServiceManager m) {
    ServiceSpec spec{"/home/you/town", "town", "/usr/bin/gt", "/usr/local/bin:/usr/bin:/bin", "",
                     GT_VERSION};
    auto text = m == ServiceManager::systemd ? systemd_unit(spec) : launchd_plist(spec);
    std::cout << *text;
    return 0;
}

int uninstall_service(const std::string& town, std::optional<ServiceManager> only) {
    // Found by the town's root alone: a renamed town or a broken town.json must not strand them.
    int removed = 0;
    std::vector<std::string> looked;
    for (ServiceManager m : {ServiceManager::systemd, ServiceManager::launchd}) {
        if (only && *only != m) {
            continue;
        }
        auto dir = unit_dir(m);
        if (!dir) {
            std::cerr << "gt daemon uninstall: " << dir.error() << "\n";
            return k_exit_usage;
        }
        looked.push_back(*dir);
        for (const auto& file : installed_units(*dir, town, m)) {
            const std::string path = *dir + "/" + file;
            const bool systemd = m == ServiceManager::systemd;
            const std::string name = systemd ? file : file.substr(0, file.size() - 6); // .plist
            // Stopped and disabled before the file goes, or systemd keeps a dangling link to
            // it. Stopping the daemon leaves the agents running.
            auto stopped = systemd ? run_tool({"systemctl", "--user", "disable", "--now", name})
                                   : run_tool({"launchctl", "bootout",
                                               "gui/" + std::to_string(::getuid()) + "/" + name});
            if (!stopped.success()) {
                std::cout << "note: " << (systemd ? "systemctl" : "launchctl")
                          << " could not stop it ("
                          << first_line(stopped.err.empty() ? stopped.describe() : stopped.err)
                          << "); if a daemon still runs: gt --town " << util::shell_word(town)
                          << " daemon stop\n";
            }
            if (systemd) {
                auto wants = *dir + "/default.target.wants/" + name;
                ::unlink(wants.c_str()); // what `disable` removes, when it could not run
            }
            if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
                std::cerr << "gt daemon uninstall: cannot remove " << path << ": "
                          << util::errno_text(errno) << "\n";
                return 1;
            }
            if (systemd) {
                run_tool({"systemctl", "--user", "daemon-reload"});
            }
            std::cout << "Removed " << path << "\n";
            ++removed;
        }
    }
    if (removed == 0) {
        std::cerr << "gt daemon uninstall: no unit of this town is installed (looked for *"
                  << town_suffix(town) << " in";
        for (const auto& dir : looked) {
            std::cerr << " " << dir;
        }
        std::cerr << ")\n";
        return 1;
    }
    return 0;
}

} // namespace gt::client
