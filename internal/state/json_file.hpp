#pragma once

#include "util/file.hpp"
#include "util/result.hpp"

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace gt::state {

/// Reads and parses a JSON file of at most `cap` bytes. Never throws: a missing, unreadable,
/// oversized or unparseable file is an error naming the file and the reason.
util::Result<nlohmann::json> read_json(const std::string& path,
                                       std::size_t cap = util::k_max_file_size,
                                       bool follow_symlinks = true);

/// What a key repeated inside one object means.
enum class DuplicateKeys {
    last_wins, ///< what JSON parsers do by default
    reject,    ///< an error naming the key's path (configuration files: no silent choice)
};

/// How deep JSON may nest in a file gt reads (design §2); gt's own files nest five levels.
inline constexpr int k_max_json_depth = 32;

/// Parses JSON text without exceptions; the error names `where`. With DuplicateKeys::reject a
/// repeated key is an error such as `<where>: duplicate key 'daemon.heartbeat_interval'`. Text
/// nested deeper than k_max_json_depth is an error.
util::Result<nlohmann::json> parse_json(const std::string& text, const std::string& where,
                                        DuplicateKeys duplicates = DuplicateKeys::last_wins);

/// Parses `text` as a JSON object keyed by identity (restart_state.json, screens.json) and hands
/// each entry to `take`, which returns whether it kept it; what it did not keep is named in
/// `skipped` (`<where>: <key>: wrong shape`). Text that is no JSON object is an error naming
/// `where`.
util::Status
for_each_entry(const std::string& text, const std::string& where,
               const std::function<bool(const std::string& key, const nlohmann::json& value)>& take,
               std::vector<std::string>* skipped = nullptr);

/// Writes `value` (pretty-printed, trailing newline) atomically, mode 0600.
util::Status write_json(const std::string& path, const nlohmann::json& value);

} // namespace gt::state
