// Typing into agents (design §19.3): only when policy::keystroke_block() finds nothing in the
// way, the text and Enter as keystrokes of their own, and a look afterwards that it was taken.
#include "recovery.hpp"

#include "policy/keystrokes.hpp"
#include "proc/process_table.hpp"
#include "screen/screen.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>
#include <thread>

namespace gt::executor {

namespace {

/// The text in the input line of `session`'s pane, or "?" when tmux could not show it.
std::string typed_in(const tmux::TmuxClient& tmux, const std::string& session) {
    auto state = tmux.input_state(session);
    return state ? screen::typed_text(state->lines, state->cursor_x, state->cursor_y) : "?";
}

} // namespace

std::vector<state::Identity> Recovery::type_carefully(const std::vector<state::Identity>& ids,
                                                      const std::string& text, bool escape_first,
                                                      const TickInput& in,
                                                      const state::TownConfig& config,
                                                      std::optional<proc::ProcessTable>& table) {
    if (ids.empty() || !in.snapshot || m_stop_requested) {
        return {};
    }
    const policy::KeystrokeRules rules{config.daemon.screens.quiet_after,
                                       config.daemon.type_when_attached};
    tmux::TmuxClient tmux = client();
    // Why an agent must not be typed into now, "" when it may; `input`: its input state.
    auto blocked = [&](const state::Identity& id, bool check_input, tmux::InputState* input) {
        auto pane = in.snapshot->sessions.find(id.session());
        if (pane == in.snapshot->sessions.end()) {
            return std::string("its session is gone");
        }
        auto state = tmux.input_state(id.session());
        if (!state) {
            return state.error();
        }
        if (!table) {
            table = proc::ProcessTable::read(); // once a pass, and only when typing is due
        }
        policy::KeystrokeFacts f;
        auto out = in.last_output.find(id.str());
        f.quiet_for = wall() - (out != in.last_output.end() ? out->second : pane->second.activity);
        f.in_front = table->not_the_agent_in_front(static_cast<pid_t>(pane->second.pid));
        f.input = std::move(*state);
        std::string why = policy::keystroke_block(f, rules, check_input);
        if (input) {
            *input = std::move(f.input);
        }
        return why;
    };
    auto hold = [&](const state::Identity& id, const std::string& why) {
        m_typing_held[id.str()] = why;
        if (changed("typing:" + id.str(), why)) {
            spdlog::info("{}: not typed into: {}", id.str(), why);
            m_events.record("typing_held", id.str(), id.session(), why);
        }
    };
    // One step for all the agents `to`: one tmux call (tmux::TmuxClient::send_keys()).
    auto keys = [&](const std::vector<state::Identity>& to, const std::vector<std::string>& k) {
        if (m_stop_requested || to.empty()) {
            return std::vector<state::Identity>{};
        }
        std::vector<std::string> sessions;
        for (const auto& id : to) {
            sessions.push_back(id.session());
        }
        auto took = tmux.send_keys(sessions, k);
        std::vector<state::Identity> out;
        std::copy_if(to.begin(), to.end(), std::back_inserter(out), [&](const state::Identity& id) {
            return std::find(took.begin(), took.end(), id.session()) != took.end();
        });
        return out;
    };

    std::vector<state::Identity> left, menus;
    for (const auto& id : ids) {
        tmux::InputState input;
        std::string why = blocked(id, false, &input);
        if (why.empty() && escape_first && screen::menu_open(input.lines, input.cursor_y)) {
            menus.push_back(id);
            continue;
        }
        if (why.empty()) {
            why = policy::input_block(input); // someone's text in its input line
        }
        if (why.empty()) {
            left.push_back(id);
        } else {
            hold(id, why);
        }
    }
    if (!menus.empty()) {
        // Closes the menu (a usage limit's) so that what follows lands in the input line.
        menus = keys(menus, {"Escape"});
        std::this_thread::sleep_for(m_type_pause);
        for (const auto& id : menus) {
            if (std::string why = blocked(id, true, nullptr); !why.empty()) {
                hold(id, why);
            } else {
                left.push_back(id);
            }
        }
    }
    left = keys(left, {"-l", "--", tmux::escape_argument(text)});
    if (left.empty()) {
        return {};
    }
    std::this_thread::sleep_for(m_type_pause);
    // Enter only where the input line holds the daemon's text and nothing else (or nothing:
    // an agent that does not echo): never submit what someone typed meanwhile.
    std::erase_if(left, [&](const state::Identity& id) {
        std::string there = typed_in(tmux, id.session());
        if (!there.empty() && !screen::holds_only(there, text)) {
            hold(id,
                 "its input line holds more than the daemon typed (" + there + "): not submitted");
            return true;
        }
        return false;
    });
    left = keys(left, {"Enter"}); // a key of its own: with the text, it is taken as a paste
    for (const auto& id : left) {
        m_typed_at[id.str()] = wall(); // what the pane prints now is the echo of this
    }
    if (left.empty()) {
        return {};
    }
    std::this_thread::sleep_for(m_type_pause);
    std::vector<state::Identity> taken;
    for (const auto& id : left) {
        if (screen::holds_only(typed_in(tmux, id.session()), text)) {
            // Still in its input line after Enter: the agent did not take it.
            spdlog::warn("{}: typed '{}', but it is still in its input line after Enter", id.str(),
                         text);
            m_events.record("typing_not_taken", id.str(), id.session(),
                            "still in its input line after Enter: " + text);
            continue;
        }
        m_typing_held.erase(id.str());
        m_logged.erase("typing:" + id.str());
        taken.push_back(id);
    }
    return taken;
}

void Recovery::type_keys(const std::vector<Action>& actions, const TickInput& in,
                         const state::TownConfig& config) {
    std::vector<state::Identity> nudge, resume;
    std::map<std::string, const Action*> by_id;
    for (const auto& a : actions) {
        if (a.kind == ActionKind::nudge || a.kind == ActionKind::resume) {
            (a.kind == ActionKind::nudge ? nudge : resume).push_back(a.id);
            by_id[a.id.str()] = &a;
        }
    }
    // What nothing wants to type into any more waits for nothing.
    std::erase_if(m_typing_held, [&](const auto& held) { return !by_id.count(held.first); });
    std::optional<proc::ProcessTable> table;
    for (const auto& id : type_carefully(nudge, policy::k_health_check, false, in, config, table)) {
        const Action& a = *by_id.at(id.str());
        spdlog::info("{}: nudged: {}", id.str(), a.reason);
        m_events.record("nudged", id.str(), id.session(), a.reason);
    }
    const std::string& text = config.daemon.screens.resume_text;
    for (const auto& id : type_carefully(resume, text, true, in, config, table)) {
        const Action& a = *by_id.at(id.str());
        m_screens.resume_sent(id.str(), wall());
        spdlog::info("{}: {}: typed '{}'", id.str(), a.reason, text);
        m_events.record("resume_sent", id.str(), id.session(), a.reason + "; typed '" + text + "'");
    }
}

} // namespace gt::executor
