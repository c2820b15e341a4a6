#pragma once

#include "util/file.hpp"
#include "util/file_lock.hpp"
#include "util/result.hpp"
#include "util/time.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gt::state {

class TownPaths;

/// The restart history of one identity (design §5.4), as kept in daemon/restart_state.json.
struct RestartRecord {
    /// The daemon's last (re)start of it, its first start included (which is not a restart).
    std::optional<util::TimePoint> last_restart;
    int restart_count = 0; ///< restarts since the backoff last reset
    std::optional<util::TimePoint> backoff_until;
    std::optional<util::TimePoint> crash_loop_since;
    std::vector<util::TimePoint> recent; ///< restarts inside the crash-loop window
    std::optional<int> last_exit_status;
    std::optional<int> last_signal;
    /// What the agent's last screen said it died of (design §16), "" when nothing was read.
    std::string last_exit_reason;
    std::optional<util::TimePoint> cleared_at; ///< last `gt daemon clear-backoff`

    /// `gt daemon clear-backoff`: forgets the backoff and crash loop (keeps the exit status).
    void clear(util::TimePoint now);
};

using RestartRecords = std::map<std::string, RestartRecord>;

/// JSON text of restart_state.json: an object keyed by identity.
std::string restart_state_json(const RestartRecords& records);
/// Parses restart_state.json; entries of the wrong shape are skipped and named in `skipped`.
util::Result<RestartRecords> parse_restart_state(const std::string& text, const std::string& where,
                                                 std::vector<std::string>* skipped = nullptr);

/// daemon/restart_state.json guarded by daemon/restart_state.lock (flock), so the daemon and
/// `gt daemon clear-backoff` never lose each other's writes.
class RestartStateFile {
public:
    explicit RestartStateFile(const TownPaths& paths);
    const std::string& path() const { return m_path; }
    /// Reads the file (missing → empty). A bad file is an error naming it and the reason.
    util::Result<RestartRecords> load() const;
    /// Under the lock (waiting at most `wait`): reads the file (a bad one reads as empty), lets
    /// `merge` turn it into the records to write, and writes them. Something that is not a
    /// regular file there is an error (util::k_not_regular), never replaced.
    template <typename Merge>
    util::Status update(Merge merge, util::Millis wait) const {
        auto lock = util::FileLock::acquire(m_lock_path, 0600, wait);
        if (!lock) {
            return util::err(lock.error(), lock.error_code());
        }
        auto on_disk = load();
        if (!on_disk && on_disk.error_code() == util::k_not_regular) {
            return util::err(on_disk.error(), on_disk.error_code());
        }
        return write(merge(on_disk ? std::move(*on_disk) : RestartRecords{}));
    }
    /// Under the lock: marks `id` cleared in the file (what `gt daemon clear-backoff` does).
    util::Status clear(const std::string& id, util::TimePoint now) const;

private:
    util::Status write(const RestartRecords& records) const;

    std::string m_path;
    std::string m_lock_path;
};

} // namespace gt::state
