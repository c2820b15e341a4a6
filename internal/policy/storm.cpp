#include "storm.hpp"

#include <algorithm>

namespace gt::policy {

void StormState::shift(util::Millis by) {
    for (auto& [id, d] : dead) {
        d.at += by;
    }
    if (storm) {
        storm->since += by;
    }
    for (auto& t : starts) {
        t += by;
    }
}

int StormState::budget_left(util::TimePoint now, int budget, util::Millis window) const {
    auto used = std::count_if(starts.begin(), starts.end(),
                              [&](util::TimePoint t) { return t > now - window && t <= now; });
    return std::max(0, budget - static_cast<int>(used));
}

std::string common_cause(const std::vector<const Death*>& deaths) {
    if (deaths.empty()) {
        return "";
    }
    auto all = [&](auto same) { return std::all_of(deaths.begin(), deaths.end(), same); };
    if (all([](const Death* d) { return d->server_gone; })) {
        return "the tmux server is gone";
    }
    const Death& first = *deaths.front();
    if (!first.exit.empty() && all([&](const Death* d) { return d->exit == first.exit; })) {
        return "all ended with " + first.exit;
    }
    if (!first.screen.empty() && all([&](const Death* d) { return d->screen == first.screen; })) {
        return "all showed: " + first.screen;
    }
    return "";
}

int start_priority(const std::string& role) {
    static const char* order[] = {"deacon", "mayor", "witness", "refinery", "crew", "polecat"};
    for (int i = 0; i < 6; ++i) {
        if (role == order[i]) {
            return i;
        }
    }
    return 6;
}

} // namespace gt::policy
