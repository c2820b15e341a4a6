#include "command_words.hpp"

#include <string_view>

namespace gt::state {

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

} // namespace gt::state
