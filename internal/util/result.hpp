#pragma once

#include <string>
#include <utility>
#include <variant>

namespace gt::util {

/// An expected failure: a message that says what was wrong and where.
struct Error {
    std::string message;
    int code = 0; ///< errno when the failure came from the OS, else 0
};

/// Either a value or an Error. Expected failures are values, not exceptions.
template <typename T>
class Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    /// True when a value is held.
    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    /// Precondition: ok().
    T& value() { return std::get<0>(m_v); }
    const T& value() const { return std::get<0>(m_v); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// Precondition: !ok().
    const std::string& error() const { return std::get<1>(m_v).message; }
    /// Precondition: !ok(). The errno behind the failure, or 0.
    int error_code() const { return std::get<1>(m_v).code; }

private:
    std::variant<T, Error> m_v;
};

/// A Result with no value: success or an error message.
struct Status {
    Status() = default;
    Status(Error e) : m_error(std::move(e.message)), m_code(e.code), m_failed(true) {}
    bool ok() const { return !m_failed; }
    explicit operator bool() const { return ok(); }
    const std::string& error() const { return m_error; }
    /// Precondition: !ok(). The errno behind the failure, or 0.
    int error_code() const { return m_code; }

private:
    std::string m_error;
    int m_code = 0;
    bool m_failed = false;
};

/// Convenience for building an Error.
inline Error err(std::string message, int code = 0) {
    return Error{std::move(message), code};
}

} // namespace gt::util
