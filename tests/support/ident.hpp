#pragma once

#include "state/names.hpp"

#include <string>

namespace gt::test {

/// The identity named by `text`. Precondition: a valid identity.
inline state::Identity ident(const std::string& text) {
    return *state::parse_identity(text);
}

} // namespace gt::test
