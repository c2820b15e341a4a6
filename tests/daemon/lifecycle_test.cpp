#include "daemon/lifecycle.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include "support/fixed_time.hpp"
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

using namespace gt;
using namespace gt::daemon;
using gt::test::t0;
using namespace std::chrono_literals;

namespace {

std::string request(const std::string& from, const std::string& action,
                    const std::string& ts = "2026-11-22T10:00:00Z") {
    return R"({"id":"x","from":")" + from + R"(","action":")" + action + R"(","timestamp":")" + ts +
           "\"}";
}

LifecycleRequest req(const std::string& from, LifecycleAction a, util::TimePoint ts,
                     const std::string& file) {
    LifecycleRequest r;
    r.from = *state::parse_identity(from);
    r.action = a;
    r.timestamp = ts;
    r.file = file;
    return r;
}

void put(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

} // namespace

TEST(LifecycleRequest, ParsesBothIdentityFormsAndRefusesGarbage) {
    auto r = parse_request(request("gastown-witness", "restart"));
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->from.str(), "gastown/witness");
    EXPECT_EQ(r->action, LifecycleAction::restart);
    EXPECT_EQ(r->timestamp, t0());
    EXPECT_EQ(parse_request(request("mayor/", "shutdown"))->from.str(), "mayor");
    EXPECT_EQ(parse_request(request("deacon", "cycle"))->action, LifecycleAction::cycle);

    EXPECT_EQ(parse_request("not json").error(), "not JSON");
    EXPECT_EQ(parse_request("[1,2]").error(), "not a JSON object (array)");
    EXPECT_NE(parse_request(request("deacon", "explode")).error().find("unknown action"),
              std::string::npos);
    for (const char* bad : {"../../etc", "a;b", "$(id)/witness", ""}) {
        auto e = parse_request(request(bad, "restart"));
        ASSERT_FALSE(e) << bad;
        EXPECT_EQ(e.error().rfind("from: ", 0), 0u) << e.error();
    }
    EXPECT_FALSE(parse_request(request("deacon", "restart", "yesterday")));
    EXPECT_FALSE(parse_request(R"({"from":"deacon","action":"restart"})"));
    EXPECT_FALSE(
        parse_request(R"({"from":7,"action":"restart","timestamp":"2026-11-22T10:00:00Z"})"));
}

TEST(LifecycleRequest, BatchRunsInTimestampOrderAndCollapsesRepeats) {
    auto [run, collapsed] = plan_batch({
        req("g/witness", LifecycleAction::restart, t0() + 3s, "c"),
        req("g/witness", LifecycleAction::restart, t0() + 1s, "a"),
        req("deacon", LifecycleAction::shutdown, t0() + 2s, "b"),
        req("g/witness", LifecycleAction::shutdown, t0() + 4s, "d"),
        req("g/witness", LifecycleAction::cycle, t0() + 5s, "e"),
        req("g/witness", LifecycleAction::cycle, t0() + 5s, "f"),
    });
    std::vector<std::string> order;
    for (auto& r : run) {
        order.push_back(r.file);
    }
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "d", "e"}));
    std::vector<std::string> dups;
    for (auto& r : collapsed) {
        dups.push_back(r.file);
    }
    EXPECT_EQ(dups, (std::vector<std::string>{"c", "f"}));
}

TEST(LifecycleInbox, ClaimsValidRejectsHostileDropsExpiredAndAdoptsLeftovers) {
    test::TempDir dir("gt-inbox");
    std::string in = dir.path() + "/requests";
    ASSERT_TRUE(util::make_dirs(in + "/claimed", 0700));
    put(in + "/1-good.json", request("g/witness", "restart", util::format_time(t0())));
    put(in + "/2-notjson.json", "{{{");
    put(in + "/3-array.json", "[1]");
    put(in + "/4-action.json", request("g/witness", "explode"));
    put(in + "/5-etc.json", request("../../etc", "restart"));
    put(in + "/6-semi.json", request("a;b", "restart"));
    put(in + "/7-id.json", request("$(id)/witness", "restart"));
    put(in + "/8-big.json", std::string(1024 * 1024, ' ') + request("g/witness", "restart"));
    put(dir.path() + "/outside.json", request("g/witness", "restart"));
    ASSERT_EQ(::symlink((dir.path() + "/outside.json").c_str(), (in + "/9-link.json").c_str()), 0);
    put(in + "/a-unknown-rig.json", request("nope/witness", "restart"));
    put(in + "/b-old.json", request("g/witness", "restart", util::format_time(t0() - 7h)));
    put(in + "/c.json.tmp.123.456", "half a request being writ");
    put(in + "/claimed/0-leftover.json", request("deacon", "cycle", util::format_time(t0())));

    LifecycleInbox inbox(in);
    auto batch = inbox.claim(
        t0(), 6h, [](const state::Identity& id) { return id.rig.empty() || id.rig == "g"; });
    ASSERT_EQ(batch.valid.size(), 2u);
    EXPECT_EQ(batch.valid[0].from.str(), "deacon"); // the leftover of a dead daemon
    EXPECT_EQ(batch.valid[1].from.str(), "g/witness");
    ASSERT_EQ(batch.expired.size(), 1u);
    EXPECT_EQ(batch.rejected.size(), 9u);
    for (const auto& [name, reason] : batch.rejected) {
        EXPECT_TRUE(util::path_exists(in + "/rejected/" + name)) << name;
        auto text = util::read_file(in + "/rejected/" + name + ".reason");
        ASSERT_TRUE(text) << name;
        EXPECT_EQ(*text, reason + "\n");
    }
    EXPECT_TRUE(util::path_exists(dir.path() + "/outside.json")); // the link's target untouched
    EXPECT_TRUE(util::path_exists(in + "/c.json.tmp.123.456"));   // a writer's temp file: left
    EXPECT_FALSE(util::path_exists(in + "/claimed/b-old.json"));
    for (const auto& r : batch.valid) {
        inbox.finish(r);
    }
    auto left = util::list_dir(in + "/claimed");
    ASSERT_TRUE(left);
    EXPECT_TRUE(left->empty());
}

TEST(LifecycleInbox, WrittenRequestsAreClaimedOnce) {
    test::TempDir dir("gt-inbox");
    std::string in = dir.path() + "/requests";
    ASSERT_TRUE(util::make_dirs(in, 0700));
    auto w = write_request(in, *state::parse_identity("g/refinery"), LifecycleAction::shutdown);
    ASSERT_TRUE(w) << w.error();
    LifecycleInbox inbox(in);
    auto known = [](const state::Identity&) { return true; };
    auto first = inbox.claim(util::now(), 6h, known);
    ASSERT_EQ(first.valid.size(), 1u);
    EXPECT_EQ(first.valid[0].id, w->id);
    EXPECT_EQ(first.valid[0].action, LifecycleAction::shutdown);
    inbox.finish(first.valid[0]);
    EXPECT_TRUE(inbox.claim(util::now(), 6h, known).valid.empty());
}
