#pragma once
// Shell completion generated from the command definitions, so it cannot drift from them.

#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <string>

namespace gt::cli {

/// A bash completion script for `root` (which must be the `gt` app): the subcommands at every
/// level, the long options that apply in each command (its own and the ones it falls through
/// to), directory names after options that take a directory and file names after any other
/// option that takes a value. Hidden subcommands and options (empty group) are left out. The
/// script defines `_gt` and ends with `complete -F _gt gt`.
std::string bash_completion(const CLI::App& root);

/// Registers `gt completion bash`. Call it after every other command is registered: the script
/// is generated when the action runs, from the whole tree.
void add_completion_command(CLI::App& app, Action& action);

} // namespace gt::cli
