#pragma once
// What one control-socket line asks (design §7), read apart from the server and the daemon:
// pure, so that it can be tested and fuzzed alone.

#include "state/names.hpp"
#include "state/notify.hpp"
#include "util/result.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gt::daemon {

/// Parses one request line (without its newline): a JSON object, else the error
/// `not a JSON object`.
util::Result<nlohmann::json> parse_control_line(std::string_view line);

/// The request's `cmd`; "" when it is missing or not a string.
std::string control_command(const nlohmann::json& request);

/// The parsed `identity` of a `notify` or `clear-backoff` request; the error is what the reply
/// says (`identity: missing`, or why the text is no identity).
util::Result<state::Identity> control_identity(const nlohmann::json& request);

/// The numbers of a `notify` request, in the order of state::k_notify_numbers; nullopt when
/// absent.
using NotifyNumbers = std::array<std::optional<long>, state::k_notify_numbers.size()>;

/// Reads the numbers of a `notify` request. One that is present but not an integer in its range
/// is an error naming its key: `exit_code: expected an integer from 0 to 255`.
util::Result<NotifyNumbers> notify_numbers(const nlohmann::json& request);

} // namespace gt::daemon
