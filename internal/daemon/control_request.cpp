#include "control_request.hpp"

#include "state/json_file.hpp"

namespace gt::daemon {

using nlohmann::json;

util::Result<json> parse_control_line(std::string_view line) {
    // As any file is read: no exceptions, and no nesting deeper than gt's files allow.
    auto request = state::parse_json(std::string(line), "control line");
    if (!request || !request->is_object()) {
        return util::err("not a JSON object");
    }
    return request;
}

std::string control_command(const json& request) {
    auto it = request.find("cmd");
    return it != request.end() && it->is_string() ? it->get<std::string>() : "";
}

util::Result<state::Identity> control_identity(const json& request) {
    auto it = request.find("identity");
    if (it == request.end() || !it->is_string()) {
        return util::err("identity: missing");
    }
    return state::parse_identity(it->get<std::string>());
}

util::Result<NotifyNumbers> notify_numbers(const json& request) {
    // Each number is optional (tmux prints nothing for what it does not know), and refused
    // when present but not an integer in its range.
    NotifyNumbers numbers;
    for (std::size_t i = 0; i < state::k_notify_numbers.size(); ++i) {
        const auto& field = state::k_notify_numbers[i];
        auto it = request.find(field.key);
        if (it == request.end()) {
            continue;
        }
        if (!it->is_number_integer() || !field.contains(it->get<long long>())) {
            return util::err(std::string(field.key) + ": " + field.expected());
        }
        numbers[i] = static_cast<long>(it->get<long long>());
    }
    return numbers;
}

} // namespace gt::daemon
