#include "service_files.hpp"

#include <cstdint>
#include <cstdio>

namespace gt::client {

namespace {

/// FNV-1a: stable across builds and machines, unlike std::hash.
std::uint32_t fnv1a(const std::string& text) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : text) {
        h = (h ^ c) * 16777619u;
    }
    return h;
}

/// The first field of `spec` that holds a control character, or "".
std::string field_with_control(const ServiceSpec& spec) {
    for (const auto& [name, value] : {std::pair{"town root", &spec.town},
                                      {"town name", &spec.town_name},
                                      {"gt binary", &spec.gt_binary},
                                      {"PATH", &spec.path_env},
                                      {"GT_TMUX_SOCKET", &spec.tmux_socket}}) {
        for (unsigned char c : *value) {
            if (c < 0x20 || c == 0x7f) {
                return name;
            }
        }
    }
    return "";
}

util::Error control_error(const std::string& field) {
    return util::err("the " + field + " holds a control character (a newline?): no unit file can " +
                     "carry it; move or rename it");
}

/// A systemd specifier-free value: `%` doubled.
std::string no_specifiers(const std::string& v) {
    std::string out;
    for (char c : v) {
        out += c;
        if (c == '%') {
            out += '%';
        }
    }
    return out;
}

/// How systemd reads a double-quoted word: `Exec=` arguments expand `$VAR` (so `$` is
/// doubled), the program's path and `Environment=` values do not.
enum class Word { argument, plain };

/// One double-quoted word of a unit file: `\` and `"` escaped, `%` doubled, `$` as `word` says.
std::string quoted(const std::string& v, Word word) {
    std::string out = "\"";
    for (char c : no_specifiers(v)) {
        if (c == '\\' || c == '"') {
            out += '\\';
        } else if (c == '$' && word == Word::argument) {
            out += '$';
        }
        out += c;
    }
    return out + "\"";
}

std::string xml(const std::string& v) {
    std::string out;
    for (char c : v) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace

std::string town_suffix(const std::string& town_root) {
    char hash[10];
    std::snprintf(hash, sizeof hash, "-%08x", fnv1a(town_root));
    return hash;
}

bool is_unit_of(const std::string& file, const std::string& suffix, ServiceManager m) {
    const std::string prefix = m == ServiceManager::systemd ? "gt-" : "gt.gt-";
    const std::string end = suffix + (m == ServiceManager::systemd ? ".service" : ".plist");
    return file.size() > prefix.size() + end.size() && file.rfind(prefix, 0) == 0 &&
           file.compare(file.size() - end.size(), end.size(), end) == 0;
}

std::string service_name(const ServiceSpec& spec) {
    std::string name;
    for (char c : spec.town_name.substr(0, 40)) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-';
        name += plain ? c : '-';
    }
    return "gt-" + (name.empty() ? std::string("town") : name) + town_suffix(spec.town);
}

std::string launchd_label(const ServiceSpec& spec) {
    return "gt." + service_name(spec);
}

util::Result<std::string> systemd_unit(const ServiceSpec& spec) {
    if (auto field = field_with_control(spec); !field.empty()) {
        return control_error(field);
    }
    if (spec.gt_binary.find_first_of("\"'\\") != std::string::npos) {
        return util::err("systemd cannot run a program whose path holds a quote or a backslash: " +
                         spec.gt_binary + "; run gt from another directory");
    }
    std::string env = quoted("PATH=" + spec.path_env, Word::plain);
    if (!spec.tmux_socket.empty()) {
        env += " " + quoted("GT_TMUX_SOCKET=" + spec.tmux_socket, Word::plain);
    }
    return "# The gt daemon of the town " + spec.town +
           ",\n# written by `gt daemon install --systemd` (gt " + spec.version +
           "). `gt daemon uninstall` removes it.\n"
           "[Unit]\n"
           "Description=" +
           no_specifiers("gt daemon of the town " + spec.town_name + " (" + spec.town + ")") +
           "\n"
           "# At most 5 starts in 5 minutes, then systemd gives up and says so.\n"
           "StartLimitIntervalSec=300\n"
           "StartLimitBurst=5\n"
           "\n"
           "[Service]\n"
           "# READY=1 once the lock, the PID file and the control socket are in place.\n"
           "Type=notify\n"
           "ExecStart=" +
           quoted(spec.gt_binary, Word::plain) + " --town " + quoted(spec.town, Word::argument) +
           " daemon run\n"
           "ExecReload=/bin/kill -HUP $MAINPID\n"
           "# Not on success: `gt daemon run` exits 0 when another daemon holds the town's lock.\n"
           "Restart=on-failure\n"
           "RestartSec=5s\n"
           "# WATCHDOG=1 comes from the daemon's event loop every 30s: a stuck loop is restarted.\n"
           "WatchdogSec=60s\n"
           "TimeoutStopSec=30s\n"
           "# The daemon's own processes only: the tmux server it starts lives in a scope of its\n"
           "# own (gt-tmux-*.scope), so stopping or restarting this unit leaves every agent "
           "running.\n"
           "KillMode=control-group\n"
           "Environment=" +
           env +
           "\n"
           "# Optional NAME=value lines (API keys, ...) for the daemon and a tmux server it "
           "starts,\n"
           "# whose agents inherit them; a server that is already running keeps what it has.\n"
           "EnvironmentFile=-" +
           no_specifiers(spec.town) +
           "/mayor/service.env\n"
           "\n"
           "[Install]\n"
           "WantedBy=default.target\n";
}

util::Result<std::string> launchd_plist(const ServiceSpec& spec) {
    if (auto field = field_with_control(spec); !field.empty()) {
        return control_error(field);
    }
    auto key_string = [](const std::string& key, const std::string& value) {
        return "    <key>" + key + "</key>\n    <string>" + xml(value) + "</string>\n";
    };
    std::string env =
        "        <key>PATH</key>\n        <string>" + xml(spec.path_env) + "</string>\n";
    if (!spec.tmux_socket.empty()) {
        env += "        <key>GT_TMUX_SOCKET</key>\n        <string>" + xml(spec.tmux_socket) +
               "</string>\n";
    }
    const std::string log = spec.town + "/daemon/launchd.log";
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
           "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
           // No user text in comments: XML forbids "--" there.
           "<!-- A town's gt daemon, written by gt daemon install; gt daemon uninstall removes "
           "it. -->\n"
           "<plist version=\"1.0\">\n"
           "<dict>\n" +
           key_string("Label", launchd_label(spec)) +
           "    <key>ProgramArguments</key>\n"
           "    <array>\n"
           "        <string>" +
           xml(spec.gt_binary) +
           "</string>\n"
           "        <string>--town</string>\n"
           "        <string>" +
           xml(spec.town) +
           "</string>\n"
           "        <string>daemon</string>\n"
           "        <string>run</string>\n"
           "    </array>\n" +
           "    <key>EnvironmentVariables</key>\n"
           "    <dict>\n" +
           env +
           "    </dict>\n"
           "    <key>RunAtLoad</key>\n"
           "    <true/>\n"
           "    <!-- Restarted when it fails, not when it exits 0 (another daemon holds the lock). "
           "-->\n"
           "    <key>KeepAlive</key>\n"
           "    <dict>\n"
           "        <key>SuccessfulExit</key>\n"
           "        <false/>\n"
           "    </dict>\n"
           "    <key>ThrottleInterval</key>\n"
           "    <integer>10</integer>\n"
           "    <key>ExitTimeOut</key>\n"
           "    <integer>30</integer>\n"
           "    <!-- Stopping the job must not kill the tmux server and the agents it started. "
           "-->\n"
           "    <key>AbandonProcessGroup</key>\n"
           "    <true/>\n"
           "    <key>ProcessType</key>\n"
           "    <string>Background</string>\n" +
           key_string("StandardOutPath", log) + key_string("StandardErrorPath", log) +
           "</dict>\n"
           "</plist>\n";
}

} // namespace gt::client
