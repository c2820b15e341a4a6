#include "signals.hpp"

#include <cstring>
#include <pthread.h>

namespace gt::daemon {

std::vector<int> handled_signals() {
    return {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
}

std::vector<int> ignored_signals() {
    std::vector<int> out{SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGPWR, SIGTRAP,
                         SIGQUIT, SIGSTKFLT, SIGIO,   SIGTSTP, SIGTTIN, SIGTTOU};
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) {
        out.push_back(sig);
    }
    return out;
}

sigset_t daemon_signal_mask() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : handled_signals()) {
        sigaddset(&set, sig);
    }
    for (int sig : ignored_signals()) {
        sigaddset(&set, sig);
    }
    return set;
}

void block_daemon_signals() {
    sigset_t set = daemon_signal_mask();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void unblock_daemon_signals() {
    sigset_t set = daemon_signal_mask();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

std::string signal_name(int sig) {
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        return sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
    }
    if (const char* abbrev = sigabbrev_np(sig)) {
        return std::string("SIG") + abbrev;
    }
    return "signal " + std::to_string(sig);
}

} // namespace gt::daemon
