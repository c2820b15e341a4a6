// The tmux snapshot (`list-panes -a -F ...`, design §5.5): any output parses without a crash
// or undefined behaviour; every pane kept is keyed by its session, and printed back in the
// same format it parses to the same snapshot.
#include "fuzz_support.hpp"
#include "tmux/tmux.hpp"

using gt::tmux::Pane;

namespace {

std::string line_of(const Pane& p, long server_pid) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(p.activity.time_since_epoch());
    return p.session + "\t" + std::to_string(p.index) + "\t" + std::to_string(p.pid) + "\t" +
           (p.dead ? "1" : "0") + "\t" + std::to_string(p.dead_status) + "\t" +
           std::to_string(p.dead_signal) + "\t" + std::to_string(seconds.count()) + "\t" +
           std::to_string(server_pid) + "\t" + p.owner + "\t" + p.command + "\n";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto snap = gt::tmux::parse_snapshot(std::string(gt::fuzz::text_of(data, size)));
    std::string printed;
    for (const auto& [name, pane] : snap.sessions) {
        GT_FUZZ_CHECK(!name.empty() && name == pane.session, name + " / " + pane.session);
        GT_FUZZ_CHECK(name.find('\n') == std::string::npos, name);
        GT_FUZZ_CHECK(pane.command.find('\n') == std::string::npos, pane.command);
        GT_FUZZ_CHECK(pane.owner.find_first_of("\t\n") == std::string::npos, pane.owner);
        GT_FUZZ_CHECK(pane.activity.time_since_epoch().count() >= 0, name);
        printed += line_of(pane, snap.server_pid);
    }
    auto again = gt::tmux::parse_snapshot(printed);
    GT_FUZZ_CHECK(again.sessions.size() == snap.sessions.size(), printed);
    GT_FUZZ_CHECK(snap.sessions.empty() || again.server_pid == snap.server_pid, printed);
    for (const auto& [name, pane] : snap.sessions) {
        auto it = again.sessions.find(name);
        GT_FUZZ_CHECK(it != again.sessions.end(), name);
        const Pane& p = it->second;
        GT_FUZZ_CHECK(p.index == pane.index && p.pid == pane.pid && p.dead == pane.dead &&
                          p.dead_status == pane.dead_status && p.dead_signal == pane.dead_signal &&
                          p.command == pane.command && p.activity == pane.activity &&
                          p.owner == pane.owner,
                      line_of(pane, snap.server_pid));
    }
    return 0;
}
