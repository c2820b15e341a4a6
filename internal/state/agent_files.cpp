// list_agent_files: the walk of agents/ (declared in agent_state.hpp).
#include "agent_state.hpp"

#include "town.hpp"
#include "util/file.hpp"

#include <cerrno>

namespace gt::state {

namespace {

using Type = util::DirEntry::Type;

/// Collects what one walk finds and what it skips.
class AgentWalk {
public:
    AgentWalk(std::vector<AgentFile>& found, std::vector<std::string>* skipped,
              std::vector<std::string>* not_files, DirListings* listings)
        : m_found(found), m_skipped(skipped), m_not_files(not_files ? not_files : skipped),
          m_listings(listings) {}

    void top(const std::string& dir);

private:
    void rig(const std::string& dir, const std::string& rig);
    void members(const std::string& dir, const std::string& rig, Role role);
    /// Entries to pass over silently: lock files (each agent's `<name>.json.lock`, and the
    /// `.lock` that older versions shared) and in-flight temp files.
    static bool ignored(const util::DirEntry& e) {
        bool lock = e.name == ".lock" || e.name.ends_with(".json.lock");
        return (lock && e.type == Type::file) || e.name.find(".tmp.") != std::string::npos;
    }
    void skip(const std::string& path, const std::string& why) {
        if (m_skipped) {
            m_skipped->push_back(path + ": " + why);
        }
    }
    /// An identity's state file: found when it is a regular file, else named as a bad file.
    void add(const util::DirEntry& e, const std::string& path, Identity id) {
        if (e.type == Type::file) {
            m_found.push_back({std::move(id), path});
        } else if (m_not_files) {
            m_not_files->push_back(path + ": not a regular file (" +
                                   util::describe_file_type(path) + ")");
        }
    }
    std::optional<std::vector<util::DirEntry>> entries(const std::string& dir);

    std::vector<AgentFile>& m_found;
    std::vector<std::string>* m_skipped;
    std::vector<std::string>* m_not_files;
    DirListings* m_listings;
    /// The real wall clock: directory times come from it (util::stamp_settled()).
    util::TimePoint m_now =
        std::chrono::time_point_cast<util::Millis>(std::chrono::system_clock::now());
};

std::optional<std::vector<util::DirEntry>> AgentWalk::entries(const std::string& dir) {
    auto list =
        m_listings ? m_listings->get(dir, false, m_now, util::list_dir) : util::list_dir(dir);
    if (!list) {
        if (list.error_code() != ENOENT) {
            skip(dir, list.error());
        }
        return std::nullopt;
    }
    return std::move(*list);
}

void AgentWalk::top(const std::string& dir) {
    auto list = entries(dir);
    for (const auto& e : list.value_or(std::vector<util::DirEntry>{})) {
        std::string path = dir + "/" + e.name;
        if (ignored(e)) {
            continue;
        }
        if (e.name == "deacon.json" || e.name == "mayor.json") {
            add(e, path, Identity{e.name == "deacon.json" ? Role::deacon : Role::mayor, "", ""});
        } else if (e.type != Type::dir) {
            skip(path, e.type == Type::symlink ? "a symlink" : "not an agent state file");
        } else if (auto st = validate_name("rig", e.name); !st) {
            skip(path, st.error());
        } else {
            rig(path, e.name);
        }
    }
}

void AgentWalk::rig(const std::string& dir, const std::string& rig_name) {
    auto list = entries(dir);
    for (const auto& e : list.value_or(std::vector<util::DirEntry>{})) {
        std::string path = dir + "/" + e.name;
        if (ignored(e)) {
            continue;
        }
        if (e.name == "witness.json" || e.name == "refinery.json") {
            add(e, path,
                Identity{e.name == "witness.json" ? Role::witness : Role::refinery, rig_name, ""});
        } else if (e.type == Type::dir && (e.name == "polecats" || e.name == "crew")) {
            members(path, rig_name, e.name == "crew" ? Role::crew : Role::polecat);
        } else {
            skip(path, e.type == Type::symlink ? "a symlink" : "not an agent state file");
        }
    }
}

void AgentWalk::members(const std::string& dir, const std::string& rig_name, Role role) {
    auto list = entries(dir);
    const char* what = role == Role::crew ? "crew" : "polecat";
    for (const auto& e : list.value_or(std::vector<util::DirEntry>{})) {
        std::string path = dir + "/" + e.name;
        if (ignored(e)) {
            continue;
        }
        constexpr std::string_view ext = ".json";
        bool json = e.name.size() > ext.size() && e.name.ends_with(ext);
        if (!json) {
            skip(path, e.type == Type::symlink ? "a symlink" : "not an agent state file");
            continue;
        }
        std::string name = e.name.substr(0, e.name.size() - ext.size());
        if (auto st = validate_name(what, name); !st) {
            skip(path, st.error());
            continue;
        }
        add(e, path, Identity{role, rig_name, name});
    }
}

} // namespace

std::vector<AgentFile> list_agent_files(const std::string& town_root,
                                        std::vector<std::string>* skipped,
                                        std::vector<std::string>* not_files,
                                        DirListings* listings) {
    std::vector<AgentFile> found;
    AgentWalk(found, skipped, not_files, listings).top(TownPaths(town_root).agents_dir());
    if (listings) {
        listings->sweep();
    }
    return found;
}

} // namespace gt::state
