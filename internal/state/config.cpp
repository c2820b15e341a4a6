#include "config.hpp"

#include "command_words.hpp"
#include "json_fields.hpp"
#include "json_file.hpp"
#include "town.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace gt::state {

using nlohmann::json;

namespace {

/// Why `name` is not a tmux socket name (`tmux -L`), or "" when it is one (or empty).
std::string socket_name_problem(std::string_view name) {
    auto allowed = [](char c, bool first) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || (!first && (c == '.' || c == '-'));
    };
    bool ok = name.size() <= 64;
    for (std::size_t i = 0; ok && i < name.size(); ++i) {
        ok = allowed(name[i], i == 0);
    }
    if (ok) {
        return "";
    }
    return "not a tmux socket name: '" + std::string(name) +
           "' (a plain file name: letters, digits, '_', '.' and '-', at most 64, not starting "
           "with '.' or '-')";
}

/// A command: a string (split into words like a shell, see split_words()) or an array of
/// strings.
void read_command(FieldReader& in, const char* key, std::vector<std::string>& out) {
    const json* v = in.field(key);
    if (!v) {
        return;
    }
    std::vector<std::string> words;
    if (v->is_string()) {
        auto split = split_words(v->get<std::string>());
        if (!split) {
            return in.fail(key, split.error());
        }
        words = std::move(*split);
    } else if (v->is_array()) {
        in.strings(key, words);
    } else {
        return in.fail(key, "expected a command string or an array of strings, got " +
                                describe_value(*v));
    }
    if (in.failed()) {
        return;
    }
    if (words.empty()) {
        return in.fail(key, "empty command");
    }
    out = std::move(words);
}

void read_restart(FieldReader& in, RestartConfig& r) {
    in.duration("initial_backoff", r.initial_backoff);
    in.duration("max_backoff", r.max_backoff);
    in.number("multiplier", r.multiplier, 1.0, 100.0);
    in.integer("crash_loop_count", r.crash_loop_count, 1, 1000);
    in.duration("crash_loop_window", r.crash_loop_window);
    in.duration("crash_loop_expiry", r.crash_loop_expiry);
    in.duration("stability_period", r.stability_period);
    if (r.max_backoff < r.initial_backoff) {
        in.fail("max_backoff", "must not be shorter than initial_backoff");
    }
}

/// An agent kind: claude, codex, gemini or generic.
void read_kind(FieldReader& in, const char* key, std::optional<screen::AgentKind>& out) {
    std::optional<std::string> text;
    in.string(key, text);
    if (!text) {
        return;
    }
    out = screen::parse_kind(*text);
    if (!out) {
        in.fail(key, "unknown agent kind '" + *text + "' (known: claude, codex, gemini, generic)");
    }
}

/// `screens.patterns`: [{"kind": "claude", "condition": "usage_limited", "match": "regex"}].
void read_patterns(FieldReader& in, std::vector<screen::UserPattern>& out) {
    const json* v = in.field("patterns");
    if (!v) {
        return;
    }
    if (!v->is_array()) {
        return in.fail("patterns", "expected an array of objects, got " + describe_value(*v));
    }
    for (std::size_t i = 0; i < v->size() && !in.failed(); ++i) {
        const std::string key = "patterns[" + std::to_string(i) + "]";
        const json& item = (*v)[i];
        if (!item.is_object()) {
            return in.fail(key, "expected an object, got " + describe_value(item));
        }
        FieldReader p(in, key, item);
        screen::UserPattern pattern;
        read_kind(p, "kind", pattern.kind);
        std::string condition;
        p.string("condition", condition, true);
        p.string("match", pattern.match, true);
        if (p.failed()) {
            return;
        }
        auto c = screen::parse_condition(condition);
        if (!c || *c == screen::Condition::exited || *c == screen::Condition::unknown) {
            return p.fail("condition",
                          "'" + condition +
                              "' is not a condition a screen can show (working, idle, "
                              "waiting_input, startup_blocked, auth_failed, usage_limited, "
                              "offline)");
        }
        pattern.condition = *c;
        out.push_back(std::move(pattern));
    }
}

void read_screens(FieldReader& in, ScreenConfig& s) {
    in.duration("quiet_after", s.quiet_after, util::Millis(1000));
    in.duration("usage_probe", s.usage_probe, util::Millis(1000));
    in.duration("resume_margin", s.resume_margin, util::Millis(0));
    in.string("resume_text", s.resume_text);
    if (s.resume_text.empty() || s.resume_text.size() > 1000 ||
        s.resume_text.find_first_of("\r\n") != std::string::npos) {
        in.fail("resume_text", "must be one line of 1 to 1000 characters");
    }
    in.boolean("builtin_patterns", s.builtin_patterns);
    read_patterns(in, s.patterns);
    if (in.failed()) {
        return;
    }
    auto matcher = screen::Matcher::make(s.patterns, s.builtin_patterns);
    if (!matcher) {
        return in.fail("patterns", matcher.error());
    }
    s.compiled = std::make_shared<const screen::Matcher>(std::move(*matcher));
}

void read_log(FieldReader& in, LogConfig& l) {
    in.size("max_size", l.max_size);
    if (l.max_size < 4096) {
        in.fail("max_size", "must be at least 4KiB");
    }
    in.integer("max_files", l.max_files, 1, 100);
}

void read_daemon(FieldReader& in, DaemonConfig& d) {
    in.duration("heartbeat_interval", d.heartbeat_interval, util::Millis(10));
    in.duration("dead_agent_timeout", d.dead_agent_timeout);
    in.duration("gupp_timeout", d.gupp_timeout);
    in.duration("deacon_stale", d.deacon_stale);
    in.boolean("type_when_attached", d.type_when_attached);
    in.duration("deacon_kill", d.deacon_kill);
    in.duration("start_grace", d.start_grace, util::Millis(0));
    in.duration("lifecycle_max_age", d.lifecycle_max_age);
    in.duration("stop_timeout", d.stop_timeout);
    in.duration("tmux_timeout", d.tmux_timeout, util::Millis(10));
    in.integer("mass_death_count", d.mass_death_count, 2, 1000);
    in.duration("mass_death_window", d.mass_death_window);
    in.integer("start_budget", d.start_budget, 1, 1000);
    in.duration("start_budget_window", d.start_budget_window);
    if (d.deacon_kill < d.deacon_stale) {
        in.fail("deacon_kill", "must not be shorter than deacon_stale");
    }
    in.object("restart", [&](FieldReader& r) { read_restart(r, d.restart); });
    in.object("log", [&](FieldReader& l) { read_log(l, d.log); });
    in.object("screens", [&](FieldReader& s) { read_screens(s, d.screens); });
}

void read_roles(FieldReader& in, std::map<std::string, RoleConfig>& roles) {
    static const char* known[] = {"deacon", "mayor", "witness", "refinery", "polecat", "crew"};
    for (const auto& [role, value] : in.items()) {
        bool ok = false;
        for (const char* k : known) {
            ok = ok || role == k;
        }
        if (!ok) {
            in.fail(role, "unknown role (known: deacon, mayor, witness, refinery, polecat, crew)");
        } else if (!value.is_object()) {
            // Not FieldReader::object: a null role is no absent one.
            in.fail(role, "expected an object, got " + describe_value(value));
        }
        if (in.failed()) {
            return;
        }
        RoleConfig rc;
        rc.enabled = role != "mayor";
        FieldReader r(in, role, value);
        r.boolean("enabled", rc.enabled);
        read_command(r, "command", rc.command);
        read_kind(r, "kind", rc.kind);
        roles[role] = rc;
    }
}

} // namespace

const std::vector<std::string>& TownConfig::command_for(const std::string& role) const {
    auto it = roles.find(role);
    if (it != roles.end() && !it->second.command.empty()) {
        return it->second.command;
    }
    return agent_command;
}

screen::AgentKind TownConfig::kind_for(const std::string& role) const {
    auto it = roles.find(role);
    if (it != roles.end() && it->second.kind) {
        return *it->second.kind;
    }
    return agent_kind ? *agent_kind : screen::kind_of_command(command_for(role));
}

const screen::Matcher& ScreenConfig::matcher() const {
    if (compiled) {
        return *compiled;
    }
    static const screen::Matcher builtin = *screen::Matcher::make({}, true);
    return builtin;
}

bool TownConfig::role_enabled(const std::string& role) const {
    auto it = roles.find(role);
    if (it == roles.end()) {
        return role != "mayor";
    }
    return it->second.enabled;
}

util::Result<TownConfig> parse_town_config(const std::string& text, const std::string& where) {
    auto parsed = parse_json(text, where, DuplicateKeys::reject);
    if (!parsed) {
        return util::Error{parsed.error()};
    }
    const json& root = *parsed;
    if (!root.is_object()) {
        return util::err(where + ": expected a JSON object, got " + describe_value(root));
    }
    TownConfig c;
    // Written by people: null means "the default", and messages show what was found.
    FieldReader in(where, root, {.null_is_absent = true, .wording = Wording::described});
    in.string("name", c.name);
    in.integer("version", c.version, 1, 1000);
    in.object("daemon", [&](FieldReader& d) { read_daemon(d, c.daemon); });
    in.object("agent", [&](FieldReader& a) {
        read_command(a, "command", c.agent_command);
        a.strings("process_names", c.process_names, true);
        read_kind(a, "kind", c.agent_kind);
    });
    in.object("roles", [&](FieldReader& r) { read_roles(r, c.roles); });
    in.object("tmux", [&](FieldReader& t) {
        t.string("socket", c.tmux_socket);
        if (auto why = socket_name_problem(c.tmux_socket); !why.empty()) {
            t.fail("socket", why);
        }
        std::string scope = "auto";
        t.string("scope", scope);
        if (scope == "auto") {
            c.tmux_scope = TmuxScope::automatic;
        } else if (scope == "systemd") {
            c.tmux_scope = TmuxScope::systemd;
        } else if (scope == "none") {
            c.tmux_scope = TmuxScope::none;
        } else {
            t.fail("scope", "unknown value '" + scope + "' (known: auto, systemd, none)");
        }
    });
    if (in.failed()) {
        return util::err(in.error());
    }
    return c;
}

util::Result<TownConfig> load_town_config(const std::string& town_root) {
    std::string path = TownPaths(town_root).town_json();
    auto text = util::read_file(path);
    if (!text) {
        return util::Error{text.error(), text.error_code()};
    }
    return parse_town_config(*text, path);
}

util::Status validate_tmux_socket_name(std::string_view field, std::string_view name) {
    if (auto why = socket_name_problem(name); !why.empty()) {
        return util::err(std::string(field) + ": " + why);
    }
    return {};
}

std::string choose_tmux_socket(const TownConfig& config, const std::string& env_socket) {
    return env_socket.empty() ? config.tmux_socket : env_socket;
}

util::Result<std::string> tmux_socket_from_env() {
    const char* env = std::getenv("GT_TMUX_SOCKET");
    std::string name = env ? env : "";
    if (auto st = validate_tmux_socket_name("GT_TMUX_SOCKET", name); !st) {
        return util::err(st.error());
    }
    return name;
}

std::string default_town_json(const std::string& name) {
    json j = {{"name", name},
              {"version", 1},
              {"daemon",
               {{"heartbeat_interval", "3m"},
                {"dead_agent_timeout", "15m"},
                {"gupp_timeout", "30m"},
                {"deacon_stale", "15m"},
                {"type_when_attached", false},
                {"deacon_kill", "30m"},
                {"start_grace", "5m"},
                {"lifecycle_max_age", "6h"},
                {"stop_timeout", "10s"},
                {"tmux_timeout", "5s"},
                {"mass_death_count", 3},
                {"mass_death_window", "30s"},
                {"start_budget", 5},
                {"start_budget_window", "10s"},
                {"restart",
                 {{"initial_backoff", "30s"},
                  {"max_backoff", "10m"},
                  {"multiplier", 2},
                  {"crash_loop_count", 5},
                  {"crash_loop_window", "15m"},
                  {"crash_loop_expiry", "1h"},
                  {"stability_period", "30m"}}},
                {"log", {{"max_size", "10MiB"}, {"max_files", 5}}},
                {"screens",
                 {{"quiet_after", "20s"},
                  {"usage_probe", "15m"},
                  {"resume_margin", "1m"},
                  {"resume_text", "continue"},
                  {"builtin_patterns", true},
                  {"patterns", json::array()}}}}},
              {"agent",
               {{"command", "claude --dangerously-skip-permissions"},
                {"process_names", json::array({"node", "claude"})}}},
              {"roles", {{"mayor", {{"enabled", false}}}}},
              {"tmux", {{"socket", ""}, {"scope", "auto"}}}};
    return j.dump(2) + "\n";
}

} // namespace gt::state
