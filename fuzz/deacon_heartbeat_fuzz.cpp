// deacon/heartbeat.json (design §5.3 step 3), written by the deacon, read at every heartbeat:
// never a crash, and an error always names the file.
#include "fuzz_support.hpp"
#include "state/agent_state.hpp"
#include "state/town.hpp"
#include "util/file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string root = [] {
        gt::fuzz::quiet_logs();
        std::string town = gt::fuzz::scratch_dir() + "/town";
        (void)gt::util::make_dirs(town + "/deacon", 0700);
        return town;
    }();
    const std::string path = gt::state::TownPaths(root).deacon_heartbeat();
    gt::fuzz::write_text(path, gt::fuzz::text_of(data, size));
    auto beat = gt::state::read_deacon_heartbeat(root);
    if (!beat) {
        GT_FUZZ_CHECK(beat.error().find(path) != std::string::npos, beat.error());
        return 0;
    }
    GT_FUZZ_CHECK(beat->healthy_agents >= 0 && beat->unhealthy_agents >= 0 && beat->cycle >= 0,
                  std::string(gt::fuzz::text_of(data, size)));
    return 0;
}
