#include "town.hpp"

#include "config.hpp"
#include "json_fields.hpp"
#include "json_file.hpp"
#include "names.hpp"
#include "util/file.hpp"
#include "util/time.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace gt::state {

using nlohmann::json;

namespace {

std::string absolute(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf)) {
        return buf;
    }
    if (!path.empty() && path[0] == '/') {
        return path;
    }
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd)) {
        return std::string(cwd) + "/" + path;
    }
    return path;
}

bool is_town(const std::string& dir) {
    return util::path_exists(TownPaths(dir).town_json());
}

} // namespace

util::Result<std::string> find_town(const std::optional<std::string>& flag) {
    if (flag && !flag->empty()) {
        std::string dir = absolute(*flag);
        if (!is_town(dir)) {
            return util::err("not in a Gas Town workspace: " + dir +
                             " has no mayor/town.json (create one with 'gt init')");
        }
        return dir;
    }
    if (const char* env = std::getenv("GT_TOWN_ROOT"); env && *env) {
        std::string dir = absolute(env);
        if (!is_town(dir)) {
            return util::err("not in a Gas Town workspace: GT_TOWN_ROOT=" + dir +
                             " has no mayor/town.json");
        }
        return dir;
    }
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) {
        return util::err("not in a Gas Town workspace: cannot read the working directory");
    }
    std::string dir = cwd;
    for (;;) {
        if (is_town(dir)) {
            return dir;
        }
        if (dir == "/" || dir.empty()) {
            break;
        }
        dir = util::dir_name(dir);
    }
    return util::err(std::string("not in a Gas Town workspace: no mayor/town.json in ") + cwd +
                     " or above (use --town DIR, GT_TOWN_ROOT, or 'gt init')");
}

util::Status init_town(const std::string& dir_in, const std::string& name_in) {
    if (auto st = util::make_dirs(dir_in, 0755); !st) {
        return st;
    }
    std::string dir = absolute(dir_in);
    TownPaths p(dir);
    if (is_town(dir)) {
        return util::err("refusing to overwrite the existing town at " + dir);
    }
    std::string name = name_in;
    if (name.empty()) {
        auto slash = dir.rfind('/');
        name = slash == std::string::npos ? dir : dir.substr(slash + 1);
        if (name.empty()) {
            name = "town";
        }
    }
    for (const auto& d : {p.mayor_dir(), p.agents_dir(), p.mail_dir(), p.deacon_dir()}) {
        if (auto st = util::make_dirs(d, 0755); !st) {
            return st;
        }
    }
    if (auto st = util::make_dirs(p.daemon_dir(), 0700, true); !st) {
        return st;
    }
    if (auto st = util::make_dirs(p.requests_dir(), 0700, true); !st) {
        return st;
    }
    json rigs = {{"version", 1}, {"rigs", json::object()}};
    if (auto st = write_json(p.rigs_json(), rigs); !st) {
        return st;
    }
    // town.json last: it is the marker, so a half-made town is not taken for a town.
    return util::write_file_atomic(p.town_json(), default_town_json(name), 0600);
}

namespace {

util::Result<json> read_rigs_doc(const TownPaths& p) {
    auto text = util::read_file(p.rigs_json());
    if (!text) {
        if (text.error_code() == ENOENT) {
            return json{{"version", 1}, {"rigs", json::object()}};
        }
        return util::Error{text.error(), text.error_code()};
    }
    auto doc = parse_json(*text, p.rigs_json(), DuplicateKeys::reject);
    if (!doc) {
        return doc;
    }
    if (!doc->is_object() || (doc->contains("rigs") && !(*doc)["rigs"].is_object())) {
        return util::err(p.rigs_json() + ": expected {\"version\":1,\"rigs\":{...}}");
    }
    if (!doc->contains("rigs")) {
        (*doc)["rigs"] = json::object();
    }
    return doc;
}

} // namespace

util::Result<std::vector<RigEntry>> load_rigs(const std::string& town_root) {
    TownPaths p(town_root);
    auto doc = read_rigs_doc(p);
    if (!doc) {
        return util::Error{doc.error(), doc.error_code()};
    }
    std::vector<RigEntry> rigs;
    for (const auto& [name, value] : (*doc)["rigs"].items()) {
        if (auto st = validate_name("rig", name); !st) {
            spdlog::warn("{}: skipping rig: {}", p.rigs_json(), st.error());
            continue;
        }
        RigEntry e{name, "", ""};
        if (value.is_object()) {
            FieldReader in(p.rigs_json(), value, {.lenient = true});
            in.string("git_url", e.git_url);
            in.string("added_at", e.added_at);
        }
        rigs.push_back(std::move(e));
    }
    return rigs;
}

util::Status add_rig(const std::string& town_root, const std::string& name) {
    if (auto st = validate_name("rig", name); !st) {
        return st;
    }
    TownPaths p(town_root);
    auto doc = read_rigs_doc(p);
    if (!doc) {
        return util::Error{doc.error(), doc.error_code()};
    }
    if ((*doc)["rigs"].contains(name)) {
        return util::err("rig '" + name + "' already exists");
    }
    std::string base = p.rig_dir(name);
    for (const auto& d :
         {base + "/witness", base + "/refinery/rig", base + "/crew", base + "/polecats"}) {
        if (auto st = util::make_dirs(d, 0755); !st) {
            return st;
        }
    }
    (*doc)["rigs"][name] = {{"git_url", ""}, {"added_at", util::format_time(util::now())}};
    return write_json(p.rigs_json(), *doc);
}

util::Status remove_rig(const std::string& town_root, const std::string& name) {
    if (auto st = validate_name("rig", name); !st) {
        return st;
    }
    TownPaths p(town_root);
    auto doc = read_rigs_doc(p);
    if (!doc) {
        return util::Error{doc.error(), doc.error_code()};
    }
    if (!(*doc)["rigs"].contains(name)) {
        return util::err("no rig named '" + name + "'");
    }
    (*doc)["rigs"].erase(name);
    return write_json(p.rigs_json(), *doc);
}

std::string workdir_for(const std::string& root, const Identity& id) {
    TownPaths p(root);
    switch (id.role) {
    case Role::deacon:
        return p.deacon_dir();
    case Role::mayor:
        return root;
    case Role::witness:
        return p.rig_dir(id.rig) + "/witness";
    case Role::refinery: {
        std::string dir = p.rig_dir(id.rig) + "/refinery/rig";
        return util::is_dir(dir) ? dir : p.rig_dir(id.rig);
    }
    case Role::crew:
        return p.rig_dir(id.rig) + "/crew/" + id.name;
    case Role::polecat:
        return p.rig_dir(id.rig) + "/polecats/" + id.name;
    }
    return root;
}

std::string not_of_town(const std::string& root, const TownConfig& config,
                        const std::vector<std::string>& rigs, const Identity& id) {
    if (!id.rig.empty() && std::find(rigs.begin(), rigs.end(), id.rig) == rigs.end()) {
        return "rig '" + id.rig + "' is not in mayor/rigs.json";
    }
    const char* role = role_name(id.role);
    if (!config.role_enabled(role)) {
        return std::string("role '") + role + "' is not enabled in mayor/town.json";
    }
    std::string dir = workdir_for(root, id);
    if (!util::is_dir(dir)) {
        return "its directory " + dir + " is missing";
    }
    return "";
}

} // namespace gt::state
