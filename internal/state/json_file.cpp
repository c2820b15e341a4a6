#include "json_file.hpp"

#include <nlohmann/json.hpp>

namespace gt::state {

util::Result<nlohmann::json> parse_json(const std::string& text, const std::string& where) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return util::err(where + ": empty file");
    }
    auto value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded()) {
        return util::err(where + ": not valid JSON");
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

util::Status write_json(const std::string& path, const nlohmann::json& value) {
    // Invalid UTF-8 in a string must not throw out of dump(): replace it.
    return util::write_file_atomic(
        path, value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", 0600);
}

} // namespace gt::state
