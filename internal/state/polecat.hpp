#pragma once

#include "util/result.hpp"

#include <string>

namespace gt::state {

/// `gt polecat add`: validates the rig and polecat names (design §1), requires the rig to be listed
/// in mayor/rigs.json, creates `<rig>/polecats/<name>/` (0755) and writes its agent state (`idle`,
/// the given hook, updated_at now) with update_agent_state. Refuses when the polecat's directory
/// already exists; removes the directory again when the state cannot be written.
util::Status add_polecat(const std::string& town_root, const std::string& rig,
                         const std::string& name, const std::string& hook);

} // namespace gt::state
