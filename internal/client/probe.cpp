#include "probe.hpp"

#include "daemon/lock.hpp"
#include "daemon/pid_file.hpp"
#include "state/daemon_state.hpp"
#include "util/file.hpp"
#include "util/file_lock.hpp"

#include <iostream>
#include <unistd.h>

namespace gt::client {

Probe probe(const state::TownPaths& paths) {
    Probe p;
    p.pid = daemon::lock_holder(paths.lock_file());
    if (p.pid) {
        if (*p.pid == 0) {
            if (auto info = daemon::read_pid_file(paths.pid_file());
                info && info->matches_live_process()) {
                p.pid = info->pid;
            }
        }
        return p;
    }
    if (!util::is_dir(paths.daemon_dir())) {
        return p; // never ran here: nothing to clean, and nothing to create
    }
    auto guard = util::FileLock::acquire(paths.state_lock_file(), 0600, util::Millis(2000));
    if (!guard) {
        return p; // someone else is cleaning up or starting: leave it to them
    }
    if ((p.pid = daemon::lock_holder(paths.lock_file()))) {
        return p; // a daemon started while we waited
    }
    if (auto info = daemon::read_pid_file(paths.pid_file())) {
        p.stale = info->pid;
    } else if (util::path_exists(paths.pid_file())) {
        p.stale = 0;
        p.stale_problem = info.error();
    }
    // An empty directory in its place goes too: a starting daemon could not write its own.
    if (p.stale) {
        p.stale_kept =
            ::unlink(paths.pid_file().c_str()) != 0 && ::rmdir(paths.pid_file().c_str()) != 0;
    }
    if (auto s = state::read_daemon_state(paths.state_file()); s && s->running) {
        s->running = false;
        s->next_heartbeat_at.clear();
        state::write_daemon_state(paths.state_file(), *s);
    }
    return p;
}

void report_stale(const Probe& p) {
    if (p.stale) {
        std::cerr << "warning: " << (p.stale_kept ? "cannot remove" : "removed")
                  << " stale PID file ("
                  << (p.stale_problem.empty()
                          ? "PID " + std::to_string(*p.stale) + " does not hold the daemon lock"
                          : p.stale_problem)
                  << ")\n";
    }
}

} // namespace gt::client
