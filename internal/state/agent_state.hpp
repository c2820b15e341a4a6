#pragma once

#include "names.hpp"
#include "util/file.hpp"
#include "util/result.hpp"
#include "util/stamped_cache.hpp"
#include "util/time.hpp"

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gt::state {

/// The `state` values of design §4. `unknown` stands for any other value: "no trustworthy report".
enum class AgentStatus { starting, idle, running, working, stuck, stopped, dead, unknown };

/// "running", "dead", … ("unknown" for unknown).
const char* status_name(AgentStatus s);
/// Parses a state value; anything not in design §4 is `unknown`.
AgentStatus parse_status(std::string_view text);
/// The states an agent may report with `gt agent report`: idle|running|working|stuck|stopped.
bool agent_may_report(AgentStatus s);

/// `agents/<identity>.json` (design §4). Times are kept as parsed values; `updated_at` is mandatory
/// in a valid file, the daemon's fields are optional.
struct AgentState {
    std::string identity; ///< canonical form, as in the file
    AgentStatus status = AgentStatus::unknown;
    std::string raw_state; ///< the `state` string as written (for display when unknown)
    std::string hook;
    util::TimePoint updated_at{};
    std::string note;
    std::string previous_state;                          ///< written by the daemon
    std::optional<util::TimePoint> marked_dead_at;       ///< written by the daemon
    std::optional<util::TimePoint> started_by_daemon_at; ///< written by the daemon
};

/// Reads and validates an agent state file: at most 1 MiB, a JSON object, `state` a string,
/// `updated_at` a valid time, `hook`/`note` strings when present. A symlink is refused. Any
/// failure is an error naming the file and the reason (the caller logs, counts, and falls back
/// to tmux). An unknown `state` string is not an error: status is `unknown`.
util::Result<AgentState> read_agent_state(const std::string& path);

/// The JSON text of `s` (every design §4 field; daemon fields only when set).
std::string agent_state_json(const AgentState& s);

/// The lock file of one agent's state file: `agents/<identity>.json.lock`, beside it.
std::string agent_lock_file(const std::string& state_file);

/// Locked read-modify-write of one agent's state file (design §4: no lost update between an agent's
/// report and the daemon's mark-dead). Takes an exclusive flock on that agent's own lock file
/// (agent_lock_file(); created 0600, never through a symlink, close-on-exec) for the whole
/// read-modify-write, so updates of different agents never wait on each other; `lock_timeout`
/// bounds the wait for this agent's lock. Reads the current file (nullopt when missing or
/// invalid), calls `update`; when it returns a value, writes it atomically (0600, creating
/// `agents/<rig>/...` directories 0700 as needed). `update` returning nullopt writes nothing. The
/// written identity is always `id.str()`, whatever `update` put there. Returns what was written
/// (or nullopt when nothing was).
util::Result<std::optional<AgentState>> update_agent_state(
    const std::string& town_root, const Identity& id,
    const std::function<std::optional<AgentState>(const std::optional<AgentState>& current)>&
        update,
    util::Millis lock_timeout = util::Millis(10'000));

/// `gt agent report`: a locked read-modify-write that sets identity (canonical), state and
/// updated_at (now); sets `hook` only when given (an empty string clears it, nullopt keeps the
/// current hook) and `note` to the given text (nullopt: empty, a note describes one report).
/// The daemon's fields (previous_state, marked_dead_at, started_by_daemon_at) are kept.
/// Precondition: agent_may_report(status). Returns what was written.
util::Result<AgentState> report_agent_state(const std::string& town_root, const Identity& id,
                                            AgentStatus status,
                                            const std::optional<std::string>& hook,
                                            const std::optional<std::string>& note);

/// Listings of directories, kept while each directory's stamp stays the same.
using DirListings = util::StampedCache<std::vector<util::DirEntry>>;

/// One agent state file found on disk.
struct AgentFile {
    Identity id;
    std::string path;
};

/// Every `agents/**/*.json` whose path is a valid identity (`agents/deacon.json`,
/// `agents/<rig>/witness.json`, `agents/<rig>/polecats/<name>.json`, …). Paths that are not
/// valid identities are skipped (the caller gets them in `skipped` to log, as
/// `<path>: <reason>`); lock files (`*.json.lock`, and the `agents/.lock` of older versions) and
/// in-flight temp files are passed over silently. Never follows symlinks (a symlinked directory
/// or file is skipped). An identity's path that holds something other than a regular file (a
/// FIFO, a symlink, a directory) is skipped too, and named in `not_files` when given (else in
/// `skipped`) as `<path>: not a regular file (a FIFO)`: a bad file, not a stray name. Files are
/// not read here. With `listings`, a directory whose stamp has not changed since it was last
/// listed is not listed again (the daemon's heartbeat).
std::vector<AgentFile> list_agent_files(const std::string& town_root,
                                        std::vector<std::string>* skipped = nullptr,
                                        std::vector<std::string>* not_files = nullptr,
                                        DirListings* listings = nullptr);

/// `deacon/heartbeat.json`.
struct DeaconHeartbeat {
    util::TimePoint timestamp{};
    long cycle = 0;
    std::string last_action;
    long healthy_agents = 0;
    long unhealthy_agents = 0;
};

/// Reads and validates deacon/heartbeat.json (`timestamp` mandatory).
util::Result<DeaconHeartbeat> read_deacon_heartbeat(const std::string& town_root);

/// `gt deacon heartbeat [ACTION]`: writes the file with cycle = previous + 1 (0 + 1 when the old
/// file is missing or invalid) and timestamp now. Returns what was written. The counts come from
/// the agent state files: healthy = starting|idle|running|working, unhealthy = stuck|dead|unknown
/// or unreadable; stopped agents count as neither. Serialised by `deacon/.heartbeat.lock`, so
/// concurrent beats never lose a cycle.
util::Result<DeaconHeartbeat> beat_deacon(const std::string& town_root, const std::string& action);

/// One notification in `mail/<address>/<time>-<id>.json`.
struct Mail {
    std::string id;
    std::string from = "daemon";
    std::string to; ///< canonical identity used as the address, e.g. "gastown/witness"
    std::string subject;
    std::string body;
    std::string kind; ///< e.g. "GUPP_VIOLATION", "ORPHANED_WORK", "CRASHED_POLECAT", "CRASH_LOOP"
    util::TimePoint timestamp{};
};

/// The JSON form of a mail, as stored and as `gt mail list --json` prints it.
nlohmann::json mail_json(const Mail& m);

/// Writes a mail atomically under `mail/<to>/` (directories 0700, file 0600); fills id and
/// timestamp when empty. `to` must be a valid identity.
util::Result<Mail> send_mail(const std::string& town_root, Mail mail);

/// Every readable mail for `address` (a valid identity in either form), oldest first; invalid
/// files are skipped and named in `skipped`.
util::Result<std::vector<Mail>> list_mail(const std::string& town_root, const Identity& address,
                                          std::vector<std::string>* skipped = nullptr);

} // namespace gt::state
