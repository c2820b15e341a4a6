#pragma once
// What `gt --version` says: the release and the commit it was built from.

#include <string>

namespace gt::cli {

/// "gt 0.1.0 (commit 1dafe32ab12c)": `-dirty` after the commit when the tree had uncommitted
/// changes at build time, `unknown` in place of it when built outside a git checkout.
std::string version_line();

} // namespace gt::cli
