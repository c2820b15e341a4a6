// A lifecycle request (design §6): never a crash; what is accepted names a valid identity,
// keeps an id of at most 128 bytes that JSON can carry, and written as `gt lifecycle` writes
// it, parses to the same request.
#include "fuzz_support.hpp"
#include "state/lifecycle_request.hpp"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto r = gt::state::parse_request(std::string(gt::fuzz::text_of(data, size)));
    if (!r) {
        return 0;
    }
    std::string from = r->from.str();
    auto who = gt::state::parse_identity(from);
    GT_FUZZ_CHECK(who.ok() && *who == r->from, from);
    GT_FUZZ_CHECK(r->id.size() <= 128, r->id);
    // The id goes into events, logs and replies as JSON.
    GT_FUZZ_CHECK(gt::fuzz::valid_utf8(r->id), r->id);
    nlohmann::json j = {{"id", r->id},
                        {"from", from},
                        {"action", gt::state::lifecycle_action_name(r->action)},
                        {"timestamp", gt::util::format_time(r->timestamp)}};
    std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    auto again = gt::state::parse_request(text);
    GT_FUZZ_CHECK(again.ok(), again.error() + "\n" + text);
    GT_FUZZ_CHECK(again->id == r->id && again->from == r->from && again->action == r->action &&
                      again->timestamp == r->timestamp,
                  text);
    return 0;
}
