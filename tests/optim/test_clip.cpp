#include "vaelet/optim/clip.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace vaelet;

TEST_CASE_TEMPLATE("clip_grad_norm scales all gradients by one factor to the maximum norm", T, float, double) {
    Parameter<T> a(1, 2), b(1, 1);
    a.grad << T(3), T(4);
    b.grad << T(12);
    const ParameterList<T> params = {{"a", &a}, {"b", &b}};
    CHECK(global_grad_norm(params) == doctest::Approx(13.0));

    const T norm = clip_grad_norm(params, T(6.5));
    CHECK(norm == doctest::Approx(13.0));
    const double scale = 6.5 / (13.0 + 1e-6);  // PyTorch's factor
    CHECK(a.grad(0, 0) == doctest::Approx(3 * scale).epsilon(1e-6));
    CHECK(a.grad(0, 1) == doctest::Approx(4 * scale).epsilon(1e-6));
    CHECK(b.grad(0, 0) == doctest::Approx(12 * scale).epsilon(1e-6));
    CHECK(global_grad_norm(params) == doctest::Approx(6.5).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("clip_grad_norm leaves gradients within the norm alone", T, float, double) {
    Parameter<T> a(2, 1);
    a.grad << T(0.6), T(-0.8);
    const ParameterList<T> params = {{"a", &a}};
    CHECK(clip_grad_norm(params, T(5)) == doctest::Approx(1.0));
    CHECK(a.grad(0, 0) == T(0.6));
    CHECK(a.grad(1, 0) == T(-0.8));

    // At exactly the maximum, PyTorch's factor max_norm / (norm + 1e-6) is just below 1 and is applied.
    CHECK(clip_grad_norm(params, T(1)) == doctest::Approx(1.0));
    CHECK(a.grad(0, 0) == doctest::Approx(0.6 / (1 + 1e-6)).epsilon(1e-7));

    a.grad.setZero();
    CHECK(clip_grad_norm(params, T(1)) == T(0));
    CHECK(a.grad.isZero(0));
}

TEST_CASE("clip_grad_norm sums float squares in double, so large float gradients still clip") {
    Parameter<float> a(1, 2);
    a.grad << 3e20f, 4e20f;  // their squares overflow float
    const ParameterList<float> params = {{"a", &a}};
    const float norm = clip_grad_norm(params, 1.0f);
    CHECK(norm == doctest::Approx(5e20).epsilon(1e-6));
    CHECK(a.grad(0, 0) == doctest::Approx(0.6).epsilon(1e-6));
    CHECK(a.grad(0, 1) == doctest::Approx(0.8).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm refuses a non-finite gradient naming it or with check_finite off reports the norm" *
          doctest::test_suite("misuse")) {
    Parameter<double> a(1, 2), b(1, 1);
    a.grad << 1.0, std::numeric_limits<double>::quiet_NaN();
    b.grad << 2.0;
    const ParameterList<double> params = {{"a", &a}, {"b", &b}};
    CHECK_THROWS_WITH_AS(clip_grad_norm(params, 1.0), doctest::Contains("the gradient of a is not finite"),
                         numeric_error);
    CHECK(a.grad(0, 0) == 1.0);
    CHECK(b.grad(0, 0) == 2.0);
    CHECK(std::isnan(clip_grad_norm(params, 1.0, /*check_finite=*/false)));
    CHECK(b.grad(0, 0) == 2.0);

    a.grad(0, 1) = std::numeric_limits<double>::infinity();
    CHECK(std::isinf(clip_grad_norm(params, 1.0, false)));
    CHECK(b.grad(0, 0) == 2.0);
}

TEST_CASE("clip_grad_norm rejects a max_norm that is not positive") {
    Parameter<float> a(1, 1);
    const ParameterList<float> params = {{"a", &a}};
    CHECK_THROWS_WITH_AS(clip_grad_norm(params, 0.0f), doctest::Contains("max_norm must be a positive number"),
                         config_error);
    CHECK_THROWS_AS(clip_grad_norm(params, -1.0f), config_error);
    CHECK_THROWS_AS(clip_grad_norm(params, std::numeric_limits<float>::quiet_NaN()), config_error);
}
