// The generated bash completion, run in real bash against a small hand-built command tree.

#include "completion.hpp"
#include "proc/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace {

using Words = std::vector<std::string>;

class Bash : public ::testing::Test {
protected:
    void SetUp() override {
        // As in gt's main: global options apply in every subcommand.
        m_app.fallthrough();
        m_app.set_version_flag("--version", "gt 0");
        m_app.add_option("--town", m_text, "Town root");
        auto* init = m_app.add_subcommand("init", "Create a town");
        init->add_option("DIR", m_text, "Directory of the new town");
        init->add_option("--name", m_text, "Town name (default: the directory's name)");
        m_app.add_subcommand("secret-tool", "Hidden")->group("");

        auto* daemon = m_app.add_subcommand("daemon", "The daemon");
        daemon->add_subcommand("run", "Foreground")
            ->add_option("--ready-fd", m_number, "Hidden")
            ->group("");
        daemon->add_subcommand("start", "Start");
        auto* stop = daemon->add_subcommand("stop", "Stop");
        stop->add_option("--timeout", m_text, "How long");
        stop->add_flag("--secret", m_flag, "Hidden")->group("");
        daemon->add_subcommand("status", "Status")->add_flag("--json", m_flag, "JSON");
        daemon->add_subcommand("restart", "Restart");
        daemon->add_subcommand("debug", "Hidden")->group("");
        daemon->add_subcommand("logs", "Logs")->add_option("-n,--lines", m_number, "Lines");
        gt::cli::add_completion_command(m_app, m_action);

        m_script = gt::cli::bash_completion(m_app);
        std::ofstream(m_dir.path() + "/gt.bash") << m_script;
        std::filesystem::create_directories(m_dir.path() + "/files/alpha");
        std::filesystem::create_directories(m_dir.path() + "/files/beta");
        std::ofstream(m_dir.path() + "/files/gamma.txt") << "x";
    }

    /// What `_gt` offers for `words` (the last one is being completed), sorted; run in files/.
    Words complete(const Words& words) {
        std::vector<std::string> argv = {
            "bash",
            "--norc",
            "--noprofile",
            "-c",
            R"(source "$1" && shift && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && { _gt;
               printf '%s\n' "${COMPREPLY[@]}"; })",
            "bash",
            m_dir.path() + "/gt.bash"};
        argv.insert(argv.end(), words.begin(), words.end());
        auto out = run(argv);
        Words offered;
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);) {
            if (!line.empty()) {
                offered.push_back(line);
            }
        }
        std::sort(offered.begin(), offered.end());
        return offered;
    }

    /// Runs `argv` in files/; fails the test unless it exits 0. Returns its stdout.
    std::string run(const std::vector<std::string>& argv) {
        gt::proc::RealProcessRunner runner;
        auto r =
            runner.run({argv, std::chrono::seconds(10), std::nullopt, m_dir.path() + "/files"});
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
        if (!r.ok()) {
            return "";
        }
        EXPECT_TRUE(r->success()) << r->describe() << ": " << r->err;
        return r->out;
    }

    gt::test::TempDir m_dir{"gt-completion"};
    CLI::App m_app{"test gt"};
    gt::cli::Action m_action;
    std::string m_text;
    int m_number = 0;
    bool m_flag = false;
    std::string m_script;
};

TEST_F(Bash, CompletesSubcommandsAtEveryLevel) {
    EXPECT_EQ(complete({"gt", ""}), (Words{"completion", "daemon", "init"}));
    EXPECT_EQ(complete({"gt", "daemon", "st"}), (Words{"start", "status", "stop"}));
    EXPECT_EQ(complete({"gt", "daemon", ""}),
              (Words{"logs", "restart", "run", "start", "status", "stop"}));
    EXPECT_EQ(complete({"gt", "completion", ""}), (Words{"bash"}));
    EXPECT_EQ(complete({"gt", "daemon", "stop", ""}), Words{});
}

TEST_F(Bash, CompletesTheOptionsOfTheCommandAndOfTheParentsItFallsThroughTo) {
    EXPECT_EQ(complete({"gt", "--"}), (Words{"--help", "--town", "--version"}));
    EXPECT_EQ(complete({"gt", "daemon", "stop", "--"}),
              (Words{"--help", "--timeout", "--town", "--version"}));
    EXPECT_EQ(complete({"gt", "daemon", "status", "--j"}), (Words{"--json"}));
}

TEST_F(Bash, LeavesOutHiddenOptionsAndSubcommands) {
    EXPECT_EQ(complete({"gt", "daemon", "run", "--"}), (Words{"--help", "--town", "--version"}));
    for (const char* hidden : {"--secret", "--ready-fd", "secret-tool", "debug"}) {
        EXPECT_EQ(m_script.find(hidden), std::string::npos) << hidden;
    }
}

TEST_F(Bash, CompletesDirectoriesAfterTownAndForADirectoryArgument) {
    EXPECT_EQ(complete({"gt", "--town", ""}), (Words{"alpha", "beta"}));
    EXPECT_EQ(complete({"gt", "--town", "al"}), (Words{"alpha"}));
    EXPECT_EQ(complete({"gt", "daemon", "--town", ""}), (Words{"alpha", "beta"}));
    // --town=<TAB>: bash splits the word at '='.
    EXPECT_EQ(complete({"gt", "--town", "=", ""}), (Words{"alpha", "beta"}));
    EXPECT_EQ(complete({"gt", "--town", "="}), (Words{"alpha", "beta"}));
    EXPECT_EQ(complete({"gt", "init", ""}), (Words{"alpha", "beta"}));
}

TEST_F(Bash, CompletesFileNamesAfterOtherOptionsThatTakeAValue) {
    EXPECT_EQ(complete({"gt", "daemon", "stop", "--timeout", ""}),
              (Words{"alpha", "beta", "gamma.txt"}));
    EXPECT_EQ(complete({"gt", "daemon", "logs", "-n", "g"}), (Words{"gamma.txt"}));
}

TEST_F(Bash, DoesNotTakeAnOptionsValueForASubcommand) {
    EXPECT_EQ(complete({"gt", "--town", "daemon", ""}), (Words{"completion", "daemon", "init"}));
    EXPECT_EQ(complete({"gt", "--town", "/tmp", "daemon", "st"}),
              (Words{"start", "status", "stop"}));
    EXPECT_EQ(complete({"gt", "--town=/tmp", "daemon", "st"}), (Words{"start", "status", "stop"}));
    EXPECT_EQ(complete({"gt", "--town", "=", "/tmp", "daemon", "st"}),
              (Words{"start", "status", "stop"}));
}

TEST_F(Bash, RegistersTheFunctionForGt) {
    auto out = run({"bash", "--norc", "--noprofile", "-c", R"(source "$1" && complete -p gt)",
                    "bash", m_dir.path() + "/gt.bash"});
    EXPECT_EQ(out, "complete -F _gt gt\n");
    EXPECT_TRUE(m_script.ends_with("complete -F _gt gt\n"));
}

} // namespace
