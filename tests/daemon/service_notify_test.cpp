// The service manager's pieces that need no process: what the environment asks for, what the
// notifier sends, and the metrics text (design §18).
#include "daemon/metrics.hpp"
#include "daemon/service_notify.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace gt;

namespace {

void set(const char* name, const char* value) {
    ::setenv(name, value, 1);
}

} // namespace

TEST(NotifyEnv, ReadsTheSocketAndTheWatchdogThenRemovesThemFromTheEnvironment) {
    set("NOTIFY_SOCKET", "/run/user/1000/systemd/notify");
    set("WATCHDOG_USEC", "30000000");
    set("WATCHDOG_PID", std::to_string(::getpid()).c_str());
    set("INVOCATION_ID", "abc");
    set("JOURNAL_STREAM", "8:1234");
    auto env = daemon::take_notify_env(::getpid());
    EXPECT_EQ(env.socket, "/run/user/1000/systemd/notify");
    ASSERT_TRUE(env.watchdog);
    EXPECT_EQ(env.watchdog->count(), 30000);
    EXPECT_EQ(env.invocation_id, "abc");
    for (const char* name :
         {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID", "JOURNAL_STREAM"}) {
        EXPECT_EQ(std::getenv(name), nullptr) << name;
    }
    daemon::ServiceNotifier notifier(env);
    ASSERT_TRUE(notifier.watchdog_interval());
    EXPECT_EQ(notifier.watchdog_interval()->count(), 15000); // half, as the protocol advises
}

TEST(NotifyEnv, AWatchdogMeantForAnotherProcessOrMalformedIsNotOurs) {
    set("NOTIFY_SOCKET", "@gt-test");
    set("WATCHDOG_USEC", "30000000");
    set("WATCHDOG_PID", "1");
    EXPECT_FALSE(daemon::take_notify_env(::getpid()).watchdog);
    for (const char* bad : {"", "0", "-5", "12x", "99999999999999999999999"}) {
        set("WATCHDOG_USEC", bad);
        EXPECT_FALSE(daemon::take_notify_env(::getpid()).watchdog) << bad;
    }
    // Without a socket there is nothing to ping.
    set("WATCHDOG_USEC", "30000000");
    auto env = daemon::take_notify_env(::getpid());
    EXPECT_TRUE(env.watchdog);
    EXPECT_FALSE(daemon::ServiceNotifier(env).watchdog_interval());
}

TEST(ServiceNotifier, SendsOneDatagramToAPathOrAnAbstractSocket) {
    test::TempDir dir("gt-notify");
    for (std::string path :
         {dir.path() + "/notify", "@gt-notify-test-" + std::to_string(::getpid())}) {
        util::Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.data(), path.size());
        socklen_t len = offsetof(sockaddr_un, sun_path) + path.size();
        if (path[0] == '@') {
            addr.sun_path[0] = '\0';
        } else {
            len += 1;
        }
        ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << path;
        daemon::ServiceNotifier notifier(daemon::NotifyEnv{path, std::nullopt, ""});
        ASSERT_TRUE(notifier.send("READY=1\nSTATUS=x"));
        char buf[64];
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "READY=1\nSTATUS=x");
    }
    // Nobody listening, or a relative path: an error to log, never a throw or a block.
    EXPECT_FALSE(daemon::ServiceNotifier(daemon::NotifyEnv{dir.path() + "/none", std::nullopt, ""})
                     .send("WATCHDOG=1"));
    EXPECT_FALSE(daemon::ServiceNotifier(daemon::NotifyEnv{"relative", std::nullopt, ""})
                     .send("WATCHDOG=1"));
    EXPECT_TRUE(daemon::ServiceNotifier().send("WATCHDOG=1")); // not a service: nothing to do
}

TEST(Metrics, EveryCounterIsACounterFamilyAndLabelsAreEscaped) {
    state::DaemonState s;
    s.town = "/home/a \"b\"\\c\nd";
    s.version = "0.1.0";
    for (const auto& f : state::Counters::fields()) {
        s.counters.*f.member = 7;
    }
    daemon::MetricsInput in;
    in.state = &s;
    in.conditions = {{"working", 2}, {"idle", 1}};
    std::string text = daemon::metrics_text(in);
    const std::string town = R"(town="/home/a \"b\"\\c\nd")";
    EXPECT_NE(text.find("gt_agents{" + town + ",condition=\"working\"} 2\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("gt_agents{" + town + ",condition=\"usage_limited\"} 0\n"),
              std::string::npos);
    // Each counter of state.json is exported once, as a `_total` counter, with its value.
    std::size_t counters = 0;
    for (std::size_t at = 0; (at = text.find("# TYPE ", at)) != std::string::npos; ++at) {
        auto end = text.find('\n', at);
        std::string line = text.substr(at, end - at);
        if (line.size() > 8 && line.compare(line.size() - 8, 8, " counter") == 0) {
            ++counters;
            EXPECT_NE(line.find("_total "), std::string::npos) << line;
        }
    }
    // gt_heartbeats_total, gt_tmux_processes_total and the lifecycle family hold more than one.
    EXPECT_EQ(counters, state::Counters::fields().size() - 2 + 3);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n') -
                  std::count(text.begin(), text.end(), '#'),
              static_cast<long>(std::count(text.begin(), text.end(), '}')));
    EXPECT_NE(text.find("gt_clock_jumps_total{" + town + "} 7\n"), std::string::npos);
    EXPECT_EQ(text.find("gt_last_heartbeat_timestamp_seconds{"), std::string::npos); // none yet
    s.heartbeat_count = 1;
    s.last_heartbeat = util::format_time(util::TimePoint(std::chrono::seconds(1796000000)));
    EXPECT_NE(daemon::metrics_text(in).find("gt_last_heartbeat_timestamp_seconds{" + town +
                                            "} 1796000000\n"),
              std::string::npos);
    EXPECT_NE(text.find("gt_lifecycle_requests_total{" + town + ",outcome=\"rejected\"} 7\n"),
              std::string::npos);
}
