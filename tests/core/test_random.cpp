#include "vaelet/core/random.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

using vaelet::Rng;

TEST_CASE("the same seed gives the same stream, and the state resumes it exactly") {
    Rng a(42), b(42), c(43);
    for (int i = 0; i < 10; ++i) CHECK(a.next() == b.next());
    CHECK(a.next() != c.next());
    a.normal();  // leaves a spare normal cached
    const Rng::State saved = a.state();
    const double n1 = a.normal(), n2 = a.normal();
    Rng d(0);
    d.set_state(saved);
    CHECK(d.normal() == n1);
    CHECK(d.normal() == n2);
}

TEST_CASE("skip_normals(n) leaves the stream where n normal() draws would") {
    for (const int before : {0, 1}) {      // with and without a spare normal cached
        for (const int n : {0, 1, 2, 3, 7, 40}) {
            CAPTURE(before);
            CAPTURE(n);
            Rng drawn(9), skipped(9);
            for (int i = 0; i < before; ++i) drawn.normal(), skipped.normal();
            for (int i = 0; i < n; ++i) drawn.normal();
            skipped.skip_normals(std::uint64_t(n));
            for (int i = 0; i < 3; ++i) CHECK(skipped.normal() == drawn.normal());
            CHECK(skipped.next() == drawn.next());
        }
    }
}

TEST_CASE("uniform, below and normal have the right moments") {
    Rng rng(1);
    const int n = 200000;
    double sum = 0, sum_sq = 0, usum = 0;
    int counts[5] = {0, 0, 0, 0, 0};
    bool in_range = true;
    for (int i = 0; i < n; ++i) {
        const double x = rng.normal();
        sum += x;
        sum_sq += x * x;
        const double u = rng.uniform();
        in_range = in_range && u >= 0.0 && u < 1.0;
        usum += u;
        ++counts[rng.below(5)];
    }
    CHECK(in_range);
    // Means within 5 standard errors.
    CHECK(std::abs(sum / n) < 5.0 / std::sqrt(n));
    CHECK(std::abs(sum_sq / n - 1.0) < 5.0 * std::sqrt(2.0 / n));
    CHECK(std::abs(usum / n - 0.5) < 5.0 * std::sqrt(1.0 / 12.0 / n));
    for (int k = 0; k < 5; ++k) CHECK(std::abs(counts[k] - n / 5.0) < 5.0 * std::sqrt(n * 0.2 * 0.8));
}
