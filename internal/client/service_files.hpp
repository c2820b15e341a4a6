#pragma once
// What `gt daemon install` writes (design §18.1): a per-town systemd user unit or launchd agent
// that runs `gt daemon run`. Text only; the command that writes and removes them is in
// service_install.cpp.

#include "util/result.hpp"

#include <string>

namespace gt::client {

enum class ServiceManager { systemd, launchd };

/// Everything a unit says about one town, fixed when it is installed.
struct ServiceSpec {
    std::string town;      ///< the town's absolute root
    std::string town_name; ///< `name` of town.json
    std::string gt_binary; ///< absolute path of the gt that runs the daemon
    std::string path_env; ///< $PATH at install time: agent CLIs are found where the user finds them
    std::string tmux_socket; ///< $GT_TMUX_SOCKET at install time; "" for none
    std::string version;     ///< of the gt that wrote it
};

/// `-<hash>`: eight hex digits of FNV-1a over the town's root, the end of every unit name of
/// the town (what uninstall looks for, whatever the town is called now).
std::string town_suffix(const std::string& town_root);

/// `gt-<name>-<hash>`: the town's name (letters, digits, `_`, `-`; anything else becomes `-`)
/// and eight hex digits of its root, so two towns (even two of one name) get two units.
std::string service_name(const ServiceSpec& spec);

/// The systemd user unit (`<service_name>.service`). An error when a path or name holds a
/// control character, which no unit file can carry.
util::Result<std::string> systemd_unit(const ServiceSpec& spec);

/// True when `file` (a name in the unit directory) is a unit of the town whose root gives
/// `suffix`: `gt-…<suffix>.service` for systemd, `gt.gt-…<suffix>.plist` for launchd.
bool is_unit_of(const std::string& file, const std::string& suffix, ServiceManager m);

/// The launchd agent's label: `gt.<service_name>`.
std::string launchd_label(const ServiceSpec& spec);

/// The launchd agent's property list. An error on a control character (not valid XML).
util::Result<std::string> launchd_plist(const ServiceSpec& spec);

} // namespace gt::client
