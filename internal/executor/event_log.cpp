#include "event_log.hpp"

#include "util/time.hpp"

#include <nlohmann/json.hpp>

namespace gt::executor {

EventLog::EventLog(const std::string& path, std::uint64_t max_size, int max_files)
    : m_file(path, max_size, max_files) {}

void EventLog::record(const std::string& kind, const std::string& identity,
                      const std::string& session, const std::string& detail) {
    nlohmann::json j = {{"ts", util::format_time(util::now())},
                        {"kind", kind},
                        {"identity", identity},
                        {"session", session},
                        {"detail", detail}};
    m_file.append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

} // namespace gt::executor
