// mayor/rigs.json (design §2): never a crash; every rig read has a valid name, once; and the
// file gt writes back when a rig is removed reads as the same rigs but that one.
#include "fuzz_support.hpp"
#include "state/town.hpp"
#include "util/file.hpp"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string town = [] {
        gt::fuzz::quiet_logs();
        std::string dir = gt::fuzz::scratch_dir() + "/town";
        gt::util::make_dirs(dir + "/mayor", 0700);
        return dir;
    }();
    gt::fuzz::write_text(town + "/mayor/rigs.json", gt::fuzz::text_of(data, size));
    auto rigs = gt::state::load_rigs(town);
    if (!rigs) {
        return 0;
    }
    std::vector<std::string> names;
    for (const auto& rig : *rigs) {
        GT_FUZZ_CHECK(gt::state::validate_name("rig", rig.name).ok(), rig.name);
        GT_FUZZ_CHECK(std::find(names.begin(), names.end(), rig.name) == names.end(), rig.name);
        names.push_back(rig.name);
    }
    if (names.empty()) {
        return 0;
    }
    auto removed = gt::state::remove_rig(town, names.front());
    GT_FUZZ_CHECK(removed.ok(), removed.error());
    auto after = gt::state::load_rigs(town);
    GT_FUZZ_CHECK(after.ok(), after.error());
    GT_FUZZ_CHECK(after->size() + 1 == rigs->size(), names.front());
    for (std::size_t i = 0; i < after->size(); ++i) {
        const auto& a = (*after)[i];
        const auto& b = (*rigs)[i + 1];
        GT_FUZZ_CHECK(a.name == b.name && a.git_url == b.git_url && a.added_at == b.added_at,
                      a.name);
    }
    return 0;
}
