#include "text.hpp"

#include <cctype>
#include <cstdlib>
#include <string_view>

namespace gt::util {

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

std::string shell_word(const std::string& text) {
    bool plain = !text.empty();
    for (char c : text) {
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) ||
                          std::string_view("/._-+=:,@%").find(c) != std::string_view::npos);
    }
    if (plain) {
        return text;
    }
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

} // namespace gt::util
