#include "client/request_writer.hpp"
#include "state/lifecycle_request.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include "support/fixed_time.hpp"
#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

using namespace gt;
using namespace gt::state;
using gt::client::write_request;
using gt::test::t0;
using namespace std::chrono_literals;

namespace {

std::string request(const std::string& from, const std::string& action,
                    const std::string& ts = "2026-11-22T10:00:00Z") {
    return R"({"id":"x","from":")" + from + R"(","action":")" + action + R"(","timestamp":")" + ts +
           "\"}";
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
    for (const char* bad : {"../../etc", "a;b", "$(id)/witness", "", "daemon/witness"}) {
        auto e = parse_request(request(bad, "restart"));
        ASSERT_FALSE(e) << bad;
        EXPECT_EQ(e.error().rfind("from: ", 0), 0u) << e.error();
    }
    EXPECT_FALSE(parse_request(request("deacon", "restart", "yesterday")));
    EXPECT_FALSE(parse_request(R"({"from":"deacon","action":"restart"})"));
    EXPECT_FALSE(
        parse_request(R"({"from":7,"action":"restart","timestamp":"2026-11-22T10:00:00Z"})"));
}

// Found by fuzz/lifecycle_request_fuzz.cpp: the id was cut at 128 bytes inside a UTF-8
// character.
TEST(LifecycleRequest, LongIdsAreCutBetweenCharacters) {
    std::string id = std::string(127, 'a') + "\u00e9\u00e9"; // 127 bytes, then two of 2 bytes
    auto r = parse_request(
        R"({"id":")" + id +
        R"(","from":"deacon","action":"restart","timestamp":"2026-11-22T10:00:00Z"})");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->id, std::string(127, 'a'));
    r = parse_request(
        R"({"id":")" + std::string(200, 'b') +
        R"(","from":"deacon","action":"restart","timestamp":"2026-11-22T10:00:00Z"})");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->id, std::string(128, 'b'));
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

TEST(LifecycleInbox, RejectsDirectoriesAndRequestsFromTheFuture) {
    test::TempDir dir("gt-inbox");
    std::string in = dir.path() + "/requests";
    ASSERT_TRUE(util::make_dirs(in + "/claimed", 0700));
    ASSERT_TRUE(util::make_dirs(in + "/dir.json", 0700));
    put(in + "/dir.json/inside.json", request("g/witness", "restart", util::format_time(t0())));
    ASSERT_TRUE(util::make_dirs(in + "/plain_dir", 0700));
    ASSERT_TRUE(util::make_dirs(in + "/claimed/left.json", 0700));
    // A rejected entry of the same name is already there: the directory must still go.
    ASSERT_TRUE(util::make_dirs(in + "/rejected/again.json/full", 0700));
    ASSERT_TRUE(util::make_dirs(in + "/again.json", 0700));
    put(in + "/future.json", request("g/witness", "restart", util::format_time(t0() + 1h)));
    put(in + "/skewed.json", request("g/witness", "cycle", util::format_time(t0() + 1min)));

    LifecycleInbox inbox(in);
    auto batch = inbox.claim(t0(), 6h, [](const state::Identity&) { return true; });
    ASSERT_EQ(batch.valid.size(), 1u); // a clock a minute ahead is not the future
    EXPECT_EQ(batch.valid[0].action, LifecycleAction::cycle);
    std::map<std::string, std::string> rejected(batch.rejected.begin(), batch.rejected.end());
    ASSERT_EQ(rejected.size(), 5u);
    for (const auto& [name, reason] : rejected) {
        EXPECT_TRUE(util::path_exists(in + "/rejected/" + name)) << name;
        auto text = util::read_file(in + "/rejected/" + name + ".reason");
        ASSERT_TRUE(text) << name;
        EXPECT_EQ(*text, reason + "\n");
    }
    EXPECT_NE(rejected["dir.json"].find("a directory"), std::string::npos) << rejected["dir.json"];
    EXPECT_NE(rejected["future.json"].find("in the future"), std::string::npos)
        << rejected["future.json"];
    EXPECT_TRUE(util::path_exists(in + "/rejected/dir.json/inside.json")); // moved, not entered
    EXPECT_TRUE(util::path_exists(in + "/rejected/again.json/full"));
    auto left = util::list_dir(in);
    ASSERT_TRUE(left);
    std::vector<std::string> names;
    for (const auto& e : *left) {
        names.push_back(e.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"claimed", "rejected"}));
    // Served once: a second pass finds nothing new.
    inbox.finish(batch.valid[0]);
    auto again = inbox.claim(t0(), 6h, [](const state::Identity&) { return true; });
    EXPECT_TRUE(again.valid.empty());
    EXPECT_TRUE(again.rejected.empty());
}

TEST(LifecycleInbox, ARequestBeingWrittenIsNeverRejected) {
    // A writer renames its temp file into place while the daemon lists the inbox: the temp file
    // it saw is gone when it looks at it. That is no bad request; it is claimed a moment later.
    test::TempDir dir("gt-inbox");
    std::string in = dir.path() + "/requests";
    ASSERT_TRUE(util::make_dirs(in, 0700));
    LifecycleInbox inbox(in);
    auto known = [](const state::Identity&) { return true; };
    constexpr int k_requests = 3000;
    std::atomic<bool> written{false};
    std::thread writer([&] {
        for (int i = 0; i < k_requests; ++i) {
            ASSERT_TRUE(
                write_request(in, *state::parse_identity("g/refinery"), LifecycleAction::restart));
        }
        written = true;
    });
    std::size_t claimed = 0;
    std::vector<std::string> rejected;
    for (bool last = false; !last;) {
        last = written;
        auto batch = inbox.claim(util::now(), 6h, known);
        for (const auto& r : batch.valid) {
            inbox.finish(r);
        }
        claimed += batch.valid.size();
        for (const auto& [name, reason] : batch.rejected) {
            rejected.push_back(name + ": " + reason);
        }
    }
    writer.join();
    EXPECT_EQ(claimed, static_cast<std::size_t>(k_requests));
    EXPECT_TRUE(rejected.empty()) << rejected.size() << " rejected, first: " << rejected.front();
}
