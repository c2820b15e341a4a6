#include "polecat.hpp"

#include "agent_state.hpp"
#include "names.hpp"
#include "town.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

namespace gt::state {

namespace {

util::Status check_rig_listed(const std::string& town_root, const std::string& rig) {
    auto rigs = load_rigs(town_root);
    if (!rigs) {
        return util::Error{rigs.error(), rigs.error_code()};
    }
    bool listed =
        std::any_of(rigs->begin(), rigs->end(), [&](const RigEntry& r) { return r.name == rig; });
    if (!listed) {
        return util::err("no rig named '" + rig + "' in mayor/rigs.json (add it with 'gt rig add " +
                         rig + "')");
    }
    return {};
}

util::Status write_initial_state(const std::string& town_root, const Identity& id,
                                 const std::string& hook) {
    auto written = update_agent_state(town_root, id, [&](const std::optional<AgentState>&) {
        AgentState s;
        s.status = AgentStatus::idle;
        s.raw_state = status_name(s.status);
        s.hook = hook;
        s.updated_at = util::now();
        return std::optional<AgentState>(std::move(s));
    });
    if (!written) {
        return util::Error{written.error(), written.error_code()};
    }
    return {};
}

} // namespace

util::Status add_polecat(const std::string& town_root, const std::string& rig,
                         const std::string& name, const std::string& hook) {
    if (auto st = validate_name("rig", rig); !st) {
        return st;
    }
    if (auto st = validate_name("polecat", name); !st) {
        return st;
    }
    if (auto st = check_rig_listed(town_root, rig); !st) {
        return st;
    }
    std::string parent = TownPaths(town_root).rig_dir(rig) + "/polecats";
    if (auto st = util::make_dirs(parent, 0755); !st) {
        return st;
    }
    std::string dir = parent + "/" + name;
    if (::mkdir(dir.c_str(), 0755) != 0) {
        int e = errno;
        if (e == EEXIST) {
            return util::err("polecat '" + rig + "/" + name + "' already exists", e);
        }
        return util::err("cannot create directory " + dir + ": " + util::errno_text(e), e);
    }
    auto st = write_initial_state(town_root, Identity{Role::polecat, rig, name}, hook);
    if (!st) {
        ::rmdir(dir.c_str());
    }
    return st;
}

} // namespace gt::state
