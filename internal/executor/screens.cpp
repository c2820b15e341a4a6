#include "screens.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace gt::executor {

screen::ZoneLookup cached_zones() {
    struct Cache {
        std::mutex mutex;
        std::map<std::string, std::optional<util::TimeZone>, std::less<>> zones;
    };
    auto cache = std::make_shared<Cache>();
    return [cache](std::string_view name) -> std::optional<util::TimeZone> {
        std::lock_guard lock(cache->mutex);
        if (auto it = cache->zones.find(name); it != cache->zones.end()) {
            return it->second;
        }
        std::optional<util::TimeZone> zone;
        if (auto loaded = util::TimeZone::load(name)) {
            zone = *loaded;
        }
        if (cache->zones.size() < 64) { // an agent cannot make us keep every name it prints
            cache->zones.emplace(std::string(name), zone);
        }
        return zone;
    };
}

ScreenLook look_at_screens(policy::TickInput& in, const state::TownConfig& config,
                           const tmux::TmuxClient& tmux, policy::ScreenWatch& watch,
                           const screen::ReadContext& ctx) {
    ScreenLook out;
    if (!in.snapshot) {
        return out; // tmux unusable: what was known stands
    }
    const state::ScreenConfig& cfg = config.daemon.screens;
    std::map<std::string, policy::PaneSeen> panes; // by identity
    std::vector<std::string> to_capture;           // sessions
    std::set<std::string> dead;                    // sessions whose pane is dead
    std::set<std::string> present;
    for (const auto& [key, f] : in.agents) {
        auto it = in.snapshot->sessions.find(f.id.session());
        if (it == in.snapshot->sessions.end()) {
            continue;
        }
        const tmux::Pane& p = it->second;
        policy::PaneSeen seen{p.pid, p.dead || p.process_gone, p.activity};
        panes[key] = seen;
        present.insert(key);
        if (watch.needs_capture(key, seen, ctx.now, cfg)) {
            to_capture.push_back(f.id.session());
            if (p.dead) {
                dead.insert(f.id.session());
            }
        }
    }
    watch.keep_only(present);
    std::map<std::string, std::string> screens;
    if (!to_capture.empty()) {
        if (auto captured = tmux.capture(to_capture, dead)) {
            screens = std::move(*captured);
        } else {
            out.error = captured.error();
        }
    }
    out.captured = screens.size();
    for (auto& [key, f] : in.agents) {
        auto pane = panes.find(key);
        if (pane == panes.end()) {
            continue;
        }
        std::optional<std::string> text;
        if (auto s = screens.find(f.id.session()); s != screens.end()) {
            text = std::move(s->second);
        }
        auto kind = config.kind_for(state::role_name(f.id.role));
        auto change = watch.observe(key, pane->second, text, cfg.matcher(), kind, ctx, cfg);
        if (change.condition_changed || change.resumed) {
            out.changes.emplace_back(key, change);
        }
        f.screen = *watch.find(key);
    }
    return out;
}

} // namespace gt::executor
