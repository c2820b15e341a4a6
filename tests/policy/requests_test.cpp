// policy::plan_batch: which of a batch of lifecycle requests run and which are collapsed.
#include "policy/requests.hpp"
#include "state/lifecycle_request.hpp"
#include "state/names.hpp"

#include "support/fixed_time.hpp"
#include "support/requests.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace gt;
using namespace gt::state;
using gt::policy::plan_batch;
using gt::test::make_request;
using gt::test::t0;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> files(const std::vector<LifecycleRequest>& requests) {
    std::vector<std::string> out;
    for (const auto& r : requests) {
        out.push_back(r.file);
    }
    return out;
}

} // namespace

TEST(LifecyclePlan, BatchRunsOnlyEachAgentsLastRequestInTimestampOrder) {
    auto [run, collapsed] = plan_batch({
        make_request("g/witness", LifecycleAction::restart, t0() + 3s, "c"),
        make_request("g/witness", LifecycleAction::restart, t0() + 1s, "a"),
        make_request("deacon", LifecycleAction::shutdown, t0() + 2s, "b"),
        make_request("g/witness", LifecycleAction::shutdown, t0() + 4s, "d"),
        make_request("g/witness", LifecycleAction::cycle, t0() + 5s, "f"),
        make_request("g/witness", LifecycleAction::cycle, t0() + 5s,
                     "e"), // same time: the file decides
    });
    EXPECT_EQ(files(run), (std::vector<std::string>{"b", "f"}));
    EXPECT_EQ(files(collapsed), (std::vector<std::string>{"a", "c", "d", "e"}));
}

TEST(LifecyclePlan, AFloodOfAlternatingRestartsAndCyclesRunsOnce) {
    std::vector<LifecycleRequest> flood;
    for (int i = 0; i < 200; ++i) {
        flood.push_back(
            make_request("g/witness", i % 2 ? LifecycleAction::cycle : LifecycleAction::restart,
                         t0() + std::chrono::milliseconds(i), "r" + std::to_string(1000 + i)));
    }
    flood.push_back(make_request("deacon", LifecycleAction::restart, t0(), "deacon"));
    auto [run, collapsed] = plan_batch(std::move(flood));
    EXPECT_EQ(files(run), (std::vector<std::string>{"deacon", "r1199"}));
    EXPECT_EQ(run[1].action, LifecycleAction::cycle);
    EXPECT_EQ(collapsed.size(), 199u);
}

TEST(LifecyclePlan, TheLastRequestDecidesBetweenShutdownAndReplacing) {
    struct Case {
        std::vector<LifecycleAction> in_order;
        LifecycleAction wins;
    };
    using A = LifecycleAction;
    for (const auto& c :
         {Case{{A::shutdown, A::restart}, A::restart}, Case{{A::restart, A::shutdown}, A::shutdown},
          Case{{A::shutdown, A::cycle, A::shutdown}, A::shutdown},
          Case{{A::cycle, A::shutdown, A::restart, A::cycle}, A::cycle},
          Case{{A::shutdown, A::shutdown}, A::shutdown}}) {
        std::vector<LifecycleRequest> batch;
        for (std::size_t i = 0; i < c.in_order.size(); ++i) {
            // Listed newest first: the order of the files in the inbox must not matter.
            std::size_t at = c.in_order.size() - 1 - i;
            batch.push_back(make_request("g/refinery", c.in_order[at],
                                         t0() + std::chrono::seconds(at), std::to_string(at)));
        }
        auto [run, collapsed] = plan_batch(std::move(batch));
        ASSERT_EQ(run.size(), 1u);
        EXPECT_EQ(run[0].action, c.wins);
        EXPECT_EQ(run[0].file, std::to_string(c.in_order.size() - 1));
        EXPECT_EQ(collapsed.size(), c.in_order.size() - 1);
    }
}
