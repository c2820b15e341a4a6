#pragma once

#include <map>
#include <string>
#include <sys/types.h>

namespace gt::test {

/// What /proc says about one process: memory, CPU time, descriptors and, per thread, context
/// switches (every switch of a sleeping thread is one wake-up). Zeros for what cannot be read.
struct ProcSample {
    long vm_rss_kb = 0;
    long vm_hwm_kb = 0;
    double cpu_ms = 0; ///< utime + stime
    long fds = -1;     ///< open descriptors; -1 when /proc/<pid>/fd cannot be listed
    struct Thread {
        std::string comm;
        long voluntary = 0;
        long nonvoluntary = 0;
    };
    std::map<long, Thread> threads; ///< by tid
    /// Context switches of all threads.
    long switches() const;
};

ProcSample sample_process(pid_t pid);

} // namespace gt::test
