#pragma once
// Values that no layer between gt and a program may reinterpret, shared by the tmux tests.

#include <string>
#include <vector>

namespace gt::test {

/// Values no layer may reinterpret: quotes, `$`, command substitutions, tmux formats and
/// separators, spaces, a tab, a backslash, words that look like flags, an empty one.
inline const std::vector<std::string> k_hostile = {
    "it's",      "say \"hi\"", "$HOME", "$(id)",  "`id`",      "#{session_name}",
    "#(id)",     "##",         "a;b",   "a b  c", "tab\there", "back\\slash",
    "ends in ;", ";",          "-e",    "--",     "",
};

} // namespace gt::test
