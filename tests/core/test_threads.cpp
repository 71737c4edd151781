#include "vaelet/core/threads.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
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

namespace {

/// Runs `steps` steps under `chooser`, each taking seconds_per_step(step, threads) for 128 examples; returns the
/// total time and the count each step ran with.
template <class Time>
std::pair<double, std::vector<int>> run_chooser(ThreadChooser& chooser, int steps, Time seconds_per_step) {
    double total = 0;
    std::vector<int> counts;
    for (int i = 0; i < steps; ++i) {
        const int n = chooser.threads();
        CHECK(threads() == n);  // the count it chose is the one Eigen runs with
        counts.push_back(n);
        const double s = seconds_per_step(i, n);
        total += s;
        chooser.step_done(s, 128);
    }
    return {total, counts};
}

}  // namespace

TEST_CASE("ThreadChooser keeps the faster count: most threads on a quiet machine, one on a busy one, and follows "
          "a change") {
    CHECK_THROWS_WITH_AS(ThreadChooser(-1), doctest::Contains("must be 0 (one per core) or more, got -1"),
                         config_error);
    {
        ThreadChooser one(1);  // nothing to choose
        CHECK_FALSE(one.choosing());
        CHECK(one.threads() == 1);
    }
    if (!threads_available) {
        CHECK_FALSE(ThreadChooser(2).choosing());
        set_threads(1);
        return;
    }
    const auto quiet = [](int, int n) { return n == 1 ? 6e-3 : 3.8e-3; };   // two threads 1.6x faster
    const auto busy = [](int, int n) { return n == 1 ? 9e-3 : 120e-3; };    // two spinning threads collapse

    SUBCASE("quiet: nearly every step on both threads, the tries of one thread cost about 1%") {
        ThreadChooser chooser(2);
        CHECK(chooser.choosing());
        CHECK(chooser.threads() == 2);
        const auto [total, counts] = run_chooser(chooser, 5000, quiet);
        CHECK(std::count(counts.begin(), counts.end(), 2) > 4900);
        CHECK(total < 1.02 * 5000 * 3.8e-3);
        CHECK(counts.back() == 2);
    }
    SUBCASE("busy: one thread after the first two steps, and the tries of two cost a few percent") {
        ThreadChooser chooser(2);
        const auto [total, counts] = run_chooser(chooser, 5000, busy);
        CHECK(std::count(counts.begin() + 2, counts.end(), 1) > 4990);
        CHECK(total < 1.03 * 5000 * 9e-3);
        const auto [epoch, epoch_counts] = run_chooser(*std::make_unique<ThreadChooser>(2), 469, busy);
        CHECK(epoch < 1.2 * 469 * 9e-3);  // one Fashion-MNIST epoch at batch 128: under 20% lost to the choosing
    }
    SUBCASE("neighbours come and go: it follows within a step when they come, within a stretch when they go") {
        ThreadChooser chooser(2);
        const auto changing = [&](int step, int n) { return step >= 2000 && step < 4000 ? busy(step, n) : quiet(step, n); };
        const auto [total, counts] = run_chooser(chooser, 6000, changing);
        CHECK(counts[1990] == 2);
        CHECK(std::count(counts.begin() + 2002, counts.begin() + 4000, 1) > 1950);  // switched at once
        CHECK(counts.back() == 2);
        const auto back = std::find(counts.begin() + 4000, counts.end(), 2) - counts.begin();
        CHECK(back < 4000 + 1100);  // back to two threads within the longest stretch
        MESSAGE("two threads again at step " << back);
    }
    SUBCASE("a single slow step (a page fault storm, a hiccup) costs a short try, not the choice") {
        ThreadChooser chooser(2);
        const auto hiccup = [&](int step, int n) { return step == 500 ? 0.1 : quiet(step, n); };
        const auto [total, counts] = run_chooser(chooser, 1000, hiccup);
        CHECK(std::count(counts.begin() + 500, counts.end(), 2) > 450);  // a stretch on one, then tries of one again
    }
    set_threads(1);
}
