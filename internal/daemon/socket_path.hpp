#pragma once

#include "util/sizes.hpp"

#include <cstddef>
#include <string>

namespace gt::daemon {

/// The control socket's path for a town (design §7): `daemon/daemon.sock`, or, when that does not
/// fit in `sun_path`, `$XDG_RUNTIME_DIR/gt-<hash>.sock` (else `/tmp/gt-<uid>/gt-<hash>.sock`) where
/// the hash is of the town path.
std::string control_socket_path(const std::string& town);

/// The largest line either side sends (design §7).
inline constexpr std::size_t k_max_control_line = util::k_small_read_size;

} // namespace gt::daemon
