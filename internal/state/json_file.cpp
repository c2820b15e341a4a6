#include "json_file.hpp"

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace gt::state {

namespace {

using nlohmann::json;

/// Remembers the keys of every open object while the parser walks the text, and the path of the
/// first key seen twice (`daemon.restart.multiplier`, `agent.command[0].a`).
class DuplicateKeyFinder {
public:
    bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
        switch (event) {
        case json::parse_event_t::object_start:
        case json::parse_event_t::array_start:
            m_open.push_back({event == json::parse_event_t::object_start, child_path(), {}, {}, 0});
            break;
        case json::parse_event_t::object_end:
        case json::parse_event_t::array_end:
            if (!m_open.empty()) {
                m_open.pop_back();
            }
            break;
        case json::parse_event_t::key:
            if (!m_open.empty() && parsed.is_string()) {
                Container& c = m_open.back();
                c.key = parsed.get<std::string>();
                if (!c.keys.insert(c.key).second && m_duplicate.empty()) {
                    m_duplicate = join(c.path, c.key);
                }
            }
            break;
        case json::parse_event_t::value:
            if (!m_open.empty() && !m_open.back().object) {
                ++m_open.back().index;
            }
            break;
        }
        return true;
    }

    const std::string& duplicate() const { return m_duplicate; }

private:
    struct Container {
        bool object;
        std::string path;
        std::set<std::string> keys;
        std::string key;   ///< object: the key whose value comes next
        std::size_t index; ///< array: the index of the next element
    };

    static std::string join(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "." + key;
    }
    /// The path of a container that starts now, inside the innermost open one.
    std::string child_path() {
        if (m_open.empty()) {
            return "";
        }
        Container& parent = m_open.back();
        if (parent.object) {
            return join(parent.path, parent.key);
        }
        return parent.path + "[" + std::to_string(parent.index++) + "]";
    }

    std::vector<Container> m_open;
    std::string m_duplicate;
};

} // namespace

util::Result<nlohmann::json> parse_json(const std::string& text, const std::string& where,
                                        DuplicateKeys duplicates) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return util::err(where + ": empty file");
    }
    // Deeper text is refused before it is built: pretty-printed again (rigs.json), 300,000
    // levels made tens of gigabytes, and dump() recurses once per level.
    bool too_deep = false;
    DuplicateKeyFinder finder;
    auto value = json::parse(
        text,
        [&](int depth, json::parse_event_t event, json& parsed) {
            bool opens = event == json::parse_event_t::object_start ||
                         event == json::parse_event_t::array_start;
            if (too_deep || (opens && depth >= k_max_json_depth)) {
                too_deep = true;
                return false;
            }
            return duplicates == DuplicateKeys::last_wins || finder(depth, event, parsed);
        },
        false);
    if (too_deep) {
        return util::err(where + ": nested deeper than " + std::to_string(k_max_json_depth) +
                         " levels");
    }
    if (value.is_discarded()) {
        return util::err(where + ": not valid JSON");
    }
    if (!finder.duplicate().empty()) {
        return util::err(where + ": duplicate key '" + finder.duplicate() + "'");
    }
    return value;
}

util::Result<nlohmann::json> read_json(const std::string& path, std::size_t cap,
                                       bool follow_symlinks) {
    auto text = util::read_file(path, cap, follow_symlinks);
    if (!text) {
        return util::Error{text.error(), text.error_code()};
    }
    return parse_json(*text, path);
}

util::Status
for_each_entry(const std::string& text, const std::string& where,
               const std::function<bool(const std::string& key, const nlohmann::json& value)>& take,
               std::vector<std::string>* skipped) {
    auto doc = parse_json(text, where);
    if (!doc) {
        return util::err(doc.error());
    }
    if (!doc->is_object()) {
        return util::err(where + ": not a JSON object");
    }
    for (const auto& [key, value] : doc->items()) {
        if (!take(key, value) && skipped) {
            skipped->push_back(where + ": " + key + ": wrong shape");
        }
    }
    return {};
}

util::Status write_json(const std::string& path, const nlohmann::json& value) {
    // Invalid UTF-8 in a string must not throw out of dump(): replace it.
    return util::write_file_atomic(
        path, value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", 0600);
}

} // namespace gt::state
