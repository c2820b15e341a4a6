#include "state/names.hpp"
#include "state/town.hpp"

#include <cctype>
#include <gtest/gtest.h>

using namespace gt::state;

TEST(Names, AcceptsValidNames) {
    for (const char* ok :
         {"gastown", "a", "A1", "rig_2", "x123456789012345678901234567890123456789"}) {
        EXPECT_TRUE(validate_name("rig", ok).ok()) << ok;
    }
}

TEST(Names, RefusesHostileNames) {
    std::string long_name(200, 'a');
    for (const std::string& bad :
         std::vector<std::string>{"../x", "a;b", "$(id)", "a b", "a-b", "", "_a", ".", "a/b",
                                  "a\nb", long_name, std::string("a\0b", 3)}) {
        auto st = validate_name("rig", bad);
        EXPECT_FALSE(st.ok()) << bad;
    }
    EXPECT_FALSE(validate_name("polecat", "witness").ok());
    EXPECT_TRUE(validate_name("rig", "witness").ok());
}

TEST(Identity, ParsesBothFormsAndNormalises) {
    struct Case {
        const char* in;
        const char* canonical;
        const char* session;
        const char* file;
    };
    for (auto c : {Case{"deacon", "deacon", "gt-deacon", "agents/deacon.json"},
                   Case{"mayor/", "mayor", "gt-mayor", "agents/mayor.json"},
                   Case{"gastown/witness", "gastown/witness", "gt-gastown-witness",
                        "agents/gastown/witness.json"},
                   Case{"gastown-witness", "gastown/witness", "gt-gastown-witness",
                        "agents/gastown/witness.json"},
                   Case{"gastown-refinery", "gastown/refinery", "gt-gastown-refinery",
                        "agents/gastown/refinery.json"},
                   Case{"gastown/polecats/nux", "gastown/polecats/nux", "gt-gastown-nux",
                        "agents/gastown/polecats/nux.json"},
                   Case{"gastown-polecat-nux", "gastown/polecats/nux", "gt-gastown-nux",
                        "agents/gastown/polecats/nux.json"},
                   Case{"gastown/crew/max", "gastown/crew/max", "gt-gastown-crew-max",
                        "agents/gastown/crew/max.json"},
                   Case{"gastown-crew-max", "gastown/crew/max", "gt-gastown-crew-max",
                        "agents/gastown/crew/max.json"}}) {
        auto id = parse_identity(c.in);
        ASSERT_TRUE(id.ok()) << c.in << ": " << id.error();
        EXPECT_EQ(id->str(), c.canonical);
        EXPECT_EQ(id->session(), c.session);
        EXPECT_EQ(id->state_file(), c.file);
    }
}

TEST(Identity, RefusesHostileIdentities) {
    for (const char* bad :
         {"", "../../etc", "a;b", "$(id)/witness", "gastown/../witness", "gastown/witness/x",
          "gastown/polecats/witness", "gastown/polecats/", "gastown", "gastown/mayor",
          "a b/witness", "gastown/polecats/a-b", "/witness"}) {
        EXPECT_FALSE(parse_identity(bad).ok()) << bad;
    }
}

TEST(Names, RefusesRigNamesOfTheTownsOwnDirectoriesInAnyCase) {
    TownPaths p("/town");
    for (const std::string& dir :
         {p.mayor_dir(), p.daemon_dir(), p.agents_dir(), p.mail_dir(), p.deacon_dir()}) {
        std::string name = dir.substr(dir.rfind('/') + 1);
        std::string upper = name;
        for (auto& c : upper) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        std::string mixed = upper.substr(0, 1) + name.substr(1);
        for (const std::string& rig : {name, upper, mixed}) {
            auto st = validate_name("rig", rig);
            ASSERT_FALSE(st.ok()) << rig;
            EXPECT_NE(st.error().find("reserved by gt's town layout"), std::string::npos)
                << st.error();
        }
    }
    for (const char* ok : {"daemons", "mailbox", "mayor2", "my_agents"}) {
        EXPECT_TRUE(validate_name("rig", ok).ok()) << ok;
    }
    // A polecat's or crew member's directory is inside its rig: no clash there.
    EXPECT_TRUE(validate_name("polecat", "daemon").ok());
    EXPECT_TRUE(validate_name("crew", "mail").ok());
}

TEST(Identity, RefusesIdentitiesWhoseRigIsReserved) {
    for (const char* bad : {"daemon/witness", "daemon-witness", "Mayor/refinery", "mayor-witness",
                            "agents/polecats/nux", "MAIL-polecat-nux", "deacon/crew/max"}) {
        auto id = parse_identity(bad);
        ASSERT_FALSE(id.ok()) << bad;
        EXPECT_NE(id.error().find("reserved"), std::string::npos) << id.error();
    }
    EXPECT_TRUE(parse_identity("mayor/").ok());
    EXPECT_TRUE(parse_identity("deacon").ok());
    EXPECT_TRUE(parse_identity("gastown/polecats/daemon").ok());
}
