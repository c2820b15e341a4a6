#include "cli.hpp"

#include "state/town.hpp"

#include <cstdlib>
#include <iostream>

namespace gt::cli {

/// Resolves the town or exits 2 with the reason.
std::string town_or_exit(const Globals& g) {
    auto town = state::find_town(g.town.empty() ? std::nullopt : std::optional(g.town));
    if (!town) {
        std::cerr << "gt: " << town.error() << "\n";
        std::exit(k_exit_usage);
    }
    return *town;
}

/// Parses a duration flag or exits 2.
std::optional<util::Millis> duration_or_exit(const std::string& flag, const std::string& text) {
    if (text.empty()) {
        return std::nullopt;
    }
    auto d = util::parse_duration(text);
    if (!d) {
        std::cerr << "gt: " << flag << ": " << d.error() << "\n";
        std::exit(k_exit_usage);
    }
    return *d;
}

int fail(const std::string& command, const std::string& message, int code) {
    std::cerr << "gt " << command << ": " << message << "\n";
    return code;
}

} // namespace gt::cli
