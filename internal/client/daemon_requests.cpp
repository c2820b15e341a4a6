// `gt daemon clear-backoff|heartbeat|notify`: requests to the running daemon.
#include "daemon_requests.hpp"

#include "commands.hpp"
#include "control_client.hpp"
#include "state/config.hpp"
#include "state/notify.hpp"
#include "state/restart_state.hpp"
#include "state/town.hpp"

#include <charconv>
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

namespace gt::client {

namespace {

/// A number the pane-died hook passed for `n`: plain decimal digits within its range, or
/// nothing (nullopt: what tmux prints for what it does not know).
util::Result<std::optional<long>> hook_number(const state::NotifyNumber& n,
                                              const std::string& text) {
    if (text.empty()) {
        return std::optional<long>();
    }
    long value = 0;
    const char* end = text.data() + text.size();
    auto parsed = std::from_chars(text.data(), end, value);
    if (text.find_first_not_of("0123456789") != std::string::npos || parsed.ec != std::errc() ||
        parsed.ptr != end || !n.contains(value)) {
        return util::err(std::string(n.flag) + ": " + n.expected() + " (or nothing), got '" + text +
                         "'");
    }
    return std::optional<long>(value);
}

} // namespace

int clear_backoff(const std::string& town, const std::string& text) {
    auto id = state::parse_identity(text);
    if (!id) {
        std::cerr << "gt daemon clear-backoff: " << id.error() << "\n";
        return 2;
    }
    // A running daemon clears it itself (and answers once the pass that acts on it is done).
    auto reply = control_request(town, {{"cmd", "clear-backoff"}, {"identity", id->str()}},
                                 util::Millis(60'000));
    if (reply && reply->value("ok", false)) {
        std::cout << "Cleared the backoff of " << id->str() << " (heartbeat #"
                  << reply->value("heartbeat_count", 0) << " acted on it)\n";
        return 0;
    }
    state::RestartStateFile file{state::TownPaths(town)};
    if (auto st = file.clear(id->str(), util::now()); !st) {
        std::cerr << "gt daemon clear-backoff: " << st.error() << "\n";
        return failure_exit_code(st.error_code());
    }
    if (auto pid = signal_daemon(town, SIGUSR2)) {
        std::cout << "Cleared the backoff of " << id->str() << "; daemon (PID " << *pid
                  << ") signalled\n";
    } else {
        std::cout << "Cleared the backoff of " << id->str()
                  << " (no daemon running: it applies at the next start)\n";
    }
    return 0;
}

int heartbeat_now(const std::string& town) {
    auto reply = control_request(town, {{"cmd", "heartbeat"}}, util::Millis(120'000));
    if (!reply) {
        std::cerr << "gt daemon heartbeat: " << reply.error() << " (is the daemon running?)\n";
        return 1;
    }
    if (!reply->value("ok", false)) {
        std::cerr << "gt daemon heartbeat: " << reply->value("error", std::string("failed"))
                  << "\n";
        return 1;
    }
    std::cout << "Heartbeat #" << reply->value("heartbeat_count", 0) << ": "
              << reply->value("supervised", 0) << " supervised, " << reply->value("healthy", 0)
              << " healthy, " << reply->value("restarts", 0) << " started, "
              << reply->value("kills", 0) << " killed, took " << reply->value("duration_ms", 0)
              << "ms" << (reply->value("degraded", false) ? " (degraded: no tmux)" : "") << "\n";
    return 0;
}

int notify_daemon(const std::string& town, const std::string& agent, const std::string& exit_code,
                  const std::string& signal, const std::string& pane_pid) {
    auto id = state::parse_identity(agent);
    if (!id) {
        std::cerr << "gt daemon notify: --agent: " << id.error() << "\n";
        return 2;
    }
    nlohmann::json req = {{"cmd", "notify"}, {"identity", id->str()}};
    const std::string* texts[] = {&exit_code, &signal, &pane_pid}; // as in k_notify_numbers
    for (std::size_t i = 0; i < state::k_notify_numbers.size(); ++i) {
        const auto& n = state::k_notify_numbers[i];
        auto value = hook_number(n, *texts[i]);
        if (!value) {
            std::cerr << "gt daemon notify: " << value.error() << "\n";
            return 2;
        }
        if (*value) {
            req[n.key] = **value;
        }
    }
    auto config = state::load_town_config(town);
    auto rigs = state::load_rigs(town);
    if (!config || !rigs) {
        std::cerr << "gt daemon notify: " << (config ? rigs.error() : config.error()) << "\n";
        return failure_exit_code(config ? rigs.error_code() : config.error_code());
    }
    std::vector<std::string> rig_names;
    for (const auto& r : *rigs) {
        rig_names.push_back(r.name);
    }
    if (auto why = not_of_town(town, *config, rig_names, *id); !why.empty()) {
        std::cerr << "gt daemon notify: --agent: '" << agent
                  << "' is not an agent of this town: " << why << "\n";
        return 2;
    }
    auto reply = control_request(town, req, util::Millis(5000));
    if (!reply || !reply->value("ok", false)) {
        std::cerr << "gt daemon notify: "
                  << (reply ? reply->value("error", std::string("refused")) : reply.error())
                  << "\n";
        return 1;
    }
    return 0;
}

} // namespace gt::client
