#include "fakes/recording_runner.hpp"

#include <utility>

namespace gt::test {

std::string tmux_subcommand(const std::vector<std::string>& argv) {
    if (argv.empty()) {
        return "";
    }
    const std::string& program = argv[0];
    if (program == "systemd-run") { // a launcher (design §18.1): what it runs after `--`
        auto dashes = std::find(argv.begin(), argv.end(), "--");
        return dashes == argv.end() ? "" : tmux_subcommand({dashes + 1, argv.end()});
    }
    bool is_tmux = program == "tmux" ||
                   (program.size() > 5 && program.compare(program.size() - 5, 5, "/tmux") == 0);
    if (!is_tmux) {
        return "";
    }
    std::size_t i = 1;
    if (i < argv.size() && (argv[i] == "-L" || argv[i] == "-S")) {
        i += 2;
    }
    return i < argv.size() ? argv[i] : "";
}

ArgvMatcher tmux_subcommand_is(std::string subcommand) {
    return [subcommand = std::move(subcommand)](const std::vector<std::string>& argv) {
        return tmux_subcommand(argv) == subcommand;
    };
}

proc::RunResult ok_reply(std::string out) {
    proc::RunResult r;
    r.exit_code = 0;
    r.out = std::move(out);
    return r;
}

proc::RunResult failed_reply(int exit_code, std::string err, std::string out) {
    proc::RunResult r;
    r.exit_code = exit_code;
    r.err = std::move(err);
    r.out = std::move(out);
    return r;
}

proc::RunResult timed_out_reply() {
    proc::RunResult r;
    r.exit_code = -1;
    r.signal = 9; // what killing the process group at the timeout leaves
    r.timed_out = true;
    return r;
}

RecordingRunner& RecordingRunner::on(ArgvMatcher match, proc::RunResult reply, int times) {
    std::lock_guard lock(m_mutex);
    m_rules.push_back(Rule{std::move(match), std::move(reply), times});
    return *this;
}

RecordingRunner& RecordingRunner::on(const std::string& subcommand, proc::RunResult reply,
                                     int times) {
    return on(tmux_subcommand_is(subcommand), std::move(reply), times);
}

RecordingRunner& RecordingRunner::on_call(const std::string& subcommand, Answer answer) {
    std::lock_guard lock(m_mutex);
    m_rules.push_back(Rule{tmux_subcommand_is(subcommand), ok_reply(), -1, std::move(answer)});
    return *this;
}

RecordingRunner& RecordingRunner::fail_to_start(ArgvMatcher match, std::string error, int times) {
    std::lock_guard lock(m_mutex);
    m_rules.push_back(Rule{std::move(match), util::err(std::move(error)), times});
    return *this;
}

RecordingRunner& RecordingRunner::set_default(proc::RunResult reply) {
    std::lock_guard lock(m_mutex);
    m_default = std::move(reply);
    return *this;
}

util::Result<proc::RunResult> RecordingRunner::run(const proc::RunOptions& options) {
    std::lock_guard lock(m_mutex);
    m_calls.push_back(options);
    // The newest rule wins, so a test can override what its fixture scripted.
    for (auto it = m_rules.rbegin(); it != m_rules.rend(); ++it) {
        if (it->remaining == 0 || !it->match(options.argv)) {
            continue;
        }
        if (it->remaining > 0) {
            --it->remaining;
        }
        if (it->answer) {
            return it->answer(options.argv);
        }
        return it->reply;
    }
    return m_default;
}

std::vector<proc::RunOptions> RecordingRunner::calls() const {
    std::lock_guard lock(m_mutex);
    return m_calls;
}

std::vector<std::vector<std::string>> RecordingRunner::argvs() const {
    std::lock_guard lock(m_mutex);
    std::vector<std::vector<std::string>> out;
    for (const auto& c : m_calls) {
        out.push_back(c.argv);
    }
    return out;
}

std::vector<proc::RunOptions> RecordingRunner::calls_of(const std::string& subcommand) const {
    std::lock_guard lock(m_mutex);
    std::vector<proc::RunOptions> out;
    for (const auto& c : m_calls) {
        if (tmux_subcommand(c.argv) == subcommand) {
            out.push_back(c);
        }
    }
    return out;
}

std::size_t RecordingRunner::count(const std::string& subcommand) const {
    return calls_of(subcommand).size();
}

void RecordingRunner::clear_calls() {
    std::lock_guard lock(m_mutex);
    m_calls.clear();
}

RecordingRunner::Answer capture_answer(std::function<std::string(std::size_t i)> screen_of) {
    return [screen_of = std::move(screen_of)](const std::vector<std::string>& argv) {
        std::string out;
        std::size_t screen = 0;
        for (std::size_t i = 0; i + 2 < argv.size(); ++i) {
            if (argv[i] == "display-message") {
                out += screen_of(screen++) + argv[i + 2] + "\n";
            }
        }
        return ok_reply(out);
    };
}

} // namespace gt::test
