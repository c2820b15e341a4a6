// daemon/state.json (design §3), which `gt daemon status` reads: never a crash; what is read is
// written back as text that reads as the same state.
#include "fuzz_support.hpp"
#include "state/daemon_state.hpp"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string dir = (gt::fuzz::quiet_logs(), gt::fuzz::scratch_dir());
    const std::string path = dir + "/state.json";
    gt::fuzz::write_text(path, gt::fuzz::text_of(data, size));
    auto read = gt::state::read_daemon_state(path);
    if (!read) {
        GT_FUZZ_CHECK(read.error().find(path) != std::string::npos, read.error());
        return 0;
    }
    const std::string first = gt::state::daemon_state_json(*read).dump();
    auto written = gt::state::write_daemon_state(path, *read);
    GT_FUZZ_CHECK(written.ok(), written.error());
    auto again = gt::state::read_daemon_state(path);
    GT_FUZZ_CHECK(again.ok(), again.error() + "\n" + first);
    GT_FUZZ_CHECK(gt::state::daemon_state_json(*again).dump() == first, first);
    return 0;
}
