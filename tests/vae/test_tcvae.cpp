// β-TCVAE (vae/tcvae.hpp): the whole loss's gradient in float and double, the three terms against the one-sample
// KL they split, minibatch-weighted sampling's weights, and, with the batch as the whole data set (where the
// estimates are exact densities), the Monte-Carlo means of the mutual information and total correlation against
// the same quantities by quadrature.
#include "vaelet/vae/tcvae.hpp"
#include "whole_gradient.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

using namespace vaelet;

namespace {

template <class T>
std::unique_ptr<Vae<T>> tcvae_model(Rng& rng) {
    VaeConfig config;
    config.input = 5;
    config.hidden = {4};
    config.latent = 3;
    config.activation = Activation::tanh;  // smooth, for central differences
    return std::make_unique<Vae<T>>(config, rng);
}

constexpr double pi = 3.14159265358979323846;

/// log of the density of N(m, s²) at z.
double log_gauss(double z, double m, double s) {
    return -0.5 * std::log(2 * pi * s * s) - 0.5 * (z - m) * (z - m) / (s * s);
}

}  // namespace

TEST_CASE_TEMPLATE("the whole β-TCVAE loss checks against every parameter, ε held fixed", T, float, double) {
    Rng init(4);
    const auto model = tcvae_model<T>(init);
    Matrix<T> x(4, 5);
    init.fill_uniform(x, 0.0, 1.0);
    testing::check_whole_gradient<T>(*model, [&](Tape<T>& tape) {
        Rng noise(11);
        return tcvae(*model, tape, tape.constant(x), noise, {0.7, 4.0, 0.5, 100}).loss;
    }, "alpha 0.7, beta 4, gamma 0.5, N 100");
}

TEST_CASE("β-TCVAE: the three terms add up to the one-sample KL, the weights weigh them, and bad options are refused") {
    Rng init(4);
    const auto model = tcvae_model<double>(init);
    Vae<double>& vae = *model;
    Matrix<double> x(6, 5);
    init.fill_uniform(x, 0.0, 1.0);
    Tape<double> tape;
    Rng a(3), b(3);
    const ElboTerms<double> t = tcvae(vae, tape, tape.constant(x), a, {1.0, 1.0, 1.0, 1000});
    const ElboTerms<double> e = elbo(vae, tape, tape.constant(x), b);  // the same draws
    const Matrix<double>& eps = t.forward.eps.value();
    const Matrix<double>& mu = t.forward.q.mu.value();
    const Matrix<double>& logvar = t.forward.q.logvar.value();
    for (Index i = 0; i < 6; ++i) {
        double kl = 0;  // log q(z|x) − log p(z), written out
        for (Index d = 0; d < 3; ++d) {
            const double z = mu(i, d) + std::exp(0.5 * logvar(i, d)) * eps(i, d);
            kl += log_gauss(z, mu(i, d), std::exp(0.5 * logvar(i, d))) - log_gauss(z, 0, 1);
        }
        const double split = t.mutual_information.value()(i, 0) + t.total_correlation.value()(i, 0) +
                             t.dimension_kl.value()(i, 0);
        CHECK(split == doctest::Approx(kl).epsilon(1e-10));
        CHECK(t.kl.value()(i, 0) == doctest::Approx(kl).epsilon(1e-10));
        CHECK(t.recon.value()(i, 0) == doctest::Approx(e.recon.value()(i, 0)).epsilon(1e-12));
    }
    // With α = β = γ = 1 the loss is mean(recon) + mean(one-sample KL); the weights scale their terms only.
    CHECK(t.loss.item() == doctest::Approx(t.mean_recon() + t.mean_kl()).epsilon(1e-12));
    Rng c(3);
    const ElboTerms<double> w = tcvae(vae, tape, tape.constant(x), c, {0.5, 6.0, 2.0, 1000});
    CHECK(w.loss.item() == doctest::Approx(w.mean_recon() + 0.5 * w.mutual_information.value().mean() +
                                           6.0 * w.total_correlation.value().mean() +
                                           2.0 * w.dimension_kl.value().mean())
                               .epsilon(1e-12));

    CHECK_THROWS_WITH_AS(tcvae(vae, tape, tape.constant(x), c, {1.0, -1.0, 1.0, 1000}),
                         doctest::Contains("beta must be 0 or more"), config_error);
    CHECK_THROWS_WITH_AS(tcvae(vae, tape, tape.constant(x), c, {1.0, 1.0, 1.0, 3}),
                         doctest::Contains("dataset_size is 3, smaller than the batch of 6"), config_error);
}

TEST_CASE("β-TCVAE's weights on M equal rows: MWS reads MI = log N and TC = (D − 1)·log N, the stratified ones 0 and 0") {
    // Every q(zᵢ|xⱼ) of the batch is the same density. MWS: log q(zᵢ) = log(M·q(zᵢ|x)) − log(N·M) = log q(zᵢ|x) − log N,
    // and the same in each of the D dimensions. Stratified: the weights sum to 1, so log q(zᵢ) = log q(zᵢ|x).
    Rng init(6);
    const auto model = tcvae_model<double>(init);
    const Matrix<double> x = Matrix<double>::Constant(5, 5, 0.3);
    Tape<double> tape;
    Rng noise(2);
    const ElboTerms<double> mws = tcvae(*model, tape, tape.constant(x), noise, {1.0, 1.0, 1.0, 700, "mws"});
    const ElboTerms<double> stratified = tcvae(*model, tape, tape.constant(x), noise, {1.0, 1.0, 1.0, 700, "stratified"});
    for (Index i = 0; i < 5; ++i) {
        CHECK(mws.mutual_information.value()(i, 0) == doctest::Approx(std::log(700.0)).epsilon(1e-10));
        CHECK(mws.total_correlation.value()(i, 0) == doctest::Approx(2 * std::log(700.0)).epsilon(1e-10));
        CHECK(std::abs(stratified.mutual_information.value()(i, 0)) < 1e-10);
        CHECK(std::abs(stratified.total_correlation.value()(i, 0)) < 1e-10);
    }
    CHECK_THROWS_WITH_AS(tcvae(*model, tape, tape.constant(x), noise, {1.0, 1.0, 1.0, 700, "mss"}),
                         doctest::Contains("estimator \"mss\" is not one of mws, stratified"), config_error);
}

TEST_CASE("β-TCVAE with the batch as the data set: stratified MI and TC agree with quadrature, MWS's are log 2 above") {
    // Two examples (one-hot x), whose posteriors the encoder gives exactly: N((1, 1), 0.6²) and N((−1, −0.5), (0.5, 0.8)²).
    // The aggregate posterior is a correlated mixture: its total correlation is positive.
    const double m[2][2] = {{1.0, 1.0}, {-1.0, -0.5}}, s[2][2] = {{0.6, 0.6}, {0.5, 0.8}};
    Rng init(1);
    Linear<double> encoder(2, 4, init);
    for (int n = 0; n < 2; ++n)
        for (int d = 0; d < 2; ++d) {
            encoder.weight.value(d, n) = m[n][d];                           // μ
            encoder.weight.value(2 + d, n) = std::log(s[n][d] * s[n][d]);  // log σ²
        }
    encoder.bias.value.setZero();
    Vae<double> vae(std::move(encoder), Linear<double>(2, 2, init), Likelihood<double>(LikelihoodKind::bernoulli, 2), 2);

    // Quadrature of MI = E_n E_q(z|n) [log q(z|n) − log q(z)] and TC = E_q(z) [log q(z) − log q(z₁) − log q(z₂)].
    const auto log_q_given = [&](int n, double z1, double z2) {
        return log_gauss(z1, m[n][0], s[n][0]) + log_gauss(z2, m[n][1], s[n][1]);
    };
    const auto log_mix = [](double a, double b) { return std::log(0.5 * std::exp(a) + 0.5 * std::exp(b)); };
    double mi = 0, tc = 0;
    const double lo = -7, h = 0.01;
    for (int i = 0; i < 1400; ++i)
        for (int j = 0; j < 1400; ++j) {
            const double z1 = lo + (i + 0.5) * h, z2 = lo + (j + 0.5) * h;
            const double a = log_q_given(0, z1, z2), b = log_q_given(1, z1, z2), joint = log_mix(a, b);
            const double marginals = log_mix(log_gauss(z1, m[0][0], s[0][0]), log_gauss(z1, m[1][0], s[1][0])) +
                                     log_mix(log_gauss(z2, m[0][1], s[0][1]), log_gauss(z2, m[1][1], s[1][1]));
            mi += 0.5 * (std::exp(a) * (a - joint) + std::exp(b) * (b - joint)) * h * h;
            tc += std::exp(joint) * (joint - marginals) * h * h;
        }
    REQUIRE(tc > 0.05);

    const Matrix<double> x = Matrix<double>::Identity(2, 2);
    const int draws = 40000;
    double sum_mi = 0, sq_mi = 0, sum_tc = 0, sq_tc = 0, mws_offset_mi = 0, mws_offset_tc = 0;
    Rng noise(9);
    Tape<double> tape;
    tape.set_grad_enabled(false);
    for (int k = 0; k < draws; ++k) {
        tape.reset();
        Rng same = noise;  // the same draw for MWS
        const ElboTerms<double> t = tcvae(vae, tape, tape.constant(x), noise, {1.0, 1.0, 1.0, 2, "stratified"});
        const ElboTerms<double> mws = tcvae(vae, tape, tape.constant(x), same, {1.0, 1.0, 1.0, 2, "mws"});
        const double a = t.mutual_information.value().mean(), b = t.total_correlation.value().mean();
        mws_offset_mi = std::max(mws_offset_mi, std::abs(mws.mutual_information.value().mean() - a - std::log(2.0)));
        mws_offset_tc = std::max(mws_offset_tc, std::abs(mws.total_correlation.value().mean() - b - std::log(2.0)));
        sum_mi += a;
        sq_mi += a * a;
        sum_tc += b;
        sq_tc += b * b;
    }
    const double mean_mi = sum_mi / draws, mean_tc = sum_tc / draws;
    const double se_mi = std::sqrt((sq_mi / draws - mean_mi * mean_mi) / draws);
    const double se_tc = std::sqrt((sq_tc / draws - mean_tc * mean_tc) / draws);
    INFO("MI: quadrature " << mi << ", Monte Carlo " << mean_mi << " ± " << se_mi << "; TC: quadrature " << tc
                           << ", Monte Carlo " << mean_tc << " ± " << se_tc);
    CHECK(std::abs(mean_mi - mi) < 4 * se_mi);
    CHECK(std::abs(mean_tc - tc) < 4 * se_tc);
    CHECK(se_tc < 0.05 * tc);  // the test has power
    CHECK(mws_offset_mi < 1e-10);  // MWS: log q(z) is log N = log 2 low, so MI is log 2 and TC (D − 1)·log 2 high
    CHECK(mws_offset_tc < 1e-10);
}
