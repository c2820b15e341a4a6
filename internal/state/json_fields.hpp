#pragma once
// Typed reading of one JSON object's fields: every file gt reads field by field (town.json,
// state.json, restart_state.json, agents, mail, deacon, lifecycle requests, rigs.json).

#include "util/time.hpp"

#include <concepts>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gt::state {

/// A JSON value for messages: its type, and a primitive's text cut at 40 characters
/// (`number 5`, `string "x"`, `null`, `object`).
std::string describe_value(const nlohmann::json& v);

/// How a FieldReader words a problem.
enum class Wording {
    terse,     ///< `not a string`, `out of range` (files gt writes itself)
    described, ///< `expected a string, got number 5`, `must be between 1 and 100` (town.json)
};

/// How a FieldReader treats what it finds.
struct FieldRules {
    /// A null value reads as an absent field.
    bool null_is_absent = false;
    /// A field of the wrong type or out of range is passed over (left unchanged) instead of being
    /// an error: for files whose every field has a fallback.
    bool lenient = false;
    /// How problems are worded.
    Wording wording = Wording::terse;
};

/// The integer types FieldReader reads (bool is read by boolean()).
template <typename T>
concept FieldInteger = std::integral<T> && !std::same_as<T, bool>;

/// What an integer outside its range does.
enum class OutOfRange {
    fail,  ///< a problem (passed over when lenient)
    clamp, ///< reads as the nearest bound
};

/// Reads fields of one JSON object into typed values. Errors read `<where>: <prefix><field>:
/// <reason>`, the prefix naming a nested object (`daemon.restart.`); the first problem wins and
/// later reads do nothing. An absent field leaves its output unchanged.
class FieldReader {
public:
    /// Precondition: `obj` is an object and outlives the reader.
    FieldReader(std::string where, const nlohmann::json& obj, FieldRules rules = {})
        : m_where(std::move(where)), m_rules(rules), m_obj(obj), m_error(m_own_error) {}
    /// Reads `obj`, the object at `key` of what `parent` reads: same file and rules, fields named
    /// `<parent's prefix><key>.<field>`, and one first problem shared with `parent`.
    /// Precondition: `obj` is an object; `obj` and `parent` outlive the reader.
    FieldReader(FieldReader& parent, std::string_view key, const nlohmann::json& obj)
        : m_where(parent.m_where), m_prefix(parent.m_prefix + std::string(key) + "."),
          m_rules(parent.m_rules), m_obj(obj), m_error(parent.m_error) {}
    FieldReader(const FieldReader&) = delete;
    FieldReader& operator=(const FieldReader&) = delete;

    bool failed() const { return !m_error.empty(); }
    /// The first problem, or "".
    const std::string& error() const { return m_error; }
    /// Records a problem with `key` (even when lenient), unless one is recorded already.
    void fail(std::string_view key, const std::string& why);

    /// Every field of the object, for `auto& [key, value]`.
    auto items() const { return m_obj.items(); }
    /// The value at `key`, or nullptr when absent (by the rules) or after a problem; a missing
    /// `required` field is a problem.
    const nlohmann::json* field(const char* key, bool required = false);

    /// A string.
    void string(const char* key, std::string& out, bool required = false);
    /// An optional string.
    void string(const char* key, std::optional<std::string>& out);
    /// true or false.
    void boolean(const char* key, bool& out);
    /// An integer in [min, max].
    template <FieldInteger T>
    void integer(const char* key, T& out,
                 std::type_identity_t<T> min = std::numeric_limits<T>::min(),
                 std::type_identity_t<T> max = std::numeric_limits<T>::max(),
                 OutOfRange range = OutOfRange::fail) {
        if (auto n = read_integer<T>(key, min, max, range)) {
            out = *n;
        }
    }
    /// An optional integer in [min, max].
    template <FieldInteger T>
    void integer(const char* key, std::optional<T>& out,
                 std::type_identity_t<T> min = std::numeric_limits<T>::min(),
                 std::type_identity_t<T> max = std::numeric_limits<T>::max(),
                 OutOfRange range = OutOfRange::fail) {
        if (auto n = read_integer<T>(key, min, max, range)) {
            out = n;
        }
    }
    /// A number in [min, max].
    void number(const char* key, double& out, double min, double max);
    /// A mandatory RFC 3339 time.
    void time(const char* key, util::TimePoint& out);
    /// An optional RFC 3339 time.
    void time(const char* key, std::optional<util::TimePoint>& out);
    /// An array of RFC 3339 times.
    void times(const char* key, std::vector<util::TimePoint>& out);
    /// An array of strings (`non_empty`: none of them empty).
    void strings(const char* key, std::vector<std::string>& out, bool non_empty = false);
    /// A duration string such as "3m", at least `min`.
    void duration(const char* key, util::Millis& out, util::Millis min = util::Millis(1));
    /// A size: a byte count, or a string such as "10MiB".
    void size(const char* key, std::uint64_t& out);
    /// A nested object: calls `read(FieldReader&)` with a reader of it when it is there.
    template <typename Read>
    void object(const char* key, Read&& read) {
        const nlohmann::json* v = field(key);
        if (v && !v->is_object()) {
            return mismatch(key, *v, "an object");
        }
        if (v) {
            FieldReader nested(*this, key, *v);
            read(nested);
        }
    }

private:
    /// The field when it is there and `is` its type; else nullptr (a problem unless absent).
    const nlohmann::json* typed(const char* key, bool (nlohmann::json::*is)() const noexcept,
                                const char* what);
    /// A field (or an element of it, `in_array`) of the wrong type: `not <what>` or
    /// `expected <what>, got <v>` (`found <v>` for an element).
    void mismatch(const char* key, const nlohmann::json& v, const char* what,
                  bool in_array = false);
    /// A value outside [min, max]: `out of range` or `must be between <min> and <max>`.
    void out_of_range(const char* key, const std::string& min, const std::string& max);
    /// A problem found while reading (passed over when lenient).
    void reject(const char* key, const std::string& why);

    template <typename T>
    std::optional<T> read_integer(const char* key, T min, T max, OutOfRange range) {
        const nlohmann::json* v = typed(key, &nlohmann::json::is_number_integer, "an integer");
        if (!v) {
            return std::nullopt;
        }
        // Compared as read (get<T> would wrap): an unsigned value may exceed every signed type.
        auto fit = [&](auto n) -> std::optional<T> {
            if (std::cmp_less(n, min) || std::cmp_greater(n, max)) {
                if (range == OutOfRange::clamp) {
                    return std::cmp_less(n, min) ? min : max;
                }
                return std::nullopt;
            }
            return static_cast<T>(n);
        };
        auto n =
            v->is_number_unsigned() ? fit(v->get<std::uint64_t>()) : fit(v->get<std::int64_t>());
        if (!n) {
            out_of_range(key, std::to_string(min), std::to_string(max));
        }
        return n;
    }

    std::string m_where;
    std::string m_prefix;
    FieldRules m_rules;
    const nlohmann::json& m_obj;
    std::string m_own_error;
    std::string& m_error; ///< m_own_error, or the outermost reader's
};

} // namespace gt::state
