#include "json_fields.hpp"

namespace gt::state {

const nlohmann::json* FieldReader::field(const char* key, bool required) {
    if (failed()) {
        return nullptr;
    }
    auto it = m_obj.find(key);
    if (it == m_obj.end()) {
        if (required) {
            fail(key, "missing");
        }
        return nullptr;
    }
    return &*it;
}

void FieldReader::fail(const char* key, const std::string& why) {
    if (!failed()) {
        m_error = m_where + ": " + key + ": " + why;
    }
}

void FieldReader::string(const char* key, std::string& out, bool required) {
    const nlohmann::json* v = field(key, required);
    if (!v) {
        return;
    }
    if (!v->is_string()) {
        return fail(key, "not a string");
    }
    out = v->get<std::string>();
}

void FieldReader::time(const char* key, util::TimePoint& out) {
    std::optional<util::TimePoint> t;
    if (!field(key, true)) {
        return;
    }
    time(key, t);
    if (t) {
        out = *t;
    }
}

void FieldReader::time(const char* key, std::optional<util::TimePoint>& out) {
    const nlohmann::json* v = field(key, false);
    if (!v) {
        return;
    }
    if (!v->is_string()) {
        return fail(key, "not a string");
    }
    auto t = util::parse_time(v->get<std::string>());
    if (!t) {
        return fail(key, t.error());
    }
    out = *t;
}

void FieldReader::integer(const char* key, long& out, long min, long max) {
    const nlohmann::json* v = field(key, false);
    if (!v) {
        return;
    }
    if (!v->is_number_integer()) {
        return fail(key, "not an integer");
    }
    // get<long long> of an unsigned value above LLONG_MAX wraps: check the sign-agnostic way.
    if (v->is_number_unsigned() && v->get<unsigned long long>() > static_cast<unsigned long>(max)) {
        return fail(key, "out of range");
    }
    long long n = v->get<long long>();
    if (n < min || n > max) {
        return fail(key, "out of range");
    }
    out = static_cast<long>(n);
}

} // namespace gt::state
