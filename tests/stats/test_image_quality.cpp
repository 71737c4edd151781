// Tests for vaelet/stats/image_quality.hpp: PSNR and BCE against hand computations.
#include <doctest/doctest.h>

#include "vaelet/stats/image_quality.hpp"

#include <cmath>

using namespace vaelet;

TEST_CASE_TEMPLATE("PSNR per image and mean, with the cap for identical images", T, float, double) {
    Matrix<T> x(2, 4), y(2, 4);
    x << T(0), T(0.5), T(1), T(0.25), T(0.2), T(0.2), T(0.2), T(0.2);
    y << T(0.1), T(0.5), T(0.9), T(0.25), T(0.2), T(0.2), T(0.2), T(0.2);
    const auto per = psnr_per_image(x, y);
    REQUIRE(per.size() == 2);
    CHECK(per[0] == doctest::Approx(10 * std::log10(1 / (0.02 / 4))).epsilon(1e-5));  // MSE = 0.005 → 23.01 dB
    CHECK(per[1] == psnr_cap_db);                                                    // identical
    CHECK(mean_psnr(x, y) == doctest::Approx((per[0] + psnr_cap_db) / 2).epsilon(1e-6));
    CHECK_THROWS_AS(psnr_per_image(x, Matrix<T>(Matrix<T>::Zero(2, 3))), shape_error);
}

TEST_CASE_TEMPLATE("mean BCE is nats per image, with saturated probabilities clamped", T, float, double) {
    Matrix<T> x(2, 2), p(2, 2);
    x << T(1), T(0), T(0.5), T(1);
    p << T(0.8), T(0.3), T(0.5), T(1);
    const double image0 = -std::log(0.8) - std::log(0.7);
    const double image1 = std::log(2.0) - std::log(1 - 1e-7);  // p = 1 where x = 1: clamped, nearly 0
    CHECK(mean_bce(x, p) == doctest::Approx((image0 + image1) / 2).epsilon(1e-6));
    p(1, 1) = T(0);  // x = 1 with p = 0: large but finite
    CHECK(std::isfinite(mean_bce(x, p)));
    CHECK(mean_bce(x, p) == doctest::Approx((image0 + std::log(2.0) - std::log(1e-7)) / 2).epsilon(1e-6));
}
