#include "vaelet/vae/likelihood.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace vaelet;

TEST_CASE_TEMPLATE("Gaussian log-densities carry every constant", T, float, double) {
    const double half_log_2pi = 0.5 * std::log(2 * 3.14159265358979323846);
    Matrix<T> x(1, 2), m(1, 2);
    x << T(1.0), T(-0.5);
    m << T(0.5), T(0.5);
    const double sq = 0.25 + 1.0;  // Σ (x − m)²
    Tape<T> tape;
    auto xv = tape.constant(x), mv = tape.constant(m);

    Likelihood<T> fixed(LikelihoodKind::gaussian_fixed, 2, 0.5);
    CHECK(fixed.log_prob(tape, mv, xv).item() ==
          doctest::Approx(-sq / (2 * 0.25) - 2 * (std::log(0.5) + half_log_2pi)).epsilon(1e-6));

    Likelihood<T> learned(LikelihoodKind::gaussian_learned, 2, 2.0);
    CHECK(learned.log_prob(tape, mv, xv).item() ==
          doctest::Approx(-sq / (2 * 4.0) - 2 * (std::log(2.0) + half_log_2pi)).epsilon(1e-6));

    Likelihood<T> per_dim(LikelihoodKind::gaussian_learned_per_dim, 2, 1.0);
    ParameterList<T> params;
    per_dim.collect_parameters(params, "decoder.");
    REQUIRE(params.size() == 1);
    CHECK(params[0].name == "decoder.log_sigma");
    params[0].param->value << T(0), T(std::log(3.0));  // σ = 1 and 3
    CHECK(per_dim.log_prob(tape, mv, xv).item() ==
          doctest::Approx(-0.25 / 2 - 1.0 / (2 * 9.0) - std::log(3.0) - 2 * half_log_2pi).epsilon(1e-6));
    CHECK(per_dim.mean(m) == m);

    // sigma() is what rebuilds the likelihood (the initial σ); current_sigma() is the σ learned so far.
    CHECK(per_dim.sigma() == 1.0);
    CHECK(per_dim.current_sigma()(0, 1) == doctest::Approx(3.0));
    CHECK(learned.current_sigma() == Matrix<T>::Constant(1, 1, T(2)));
    CHECK(fixed.current_sigma() == Matrix<T>::Constant(1, 1, T(0.5)));
    CHECK(Likelihood<T>(LikelihoodKind::bernoulli, 2).current_sigma().size() == 0);
}

TEST_CASE_TEMPLATE("Bernoulli takes non-binary targets and its mean is the sigmoid", T, float, double) {
    Matrix<T> logits(1, 2), x(1, 2);
    logits << T(0.3), T(-1.2);
    x << T(0.25), T(1.0);
    Tape<T> tape;
    Likelihood<T> bern(LikelihoodKind::bernoulli, 2);
    const double p0 = 1 / (1 + std::exp(-0.3)), p1 = 1 / (1 + std::exp(1.2));
    const double expected = 0.25 * std::log(p0) + 0.75 * std::log(1 - p0) + std::log(p1);
    CHECK(bern.log_prob(tape, tape.constant(logits), tape.constant(x)).item() == doctest::Approx(expected).epsilon(1e-5));
    CHECK(bern.mean(logits)(0, 0) == doctest::Approx(p0));
    ParameterList<T> none;
    bern.collect_parameters(none, "decoder.");
    CHECK(none.empty());
    CHECK(parse_likelihood("gaussian") == LikelihoodKind::gaussian_fixed);
    CHECK_THROWS_AS(parse_likelihood("poisson"), config_error);
    CHECK_THROWS_AS(Likelihood<T>(LikelihoodKind::gaussian_fixed, 2, 0.0), config_error);
}

TEST_CASE_TEMPLATE("one data row may serve a block of samples, as if it were repeated", T, float, double) {
    // Importance sampling decodes k samples per example; log_prob takes the n data rows for the n·k outputs.
    const Index n = 2, k = 3;
    const TabularLayout layout{2, {3, 2}};  // width 7
    Matrix<T> data = Matrix<T>::Random(n, layout.width()).cwiseAbs();
    Matrix<T> out = Matrix<T>::Random(n * k, layout.width());
    std::vector<Likelihood<T>> kinds;
    kinds.emplace_back(LikelihoodKind::bernoulli, layout.width());
    kinds.emplace_back(LikelihoodKind::gaussian_fixed, layout.width(), 0.5);
    kinds.emplace_back(LikelihoodKind::gaussian_learned_per_dim, layout.width(), 0.7);
    kinds.emplace_back(layout, 0.7);
    for (Likelihood<T>& lik : kinds) {
        CAPTURE(int(lik.kind()));
        Matrix<T> value[2], grad[2];
        for (int repeated = 0; repeated < 2; ++repeated) {
            Tape<T> tape;
            grad[repeated] = Matrix<T>::Zero(out.rows(), out.cols());
            const Var<T> o = tape.variable(out, grad[repeated]);
            const Var<T> x = repeated ? repeat_rows(tape.constant(data), k) : tape.constant(data);
            const Var<T> log_px = lik.log_prob(tape, o, x);
            tape.backward(sum(log_px));
            value[repeated] = log_px.value();
        }
        REQUIRE(value[0].rows() == n * k);
        CHECK((value[0] - value[1]).cwiseAbs().maxCoeff() <= T(1e-5) * (T(1) + value[1].cwiseAbs().maxCoeff()));
        CHECK((grad[0] - grad[1]).cwiseAbs().maxCoeff() <= T(1e-5));
    }
}
