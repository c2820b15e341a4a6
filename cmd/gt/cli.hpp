#pragma once
// Shared pieces of the command line: every command file registers its subcommands with these.

#include "util/time.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>

namespace gt::cli {

inline constexpr int k_exit_usage = 2;

/// Options shared by every command.
struct Globals {
    std::string town;
    /// Set when the command is `gt daemon run`, which keeps the daemon's signals blocked until
    /// its handlers are in place.
    bool daemon_run = false;
};

/// What a parsed command runs; set by the subcommand's callback, run after parsing.
using Action = std::function<int()>;

/// Resolves the town or exits 2 with the reason.
std::string town_or_exit(const Globals& g);

/// Parses a duration flag or exits 2; nullopt when `text` is empty.
std::optional<util::Millis> duration_or_exit(const std::string& flag, const std::string& text);

/// Prints `gt <command>: <message>` on stderr and returns `code`.
int fail(const std::string& command, const std::string& message, int code);

void add_town_commands(CLI::App& app, Globals& g, Action& action);
void add_daemon_commands(CLI::App& app, Globals& g, Action& action);
/// `gt agent report|list|simulate`, `gt deacon heartbeat`, `gt polecat add`, `gt mail list`.
void add_agent_commands(CLI::App& app, Globals& g, Action& action);

} // namespace gt::cli
