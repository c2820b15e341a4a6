#include "daemon/heartbeat.hpp"

#include <atomic>
#include <future>
#include <gtest/gtest.h>
#include <thread>

using namespace gt::daemon;
using namespace std::chrono_literals;

namespace {

/// Runs an io_context on its own thread for the test's duration.
struct Loop {
    asio::io_context io;
    asio::thread_pool pool{2};
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    ~Loop() { finish(); }
    /// Waits for work still on the pool (its completion runs on the loop), then ends the loop.
    /// Tests call it before their Heartbeat goes out of scope: a tick in flight refers to it.
    void finish() {
        if (!thread.joinable()) {
            return;
        }
        pool.join();
        guard.reset();
        io.stop();
        thread.join();
    }
    template <typename F>
    void on_loop(F f) {
        std::promise<void> done;
        asio::post(io, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }
};

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(1ms);
    }
    return pred();
}

} // namespace

TEST(Heartbeat, FirstTickAtOnceThenNothingUntilInterval) {
    Loop loop;
    std::atomic<int> ticks{0};
    Heartbeat hb(loop.io, loop.pool, 1h, [&] {
        ++ticks;
        return std::function<void()>([] {});
    });
    loop.on_loop([&] { hb.start(); });
    ASSERT_TRUE(wait_for([&] { return ticks == 1; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(ticks, 1);
    loop.on_loop([&] { hb.stop(); });
    loop.finish();
}

TEST(Heartbeat, TriggersDuringATickCollapseIntoOneMore) {
    Loop loop;
    std::atomic<int> ticks{0};
    std::atomic<int> concurrent{0}, max_concurrent{0};
    std::promise<void> release;
    auto released = release.get_future().share();
    Heartbeat hb(loop.io, loop.pool, 1h, [&] {
        int now = ++concurrent;
        max_concurrent = std::max(max_concurrent.load(), now);
        if (++ticks == 1) {
            released.wait();
        }
        --concurrent;
        return std::function<void()>([] {});
    });
    loop.on_loop([&] { hb.start(); });
    ASSERT_TRUE(wait_for([&] { return ticks == 1; }));
    for (int i = 0; i < 100; ++i) {
        loop.on_loop([&] { hb.trigger(); });
    }
    release.set_value();
    ASSERT_TRUE(wait_for([&] { return ticks == 2; }));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(ticks, 2);
    EXPECT_EQ(max_concurrent, 1);
    loop.on_loop([&] { hb.stop(); });
    loop.finish();
}

TEST(Heartbeat, TriggerWhenIdleRunsOneTick) {
    Loop loop;
    std::atomic<int> ticks{0};
    Heartbeat hb(loop.io, loop.pool, 1h, [&] {
        ++ticks;
        return std::function<void()>([] {});
    });
    loop.on_loop([&] { hb.start(); });
    ASSERT_TRUE(wait_for([&] { return ticks == 1; }));
    bool idle = false;
    ASSERT_TRUE(wait_for([&] {
        loop.on_loop([&] { idle = !hb.running(); });
        return idle;
    }));
    loop.on_loop([&] {
        for (int i = 0; i < 10; ++i) {
            hb.trigger();
        }
    });
    ASSERT_TRUE(wait_for([&] { return ticks == 2; }));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(ticks, 2);
    loop.on_loop([&] { hb.stop(); });
    loop.finish();
}

TEST(Heartbeat, OverrunStartsNextAtOnceNeverTwoAtATime) {
    Loop loop;
    std::atomic<int> ticks{0};
    std::atomic<int> concurrent{0}, max_concurrent{0};
    Heartbeat hb(loop.io, loop.pool, 10ms, [&] {
        int now = ++concurrent;
        max_concurrent = std::max(max_concurrent.load(), now);
        std::this_thread::sleep_for(25ms); // longer than the interval
        ++ticks;
        --concurrent;
        return std::function<void()>([] {});
    });
    loop.on_loop([&] { hb.start(); });
    ASSERT_TRUE(wait_for([&] { return ticks >= 5; }));
    loop.on_loop([&] { hb.stop(); });
    loop.finish();
    EXPECT_EQ(max_concurrent, 1);
}

TEST(Heartbeat, CompletionRunsOnTheLoop) {
    Loop loop;
    std::atomic<bool> on_loop_thread{false};
    std::atomic<int> done{0};
    Heartbeat hb(loop.io, loop.pool, 1h, [&] {
        return std::function<void()>([&] {
            on_loop_thread = std::this_thread::get_id() == loop.thread.get_id();
            ++done;
        });
    });
    loop.on_loop([&] { hb.start(); });
    ASSERT_TRUE(wait_for([&] { return done == 1; }));
    EXPECT_TRUE(on_loop_thread);
    loop.on_loop([&] { hb.stop(); });
    loop.finish();
}
