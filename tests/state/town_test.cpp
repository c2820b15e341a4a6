#include "state/config.hpp"
#include "state/town.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace gt::state;

TEST(Town, InitCreatesLayoutAndRefusesOverwrite) {
    gt::test::TempDir dir;
    std::string root = dir.path() + "/t";
    ASSERT_TRUE(init_town(root, "").ok());
    TownPaths p(root);
    for (const auto& f : {p.town_json(), p.rigs_json(), p.daemon_dir(), p.agents_dir(),
                          p.mail_dir(), p.deacon_dir()}) {
        EXPECT_TRUE(gt::util::path_exists(f)) << f;
    }
    struct stat st {};
    ::stat(p.daemon_dir().c_str(), &st);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ::stat(p.town_json().c_str(), &st);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::string before = *gt::util::read_file(p.town_json());
    EXPECT_FALSE(init_town(root, "other").ok());
    EXPECT_EQ(*gt::util::read_file(p.town_json()), before);
}

TEST(Town, DiscoveryByFlagEnvAndAncestor) {
    gt::test::TempDir dir;
    std::string root = dir.path() + "/t";
    ASSERT_TRUE(init_town(root, "t").ok());
    ASSERT_TRUE(add_rig(root, "gastown").ok());
    EXPECT_EQ(*find_town(root), root);
    EXPECT_FALSE(find_town(dir.path()).ok());
    char old[4096];
    ASSERT_NE(::getcwd(old, sizeof old), nullptr);
    ::unsetenv("GT_TOWN_ROOT");
    ASSERT_EQ(::chdir((root + "/gastown/witness").c_str()), 0);
    auto found = find_town(std::nullopt);
    ::setenv("GT_TOWN_ROOT", root.c_str(), 1);
    ASSERT_EQ(::chdir("/"), 0);
    auto from_env = find_town(std::nullopt);
    ::unsetenv("GT_TOWN_ROOT");
    auto outside = find_town(std::nullopt);
    ASSERT_EQ(::chdir(old), 0);
    ASSERT_TRUE(found.ok()) << found.error();
    EXPECT_EQ(*found, root);
    ASSERT_TRUE(from_env.ok());
    EXPECT_EQ(*from_env, root);
    ASSERT_FALSE(outside.ok());
    EXPECT_NE(outside.error().find("not in a Gas Town workspace"), std::string::npos);
}

TEST(Town, RigsAddListRemove) {
    gt::test::TempDir dir;
    std::string root = dir.path() + "/t";
    ASSERT_TRUE(init_town(root, "t").ok());
    ASSERT_TRUE(add_rig(root, "gastown").ok());
    ASSERT_TRUE(add_rig(root, "beads").ok());
    EXPECT_FALSE(add_rig(root, "gastown").ok());
    EXPECT_FALSE(add_rig(root, "../x").ok());
    EXPECT_TRUE(gt::util::path_exists(root + "/gastown/refinery/rig"));
    EXPECT_TRUE(gt::util::path_exists(root + "/gastown/polecats"));
    auto rigs = load_rigs(root);
    ASSERT_TRUE(rigs.ok());
    ASSERT_EQ(rigs->size(), 2u);
    ASSERT_TRUE(remove_rig(root, "beads").ok());
    EXPECT_EQ(load_rigs(root)->size(), 1u);
    EXPECT_TRUE(gt::util::path_exists(root + "/beads/witness"));
    EXPECT_FALSE(remove_rig(root, "beads").ok());
}

TEST(Town, RigsFileWithHostileKeysSkipsThemAndBadShapeIsAnError) {
    gt::test::TempDir dir;
    std::string root = dir.path() + "/t";
    ASSERT_TRUE(init_town(root, "t").ok());
    std::ofstream(TownPaths(root).rigs_json())
        << R"({"version":1,"rigs":{"ok":{},"../x":{},"a;b":{}}})";
    auto rigs = load_rigs(root);
    ASSERT_TRUE(rigs.ok());
    ASSERT_EQ(rigs->size(), 1u);
    EXPECT_EQ((*rigs)[0].name, "ok");
    std::ofstream(TownPaths(root).rigs_json()) << R"({"rigs":[1,2]})";
    EXPECT_FALSE(load_rigs(root).ok());
    std::ofstream(TownPaths(root).rigs_json()) << "\x01\x02garbage";
    EXPECT_FALSE(load_rigs(root).ok());
}

// Found with fuzz/rigs_json_fuzz.cpp and fuzz/town_json_fuzz.cpp: a file nested 300,000 deep
// took gigabytes to read (town.json) or to write back pretty-printed (rigs.json, `gt rig add`).
TEST(Town, DeeplyNestedFilesAreRefused) {
    gt::test::TempDir dir;
    std::string root = dir.path() + "/t";
    ASSERT_TRUE(init_town(root, "t").ok());
    TownPaths p(root);
    std::string deep = std::string(300'000, '[') + std::string(300'000, ']');
    std::ofstream(p.rigs_json()) << R"({"version":1,"rigs":{"a":{}},"x":)" << deep << "}";
    auto rigs = load_rigs(root);
    ASSERT_FALSE(rigs.ok());
    EXPECT_EQ(rigs.error(), p.rigs_json() + ": nested deeper than 32 levels");
    EXPECT_FALSE(add_rig(root, "b").ok());
    std::ofstream(p.town_json()) << R"({"daemon":)" << deep << "}";
    auto config = load_town_config(root);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.error(), p.town_json() + ": nested deeper than 32 levels");
    // 32 levels are read, and written back: three objects and 29 arrays.
    std::string nested = std::string(29, '[') + std::string(29, ']');
    std::ofstream(p.rigs_json()) << R"({"version":1,"rigs":{"a":{"x":)" << nested << "}}}";
    ASSERT_TRUE(load_rigs(root).ok()) << load_rigs(root).error();
    EXPECT_TRUE(add_rig(root, "b").ok());
}

TEST(Town, DuplicateKeysInTownAndRigsFilesAreErrors) {
    gt::test::TempDir dir;
    std::string root = dir.path() + "/t";
    ASSERT_TRUE(init_town(root, "t").ok());
    TownPaths p(root);
    std::ofstream(p.rigs_json()) << R"({"version":1,"rigs":{"a":{},"b":{},"a":{"git_url":"x"}}})";
    auto rigs = load_rigs(root);
    ASSERT_FALSE(rigs.ok());
    EXPECT_EQ(rigs.error(), p.rigs_json() + ": duplicate key 'rigs.a'");
    EXPECT_FALSE(add_rig(root, "c").ok());
    std::ofstream(p.town_json())
        << R"({"daemon":{"heartbeat_interval":"1m","heartbeat_interval":"2m"}})";
    auto config = load_town_config(root);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.error(), p.town_json() + ": duplicate key 'daemon.heartbeat_interval'");
}
