// One control-socket line (design §7): never a crash; a line is a JSON object or the error
// `not a JSON object`; a notify's identity is valid and its numbers in their ranges, else the
// error names the key; and every reply the daemon builds from the request can be sent.
#include "daemon/control_request.hpp"
#include "fuzz_support.hpp"

using nlohmann::json;

namespace {

/// What the server does with a reply: dump it, never throwing.
void check_sendable(const json& reply) {
    std::string line = reply.dump(-1, ' ', false, json::error_handler_t::replace);
    GT_FUZZ_CHECK(line.find('\n') == std::string::npos, line);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto request = gt::daemon::parse_control_line(gt::fuzz::text_of(data, size));
    if (!request) {
        GT_FUZZ_CHECK(request.error() == "not a JSON object", request.error());
        return 0;
    }
    GT_FUZZ_CHECK(request->is_object(), request->type_name());
    std::string cmd = gt::daemon::control_command(*request);
    check_sendable({{"ok", false}, {"error", "unknown command '" + cmd + "'"}});
    auto id = gt::daemon::control_identity(*request);
    if (!id) {
        check_sendable({{"ok", false}, {"error", id.error()}});
    } else {
        auto again = gt::state::parse_identity(id->str());
        GT_FUZZ_CHECK(again.ok() && *again == *id, id->str());
    }
    auto numbers = gt::daemon::notify_numbers(*request);
    if (!numbers) {
        bool named = false;
        for (const auto& field : gt::state::k_notify_numbers) {
            named = named || numbers.error() == std::string(field.key) + ": " + field.expected();
        }
        GT_FUZZ_CHECK(named, numbers.error());
        return 0;
    }
    for (std::size_t i = 0; i < numbers->size(); ++i) {
        const auto& field = gt::state::k_notify_numbers[i];
        const auto& n = (*numbers)[i];
        GT_FUZZ_CHECK(n.has_value() == request->contains(field.key), field.key);
        GT_FUZZ_CHECK(!n || field.contains(*n), field.key);
        if (n) {
            const json& v = (*request)[field.key];
            GT_FUZZ_CHECK(v.is_number_integer() && v == *n, v.dump());
        }
    }
    return 0;
}
