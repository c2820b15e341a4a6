#pragma once

#include "util/asio.hpp"
#include "util/time.hpp"

#include <chrono>
#include <functional>

namespace gt::daemon {

/// The fixed-interval heartbeat loop (design §5.3): start-to-start, first tick at once, an overrun
/// starts the next one at once, never two at a time. The tick's work runs on a thread pool so the
/// event loop (signals, socket) stays responsive; the completion runs back on the loop. All member
/// functions must be called on the loop's thread.
class Heartbeat {
public:
    using Clock = std::chrono::steady_clock;
    /// Blocking work of one tick; runs on the pool. Its result is handed to the completion.
    using Work = std::function<std::function<void()>()>;

    Heartbeat(asio::io_context& io, asio::thread_pool& pool, util::Millis interval, Work work);

    /// Starts the loop with an immediate first tick.
    void start();
    /// Asks for a tick now; one requested while a tick runs is served right after it.
    void trigger();
    /// Stops scheduling; a running tick's completion is still delivered but schedules nothing.
    void stop();
    /// Changes the interval; takes effect from the next scheduling decision.
    void set_interval(util::Millis interval) { m_interval = interval; }
    util::Millis interval() const { return m_interval; }
    bool running() const { return m_running; }
    /// Wall-clock time of the next scheduled tick (now when one runs or is due).
    util::TimePoint next_at() const;

private:
    void arm(Clock::time_point at);
    void tick();
    void finished(Clock::time_point started);
    void queue_tick();

    asio::io_context& m_io;
    asio::thread_pool& m_pool;
    asio::steady_timer m_timer;
    util::Millis m_interval;
    Work m_work;
    bool m_running = false;
    bool m_pending = false;
    bool m_queued = false; ///< a tick is posted but has not run yet
    bool m_stopped = true;
    unsigned m_generation = 0; ///< invalidates timer handlers that raced a re-arm
    Clock::time_point m_next{};
};

} // namespace gt::daemon
