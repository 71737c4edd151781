// The heap-allocation counter of the vaelet_tests program: tests/core/test_tape.cpp replaces the global operator
// new, which counts while `counting` is set. A test that a warmed-up step allocates nothing:
//
//   testing::allocations = 0;  testing::counting = true;  step();  testing::counting = false;
//   CHECK(testing::allocations == 0);
#pragma once

#include <atomic>

namespace vaelet::testing {
inline std::atomic<bool> counting{false};
inline std::atomic<long> allocations{0};
}  // namespace vaelet::testing
