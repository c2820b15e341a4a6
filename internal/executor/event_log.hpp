#pragma once

#include "util/result.hpp"
#include "util/rotating_file.hpp"

#include <cstdint>
#include <string>

namespace gt::executor {

/// daemon/events.jsonl: one JSON object a line for every action taken (design §2), rotated like the
/// log.
class EventLog {
public:
    EventLog(const std::string& path, std::uint64_t max_size, int max_files);
    util::Status open() { return m_file.open(); }
    /// Appends {"ts","kind","identity","session","detail"}. Thread-safe.
    void record(const std::string& kind, const std::string& identity, const std::string& session,
                const std::string& detail);

private:
    util::RotatingFile m_file;
};

} // namespace gt::executor
