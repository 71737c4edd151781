#include "vaelet/core/gradcheck.hpp"
#include "vaelet/vae/elbo.hpp"
#include "whole_gradient.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace vaelet;

TEST_CASE_TEMPLATE("closed-form KL agrees with a Monte-Carlo estimate within 4 standard errors", T, float, double) {
    Matrix<T> mu(1, 3), logvar(1, 3);
    mu << T(0.7), T(-1.3), T(0.1);
    logvar << T(-0.6), T(0.4), T(-2.0);
    Tape<T> tape;
    const double closed = sum(gaussian_kl(tape.constant(mu), tape.constant(logvar))).item();

    // log q(z) − log p(z) with z = μ + σε: Σⱼ −½ log σⱼ² − ½ εⱼ² + ½ zⱼ²
    Rng rng(2024);
    const int n = 200000;
    double total = 0, total_sq = 0;
    for (int s = 0; s < n; ++s) {
        double v = 0;
        for (Index j = 0; j < 3; ++j) {
            const double eps = rng.normal();
            const double z = double(mu(0, j)) + std::exp(0.5 * double(logvar(0, j))) * eps;
            v += -0.5 * double(logvar(0, j)) - 0.5 * eps * eps + 0.5 * z * z;
        }
        total += v;
        total_sq += v * v;
    }
    const double mean = total / n;
    const double standard_error = std::sqrt((total_sq / n - mean * mean) / n);
    INFO("closed form " << closed << ", Monte Carlo " << mean << " ± " << standard_error);
    CHECK(std::abs(mean - closed) < 4 * standard_error);
    CHECK(standard_error < 0.01);  // the test has power
}

namespace {

template <class T>
Vae<T> small_vae(LikelihoodKind likelihood, Rng& rng) {
    VaeConfig config;
    config.input = 5;
    config.hidden = {4};
    config.latent = 2;
    config.activation = Activation::tanh;  // smooth, so central differences are exact enough everywhere
    config.likelihood = likelihood;
    return Vae<T>(config, rng);
}

}  // namespace

TEST_CASE_TEMPLATE("the whole ELBO's gradient checks against every parameter, ε held fixed", T, float, double) {
    for (LikelihoodKind kind : {LikelihoodKind::bernoulli, LikelihoodKind::gaussian_learned_per_dim}) {
        for (double free_bits : {0.0, 0.3}) {
            Rng init(4);
            Vae<T> vae = small_vae<T>(kind, init);
            Matrix<T> x(3, 5);
            init.fill_uniform(x, 0.0, 1.0);
            ElboOptions options;
            options.beta = 0.7;
            options.free_bits = free_bits;
            testing::check_whole_gradient<T>(vae, [&](Tape<T>& tape) {
                Rng noise(11);  // the same ε every evaluation
                return elbo(vae, tape, tape.constant(x), noise, options).loss;
            }, std::string(likelihood_name(kind)) + " free bits " + std::to_string(free_bits));
        }
    }
}

TEST_CASE("β scales the KL term, free bits floor each dimension's KL, recon and kl are per example") {
    Rng init(4);
    Vae<double> vae = small_vae<double>(LikelihoodKind::bernoulli, init);
    Matrix<double> x(6, 5);
    init.fill_uniform(x, 0.0, 1.0);
    Tape<double> tape;
    auto run = [&](double beta, double free_bits) {
        tape.reset();
        Rng noise(3);
        ElboOptions o;
        o.beta = beta;
        o.free_bits = free_bits;
        return elbo(vae, tape, tape.constant(x), noise, o);
    };
    auto plain = run(1.0, 0.0);
    CHECK(plain.recon.rows() == 6);
    CHECK(plain.kl.cols() == 1);
    CHECK(plain.loss.item() == doctest::Approx(plain.mean_recon() + plain.mean_kl()).epsilon(1e-12));
    const double plain_kl = plain.mean_kl();  // the next run resets the tape, and `plain` with it
    auto half = run(0.5, 0.0);
    CHECK(half.loss.item() == doctest::Approx(half.mean_recon() + 0.5 * half.mean_kl()).epsilon(1e-12));
    auto floored = run(1.0, 100.0);  // a floor far above every dimension's KL: the term is latent × λ
    CHECK(floored.loss.item() == doctest::Approx(floored.mean_recon() + 2 * 100.0).epsilon(1e-12));
    CHECK(floored.mean_kl() == doctest::Approx(plain_kl).epsilon(1e-12));  // reported KL is the true KL
    tape.reset();
    Rng noise(1);
    ElboOptions bad;
    bad.beta = -1;
    CHECK_THROWS_AS(elbo(vae, tape, tape.constant(x), noise, bad), config_error);
    CHECK_THROWS_WITH_AS(elbo(vae, tape, tape.constant(Matrix<double>::Zero(2, 3)), noise), doctest::Contains("2x3"),
                         shape_error);
}
