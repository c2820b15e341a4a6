#include "heartbeat.hpp"

#include <spdlog/spdlog.h>

namespace gt::daemon {

Heartbeat::Heartbeat(asio::io_context& io, asio::thread_pool& pool, util::Millis interval,
                     Work work)
    : m_io(io), m_pool(pool), m_timer(io), m_interval(interval), m_work(std::move(work)) {}

void Heartbeat::start() {
    m_stopped = false;
    m_next = Clock::now();
    queue_tick();
}

void Heartbeat::queue_tick() {
    if (m_queued) {
        return;
    }
    m_queued = true;
    asio::post(m_io, [this] {
        m_queued = false;
        tick();
    });
}

void Heartbeat::trigger() {
    if (m_stopped) {
        return;
    }
    if (m_running) {
        m_pending = true;
        return;
    }
    ++m_generation; // a timer expiry already queued must not start a second tick
    m_timer.cancel();
    queue_tick();
}

void Heartbeat::stop() {
    m_stopped = true;
    ++m_generation;
    m_timer.cancel();
}

util::TimePoint Heartbeat::next_at() const {
    auto left = m_next - Clock::now();
    if (m_running || left.count() < 0) {
        left = Clock::duration::zero();
    }
    return util::now() + std::chrono::duration_cast<util::Millis>(left);
}

void Heartbeat::arm(Clock::time_point at) {
    m_next = at;
    unsigned generation = ++m_generation;
    m_timer.expires_at(at);
    m_timer.async_wait([this, generation](const boost::system::error_code& ec) {
        if (ec || generation != m_generation || m_stopped) {
            return;
        }
        tick();
    });
}

void Heartbeat::tick() {
    if (m_stopped) {
        return;
    }
    if (m_running) {
        m_pending = true;
        return;
    }
    m_running = true;
    m_pending = false;
    auto started = Clock::now();
    m_next = started + m_interval;
    asio::post(m_pool, [this, started] {
        std::function<void()> complete;
        try {
            complete = m_work();
        } catch (const std::exception& e) {
            // Nothing may escape onto the pool's thread; the loop must still hear it ended.
            spdlog::error("heartbeat failed: {}", e.what());
        }
        asio::post(m_io, [this, started, complete = std::move(complete)] {
            if (complete) {
                complete();
            }
            finished(started);
        });
    });
}

void Heartbeat::finished(Clock::time_point started) {
    m_running = false;
    if (m_stopped) {
        return;
    }
    auto next = started + m_interval;
    if (m_pending || next <= Clock::now()) {
        m_pending = false;
        m_next = Clock::now();
        queue_tick();
        return;
    }
    arm(next);
}

} // namespace gt::daemon
