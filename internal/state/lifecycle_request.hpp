#pragma once

#include "names.hpp"
#include "util/result.hpp"
#include "util/sizes.hpp"
#include "util/time.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace gt::state {

/// What an agent asks of the daemon (design §6).
enum class LifecycleAction { cycle, restart, shutdown };
const char* lifecycle_action_name(LifecycleAction a);

/// One request from `daemon/requests/`.
struct LifecycleRequest {
    std::string id;
    Identity from;
    LifecycleAction action = LifecycleAction::restart;
    util::TimePoint timestamp{};
    std::string file; ///< where it is now (in claimed/ once claimed)
};

/// The largest request file that is read (design §6).
inline constexpr std::size_t k_max_request_size = util::k_small_read_size;
/// How far a request's timestamp may be ahead of the daemon's clock (writers' clocks drift a
/// little); anything later is rejected as from the future.
inline constexpr util::Millis k_max_request_skew = util::Millis(5 * 60 * 1000);

/// Parses a request's text; the error is the reason it is rejected.
util::Result<LifecycleRequest> parse_request(const std::string& text);

/// The consumer side of the inbox: claim by rename into `claimed/`, reject into `rejected/`
/// with a `.reason` file, drop expired ones. Never follows a symlink or enters a directory (a
/// directory in the inbox is rejected as a whole); never reads more than k_max_request_size.
class LifecycleInbox {
public:
    explicit LifecycleInbox(std::string requests_dir);

    struct Batch {
        std::vector<LifecycleRequest> valid;                       ///< claimed, not yet executed
        std::vector<std::pair<std::string, std::string>> rejected; ///< name in rejected/, reason
        std::vector<LifecycleRequest> expired;                     ///< deleted unexecuted
    };
    /// Claims everything in the inbox and takes over what a dead daemon left in claimed/.
    /// `known` says whether an identity names an agent of this town. A request timestamped more
    /// than k_max_request_skew after `now` is rejected.
    Batch claim(util::TimePoint now, util::Millis max_age,
                const std::function<bool(const Identity&)>& known);
    /// Removes an executed (or collapsed) request from claimed/.
    static void finish(const LifecycleRequest& r);

private:
    void reject(const std::string& path, const std::string& name, const std::string& reason,
                Batch& batch);
    std::string m_dir;
};

} // namespace gt::state
