#include "screen_watch.hpp"

#include <algorithm>

namespace gt::policy {

using screen::Condition;

bool ScreenState::usage_limited() const {
    return condition == Condition::usage_limited ||
           (condition == Condition::exited && cause == Condition::usage_limited);
}

namespace {

bool busy(const PaneSeen& pane, util::TimePoint now, const state::ScreenConfig& cfg) {
    return !pane.dead && now - pane.activity < cfg.quiet_after;
}

/// When the pane last printed, which is when its (unchanged since) screen was drawn; `now`
/// when tmux did not say or says something later.
util::TimePoint printed_at(const PaneSeen& pane, util::TimePoint now) {
    return pane.activity > util::TimePoint{} && pane.activity < now ? pane.activity : now;
}

/// The part of `screen` below the last line that echoes the typed resume text (`❯ continue`),
/// or nullopt when no line does. Only a prompt glyph or blanks may stand around the text.
std::optional<std::string_view> after_resume_echo(std::string_view screen,
                                                  const std::string& text) {
    static constexpr std::string_view k_word_chars =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::optional<std::string_view> after;
    std::size_t start = 0;
    while (start < screen.size()) {
        std::size_t end = screen.find('\n', start);
        std::size_t next = end == std::string_view::npos ? screen.size() : end + 1;
        std::string_view line = screen.substr(start, next - start);
        if (auto at = line.find(text); at != std::string_view::npos) {
            bool echo = line.substr(0, at).find_first_of(k_word_chars) == std::string_view::npos &&
                        line.substr(at + text.size()).find_first_not_of(" \t\r\n") ==
                            std::string_view::npos;
            if (echo) {
                after = screen.substr(next);
            }
        }
        start = next;
    }
    return after;
}

/// What a live screen says now. A usage-limit banner the resume text was already typed for is
/// history, not the agent's condition: the screen is read from below the typed text when that is
/// in view, else the banner's own line is passed over.
screen::Reading current(const std::string& text, ScreenState& state, const screen::Matcher& matcher,
                        screen::AgentKind kind, const screen::ReadContext& ctx,
                        const state::ScreenConfig& cfg) {
    bool resumed = !state.resumed_evidence.empty();
    std::optional<std::string_view> below;
    if (resumed) {
        below = after_resume_echo(text, cfg.resume_text);
    }
    if (below) {
        state.resume_echo_seen = true;
    } else if (resumed && state.resume_echo_seen) {
        // The echo has scrolled away, and the banner above it with it: a limit on screen now is
        // a new one, whatever its words.
        state.resumed_evidence.clear();
        resumed = false;
    }
    auto readings = matcher.read_live(below.value_or(text), kind, ctx);
    auto is_history = [&](const screen::Reading& r) {
        return resumed && !below && r.condition == Condition::usage_limited &&
               r.evidence == state.resumed_evidence;
    };
    if (resumed && !below && std::none_of(readings.begin(), readings.end(), is_history)) {
        // The old banner has left the screen: the same words later are a new limit.
        state.resumed_evidence.clear();
    }
    for (const auto& r : readings) {
        if (!is_history(r)) {
            return r;
        }
    }
    return {};
}

} // namespace

bool ScreenWatch::needs_capture(const std::string& id, const PaneSeen& pane, util::TimePoint now,
                                const state::ScreenConfig& cfg) const {
    const ScreenState* s = find(id);
    if (s && s->pane_pid != pane.pid) {
        s = nullptr; // a new pane: what the old one showed says nothing
    }
    if (pane.dead) {
        return !s || s->condition != Condition::exited;
    }
    if (busy(pane, now, cfg)) {
        // Busy needs no look, except to see whether typed resume text took: the agent may work
        // on without a pause until its next limit, and only a screen says which limit that is.
        return s && s->resume_sent_at && s->activity != pane.activity;
    }
    if (!s || s->condition == Condition::working || s->activity != pane.activity) {
        return true; // went quiet, or printed something since it was read
    }
    // A limit without a stated reset: look again now and then for the banner to change.
    return s->condition == Condition::usage_limited && !s->resets_at &&
           now - s->looked_at >= cfg.usage_probe;
}

ScreenWatch::Change ScreenWatch::observe(const std::string& id, const PaneSeen& pane,
                                         const std::optional<std::string>& text,
                                         const screen::Matcher& matcher, screen::AgentKind kind,
                                         const screen::ReadContext& ctx,
                                         const state::ScreenConfig& cfg) {
    const util::TimePoint now = ctx.now;
    std::optional<ScreenState> before;
    if (auto it = m_states.find(id); it != m_states.end() && it->second.pane_pid == pane.pid) {
        before = it->second;
    }
    ScreenState next = before.value_or(ScreenState{});
    next.pane_pid = pane.pid;
    // Times on a screen are read from when it was printed: "resets 3pm" printed at 14:10 and
    // read at 15:01 is today's 3pm (just passed), not tomorrow's.
    screen::ReadContext printed = ctx;
    printed.now = printed_at(pane, now);
    screen::Reading r;
    bool read = true;
    if (pane.dead && text) {
        r = matcher.read_dead(*text, kind, printed);
    } else if (pane.dead && !(before && before->condition == Condition::exited)) {
        r.condition = Condition::exited; // its screen could not be read
    } else if (pane.dead) {
        read = false; // read when it died: what it said stands
    } else if (text) {
        r = current(*text, next, matcher, kind, printed, cfg);
        if (busy(pane, now, cfg) && r.condition != Condition::usage_limited) {
            r = screen::Reading{}; // output in the last quiet_after: working, whatever it says
            r.condition = Condition::working;
        }
    } else if (busy(pane, now, cfg)) {
        r.condition = Condition::working;
    } else {
        read = false; // nothing new (or the capture failed): the condition stands
    }
    if (read) {
        // Only what was seen counts as seen: after a failed capture the pane is looked at again.
        next.activity = pane.activity;
    }
    if (text) {
        next.looked_at = now;
    }
    Change change;
    if (read) {
        bool same = before && before->condition == r.condition && before->cause == r.cause;
        if (!same) {
            change.condition_changed = true;
            // A quiet screen has shown this since its last output.
            bool quiet = !pane.dead && r.condition != Condition::working;
            next.since = quiet ? printed_at(pane, now) : now;
        }
        // A limit that resets after the resume text was typed is a new one (the text met a
        // fresh banner, below its echo): its own reset is waited for and typed for again.
        bool new_limit = next.resume_sent_at && !pane.dead &&
                         r.condition == Condition::usage_limited && r.resets_at &&
                         *r.resets_at > *next.resume_sent_at;
        if (same && !new_limit && before->evidence == r.evidence && before->resets_at) {
            // "try again in 2 hours" read again later must not move the reset.
            r.resets_at = before->resets_at;
        }
        if (new_limit) {
            next.resume_sent_at.reset();
            change.condition_changed = true;
        }
        next.condition = r.condition;
        next.cause = r.cause;
        next.evidence = r.evidence;
        next.resets_at = r.resets_at;
        if (next.resume_sent_at && text && !next.usage_limited()) {
            // Delivered: a screen read after the resume text no longer shows the limit (the
            // echo of the typed text alone proves nothing).
            change.resumed = true;
            next.resume_sent_at.reset();
        }
    }
    auto& kept = m_states[id];
    m_changed = m_changed || kept.remembered() != next.remembered();
    kept = std::move(next);
    return change;
}

void ScreenWatch::resume_sent(const std::string& id, util::TimePoint now) {
    auto it = m_states.find(id);
    if (it != m_states.end()) {
        it->second.resume_sent_at = now;
        it->second.resumed_evidence = it->second.evidence;
        it->second.resume_echo_seen = false;
        m_changed = true;
    }
}

void ScreenWatch::restore(const std::string& id, ScreenState state) {
    m_states[id] = std::move(state);
}

void ScreenWatch::shift(util::Millis by) {
    for (auto& [id, s] : m_states) {
        s.since += by;
        s.looked_at += by;
        if (s.resume_sent_at) {
            *s.resume_sent_at += by;
        }
    }
    m_changed = m_changed || !m_states.empty();
}

void ScreenWatch::keep_only(const std::set<std::string>& keep) {
    if (std::erase_if(m_states, [&](const auto& entry) { return !keep.count(entry.first); }) > 0) {
        m_changed = true;
    }
}

const ScreenState* ScreenWatch::find(const std::string& id) const {
    auto it = m_states.find(id);
    return it == m_states.end() ? nullptr : &it->second;
}

} // namespace gt::policy
