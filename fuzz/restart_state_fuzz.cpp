// daemon/restart_state.json (design §5.4), which the daemon reads at start: never a crash;
// what is read is written back as text that reads as the same records.
#include "fuzz_support.hpp"
#include "state/restart_state.hpp"

using gt::state::RestartRecord;

namespace {

bool same(const RestartRecord& a, const RestartRecord& b) {
    return a.last_restart == b.last_restart && a.restart_count == b.restart_count &&
           a.backoff_until == b.backoff_until && a.crash_loop_since == b.crash_loop_since &&
           a.recent == b.recent && a.last_exit_status == b.last_exit_status &&
           a.last_signal == b.last_signal && a.last_exit_reason == b.last_exit_reason &&
           a.cleared_at == b.cleared_at;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto records = gt::state::parse_restart_state(std::string(gt::fuzz::text_of(data, size)),
                                                  "restart_state.json");
    if (!records) {
        return 0;
    }
    std::string text = gt::state::restart_state_json(*records);
    auto again = gt::state::parse_restart_state(text, "restart_state.json");
    GT_FUZZ_CHECK(again.ok(), again.error() + "\n" + text);
    GT_FUZZ_CHECK(again->size() == records->size(), text);
    for (const auto& [id, r] : *records) {
        auto it = again->find(id);
        GT_FUZZ_CHECK(it != again->end() && same(it->second, r), id + "\n" + text);
    }
    return 0;
}
