#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>

namespace gt::state {

/// Action counters kept in state.json.
struct Counters {
    std::uint64_t restarts = 0;
    std::uint64_t kills = 0;
    std::uint64_t marked_dead = 0;
    std::uint64_t lifecycle_done = 0;
    std::uint64_t lifecycle_rejected = 0;
    std::uint64_t notifications = 0;
    std::uint64_t bad_files = 0;
    std::uint64_t crash_loops = 0; ///< agents that entered a crash loop
    std::uint64_t clock_jumps = 0; ///< wall-clock jumps seen (design §17.1)
    std::uint64_t resumes = 0;     ///< suspends the machine woke from (design §17.1)

    /// One counter: its key in state.json and its member.
    struct Field {
        const char* name;
        std::uint64_t Counters::*member;
    };
    /// Every counter, once: what writing, reading and adding counters walk.
    static std::span<const Field> fields();

    /// Adds every counter of `other` to this one's.
    Counters& operator+=(const Counters& other);
};

/// Reads a `counters` object; counters absent or of the wrong type stay 0.
Counters counters_from_json(const nlohmann::json& j);

/// The tmux server a town's agents live on (design §19.2).
struct TmuxServer {
    std::string socket; ///< the socket's path; "" when not known yet
    long pid = 0;       ///< the server's PID; 0 when not known
    bool operator==(const TmuxServer&) const = default;
};

/// daemon/state.json (design §2). Times are RFC 3339 strings, empty when unknown.
struct DaemonState {
    bool running = false;
    long pid = 0;
    std::string started_at;
    std::string stopped_at;
    std::string last_heartbeat;
    std::uint64_t heartbeat_count = 0;
    std::string version;
    std::string town;
    std::string socket;
    std::int64_t interval_ms = 0;
    std::string next_heartbeat_at;
    std::int64_t last_heartbeat_ms = 0;
    std::int64_t last_heartbeat_tmux_calls = 0; ///< tmux processes the last heartbeat ran
    std::int64_t last_heartbeat_captures = 0;   ///< screens it read (design §16)
    /// The last time the wall clock was seen set or the machine asleep (design §17), in
    /// words (`wall clock set +1h`, `slept 1h`), when, and the grace it gave; "" when never.
    std::string last_clock_jump;
    std::string last_clock_jump_at;
    std::string clock_grace_until;
    std::string storm; ///< the storm in progress, in words; "" when none (design §17)
    std::string storm_since;
    std::int64_t start_budget_left = 0; ///< starts left in the town's budget
    std::int64_t start_budget = 0;
    std::int64_t start_budget_window_ms = 0;
    /// Where the town's agents live (kept across daemon restarts: a daemon that finds itself
    /// pointed at another server while this one still holds them starts nothing).
    TmuxServer tmux_server;
    /// While the agents live on a server the daemon is no longer set to use: in words, with
    /// what to run; "" otherwise.
    std::string server_changed;
    Counters counters;
};

/// The JSON form of `s`, as in state.json (also the core of the control socket's status).
nlohmann::json daemon_state_json(const DaemonState& s);

/// Writes `s` atomically to `path`.
util::Status write_daemon_state(const std::string& path, const DaemonState& s);

/// Reads state.json; fields of the wrong type are left at their defaults.
util::Result<DaemonState> read_daemon_state(const std::string& path);

} // namespace gt::state
