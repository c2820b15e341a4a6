#include "town_settings.hpp"

#include "state/town.hpp"

namespace gt::daemon {

TownSettings::TownSettings(std::string town_root, state::TownConfig initial)
    : m_root(std::move(town_root)),
      m_config(std::make_shared<const state::TownConfig>(std::move(initial))) {
    // The rigs are known before the first pass: `notify` checks identities against them.
    if (auto rigs = state::load_rigs(m_root)) {
        for (const auto& r : *rigs) {
            m_rigs.push_back(r.name);
        }
    }
}

TownSettings::Problems TownSettings::reload() {
    std::lock_guard reading(m_reload_mutex);
    // Unchanged files are not parsed again: rigs.json of a town of 500 rigs costs 2 ms.
    const state::TownPaths paths(m_root);
    const auto now = std::chrono::time_point_cast<util::Millis>(std::chrono::system_clock::now());
    auto config = m_config_reads.get(paths.town_json(), true, now, [this](const std::string&) {
        return state::load_town_config(m_root);
    });
    auto rigs = m_rigs_reads.get(paths.rigs_json(), true, now,
                                 [this](const std::string&) { return state::load_rigs(m_root); });
    std::lock_guard lock(m_mutex);
    Problems problems;
    if (config) {
        m_config = std::make_shared<const state::TownConfig>(std::move(*config));
        m_config_error.clear();
    } else {
        problems.config_bad = true;
        if (config.error() != m_config_error) {
            m_config_error = config.error();
            problems.config = config.error();
        }
    }
    if (rigs) {
        m_rigs.clear();
        for (const auto& r : *rigs) {
            m_rigs.push_back(r.name);
        }
        m_rigs_loaded = true;
    } else {
        problems.rigs = rigs.error() + " (keeping the last good rig list)";
    }
    return problems;
}

std::shared_ptr<const state::TownConfig> TownSettings::config() const {
    std::lock_guard lock(m_mutex);
    return m_config;
}

std::vector<std::string> TownSettings::rigs() const {
    std::lock_guard lock(m_mutex);
    return m_rigs;
}

bool TownSettings::rigs_loaded() const {
    std::lock_guard lock(m_mutex);
    return m_rigs_loaded;
}

} // namespace gt::daemon
