#pragma once
// The numbers of a pane's end that `gt daemon notify` passes on to the daemon (design §5.6).

#include <array>
#include <string>

namespace gt::state {

/// One number of a pane's end: its `gt daemon notify` flag, its key in the control socket's
/// `notify` request, and its range. Each is optional (tmux prints nothing for what it does not
/// know).
struct NotifyNumber {
    const char* flag;
    const char* key;
    long min;
    long max;

    /// Whether `n` is in [min, max].
    constexpr bool contains(long long n) const { return n >= min && n <= max; }
    /// `expected an integer from <min> to <max>`: what a bad value's message says.
    std::string expected() const {
        return "expected an integer from " + std::to_string(min) + " to " + std::to_string(max);
    }
};

/// The numbers, in this order: exit code, signal, pane pid.
inline constexpr std::array<NotifyNumber, 3> k_notify_numbers = {{
    {"--exit-code", "exit_code", 0, 255},
    {"--signal", "signal", 0, 64},
    {"--pane-pid", "pane_pid", 1, 2147483647L},
}};

} // namespace gt::state
