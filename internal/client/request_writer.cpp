#include "request_writer.hpp"

#include "state/json_file.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <unistd.h>

namespace gt::client {

using state::LifecycleAction;
using state::LifecycleRequest;

namespace {

std::string compact_time(util::TimePoint t) {
    std::string s = util::format_time(t); // 2026-11-22T10:00:00.123Z
    s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == '-' || c == ':'; }),
            s.end());
    return s; // 20261122T100000.123Z
}

} // namespace

util::Result<LifecycleRequest> write_request(const std::string& dir, const state::Identity& from,
                                             LifecycleAction action) {
    thread_local std::mt19937 rng{std::random_device{}()};
    LifecycleRequest r;
    r.from = from;
    r.action = action;
    r.timestamp = util::now();
    char rand[9];
    std::snprintf(rand, sizeof rand, "%08x", static_cast<unsigned>(rng()));
    r.id = compact_time(r.timestamp) + "-" + std::to_string(::getpid()) + "-" + rand;
    r.file = dir + "/" + r.id + ".json";
    nlohmann::json j = {{"id", r.id},
                        {"from", from.str()},
                        {"action", state::lifecycle_action_name(action)},
                        {"timestamp", util::format_time(r.timestamp)}};
    if (auto st = state::write_json(r.file, j); !st) {
        return util::err(st.error());
    }
    return r;
}

} // namespace gt::client
