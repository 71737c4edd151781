#include "vaelet/core/threads.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

using namespace vaelet;

TEST_CASE("set_threads sets the threads of matrix products, shares the cores among processes, and checks its input") {
    CHECK(set_threads(1) == 1);
    CHECK(threads() == 1);
    const int cores = std::max(1, int(std::thread::hardware_concurrency()));
    if (threads_available) {  // this test program links vaelet::openmp where the compiler has OpenMP
        CHECK(set_threads(2) == 2);
        CHECK(threads() == 2);
        CHECK(set_threads(0) == cores);
        CHECK(set_threads(0, cores * 2) == 1);  // more processes than cores: one thread each, never zero
    } else {
        CHECK(set_threads(0) == 1);
        CHECK_THROWS_WITH_AS(set_threads(2), doctest::Contains("built without OpenMP"), config_error);
    }
    CHECK_THROWS_WITH_AS(set_threads(-1), doctest::Contains("must be 0 (one per core) or more, got -1"), config_error);
    CHECK_THROWS_WITH_AS(set_threads(1, 0), doctest::Contains("processes_on_this_machine must be at least 1"),
                         config_error);
    set_threads(1);
    CHECK(threads() == 1);
}
