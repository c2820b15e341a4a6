// daemon/restart_state.json: restart_state_json and parse_restart_state, with the records a
// RestartTracker keeps.
#include "policy/restart_tracker.hpp"
#include "state/restart_state.hpp"

#include "support/exact_tracker.hpp"
#include "support/fixed_time.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace gt;
using namespace gt::policy;
using gt::state::parse_restart_state;
using gt::state::restart_state_json;
using gt::test::exact_tracker;
using gt::test::t0;
using namespace std::chrono_literals;

TEST(RestartState, JsonRoundTripAndBadEntriesSkipped) {
    auto t = exact_tracker();
    t.record_restart("gastown/witness", t0());
    t.record_exit("gastown/witness", 1, 9);
    std::string text = restart_state_json(t.records());
    std::vector<std::string> skipped;
    auto back = parse_restart_state(text, "restart_state.json", &skipped);
    ASSERT_TRUE(back) << back.error();
    ASSERT_EQ(back->count("gastown/witness"), 1u);
    const auto& r = back->at("gastown/witness");
    EXPECT_EQ(r.last_restart, t0());
    EXPECT_EQ(r.restart_count, 1);
    EXPECT_EQ(r.backoff_until, t0() + 30s);
    EXPECT_EQ(r.last_exit_status, 1);
    EXPECT_EQ(r.last_signal, 9);
    EXPECT_TRUE(skipped.empty());

    auto bad = parse_restart_state(
        R"({"a":{"last_restart":"yesterday"},"b":7,"c":{"restart_count":"x"},"d":{}})", "f",
        &skipped);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->size(), 1u);
    EXPECT_EQ(skipped.size(), 3u);
    EXPECT_FALSE(parse_restart_state("[1]", "f"));
    EXPECT_FALSE(parse_restart_state("{\"a\":", "f"));
    EXPECT_FALSE(parse_restart_state("", "f"));
}

TEST(RestartState, HostileCountsFromDiskStayHarmless) {
    auto parsed = parse_restart_state(R"({"x":{"restart_count":2147483647}})", "f");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->at("x").restart_count, 1000);
    state::RestartConfig c;
    c.multiplier = 1.0;
    auto t = exact_tracker(c);
    t.replace(*parsed);
    EXPECT_EQ(t.record_restart("x", t0()).backoff, 30s); // no overflow, no endless loop
}
