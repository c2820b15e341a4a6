#pragma once

#include "util/result.hpp"
#include "util/time.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace gt::daemon {

/// The control socket's path for a town (§7): `daemon/daemon.sock`, or, when that does not fit
/// in `sun_path`, `$XDG_RUNTIME_DIR/gt-<hash>.sock` (else `/tmp/gt-<uid>/gt-<hash>.sock`) where
/// the hash is of the town path.
std::string control_socket_path(const std::string& town);

/// The largest line either side sends (§7).
inline constexpr std::size_t k_max_control_line = 64 * 1024;

/// Sends one request line and reads one reply line, all within `timeout`. Fails (with the
/// reason) when nobody listens, nothing answers in time, or the reply is not a JSON object.
util::Result<nlohmann::json> control_request(const std::string& town, const nlohmann::json& request,
                                             util::Millis timeout);

} // namespace gt::daemon
