// Typing into agents (design §19.3): only when policy::keystroke_block() finds nothing in the
// way, the text and Enter as keystrokes of their own, and a look afterwards that it was taken.
#include "recovery.hpp"

#include "policy/keystrokes.hpp"
#include "proc/process_table.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>
#include <thread>

namespace gt::executor {

namespace {

/// `s` with every run of spaces one space: the screen wraps and pads what was typed.
std::string squeezed(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c != ' ' || (!out.empty() && out.back() != ' ')) {
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    return out;
}

} // namespace

std::vector<std::string> Recovery::type_carefully(const std::vector<state::Identity>& ids,
                                                  const std::string& text, bool escape_first,
                                                  const TickInput& in,
                                                  const state::TownConfig& config) {
    const policy::KeystrokeRules rules{config.daemon.screens.quiet_after,
                                       config.daemon.type_when_attached};
    std::optional<proc::ProcessTable> table;
    tmux::TmuxClient tmux = client();
    const auto pause = m_type_pause;
    // Why an agent must not be typed into now, "" when it may; `input`: its input state.
    auto blocked = [&](const state::Identity& id, bool check_input, tmux::InputState* input) {
        auto pane = in.snapshot ? in.snapshot->sessions.find(id.session())
                                : decltype(in.snapshot->sessions.find(""))();
        if (!in.snapshot || pane == in.snapshot->sessions.end()) {
            return std::string("its session is gone");
        }
        auto state = tmux.input_state(id.session());
        if (!state) {
            return state.error();
        }
        if (!table) {
            table = proc::ProcessTable::read();
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
    std::vector<state::Identity> left, menus;
    for (const auto& id : ids) {
        tmux::InputState input;
        if (std::string why = blocked(id, false, &input); !why.empty()) {
            hold(id, why);
        } else if (escape_first && policy::menu_open(input)) {
            menus.push_back(id);
        } else if (why = policy::keystroke_block({util::Millis::max(), "", input}, {});
                   !why.empty()) {
            hold(id, why); // someone's text in its input line
        } else {
            left.push_back(id);
        }
    }
    // One step for all the agents left: one tmux call (tmux::TmuxClient::send_keys()).
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
        for (const auto& id : to) {
            if (std::find(took.begin(), took.end(), id.session()) != took.end()) {
                out.push_back(id);
            }
        }
        return out;
    };
    if (!menus.empty()) {
        // Closes the menu (a usage limit's) so that what follows lands in the input line.
        menus = keys(menus, {"Escape"});
        std::this_thread::sleep_for(pause);
        for (const auto& id : menus) {
            if (std::string why = blocked(id, true, nullptr); !why.empty()) {
                hold(id, why);
            } else {
                left.push_back(id);
            }
        }
    }
    left = keys(left, {"-l", "--", tmux::escape_argument(text)});
    for (const auto& id : left) {
        m_typed_at[id.str()] = wall();
    }
    if (left.empty()) {
        return {};
    }
    std::this_thread::sleep_for(pause);
    // Enter only where the input line holds the daemon's text and nothing else (or nothing:
    // an agent that does not echo): never submit what someone typed meanwhile.
    std::erase_if(left, [&](const state::Identity& id) {
        auto state = tmux.input_state(id.session());
        std::string there = state ? squeezed(policy::typed_text(*state)) : "?";
        if (!there.empty() && there != squeezed(text)) {
            hold(id,
                 "its input line holds more than the daemon typed (" + there + "): not submitted");
            return true;
        }
        return false;
    });
    left = keys(left, {"Enter"}); // a key of its own: with the text, it is taken as a paste
    if (left.empty()) {
        return {};
    }
    for (const auto& id : left) {
        m_typed_at[id.str()] = wall(); // what the pane prints now is the echo of this
    }
    std::this_thread::sleep_for(pause);
    std::vector<std::string> taken;
    for (const auto& id : left) {
        auto state = tmux.input_state(id.session());
        if (state && squeezed(policy::typed_text(*state)) == squeezed(text)) {
            // Still in its input line after Enter: the agent did not take it.
            spdlog::warn("{}: typed '{}', but it is still in its input line after Enter", id.str(),
                         text);
            m_events.record("typing_not_taken", id.str(), id.session(),
                            "still in its input line after Enter: " + text);
            continue;
        }
        m_typing_held.erase(id.str());
        m_logged.erase("typing:" + id.str());
        taken.push_back(id.session());
    }
    return taken;
}

void Recovery::type_keys(const std::vector<Action>& actions, const TickInput& in,
                         const state::TownConfig& config) {
    std::vector<state::Identity> nudge, resume;
    for (const auto& a : actions) {
        if (a.kind == ActionKind::nudge) {
            nudge.push_back(a.id);
        } else if (a.kind == ActionKind::resume) {
            resume.push_back(a.id);
        }
    }
    // What nothing wants to type into any more waits for nothing.
    std::erase_if(m_typing_held, [&](const auto& held) {
        auto wanted = [&](const state::Identity& id) { return id.str() == held.first; };
        return std::none_of(nudge.begin(), nudge.end(), wanted) &&
               std::none_of(resume.begin(), resume.end(), wanted);
    });
    if (m_stop_requested) {
        return;
    }
    for (const auto& session : type_carefully(nudge, policy::k_health_check, false, in, config)) {
        auto a = std::find_if(actions.begin(), actions.end(), [&](const Action& x) {
            return x.kind == ActionKind::nudge && x.id.session() == session;
        });
        spdlog::info("{}: nudged: {}", a->id.str(), a->reason);
        m_events.record("nudged", a->id.str(), session, a->reason);
    }
    const std::string& text = config.daemon.screens.resume_text;
    for (const auto& session : type_carefully(resume, text, true, in, config)) {
        auto a = std::find_if(actions.begin(), actions.end(), [&](const Action& x) {
            return x.kind == ActionKind::resume && x.id.session() == session;
        });
        const std::string id = a->id.str();
        m_screens.resume_sent(id, wall());
        spdlog::info("{}: {}: typed '{}'", id, a->reason, text);
        m_events.record("resume_sent", id, session, a->reason + "; typed '" + text + "'");
    }
}

} // namespace gt::executor
