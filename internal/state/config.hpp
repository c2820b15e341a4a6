#pragma once

#include "screen/screen.hpp"
#include "util/result.hpp"
#include "util/time.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gt::state {

using namespace std::chrono_literals;

/// `daemon.restart` of town.json (design §8, design §5.4).
struct RestartConfig {
    util::Millis initial_backoff = 30s;
    util::Millis max_backoff = 10min;
    double multiplier = 2.0;
    int crash_loop_count = 5;
    util::Millis crash_loop_window = 15min;
    util::Millis crash_loop_expiry = 1h;
    util::Millis stability_period = 30min;
};

/// `daemon.log` of town.json.
struct LogConfig {
    std::uint64_t max_size = 10ull * 1024 * 1024;
    int max_files = 5;
};

/// `screens` of town.json: how agents' screens are read and acted on (design §16).
struct ScreenConfig {
    /// A pane with output more recent than this is `working` without a look at its screen.
    util::Millis quiet_after = 20s;
    /// How often a usage-limited agent whose screen states no reset time is looked at again.
    util::Millis usage_probe = 15min;
    /// How long after the stated reset time the resume text is sent.
    util::Millis resume_margin = 1min;
    /// What is typed into a usage-limited agent once its limit has reset.
    std::string resume_text = "continue";
    bool builtin_patterns = true;
    std::vector<screen::UserPattern> patterns;
    /// The compiled patterns (built-in ones only when the config was not parsed).
    const screen::Matcher& matcher() const;
    std::shared_ptr<const screen::Matcher> compiled; ///< set by parse_town_config()
};

/// `daemon` of town.json.
struct DaemonConfig {
    util::Millis heartbeat_interval = 3min;
    util::Millis dead_agent_timeout = 15min;
    util::Millis gupp_timeout = 30min;
    util::Millis deacon_stale = 15min;
    /// Type into a pane (HEALTH_CHECK, the resume text) even while a client is attached to its
    /// session (design §19.3). Off: someone attached may be typing.
    bool type_when_attached = false;
    util::Millis deacon_kill = 30min;
    util::Millis start_grace = 5min;
    util::Millis lifecycle_max_age = 6h;
    util::Millis stop_timeout = 10s;
    util::Millis tmux_timeout = 5s;
    /// A storm (design §17): this many agents dead within `mass_death_window`.
    int mass_death_count = 3;
    util::Millis mass_death_window = 30s;
    /// At most `start_budget` starts within `start_budget_window`, town-wide (design §17).
    int start_budget = 5;
    util::Millis start_budget_window = 10s;
    RestartConfig restart;
    LogConfig log;
    ScreenConfig screens;
};

/// One entry of `roles`: whether the role is supervised and the command its session runs.
struct RoleConfig {
    bool enabled = true;
    std::vector<std::string> command;      ///< empty: the town's agent command
    std::optional<screen::AgentKind> kind; ///< nullopt: the town's, else from the command
};

/// Where a tmux server that the daemon starts is placed (`tmux.scope`, design §18.1).
enum class TmuxScope {
    automatic, ///< a systemd scope of its own when the daemon runs as a systemd service
    systemd,   ///< always a systemd scope of its own (`systemd-run --user --scope`)
    none,      ///< wherever the daemon is
};

/// The whole of `mayor/town.json`; every field optional, defaults as in design §8.
struct TownConfig {
    std::string name;
    int version = 1;
    DaemonConfig daemon;
    std::vector<std::string> agent_command{"claude", "--dangerously-skip-permissions"};
    std::vector<std::string> process_names{"node", "claude"};
    std::optional<screen::AgentKind> agent_kind; ///< `agent.kind`; nullopt: from the command
    std::map<std::string, RoleConfig> roles;     ///< keyed by role name
    std::string tmux_socket;
    TmuxScope tmux_scope = TmuxScope::automatic;

    /// The command for `role` (its own, else the agent command).
    const std::vector<std::string>& command_for(const std::string& role) const;
    /// The kind of agent `role` runs: its own `kind`, else `agent.kind`, else the kind its
    /// command names (screen::kind_of_command()).
    screen::AgentKind kind_for(const std::string& role) const;
    /// Whether `role` is supervised. The mayor is off unless enabled; others on unless disabled.
    bool role_enabled(const std::string& role) const;
};

/// Parses town.json text. Errors read `<where>: <field>: <reason>`.
util::Result<TownConfig> parse_town_config(const std::string& text, const std::string& where);

/// Loads and validates `<root>/mayor/town.json`.
util::Result<TownConfig> load_town_config(const std::string& town_root);

/// Validates a tmux socket name (what `tmux -L` takes): a plain file name matching
/// `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$` (no `/`, not `.` or `..`). Empty (the default server) is
/// valid. Errors read `<field>: <reason>`.
util::Status validate_tmux_socket_name(std::string_view field, std::string_view name);

/// $GT_TMUX_SOCKET, validated as above; empty when unset or empty.
util::Result<std::string> tmux_socket_from_env();

/// The tmux socket gt talks to: `env_socket` (what tmux_socket_from_env() returned) when it is
/// set, else town.json's tmux.socket ("" for the default server).
std::string choose_tmux_socket(const TownConfig& config, const std::string& env_socket);

/// The default town.json content for a new town called `name`.
std::string default_town_json(const std::string& name);

} // namespace gt::state
