// The daemon driven one step at a time: the same class `gt daemon run` uses, with a recording
// runner instead of tmux and no event loop running.
#include "daemon/daemon_process.hpp"

#include "daemon/lock.hpp"
#include "fakes/recording_runner.hpp"
#include "state/config.hpp"
#include "state/daemon_state.hpp"
#include "state/town.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace gt;

TEST(DaemonStep, OnePassStartsWhatIsMissingAndPersistsTheState) {
    test::TempDir dir("gt-daemon-step");
    ASSERT_TRUE(state::init_town(dir.path(), "t"));
    ASSERT_TRUE(state::add_rig(dir.path(), "r1"));
    state::TownPaths paths(dir.path());
    ASSERT_TRUE(util::make_dirs(paths.requests_dir(), 0700, true));
    auto config = state::load_town_config(dir.path());
    ASSERT_TRUE(config) << config.error();
    auto lock = daemon::DaemonLock::acquire(paths.lock_file());
    ASSERT_TRUE(lock) << lock.error();
    test::RecordingRunner runner; // tmux shows no session at all
    daemon::DaemonOptions options;
    options.town = dir.path();
    daemon::Daemon d(options, *config, std::move(*lock), runner);

    d.run_pass();
    EXPECT_EQ(d.daemon_state().heartbeat_count, 1u);
    EXPECT_EQ(runner.count("new-session"), 3u); // deacon, r1/witness, r1/refinery
    EXPECT_EQ(d.daemon_state().counters.restarts, 3u);
    auto text = util::read_file(paths.state_file());
    ASSERT_TRUE(text) << text.error();
    auto j = nlohmann::json::parse(*text);
    EXPECT_EQ(j["heartbeat_count"], 1);
    EXPECT_EQ(j["counters"]["restarts"], 3);

    // Still no session as far as the fake tmux says: started again (the first restart is
    // allowed at once) as far as the town's budget of 5 starts per 10 s goes (the first
    // starts count towards it), deacon first; then held back by the backoff and the budget.
    runner.clear_calls();
    d.run_pass();
    EXPECT_EQ(d.daemon_state().heartbeat_count, 2u);
    EXPECT_EQ(runner.count("new-session"), 2u);
    runner.clear_calls();
    d.run_pass();
    EXPECT_EQ(d.daemon_state().heartbeat_count, 3u);
    EXPECT_EQ(runner.count("list-panes"), 1u);
    EXPECT_EQ(runner.count("new-session"), 0u);
    EXPECT_EQ(d.daemon_state().counters.restarts, 5u);
}
