#include "demo.hpp"

#include "json_file.hpp"
#include "polecat.hpp"
#include "town.hpp"

#include <nlohmann/json.hpp>

namespace gt::state {

using nlohmann::json;

namespace {

/// Rewrites the town.json that init_town wrote with the demo's commands and timings.
util::Status write_demo_config(const std::string& root, const std::string& gt_binary) {
    std::string path = TownPaths(root).town_json();
    auto doc = read_json(path);
    if (!doc) {
        return util::Error{doc.error()};
    }
    if (!doc->is_object()) {
        return util::err(path + ": expected a JSON object");
    }
    json command = json::array({gt_binary, "agent", "simulate", "--report-every", "5s"});
    json& daemon = (*doc)["daemon"];
    daemon["heartbeat_interval"] = "5s";
    daemon["start_grace"] = "20s";
    daemon["dead_agent_timeout"] = "1m";
    daemon["gupp_timeout"] = "2m";
    daemon["deacon_stale"] = "1m";
    daemon["deacon_kill"] = "2m";
    daemon["restart"]["initial_backoff"] = "2s";
    (*doc)["agent"]["command"] = command;
    json roles = json::object();
    for (const char* role : {"deacon", "mayor", "witness", "refinery", "polecat"}) {
        roles[role] = {{"enabled", std::string(role) != "mayor"}, {"command", command}};
    }
    (*doc)["roles"] = roles;
    return write_json(path, *doc);
}

} // namespace

util::Status init_demo_town(const std::string& dir, const std::string& name,
                            const std::string& gt_binary) {
    if (auto st = init_town(dir, name); !st) {
        return st;
    }
    if (auto st = add_rig(dir, "demo"); !st) {
        return st;
    }
    if (auto st = write_demo_config(dir, gt_binary); !st) {
        return st;
    }
    if (auto st = add_polecat(dir, "demo", "nux", "demo-task-1"); !st) {
        return st;
    }
    return add_polecat(dir, "demo", "slit", "demo-task-2");
}

} // namespace gt::state
