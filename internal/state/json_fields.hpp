#pragma once
// Typed reading of one JSON object's fields, for the small state files (agents, mail, deacon).

#include "util/time.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace gt::state {

/// Reads fields of one JSON object into typed values. Errors read `<where>: <field>: <reason>`;
/// the first problem wins and later reads do nothing.
class FieldReader {
public:
    /// Precondition: `obj` is an object and outlives the reader.
    FieldReader(std::string where, const nlohmann::json& obj)
        : m_where(std::move(where)), m_obj(obj) {}

    bool failed() const { return !m_error.empty(); }
    /// The first problem, or "".
    const std::string& error() const { return m_error; }

    /// A string; absent leaves `out` unchanged unless `required`.
    void string(const char* key, std::string& out, bool required = false);
    /// A mandatory RFC 3339 time.
    void time(const char* key, util::TimePoint& out);
    /// An optional RFC 3339 time.
    void time(const char* key, std::optional<util::TimePoint>& out);
    /// An optional integer in [min, max].
    void integer(const char* key, long& out, long min, long max);

private:
    const nlohmann::json* field(const char* key, bool required);
    void fail(const char* key, const std::string& why);

    std::string m_where;
    const nlohmann::json& m_obj;
    std::string m_error;
};

} // namespace gt::state
