#include "log.hpp"

#include "rotating_file.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>

namespace gt::util {

namespace {

class RotatingSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit RotatingSink(std::unique_ptr<RotatingFile> file) : m_file(std::move(file)) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        m_file->append(std::string_view(formatted.data(), formatted.size()));
    }
    void flush_() override {}

private:
    std::unique_ptr<RotatingFile> m_file;
};

} // namespace

Status init_file_logging(const std::string& path, std::uint64_t max_size, int max_files,
                         bool also_stderr) {
    auto file = std::make_unique<RotatingFile>(path, max_size, max_files);
    if (auto st = file->open(); !st) {
        return st;
    }
    std::vector<spdlog::sink_ptr> sinks{std::make_shared<RotatingSink>(std::move(file))};
    if (also_stderr) {
        sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    }
    auto logger = std::make_shared<spdlog::logger>("gt", sinks.begin(), sinks.end());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    return {};
}

void init_stderr_logging() {
    auto logger =
        std::make_shared<spdlog::logger>("gt", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%l: %v");
    logger->set_level(spdlog::level::warn);
    spdlog::set_default_logger(logger);
}

} // namespace gt::util
