#pragma once

#include "time.hpp"

namespace gt::util {

/// The three clocks that tell time passing from a clock being set or a machine sleeping
/// (design §17). Read together, once per pass.
struct ClockReading {
    TimePoint wall{};    ///< CLOCK_REALTIME (now()): what reports, reset times and people use
    Millis monotonic{0}; ///< CLOCK_MONOTONIC: never set; stops while the machine sleeps
    Millis boottime{0};  ///< CLOCK_BOOTTIME: never set; runs on while the machine sleeps
};

/// Reads the three clocks.
ClockReading read_clocks();

/// What `GT_TEST_CLOCK_SKEW_FILE` adds to the wall clock of every gt process that has it in
/// its environment: the file holds a duration (`1h`, `-30m`), re-read at most every 50 ms; 0
/// when the variable is unset or the file unreadable. A test hook that moves the wall clock of
/// a running daemon and its agents while their monotonic clocks run on (design §17).
Millis test_wall_skew();

} // namespace gt::util
