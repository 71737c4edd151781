#include "vaelet/optim/schedule.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace vaelet;

TEST_CASE("linear_warmup rises from the start value to the target, then stays") {
    CHECK(linear_warmup(1.0, 100, 0) == 0.0);
    CHECK(linear_warmup(1.0, 100, 25) == doctest::Approx(0.25).epsilon(1e-15));
    CHECK(linear_warmup(2.0, 100, 50) == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(linear_warmup(1.0, 100, 100) == 1.0);
    CHECK(linear_warmup(1.0, 100, 1e9) == 1.0);
    CHECK(linear_warmup(1.0, 100, -5) == 0.0);
    CHECK(linear_warmup(1.0, 2.5, 1.25) == doctest::Approx(0.5).epsilon(1e-15));  // fractional step counts

    CHECK(linear_warmup(1.0, 10, 0, 0.2) == doctest::Approx(0.2).epsilon(1e-15));
    CHECK(linear_warmup(1.0, 10, 5, 0.2) == doctest::Approx(0.6).epsilon(1e-15));
    CHECK(linear_warmup(1.0, 10, 10, 0.2) == 1.0);
}

TEST_CASE("linear_warmup over no steps is a constant") {
    for (double t : {0.0, 1.0, 1e6}) {
        CHECK(linear_warmup(0.5, 0, t) == 0.5);
        CHECK(linear_warmup(0.5, -3, t) == 0.5);
        CHECK(linear_warmup(0.5, std::nan(""), t) == 0.5);
    }
}

TEST_CASE("cosine_annealing goes from the base rate to the minimum along half a cosine") {
    CHECK(cosine_annealing(1e-3, 100, 0) == doctest::Approx(1e-3).epsilon(1e-15));
    CHECK(cosine_annealing(1e-3, 100, 50) == doctest::Approx(0.5e-3).epsilon(1e-12));
    CHECK(cosine_annealing(1e-3, 100, 25) == doctest::Approx(1e-3 * (1 + std::sqrt(0.5)) / 2).epsilon(1e-12));
    CHECK(cosine_annealing(1e-3, 100, 100) == doctest::Approx(0.0).epsilon(1e-15));
    CHECK(cosine_annealing(1e-3, 100, 100, 1e-5) == doctest::Approx(1e-5).epsilon(1e-12));
    CHECK(cosine_annealing(1e-3, 100, 500, 1e-5) == doctest::Approx(1e-5).epsilon(1e-12));
    CHECK(cosine_annealing(1e-3, 100, 50, 1e-4) == doctest::Approx(0.55e-3).epsilon(1e-12));
    CHECK(cosine_annealing(1e-3, 0, 50) == 1e-3);  // no annealing
}
