#pragma once

#include "util/result.hpp"
#include "util/time.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace gt::client {

/// Sends one request line and reads one reply line, all within `timeout`. Fails (with the
/// reason) when nobody listens, nothing answers in time, or the reply is not a JSON object.
util::Result<nlohmann::json> control_request(const std::string& town, const nlohmann::json& request,
                                             util::Millis timeout);

} // namespace gt::client
