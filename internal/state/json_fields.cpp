#include "json_fields.hpp"

namespace gt::state {

using nlohmann::json;

std::string describe_value(const json& v) {
    std::string t = v.type_name();
    if (v.is_primitive() && !v.is_null()) {
        std::string shown = v.dump();
        if (shown.size() > 40) {
            shown = shown.substr(0, 40) + "...";
        }
        t += " " + shown;
    }
    return t;
}

void FieldReader::fail(std::string_view key, const std::string& why) {
    if (!failed()) {
        m_error = m_where + ": " + m_prefix + std::string(key) + ": " + why;
    }
}

void FieldReader::reject(const char* key, const std::string& why) {
    if (!m_rules.lenient) {
        fail(key, why);
    }
}

void FieldReader::mismatch(const char* key, const json& v, const char* what, bool in_array) {
    if (m_rules.wording == Wording::terse) {
        return reject(key, std::string("not ") + what);
    }
    reject(key, std::string("expected ") + what + (in_array ? ", found " : ", got ") +
                    describe_value(v));
}

void FieldReader::out_of_range(const char* key, const std::string& min, const std::string& max) {
    if (m_rules.wording == Wording::terse) {
        return reject(key, "out of range");
    }
    reject(key, "must be between " + min + " and " + max);
}

const json* FieldReader::field(const char* key, bool required) {
    if (failed()) {
        return nullptr;
    }
    auto it = m_obj.find(key);
    if (it == m_obj.end() || (m_rules.null_is_absent && it->is_null())) {
        if (required) {
            fail(key, "missing");
        }
        return nullptr;
    }
    return &*it;
}

const json* FieldReader::typed(const char* key, bool (json::*is)() const noexcept,
                               const char* what) {
    const json* v = field(key);
    if (v && !(v->*is)()) {
        mismatch(key, *v, what);
        return nullptr;
    }
    return v;
}

void FieldReader::string(const char* key, std::string& out, bool required) {
    if (required && !field(key, true)) {
        return;
    }
    if (const json* v = typed(key, &json::is_string, "a string")) {
        out = v->get<std::string>();
    }
}

void FieldReader::string(const char* key, std::optional<std::string>& out) {
    if (const json* v = typed(key, &json::is_string, "a string")) {
        out = v->get<std::string>();
    }
}

void FieldReader::boolean(const char* key, bool& out) {
    if (const json* v = typed(key, &json::is_boolean, "true or false")) {
        out = v->get<bool>();
    }
}

void FieldReader::number(const char* key, double& out, double min, double max) {
    const json* v = typed(key, &json::is_number, "a number");
    if (!v) {
        return;
    }
    double n = v->get<double>();
    if (!(n >= min && n <= max)) {
        return out_of_range(key, std::to_string(min), std::to_string(max));
    }
    out = n;
}

void FieldReader::time(const char* key, util::TimePoint& out) {
    if (!field(key, true)) {
        return;
    }
    std::optional<util::TimePoint> t;
    time(key, t);
    if (t) {
        out = *t;
    }
}

void FieldReader::time(const char* key, std::optional<util::TimePoint>& out) {
    const json* v = typed(key, &json::is_string, "a string");
    if (!v) {
        return;
    }
    auto t = util::parse_time(v->get<std::string>());
    if (!t) {
        return reject(key, t.error());
    }
    out = *t;
}

void FieldReader::times(const char* key, std::vector<util::TimePoint>& out) {
    const json* v = typed(key, &json::is_array, "an array of times");
    if (!v) {
        return;
    }
    std::vector<util::TimePoint> list;
    for (const auto& e : *v) {
        if (!e.is_string()) {
            return mismatch(key, e, "an array of times", true);
        }
        auto t = util::parse_time(e.get<std::string>());
        if (!t) {
            return reject(key, t.error());
        }
        list.push_back(*t);
    }
    out = std::move(list);
}

void FieldReader::strings(const char* key, std::vector<std::string>& out, bool non_empty) {
    const json* v = typed(key, &json::is_array, "an array of strings");
    if (!v) {
        return;
    }
    std::vector<std::string> list;
    for (const auto& e : *v) {
        if (!e.is_string() || (non_empty && e.get<std::string>().empty())) {
            return mismatch(key, e, non_empty ? "non-empty strings" : "an array of strings", true);
        }
        list.push_back(e.get<std::string>());
    }
    out = std::move(list);
}

void FieldReader::duration(const char* key, util::Millis& out, util::Millis min) {
    const json* v = typed(key, &json::is_string, "a duration string such as \"3m\"");
    if (!v) {
        return;
    }
    auto d = util::parse_duration(v->get<std::string>());
    if (!d) {
        return reject(key, d.error());
    }
    if (*d < min) {
        return reject(key, "must be at least " + util::format_duration(min));
    }
    out = *d;
}

void FieldReader::size(const char* key, std::uint64_t& out) {
    const json* v = field(key);
    if (!v) {
        return;
    }
    if (v->is_number_unsigned()) {
        out = v->get<std::uint64_t>();
        return;
    }
    if (!v->is_string()) {
        return mismatch(key, *v, "a size such as \"10MiB\"");
    }
    auto s = util::parse_size(v->get<std::string>());
    if (!s) {
        return reject(key, s.error());
    }
    out = *s;
}

} // namespace gt::state
