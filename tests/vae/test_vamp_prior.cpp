// The VampPrior (vae/vamp_prior.hpp) and the Gaussian densities it is made of (vae/density.hpp): gradients in
// float and double, the mixture against its definition, K = 1 against the closed-form KL of two Gaussians, its
// samples, the whole loss's gradient with the pseudo-inputs, and a model file that brings it back.
#include "vaelet/core/gradcheck.hpp"
#include "vaelet/train/model_file.hpp"
#include "vaelet/vae/iwae.hpp"
#include "whole_gradient.hpp"

#include <doctest/doctest.h>

#include "../temp_dir.hpp"

#include <cmath>
#include <memory>
#include <type_traits>

using namespace vaelet;

namespace {

/// A 6-feature MLP VAE with 2 latent dimensions (tanh: smooth for central differences) and a VampPrior of K.
template <class T>
std::unique_ptr<Vae<T>> vamp_vae(Index pseudo_inputs, Rng& rng) {
    VaeConfig config;
    config.input = 6;
    config.hidden = {5};
    config.latent = 2;
    config.activation = Activation::tanh;
    config.prior = "vamp";
    config.pseudo_inputs = pseudo_inputs;
    auto vae = std::make_unique<Vae<T>>(config, rng);
    // Spread the pseudo-inputs out (the default start, 0.05 ± 0.01, puts them all in one place).
    auto params = vae->named_parameters();
    REQUIRE(params.back().name == "prior.pseudo_inputs");
    rng.fill_uniform(params.back().param->value, 0.0, 1.0);
    return vae;
}

/// log N(z; μ, diag σ²) written out, in double.
double log_normal(const Eigen::RowVectorXd& z, const Eigen::RowVectorXd& mu, const Eigen::RowVectorXd& logvar) {
    double total = 0;
    for (Index j = 0; j < z.size(); ++j)
        total += -0.5 * (std::log(2 * 3.14159265358979323846) + logvar(j) +
                         (z(j) - mu(j)) * (z(j) - mu(j)) / std::exp(logvar(j)));
    return total;
}

}  // namespace

TEST_CASE_TEMPLATE("gaussian_log_density and pairwise_gaussian_log_density: values written out, and gradients", T,
                   float, double) {
    Rng rng(3);
    Matrix<T> z(4, 3), mu(5, 3), logvar(5, 3);
    rng.fill_normal(z);
    rng.fill_normal(mu);
    rng.fill_uniform(logvar, -1.0, 1.0);
    Tape<T> tape;
    const Matrix<T> table =
        pairwise_gaussian_log_density(tape.constant(z), tape.constant(mu), tape.constant(logvar)).value();
    REQUIRE(table.rows() == 4);
    REQUIRE(table.cols() == 5);
    const double close = std::is_same<T, float>::value ? 1e-4 : 1e-12;
    for (Index i = 0; i < 4; ++i)
        for (Index k = 0; k < 5; ++k)
            CHECK(double(table(i, k)) == doctest::Approx(log_normal(z.row(i).template cast<double>(),
                                                                    mu.row(k).template cast<double>(),
                                                                    logvar.row(k).template cast<double>()))
                                             .epsilon(close));
    const Matrix<T> rows = gaussian_log_density(tape.constant(z), tape.constant(Matrix<T>(mu.topRows(4))),
                                                tape.constant(Matrix<T>(logvar.topRows(4))))
                               .value();
    for (Index i = 0; i < 4; ++i) CHECK(double(rows(i, 0)) == doctest::Approx(double(table(i, i))).epsilon(close));

    GradcheckOptions<T> tolerance;
    if (std::is_same<T, float>::value) tolerance.tolerance = T(2e-2);
    const auto pairwise = gradcheck<T>(
        [](Tape<T>&, const std::vector<Var<T>>& in) {
            return sum(pairwise_gaussian_log_density(in[0], in[1], in[2]) * T(0.1));
        },
        {z, mu, logvar}, tolerance);
    INFO(pairwise.describe());
    CHECK(pairwise.ok);
    const auto diagonal = gradcheck<T>(
        [](Tape<T>&, const std::vector<Var<T>>& in) { return sum(gaussian_log_density(in[0], in[1], in[2])); },
        {z, Matrix<T>(mu.topRows(4)), Matrix<T>(logvar.topRows(4))}, tolerance);
    INFO(diagonal.describe());
    CHECK(diagonal.ok);
    CHECK_THROWS_AS(pairwise_gaussian_log_density(tape.constant(z), tape.constant(Matrix<T>(mu.leftCols(2))),
                                                  tape.constant(logvar)),
                    shape_error);
}

TEST_CASE("VampPrior: log p(z) is the mean of the encoder's posteriors at the pseudo-inputs") {
    Rng rng(5);
    const auto model = vamp_vae<double>(3, rng);
    Vae<double>& vae = *model;
    auto& prior = dynamic_cast<VampPrior<double>&>(vae.prior());
    Matrix<double> mu, logvar;
    vae.encode(prior.pseudo_inputs(), mu, logvar);
    Matrix<double> z(4, 2);
    rng.fill_normal(z);
    Tape<double> tape;
    const Matrix<double> log_pz = prior.log_prob(tape.constant(z), rng).value();
    for (Index i = 0; i < 4; ++i) {
        double mixture = 0;
        for (Index k = 0; k < 3; ++k) mixture += std::exp(log_normal(z.row(i), mu.row(k), logvar.row(k))) / 3;
        CHECK(log_pz(i, 0) == doctest::Approx(std::log(mixture)).epsilon(1e-12));
    }
}

TEST_CASE("VampPrior with K = 1: zero KL at the pseudo-input itself, and the closed-form KL of two Gaussians elsewhere") {
    Rng rng(7);
    const auto model = vamp_vae<double>(1, rng);
    Vae<double>& vae = *model;
    auto& prior = dynamic_cast<VampPrior<double>&>(vae.prior());
    const Matrix<double> u = prior.pseudo_inputs();
    Matrix<double> x(1, 6);
    x << 0.9, 0.1, 0.4, 0.7, 0.2, 0.5;
    Matrix<double> mu_p, logvar_p, mu_q, logvar_q;
    vae.encode(u, mu_p, logvar_p);
    vae.encode(x, mu_q, logvar_q);
    // KL(N(μq, σq²) ‖ N(μp, σp²)) = Σ ½ [log σp²/σq² + (σq² + (μq − μp)²)/σp² − 1]
    const double closed = 0.5 * ((logvar_p - logvar_q).array() +
                                 (logvar_q.array().exp() + (mu_q - mu_p).array().square()) / logvar_p.array().exp() - 1)
                                    .sum();
    REQUIRE(closed > 0.01);  // the two posteriors differ: the test has something to measure

    const Index n = 100000;
    Tape<double> tape;
    Rng noise(11);
    const ElboTerms<double> at_u = elbo(vae, tape, tape.constant(Matrix<double>(u.replicate(8, 1))), noise);
    CHECK(at_u.kl.value().cwiseAbs().maxCoeff() < 1e-12);  // q(z|u) is p(z): every sample's log q − log p is 0
    tape.reset();
    const ElboTerms<double> at_x = elbo(vae, tape, tape.constant(Matrix<double>(x.replicate(n, 1))), noise);
    const Eigen::ArrayXd kl = at_x.kl.value().col(0).array();
    const double mean = kl.mean(), standard_error = std::sqrt((kl - mean).square().sum() / double(n - 1) / double(n));
    INFO("closed form " << closed << ", Monte Carlo " << mean << " ± " << standard_error);
    CHECK(std::abs(mean - closed) < 4 * standard_error);
    CHECK(standard_error < 0.01 * closed + 1e-3);
}

TEST_CASE("VampPrior: samples come from the mixture, each component equally often") {
    Rng rng(9);
    const auto model = vamp_vae<double>(2, rng);
    Vae<double>& vae = *model;
    auto& prior = dynamic_cast<VampPrior<double>&>(vae.prior());
    Matrix<double> mu, logvar;
    vae.encode(prior.pseudo_inputs(), mu, logvar);
    const Index n = 40000;
    Rng draw(4);
    const Matrix<double> z = prior.sample(n, 2, draw);
    // The mixture's mean and second moment, per dimension.
    const Eigen::RowVectorXd mean = mu.colwise().mean();
    const Eigen::RowVectorXd second = (logvar.array().exp() + mu.array().square()).matrix().colwise().mean();
    const Eigen::RowVectorXd sample_mean = z.colwise().mean();
    const Eigen::RowVectorXd sample_second = z.array().square().matrix().colwise().mean();
    for (Index j = 0; j < 2; ++j) {
        const double sd = std::sqrt(second(j) - mean(j) * mean(j));
        CHECK(std::abs(sample_mean(j) - mean(j)) < 4 * sd / std::sqrt(double(n)));
        CHECK(sample_second(j) == doctest::Approx(second(j)).epsilon(0.03));
    }
    CHECK(vae.generate(5, draw).rows() == 5);
    CHECK_THROWS_AS(prior.sample(3, 4, draw), shape_error);
}

TEST_CASE_TEMPLATE("the whole loss with a VampPrior checks against every parameter, the pseudo-inputs among them", T,
                   float, double) {
    Rng init(4);
    const auto model = vamp_vae<T>(3, init);
    Vae<T>& vae = *model;
    Matrix<T> x(3, 6);
    init.fill_uniform(x, 0.0, 1.0);
    for (const bool importance_weighted : {false, true})
        testing::check_whole_gradient<T>(vae, [&](Tape<T>& tape) {
            Rng noise(11);  // the same ε every evaluation
            return importance_weighted ? iwae(vae, tape, tape.constant(x), noise, {3}).loss
                                       : elbo(vae, tape, tape.constant(x), noise).loss;
        }, importance_weighted ? "IWAE" : "ELBO");
}

TEST_CASE("VampPrior: a model file brings it back, and the configurations it cannot serve are refused") {
    vaelet::testing::TempDir dir;
    Rng rng(2);
    const auto model = vamp_vae<float>(4, rng);
    Vae<float>& vae = *model;
    const std::string path = dir / "vamp.safetensors";
    save_model(path, vae);
    CHECK(load_safetensors(path).contains("prior.pseudo_inputs"));
    auto loaded = load_model<float>(path);
    CHECK(architecture(*loaded) == architecture(vae));
    CHECK(dynamic_cast<VampPrior<float>&>(loaded->prior()).pseudo_inputs() ==
          dynamic_cast<VampPrior<float>&>(vae.prior()).pseudo_inputs());
    Matrix<float> x(3, 6);
    rng.fill_uniform(x, 0.0, 1.0);
    Rng a(1), b(1);
    CHECK(estimate_log_likelihood(*loaded, x, 20, a) == estimate_log_likelihood(vae, x, 20, b));
    CHECK(parse_vae_config("input=6 prior=vamp pseudo_inputs=7").pseudo_inputs == 7);

    VaeConfig bad;
    bad.prior = "flat";
    CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("prior \"flat\" is not one of standard, vamp"), config_error);
    bad.prior = "vamp";
    bad.pseudo_inputs = 0;
    CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("pseudo_inputs must be at least 1"), config_error);
    bad.pseudo_inputs = 10;
    bad.conditions = 3;
    CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("the VampPrior is for unconditional models"), config_error);
    auto parts = mlp_vae_parts<float>(VaeConfig{}, rng);
    parts.prior = std::make_unique<VampPrior<float>>(5, 100, rng);  // pseudo-inputs of the wrong width
    CHECK_THROWS_WITH_AS(Vae<float>(std::move(parts)), doctest::Contains("the pseudo-inputs have 100 features"), shape_error);
    VampPrior<float> alone(5, 784, rng);
    Tape<float> tape;
    CHECK_THROWS_WITH_AS(alone.log_prob(tape.constant(Matrix<float>::Zero(2, 20)), rng), doctest::Contains("not part of a Vae"),
                         config_error);
}
