#pragma once

#include "names.hpp"
#include "util/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gt::state {

/// Every path of the town layout (design §2), from the town root.
class TownPaths {
public:
    explicit TownPaths(std::string root) : m_root(std::move(root)) {}

    const std::string& root() const { return m_root; }
    std::string mayor_dir() const { return m_root + "/mayor"; }
    std::string town_json() const { return m_root + "/mayor/town.json"; }
    std::string rigs_json() const { return m_root + "/mayor/rigs.json"; }
    std::string daemon_dir() const { return m_root + "/daemon"; }
    std::string lock_file() const { return m_root + "/daemon/daemon.lock"; }
    std::string pid_file() const { return m_root + "/daemon/daemon.pid"; }
    /// Taken briefly by whoever writes daemon.pid or state.json outside a running daemon's own
    /// writes: a starting daemon, and a command cleaning up after a dead one.
    std::string state_lock_file() const { return m_root + "/daemon/state.lock"; }
    std::string state_file() const { return m_root + "/daemon/state.json"; }
    std::string metrics_file() const { return m_root + "/daemon/metrics.prom"; }
    std::string log_file() const { return m_root + "/daemon/daemon.log"; }
    std::string events_file() const { return m_root + "/daemon/events.jsonl"; }
    std::string restart_state_file() const { return m_root + "/daemon/restart_state.json"; }
    std::string restart_state_lock_file() const { return m_root + "/daemon/restart_state.lock"; }
    /// What the daemon knows of the agents' screens across its restarts (design §16.6).
    std::string screens_file() const { return m_root + "/daemon/screens.json"; }
    std::string storms_file() const { return m_root + "/daemon/storms.json"; }
    std::string requests_dir() const { return m_root + "/daemon/requests"; }
    std::string socket_file() const { return m_root + "/daemon/daemon.sock"; }
    std::string agents_dir() const { return m_root + "/agents"; }
    /// `agents/<identity>.json`.
    std::string agent_file(const Identity& id) const { return m_root + "/" + id.state_file(); }
    std::string mail_dir() const { return m_root + "/mail"; }
    /// `mail/<identity>/`.
    std::string mailbox_dir(const Identity& id) const { return m_root + "/" + id.mailbox(); }
    std::string deacon_dir() const { return m_root + "/deacon"; }
    std::string deacon_heartbeat() const { return m_root + "/deacon/heartbeat.json"; }
    /// Serialises `gt deacon heartbeat`s.
    std::string deacon_heartbeat_lock() const { return m_root + "/deacon/.heartbeat.lock"; }
    /// `<rig>/`: the rig's witness/, refinery/rig/, crew/ and polecats/.
    std::string rig_dir(const std::string& rig) const { return m_root + "/" + rig; }

private:
    std::string m_root;
};

/// Finds the town root: `flag` if given, else $GT_TOWN_ROOT, else the nearest ancestor of the
/// working directory holding mayor/town.json. The result is absolute and normalised.
util::Result<std::string> find_town(const std::optional<std::string>& flag);

/// Creates a town at `dir` (created if missing) with the layout of design §2 and a default
/// town.json. Refuses when `dir` already holds mayor/town.json.
util::Status init_town(const std::string& dir, const std::string& name);

/// One entry of mayor/rigs.json.
struct RigEntry {
    std::string name;
    std::string git_url;
    std::string added_at;
};

/// Reads mayor/rigs.json. Entries with invalid names are skipped with a logged warning;
/// a missing file is an empty list; an unreadable or malformed file is an error.
util::Result<std::vector<RigEntry>> load_rigs(const std::string& town_root);

/// Validates `name`, adds it to rigs.json and creates its directories (design §2).
util::Status add_rig(const std::string& town_root, const std::string& name);

/// Removes `name` from rigs.json; its directories are kept.
util::Status remove_rig(const std::string& town_root, const std::string& name);

struct TownConfig;

/// The working directory of an identity's session (design §2): `deacon/`, the town root for the
/// mayor,
/// `<rig>/witness/`, `<rig>/refinery/rig/` (else `<rig>/`), `<rig>/crew/<n>/`,
/// `<rig>/polecats/<n>/`.
std::string workdir_for(const std::string& town_root, const Identity& id);

/// Why `id` is not an agent of the town at `town_root`, or "" when it is one: its rig is one of
/// `rigs`, its role is enabled, its directory is there. The lifecycle inbox, `gt daemon notify`
/// and the daemon's `notify` command all ask this.
std::string not_of_town(const std::string& town_root, const TownConfig& config,
                        const std::vector<std::string>& rigs, const Identity& id);

} // namespace gt::state
