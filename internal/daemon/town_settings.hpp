#pragma once

#include "state/config.hpp"
#include "state/town.hpp"
#include "util/stamped_cache.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gt::daemon {

/// The one source of the daemon's current configuration: the last good town.json and rig list
/// (design §5.2, design §8). Every heartbeat reloads it (on the pool), SIGHUP too (on the loop);
/// both threads read it. A bad new file never replaces a good one. Thread-safe.
class TownSettings {
public:
    TownSettings(std::string town_root, state::TownConfig initial);

    /// What a reload found wrong.
    struct Problems {
        /// town.json is bad (the last good one is kept); set only when the problem differs
        /// from the last one reported, so that it is logged once.
        std::optional<std::string> config;
        /// town.json is bad this time (counted in bad_files at every reload, logged once).
        bool config_bad = false;
        /// rigs.json is bad this time (the last good list is kept).
        std::optional<std::string> rigs;
    };
    /// Re-reads town.json and rigs.json (a file whose stamp has not changed since it was last
    /// read is not read again).
    Problems reload();

    std::shared_ptr<const state::TownConfig> config() const;
    std::vector<std::string> rigs() const;
    /// rigs.json has been read successfully at least once.
    bool rigs_loaded() const;

private:
    std::string m_root;
    std::mutex m_reload_mutex; ///< one reload at a time (the caches below)
    util::StampedCache<state::TownConfig> m_config_reads;
    util::StampedCache<std::vector<state::RigEntry>> m_rigs_reads;
    mutable std::mutex m_mutex;
    std::shared_ptr<const state::TownConfig> m_config;
    std::vector<std::string> m_rigs;
    bool m_rigs_loaded = false;
    std::string m_config_error; ///< the last town.json problem reported, "" when good
};

} // namespace gt::daemon
