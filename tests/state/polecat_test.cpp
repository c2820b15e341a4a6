// gt polecat add, at the library level.
#include "state/agent_state.hpp"
#include "state/polecat.hpp"
#include "state/town.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace gt::state;
using namespace std::chrono_literals;

namespace {

bool has(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

class PolecatTest : public ::testing::Test {
protected:
    void SetUp() override {
        root = dir.path() + "/town";
        ASSERT_TRUE(init_town(root, "t").ok());
        ASSERT_TRUE(add_rig(root, "gastown").ok());
    }
    gt::test::TempDir dir;
    std::string root;
};

} // namespace

TEST_F(PolecatTest, AddCreatesDirectoryAndIdleStateWithHook) {
    ASSERT_TRUE(add_polecat(root, "gastown", "nux", "gt-42").ok());
    EXPECT_TRUE(gt::util::path_exists(root + "/gastown/polecats/nux"));
    auto s = read_agent_state(root + "/agents/gastown/polecats/nux.json");
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->status, AgentStatus::idle);
    EXPECT_EQ(s->hook, "gt-42");
    EXPECT_EQ(s->identity, "gastown/polecats/nux");
    EXPECT_GT(s->updated_at, gt::util::now() - 1min);
}

TEST_F(PolecatTest, AddRefusesExistingPolecatAndKeepsItsState) {
    ASSERT_TRUE(add_polecat(root, "gastown", "nux", "first").ok());
    auto again = add_polecat(root, "gastown", "nux", "second");
    ASSERT_FALSE(again.ok());
    EXPECT_TRUE(has(again.error(), "already exists")) << again.error();
    EXPECT_EQ(read_agent_state(root + "/agents/gastown/polecats/nux.json")->hook, "first");
}

TEST_F(PolecatTest, AddRefusesHostileNamesAndUnknownRigs) {
    for (const std::string& bad :
         std::vector<std::string>{"../x", "a;b", "$(id)", "a b", "witness", "refinery", "crew",
                                  "a-b", "", std::string(200, 'a')}) {
        EXPECT_FALSE(add_polecat(root, "gastown", bad, "").ok()) << bad;
        EXPECT_FALSE(add_polecat(root, bad, "nux", "").ok()) << bad;
    }
    auto unknown = add_polecat(root, "nowhere", "nux", "");
    ASSERT_FALSE(unknown.ok());
    EXPECT_TRUE(has(unknown.error(), "no rig named 'nowhere'")) << unknown.error();
    EXPECT_FALSE(gt::util::path_exists(root + "/nowhere"));
    EXPECT_TRUE(list_agent_files(root).empty());
}
