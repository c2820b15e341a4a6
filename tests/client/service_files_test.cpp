// The text of the units `gt daemon install` writes (design §18.1); the real parsers
// (systemd-analyze, plistlib) read them in tests/integration/install_test.cpp.
#include "client/service_files.hpp"

#include <gtest/gtest.h>

using namespace gt::client;

namespace {

ServiceSpec spec(const std::string& town, const std::string& name = "town") {
    return {town, name, "/usr/bin/gt", "/usr/bin:/bin", "", "0.1.0"};
}

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

} // namespace

TEST(ServiceFiles, TheNameComesFromTheTownsNameAndItsRootSoTwoTownsGetTwoUnits) {
    auto a = service_name(spec("/home/u/a", "work"));
    auto b = service_name(spec("/home/u/b", "work"));
    EXPECT_EQ(a.rfind("gt-work-", 0), 0u) << a;
    EXPECT_EQ(a.size(), std::string("gt-work-").size() + 8);
    EXPECT_NE(a, b);
    EXPECT_EQ(a, service_name(spec("/home/u/a", "work"))); // stable
    // Nothing a unit name or a label cannot hold survives.
    auto odd = service_name(spec("/t", "a;b $(id)/../x.y"));
    EXPECT_EQ(odd.substr(0, odd.size() - 9), "gt-a-b---id-----x-y") << odd;
    EXPECT_EQ(launchd_label(spec("/t", "")).rfind("gt.gt-town-", 0), 0u);
}

TEST(ServiceFiles, SystemdQuotesEveryWordAndEscapesSpecifiersAndVariables) {
    auto odd_binary = spec("/t");
    odd_binary.gt_binary = "/opt/$x 100%/gt";
    EXPECT_TRUE(has(*systemd_unit(odd_binary), "ExecStart=\"/opt/$x 100%%/gt\" --town \"/t\""));
    auto unit = systemd_unit(spec(R"(/home/u/my town/$(id) 100% "q" \x)"));
    ASSERT_TRUE(unit) << unit.error();
    EXPECT_TRUE(has(
        *unit,
        R"(ExecStart="/usr/bin/gt" --town "/home/u/my town/$$(id) 100%% \"q\" \\x" daemon run)"))
        << *unit;
    EXPECT_TRUE(has(*unit, "Environment=\"PATH=/usr/bin:/bin\"\n"));
    for (const char* line :
         {"Type=notify\n", "Restart=on-failure\n", "RestartSec=5s\n", "StartLimitIntervalSec=300\n",
          "StartLimitBurst=5\n", "WatchdogSec=60s\n", "TimeoutStopSec=30s\n",
          "WantedBy=default.target\n"}) {
        EXPECT_TRUE(has(*unit, line)) << line;
    }
    auto with_socket = spec("/t");
    with_socket.tmux_socket = "work";
    EXPECT_TRUE(has(*systemd_unit(with_socket),
                    "Environment=\"PATH=/usr/bin:/bin\" \"GT_TMUX_SOCKET=work\"\n"));
}

TEST(ServiceFiles, LaunchdEscapesXmlAndKeepsTheProcessGroup) {
    auto plist = launchd_plist(spec("/Users/u/a&b <c> 'd' \"e\""));
    ASSERT_TRUE(plist) << plist.error();
    EXPECT_TRUE(
        has(*plist, "<string>/Users/u/a&amp;b &lt;c&gt; &apos;d&apos; &quot;e&quot;</string>"));
    EXPECT_TRUE(has(*plist, "<key>AbandonProcessGroup</key>\n    <true/>"));
    EXPECT_TRUE(has(*plist, "<key>SuccessfulExit</key>\n        <false/>"));
}

TEST(ServiceFiles, AControlCharacterAnywhereIsRefusedWithWhereItWas) {
    auto s = spec("/home/u/a\nb");
    auto unit = systemd_unit(s);
    ASSERT_FALSE(unit);
    EXPECT_TRUE(has(unit.error(), "town root holds a control character")) << unit.error();
    s = spec("/t");
    s.path_env = "/bin\t:/usr/bin";
    ASSERT_FALSE(launchd_plist(s));
    EXPECT_TRUE(has(launchd_plist(s).error(), "PATH"));
}

TEST(ServiceFiles, UnitsOfATownAreFoundByItsRootWhateverItsName) {
    const std::string suffix = town_suffix("/home/u/a");
    EXPECT_EQ(service_name(spec("/home/u/a", "work")), "gt-work" + suffix);
    EXPECT_TRUE(is_unit_of("gt-work" + suffix + ".service", suffix, ServiceManager::systemd));
    EXPECT_TRUE(is_unit_of("gt-old" + suffix + ".service", suffix, ServiceManager::systemd));
    EXPECT_TRUE(is_unit_of("gt.gt-old" + suffix + ".plist", suffix, ServiceManager::launchd));
    EXPECT_FALSE(is_unit_of("gt-old" + suffix + ".plist", suffix, ServiceManager::systemd));
    EXPECT_FALSE(is_unit_of("gt-work" + town_suffix("/home/u/b") + ".service", suffix,
                            ServiceManager::systemd));
    EXPECT_FALSE(is_unit_of("gt" + suffix + ".service", suffix, ServiceManager::systemd));
    EXPECT_FALSE(is_unit_of("x-work" + suffix + ".service", suffix, ServiceManager::systemd));
}
