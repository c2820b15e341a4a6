// agents/<identity>.json (design §4): never a crash; what is read is written back (as the
// daemon does when it marks an agent) as text that reads as the same state.
#include "fuzz_support.hpp"
#include "state/agent_state.hpp"

using gt::state::AgentState;
using gt::state::AgentStatus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string dir = (gt::fuzz::quiet_logs(), gt::fuzz::scratch_dir());
    const std::string path = dir + "/agent.json";
    gt::fuzz::write_text(path, gt::fuzz::text_of(data, size));
    auto read = gt::state::read_agent_state(path);
    if (!read) {
        GT_FUZZ_CHECK(read.error().rfind(path, 0) == 0, read.error());
        return 0;
    }
    const AgentState& s = *read;
    GT_FUZZ_CHECK(s.status == gt::state::parse_status(s.raw_state), s.raw_state);
    std::string text = gt::state::agent_state_json(s);
    gt::fuzz::write_text(path, text);
    auto again = gt::state::read_agent_state(path);
    GT_FUZZ_CHECK(again.ok(), again.error() + "\n" + text);
    const AgentState& t = *again;
    GT_FUZZ_CHECK(t.identity == s.identity && t.status == s.status && t.hook == s.hook &&
                      t.updated_at == s.updated_at && t.note == s.note &&
                      t.previous_state == s.previous_state &&
                      t.marked_dead_at == s.marked_dead_at &&
                      t.started_by_daemon_at == s.started_by_daemon_at,
                  text);
    GT_FUZZ_CHECK(s.status != AgentStatus::unknown || s.raw_state.empty() ||
                      t.raw_state == s.raw_state,
                  text);
    return 0;
}
