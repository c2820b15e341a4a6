// Names and identities (design §1): what the validation accepts is safe in a path, a tmux
// target and a shell word; an identity's canonical form parses back to it; two identities never
// share a session, state file or mailbox.
#include "fuzz_support.hpp"
#include "state/names.hpp"

#include <algorithm>
#include <optional>

using gt::state::Identity;

namespace {

bool name_char(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (!first && c == '_');
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
    return out;
}

/// `^[A-Za-z0-9][A-Za-z0-9_]{0,39}$` and the reserved names of names.hpp.
void check_name(std::string_view what, std::string_view name) {
    std::string shown = std::string(what) + " '" + std::string(name) + "'";
    GT_FUZZ_CHECK(!name.empty() && name.size() <= 40, shown);
    for (std::size_t i = 0; i < name.size(); ++i) {
        GT_FUZZ_CHECK(name_char(name[i], i == 0), shown);
    }
    if (what == "rig") {
        for (std::string_view reserved : gt::state::k_reserved_rig_names) {
            GT_FUZZ_CHECK(lower(name) != reserved, shown);
        }
    }
    if (what == "polecat") {
        GT_FUZZ_CHECK(name != "witness" && name != "refinery" && name != "crew", shown);
    }
}

/// Only letters, digits, `_`, `-` and `/` (`/` only where allowed), no `..`, no empty component.
void check_safe(const std::string& s, bool slashes, const std::string& shown) {
    for (char c : s) {
        GT_FUZZ_CHECK(name_char(c, false) || c == '-' || (slashes && c == '/'), shown + ": " + s);
    }
    GT_FUZZ_CHECK(s.find("..") == std::string::npos && s.find("//") == std::string::npos,
                  shown + ": " + s);
    GT_FUZZ_CHECK(!s.empty() && s.front() != '/' && s.back() != '/', shown + ": " + s);
}

std::optional<Identity> check_identity(std::string_view text) {
    auto id = gt::state::parse_identity(text);
    if (!id) {
        return std::nullopt;
    }
    std::string shown = "identity '" + std::string(text) + "'";
    if (!id->rig.empty()) {
        check_name("rig", id->rig);
    }
    if (!id->name.empty()) {
        check_name(id->role == gt::state::Role::crew ? "crew" : "polecat", id->name);
    }
    check_safe(id->str(), true, shown);
    check_safe(id->session(), false, shown);
    check_safe(id->state_file().substr(0, id->state_file().size() - 5), true, shown);
    check_safe(id->mailbox(), true, shown);
    GT_FUZZ_CHECK(id->session().rfind("gt-", 0) == 0, shown + ": " + id->session());
    auto again = gt::state::parse_identity(id->str());
    GT_FUZZ_CHECK(again.ok() && *again == *id, shown + ": " + id->str());
    return *id;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = gt::fuzz::text_of(data, size);
    if (!text.empty()) {
        static constexpr std::string_view k_whats[] = {"rig", "polecat", "crew"};
        std::string_view what = k_whats[static_cast<unsigned char>(text[0]) % 3];
        if (gt::state::validate_name(what, text.substr(1))) {
            check_name(what, text.substr(1));
        }
    }
    // Two identities, one per line: equal sessions, files or mailboxes mean equal identities.
    auto nl = text.find('\n');
    auto a = check_identity(text.substr(0, nl));
    auto b = nl == std::string_view::npos ? std::nullopt : check_identity(text.substr(nl + 1));
    if (a && b && !(*a == *b)) {
        std::string shown = a->str() + " and " + b->str();
        GT_FUZZ_CHECK(a->session() != b->session(), shown);
        GT_FUZZ_CHECK(a->state_file() != b->state_file(), shown);
        GT_FUZZ_CHECK(a->mailbox() != b->mailbox(), shown);
    }
    return 0;
}
