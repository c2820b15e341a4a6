#include "requests.hpp"

#include <algorithm>
#include <map>

namespace gt::policy {

using state::LifecycleRequest;

std::pair<std::vector<LifecycleRequest>, std::vector<LifecycleRequest>>
plan_batch(std::vector<LifecycleRequest> requests) {
    std::stable_sort(requests.begin(), requests.end(), [](const auto& a, const auto& b) {
        return a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.file < b.file;
    });
    // Only the newest request says what the agent should end up as: running every one of a
    // flood of alternating restarts and cycles once replaced one agent 645 times in one pass.
    std::map<std::string, std::size_t> last;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        last[requests[i].from.str()] = i;
    }
    std::vector<LifecycleRequest> run, collapsed;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        bool wins = last.at(requests[i].from.str()) == i;
        (wins ? run : collapsed).push_back(std::move(requests[i]));
    }
    return {std::move(run), std::move(collapsed)};
}

} // namespace gt::policy
