#include "config.hpp"

#include "json_file.hpp"
#include "town.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace gt::state {

using nlohmann::json;

namespace {

std::string type_of(const json& v) {
    std::string t = v.type_name();
    if (v.is_primitive() && !v.is_null()) {
        std::string shown = v.dump();
        if (shown.size() > 40) {
            shown = shown.substr(0, 40) + "...";
        }
        t += " " + shown;
    }
    return t;
}

/// Splits a command string into words the way a POSIX shell does, but without any expansion:
/// the command runs without a shell, so what only a shell could carry out is refused rather
/// than passed on as literal text. Errors say what, and where (positions count from 1).
util::Result<std::vector<std::string>> split_words(const std::string& s) {
    auto at = [](std::size_t i) { return " at position " + std::to_string(i + 1); };
    auto needs_shell = [&](const std::string& what, std::size_t i, const char* context) {
        return util::err(what + at(i) + context +
                         " needs a shell, and the command runs without one: quote it, or give "
                         "the command as an array of words");
    };
    auto shown = [](char c) { return std::string("'") + c + "'"; };
    std::vector<std::string> words;
    std::string word;
    bool in_word = false; // a word has begun, even if empty so far ('' is an empty word)
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == ' ' || c == '\t') {
            if (in_word) {
                words.push_back(std::move(word));
                word.clear();
                in_word = false;
            }
        } else if (c == '\'') {
            auto end = s.find('\'', i + 1);
            if (end == std::string::npos) {
                return util::err("unterminated single quote" + at(i));
            }
            word.append(s, i + 1, end - i - 1);
            i = end;
            in_word = true;
        } else if (c == '"') {
            std::size_t open = i;
            for (++i; i < s.size() && s[i] != '"'; ++i) {
                if (s[i] == '\\' && i + 1 < s.size() &&
                    std::string_view("\\\"$`\n").find(s[i + 1]) != std::string_view::npos) {
                    if (s[++i] != '\n') { // backslash-newline continues the line: nothing
                        word += s[i];
                    }
                } else if (s[i] == '$' || s[i] == '`') {
                    return needs_shell(shown(s[i]), i, ", inside double quotes,");
                } else {
                    word += s[i];
                }
            }
            if (i == s.size()) {
                return util::err("unterminated double quote" + at(open));
            }
            in_word = true;
        } else if (c == '\\') {
            if (i + 1 == s.size()) {
                return util::err("a backslash" + at(i) + " escapes nothing: it ends the string");
            }
            if (s[++i] != '\n') {
                word += s[i];
                in_word = true;
            }
        } else if (c == '\n') {
            return needs_shell("unquoted newline", i, "");
        } else if (std::string_view(";&|<>()$`*?[").find(c) != std::string_view::npos ||
                   (!in_word && (c == '~' || c == '#'))) {
            return needs_shell("unquoted " + shown(c), i, "");
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word) {
        words.push_back(std::move(word));
    }
    return words;
}

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

/// Walks one JSON object, reading optional fields into typed values; the first problem wins.
class Reader {
public:
    Reader(const std::string& where, std::string prefix, const json& obj)
        : m_where(where), m_prefix(std::move(prefix)), m_obj(obj) {}

    bool failed() const { return !m_error.empty(); }
    const std::string& error() const { return m_error; }

    const json* field(const char* key) {
        if (failed() || !m_obj.is_object()) {
            return nullptr;
        }
        auto it = m_obj.find(key);
        return it == m_obj.end() || it->is_null() ? nullptr : &*it;
    }
    void fail(const char* key, const std::string& why) {
        if (!failed()) {
            m_error = m_where + ": " + m_prefix + key + ": " + why;
        }
    }
    void duration(const char* key, util::Millis& out, util::Millis min = util::Millis(1)) {
        const json* v = field(key);
        if (!v) {
            return;
        }
        if (!v->is_string()) {
            return fail(key, "expected a duration string such as \"3m\", got " + type_of(*v));
        }
        auto d = util::parse_duration(v->get<std::string>());
        if (!d) {
            return fail(key, d.error());
        }
        if (*d < min) {
            return fail(key, "must be at least " + util::format_duration(min));
        }
        out = *d;
    }
    void integer(const char* key, int& out, int min, int max) {
        const json* v = field(key);
        if (!v) {
            return;
        }
        if (!v->is_number_integer()) {
            return fail(key, "expected an integer, got " + type_of(*v));
        }
        auto n = v->get<long long>();
        if (n < min || n > max) {
            return fail(key,
                        "must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
        out = static_cast<int>(n);
    }
    void number(const char* key, double& out, double min, double max) {
        const json* v = field(key);
        if (!v) {
            return;
        }
        if (!v->is_number()) {
            return fail(key, "expected a number, got " + type_of(*v));
        }
        double n = v->get<double>();
        if (!(n >= min && n <= max)) {
            return fail(key,
                        "must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
        out = n;
    }
    void string(const char* key, std::string& out) {
        const json* v = field(key);
        if (!v) {
            return;
        }
        if (!v->is_string()) {
            return fail(key, "expected a string, got " + type_of(*v));
        }
        out = v->get<std::string>();
    }
    void boolean(const char* key, bool& out) {
        const json* v = field(key);
        if (!v) {
            return;
        }
        if (!v->is_boolean()) {
            return fail(key, "expected true or false, got " + type_of(*v));
        }
        out = v->get<bool>();
    }
    void size(const char* key, std::uint64_t& out) {
        const json* v = field(key);
        if (!v) {
            return;
        }
        if (v->is_number_unsigned()) {
            out = v->get<std::uint64_t>();
        } else if (v->is_string()) {
            auto s = util::parse_size(v->get<std::string>());
            if (!s) {
                return fail(key, s.error());
            }
            out = *s;
        } else {
            return fail(key, "expected a size such as \"10MiB\", got " + type_of(*v));
        }
        if (out < 4096) {
            return fail(key, "must be at least 4KiB");
        }
    }
    /// A command: a string (split into words like a shell, see split_words()) or an array of
    /// strings.
    void command(const char* key, std::vector<std::string>& out) {
        const json* v = field(key);
        if (!v) {
            return;
        }
        std::vector<std::string> words;
        if (v->is_string()) {
            auto split = split_words(v->get<std::string>());
            if (!split) {
                return fail(key, split.error());
            }
            words = std::move(*split);
        } else if (v->is_array()) {
            for (const auto& w : *v) {
                if (!w.is_string()) {
                    return fail(key, "expected an array of strings, found " + type_of(w));
                }
                words.push_back(w.get<std::string>());
            }
        } else {
            return fail(key,
                        "expected a command string or an array of strings, got " + type_of(*v));
        }
        if (words.empty()) {
            return fail(key, "empty command");
        }
        out = std::move(words);
    }
    /// A nested object: returns it (or nullptr when absent), failing when it is not an object.
    const json* object(const char* key) {
        const json* v = field(key);
        if (v && !v->is_object()) {
            fail(key, "expected an object, got " + type_of(*v));
            return nullptr;
        }
        return v;
    }
    std::string prefix_for(const char* key) const { return m_prefix + key + "."; }

private:
    const std::string& m_where;
    std::string m_prefix;
    const json& m_obj;
    std::string m_error;
};

std::string read_restart(const std::string& where, const json& obj, RestartConfig& r) {
    Reader in(where, "daemon.restart.", obj);
    in.duration("initial_backoff", r.initial_backoff);
    in.duration("max_backoff", r.max_backoff);
    in.number("multiplier", r.multiplier, 1.0, 100.0);
    in.integer("crash_loop_count", r.crash_loop_count, 1, 1000);
    in.duration("crash_loop_window", r.crash_loop_window);
    in.duration("crash_loop_expiry", r.crash_loop_expiry);
    in.duration("stability_period", r.stability_period);
    if (!in.failed() && r.max_backoff < r.initial_backoff) {
        in.fail("max_backoff", "must not be shorter than initial_backoff");
    }
    return in.error();
}

std::string read_daemon(const std::string& where, const json& obj, DaemonConfig& d) {
    Reader in(where, "daemon.", obj);
    in.duration("heartbeat_interval", d.heartbeat_interval, util::Millis(10));
    in.duration("dead_agent_timeout", d.dead_agent_timeout);
    in.duration("gupp_timeout", d.gupp_timeout);
    in.duration("deacon_stale", d.deacon_stale);
    in.duration("deacon_kill", d.deacon_kill);
    in.duration("start_grace", d.start_grace, util::Millis(0));
    in.duration("lifecycle_max_age", d.lifecycle_max_age);
    in.duration("stop_timeout", d.stop_timeout);
    in.duration("tmux_timeout", d.tmux_timeout, util::Millis(10));
    if (!in.failed() && d.deacon_kill < d.deacon_stale) {
        in.fail("deacon_kill", "must not be shorter than deacon_stale");
    }
    if (const json* r = in.object("restart")) {
        if (auto e = read_restart(where, *r, d.restart); !e.empty()) {
            return e;
        }
    }
    if (const json* l = in.object("log")) {
        Reader log(where, "daemon.log.", *l);
        log.size("max_size", d.log.max_size);
        log.integer("max_files", d.log.max_files, 1, 100);
        if (log.failed()) {
            return log.error();
        }
    }
    return in.error();
}

} // namespace

const std::vector<std::string>& TownConfig::command_for(const std::string& role) const {
    auto it = roles.find(role);
    if (it != roles.end() && !it->second.command.empty()) {
        return it->second.command;
    }
    return agent_command;
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
        return util::err(where + ": expected a JSON object, got " + type_of(root));
    }
    TownConfig c;
    Reader in(where, "", root);
    in.string("name", c.name);
    in.integer("version", c.version, 1, 1000);
    if (const json* d = in.object("daemon")) {
        if (auto e = read_daemon(where, *d, c.daemon); !e.empty()) {
            return util::err(e);
        }
    }
    if (const json* a = in.object("agent")) {
        Reader agent(where, "agent.", *a);
        agent.command("command", c.agent_command);
        if (const json* names = agent.field("process_names")) {
            std::vector<std::string> list;
            if (!names->is_array()) {
                agent.fail("process_names", "expected an array of strings, got " + type_of(*names));
            } else {
                for (const auto& n : *names) {
                    if (!n.is_string() || n.get<std::string>().empty()) {
                        agent.fail("process_names",
                                   "expected non-empty strings, found " + type_of(n));
                        break;
                    }
                    list.push_back(n.get<std::string>());
                }
            }
            c.process_names = std::move(list);
        }
        if (agent.failed()) {
            return util::err(agent.error());
        }
    }
    if (const json* roles = in.object("roles")) {
        for (const auto& [role, value] : roles->items()) {
            static const char* known[] = {"deacon",   "mayor",   "witness",
                                          "refinery", "polecat", "crew"};
            bool ok = false;
            for (const char* k : known) {
                ok = ok || role == k;
            }
            std::string prefix = "roles." + role + ".";
            if (!ok) {
                return util::err(where + ": roles." + role +
                                 ": unknown role (known: deacon, mayor, "
                                 "witness, refinery, polecat, crew)");
            }
            if (!value.is_object()) {
                return util::err(where + ": roles." + role + ": expected an object, got " +
                                 type_of(value));
            }
            RoleConfig rc;
            rc.enabled = role != "mayor";
            Reader r(where, prefix, value);
            r.boolean("enabled", rc.enabled);
            r.command("command", rc.command);
            if (r.failed()) {
                return util::err(r.error());
            }
            c.roles[role] = rc;
        }
    }
    if (const json* t = in.object("tmux")) {
        Reader tmux(where, "tmux.", *t);
        tmux.string("socket", c.tmux_socket);
        if (auto why = socket_name_problem(c.tmux_socket); !tmux.failed() && !why.empty()) {
            tmux.fail("socket", why);
        }
        if (tmux.failed()) {
            return util::err(tmux.error());
        }
    }
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
                {"deacon_kill", "30m"},
                {"start_grace", "5m"},
                {"lifecycle_max_age", "6h"},
                {"stop_timeout", "10s"},
                {"tmux_timeout", "5s"},
                {"restart",
                 {{"initial_backoff", "30s"},
                  {"max_backoff", "10m"},
                  {"multiplier", 2},
                  {"crash_loop_count", 5},
                  {"crash_loop_window", "15m"},
                  {"crash_loop_expiry", "1h"},
                  {"stability_period", "30m"}}},
                {"log", {{"max_size", "10MiB"}, {"max_files", 5}}}}},
              {"agent",
               {{"command", "claude --dangerously-skip-permissions"},
                {"process_names", json::array({"node", "claude"})}}},
              {"roles", {{"mayor", {{"enabled", false}}}}},
              {"tmux", {{"socket", ""}}}};
    return j.dump(2) + "\n";
}

} // namespace gt::state
