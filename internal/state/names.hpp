#pragma once

#include "util/result.hpp"

#include <string>
#include <string_view>

namespace gt::state {

/// Roles of design §1.
enum class Role { deacon, mayor, witness, refinery, crew, polecat };

/// The role's name as written in config and output: "deacon", "polecat", …
const char* role_name(Role role);

/// The town's own top-level directories (TownPaths): no rig may be named like one, in any case
/// (macOS file systems ignore case), or its directories would land inside gt's layout.
inline constexpr std::string_view k_reserved_rig_names[] = {"mayor", "daemon", "agents", "mail",
                                                            "deacon"};

/// Validates a rig, polecat or crew name (design §1): `^[A-Za-z0-9][A-Za-z0-9_]{0,39}$`; a rig name
/// must not be one of k_reserved_rig_names (compared case-insensitively), a polecat name not
/// `witness`, `refinery` or `crew`. `what` ("rig", "polecat", "crew") goes into the message.
/// Every way a rig name comes in (gt rig add, identities, the agents/ walk, rigs.json, lifecycle
/// requests) goes through here.
util::Status validate_name(std::string_view what, std::string_view name);

/// A parsed, normalised identity (design §1).
struct Identity {
    Role role = Role::deacon;
    std::string rig;  ///< empty for deacon and mayor
    std::string name; ///< polecat or crew name, else empty

    /// Canonical form: `deacon`, `mayor`, `gastown/witness`, `gastown/polecats/nux`, …
    std::string str() const;
    /// tmux session name: `gt-deacon`, `gt-gastown-witness`, `gt-gastown-nux`, …
    std::string session() const;
    /// Agent state file relative to the town root: `agents/gastown/witness.json`.
    std::string state_file() const;
    /// Mailbox directory relative to the town root: `mail/gastown/witness`.
    std::string mailbox() const;
    /// The mail address of the rig's witness (for notifications about this agent).
    std::string witness() const { return rig + "/witness"; }

    bool operator==(const Identity&) const = default;
};

/// Parses an identity in either form (`gastown/witness`, `gastown-witness`, `mayor/`,
/// `gastown/polecats/nux`, `gastown-polecat-nux`). Every name is validated; anything hostile
/// (`../x`, `a;b`, `$(id)`) is an error.
util::Result<Identity> parse_identity(std::string_view text);

} // namespace gt::state
