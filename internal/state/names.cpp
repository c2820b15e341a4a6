#include "names.hpp"

#include <algorithm>
#include <vector>

namespace gt::state {

namespace {

bool name_char(char c, bool first) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || (!first && c == '_');
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        auto pos = s.find(sep, start);
        parts.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
        if (pos == std::string_view::npos) {
            return parts;
        }
        start = pos + 1;
    }
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return lower(x) == lower(y); });
}

std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 60)) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    if (s.size() > 60) {
        out += "...";
    }
    return out;
}

} // namespace

const char* role_name(Role role) {
    switch (role) {
    case Role::deacon:
        return "deacon";
    case Role::mayor:
        return "mayor";
    case Role::witness:
        return "witness";
    case Role::refinery:
        return "refinery";
    case Role::crew:
        return "crew";
    case Role::polecat:
        return "polecat";
    }
    return "unknown";
}

util::Status validate_name(std::string_view what, std::string_view name) {
    std::string w(what);
    if (name.empty()) {
        return util::err("invalid " + w + " name: empty");
    }
    if (name.size() > 40) {
        return util::err("invalid " + w + " name '" + printable(name) +
                         "': longer than 40 characters");
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!name_char(name[i], i == 0)) {
            return util::err(
                "invalid " + w + " name '" + printable(name) +
                "': use letters, digits and '_' (not first); '-' is the session-name separator");
        }
    }
    if (what == "rig") {
        for (std::string_view reserved : k_reserved_rig_names) {
            if (same_ignoring_case(name, reserved)) {
                return util::err("invalid rig name '" + std::string(name) +
                                 "': reserved by gt's town layout (the town's own " +
                                 std::string(reserved) + "/ directory)");
            }
        }
    }
    if (what == "polecat" && (name == "witness" || name == "refinery" || name == "crew")) {
        return util::err("invalid polecat name '" + std::string(name) + "': reserved");
    }
    return {};
}

std::string Identity::str() const {
    switch (role) {
    case Role::deacon:
    case Role::mayor:
        return role_name(role);
    case Role::witness:
    case Role::refinery:
        return rig + "/" + role_name(role);
    case Role::crew:
        return rig + "/crew/" + name;
    case Role::polecat:
        return rig + "/polecats/" + name;
    }
    return {};
}

std::string Identity::session() const {
    switch (role) {
    case Role::deacon:
    case Role::mayor:
        return std::string("gt-") + role_name(role);
    case Role::witness:
    case Role::refinery:
        return "gt-" + rig + "-" + role_name(role);
    case Role::crew:
        return "gt-" + rig + "-crew-" + name;
    case Role::polecat:
        return "gt-" + rig + "-" + name;
    }
    return {};
}

std::string Identity::state_file() const {
    return "agents/" + str() + ".json";
}

std::string Identity::mailbox() const {
    return "mail/" + str();
}

util::Result<Identity> parse_identity(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return util::err("invalid identity '" + printable(text) + "': " + why);
    };
    if (text.empty()) {
        return bad("empty");
    }
    if (text.size() > 200) {
        return bad("too long");
    }
    std::string_view s = text;
    if (s.back() == '/') {
        s.remove_suffix(1);
    }
    if (s == "deacon" || s == "mayor") {
        return Identity{s == "deacon" ? Role::deacon : Role::mayor, "", ""};
    }
    bool slash = s.find('/') != std::string_view::npos;
    auto parts = split(s, slash ? '/' : '-');
    if (parts.size() < 2) {
        return bad("expected deacon, mayor, <rig>/witness, <rig>/refinery, <rig>/crew/<name> or "
                   "<rig>/polecats/<name>");
    }
    Identity id;
    id.rig = std::string(parts[0]);
    if (auto st = validate_name("rig", id.rig); !st) {
        return bad(st.error());
    }
    std::string_view kind = parts[1];
    if (parts.size() == 2 && (kind == "witness" || kind == "refinery")) {
        id.role = kind == "witness" ? Role::witness : Role::refinery;
        return id;
    }
    if (parts.size() == 3 && kind == "crew") {
        id.role = Role::crew;
    } else if (parts.size() == 3 && (kind == (slash ? "polecats" : "polecat"))) {
        id.role = Role::polecat;
    } else {
        return bad("expected deacon, mayor, <rig>/witness, <rig>/refinery, <rig>/crew/<name> or "
                   "<rig>/polecats/<name>");
    }
    id.name = std::string(parts[2]);
    if (auto st = validate_name(id.role == Role::crew ? "crew" : "polecat", id.name); !st) {
        return bad(st.error());
    }
    return id;
}

} // namespace gt::state
