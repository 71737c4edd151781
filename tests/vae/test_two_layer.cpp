// Two stochastic layers (vae/two_layer_prior.hpp): the whole ELBO and IWAE losses' gradients, a linear-Gaussian
// two-layer model whose log p(x) is exact against the importance-sampled estimate, its samples against p(z₁), and
// model files and the configurations it refuses.
#include "vaelet/train/model_file.hpp"
#include "vaelet/train/trainer.hpp"
#include "whole_gradient.hpp"

#include <doctest/doctest.h>

#include "../temp_dir.hpp"

#include <Eigen/Dense>

#include <cmath>
#include <memory>

using namespace vaelet;

namespace {

template <class T>
std::unique_ptr<Vae<T>> two_layer_vae(Rng& rng) {
    VaeConfig config;
    config.input = 5;
    config.hidden = {4};
    config.latent = 3;
    config.activation = Activation::tanh;
    config.prior = "two_layer";
    config.latent2 = 2;
    config.hidden2 = {4};
    return std::make_unique<Vae<T>>(config, rng);
}

double log_gaussian(const Eigen::VectorXd& x, const Eigen::VectorXd& mean, const Eigen::MatrixXd& covariance) {
    const Eigen::LLT<Eigen::MatrixXd> llt(covariance);
    const Eigen::VectorXd diff = x - mean;
    const double log_det = 2 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
    return -0.5 * (double(x.size()) * std::log(2 * 3.14159265358979323846) + log_det + diff.dot(llt.solve(diff)));
}

}  // namespace

TEST_CASE_TEMPLATE("the whole two-layer ELBO and IWAE losses check against every parameter, both layers' among them", T,
                   float, double) {
    Rng init(4);
    const auto model = two_layer_vae<T>(init);
    Vae<T>& vae = *model;
    CHECK(vae.prior().noise_per_row() == 2);  // z2's draws, after z1's 3
    Matrix<T> x(3, 5);
    init.fill_uniform(x, 0.0, 1.0);
    for (const bool importance_weighted : {false, true})
        testing::check_whole_gradient<T>(vae, [&](Tape<T>& tape) {
            Rng noise(11);  // z1's and z2's draws the same every evaluation
            return importance_weighted ? iwae(vae, tape, tape.constant(x), noise, {3}).loss
                                       : elbo(vae, tape, tape.constant(x), noise).loss;
        }, importance_weighted ? "IWAE" : "ELBO");
}

TEST_CASE("a linear-Gaussian two-layer model: the IS estimate of log p(x) lands on the exact value, samples follow p(z1)") {
    // z2 ~ N(0, I₁), z1 | z2 ~ N(A z2 + a, s²I₂), x | z1 ~ N(W z1 + b, σ²I₄):
    // p(z1) = N(a, AAᵀ + s²I), p(x) = N(W a + b, W (AAᵀ + s²I) Wᵀ + σ²I).
    const double s = 0.6, sigma = 0.5;
    Eigen::MatrixXd A(2, 1), W(4, 2);
    A << 0.9, -0.7;
    W << 1.0, 0.8, -0.5, 0.9, 0.3, -0.2, 0.7, 0.6;
    Eigen::VectorXd a(2), b(4);
    a << 0.3, -0.2;
    b << 0.2, -0.1, 0.4, 0.0;
    VaeConfig c;
    c.input = 4;
    c.hidden = {};
    c.latent = 2;
    c.likelihood = LikelihoodKind::gaussian_fixed;
    c.sigma = sigma;
    c.prior = "two_layer";
    c.latent2 = 1;
    c.hidden2 = {};
    Rng rng(3);
    Vae<double> vae(c, rng);
    auto p = vae.named_parameters();
    // [0,1] q(z1|x) μ, [2,3] its log σ², [4,5] p(x|z1), [6,7] q(z2|z1) μ, [8,9] its log σ², [10,11] p(z1|z2) μ, [12,13] its log σ²
    REQUIRE(p.size() == 14);
    REQUIRE(p[6].name == "prior.encoder.fc21.weight");
    const Eigen::MatrixXd prior1 = A * A.transpose() + s * s * Eigen::MatrixXd::Identity(2, 2);  // Cov p(z1)
    // q(z1|x): the exact posterior's mean under the marginal prior of z1, its diagonal variance ×4 (wider than it)
    const Eigen::MatrixXd post1 = (prior1.inverse() + W.transpose() * W / (sigma * sigma)).inverse();
    const Eigen::MatrixXd gain1 = post1 * W.transpose() / (sigma * sigma);
    p[0].param->value = gain1;
    p[1].param->value = (post1 * prior1.inverse() * a - gain1 * b).transpose();
    p[2].param->value.setZero();
    p[3].param->value = (4 * post1.diagonal()).array().log().matrix().transpose();
    p[4].param->value = W;
    p[5].param->value = b.transpose();
    // q(z2|z1): the exact posterior of z2 given z1, variance ×4
    const double post2 = 1.0 / (1.0 + (A.transpose() * A)(0, 0) / (s * s));
    const Eigen::MatrixXd gain2 = post2 * A.transpose() / (s * s);
    p[6].param->value = gain2;
    p[7].param->value = -(gain2 * a);
    p[8].param->value.setZero();
    p[9].param->value.setConstant(std::log(4 * post2));
    // p(z1|z2) = N(A z2 + a, s²I)
    p[10].param->value = A;
    p[11].param->value = a.transpose();
    p[12].param->value.setZero();
    p[13].param->value.setConstant(std::log(s * s));

    Eigen::VectorXd x(4);
    x << 0.5, -0.3, 1.0, 0.2;
    const double exact = log_gaussian(x, W * a + b, W * prior1 * W.transpose() + sigma * sigma * Eigen::MatrixXd::Identity(4, 4));
    const Index repeats = 100;
    const Matrix<double> draws =
        estimate_log_likelihood(vae, Matrix<double>(x.transpose().replicate(repeats, 1)), 5000, rng);
    const double mean = draws.mean();
    const double se = std::sqrt((draws.array() - mean).square().sum() / double(repeats - 1) / double(repeats));
    Tape<double> tape;
    const ElboTerms<double> terms = elbo(vae, tape, tape.constant(Matrix<double>(x.transpose().replicate(20000, 1))), rng);
    const double elbo_value = -(terms.mean_recon() + terms.mean_kl());
    MESSAGE("two-layer: exact log p(x) " << exact << ", IS (k = 5000) " << mean << " ± " << se << ", ELBO " << elbo_value);
    CHECK(std::abs(mean - exact) < 4 * se + 1e-3);
    CHECK(se < 0.01);
    CHECK(elbo_value < exact);

    const Index n = 40000;
    const Matrix<double> z1 = vae.prior().sample(n, 2, rng);
    const Eigen::RowVectorXd sample_mean = z1.colwise().mean();
    const Eigen::MatrixXd centred = z1.rowwise() - sample_mean;
    const Eigen::MatrixXd sample_cov = centred.transpose() * centred / double(n - 1);
    for (Index i = 0; i < 2; ++i) {
        CHECK(std::abs(sample_mean(i) - a(i)) < 4 * std::sqrt(prior1(i, i) / double(n)));
        for (Index j = 0; j < 2; ++j) CHECK(sample_cov(i, j) == doctest::Approx(prior1(i, j)).epsilon(0.05));
    }
}

TEST_CASE("a two-layer model: a model file brings both layers back, and what it cannot do is refused") {
    vaelet::testing::TempDir dir;
    Rng rng(2);
    const auto model = two_layer_vae<float>(rng);
    Vae<float>& vae = *model;
    const std::string path = dir / "two_layer.safetensors";
    save_model(path, vae);
    CHECK(load_safetensors(path).contains("prior.decoder.fc21.weight"));
    auto loaded = load_model<float>(path);
    CHECK(architecture(*loaded) == architecture(vae));
    Matrix<float> x(4, 5);
    rng.fill_uniform(x, 0.0, 1.0);
    Rng a(1), b(1);
    CHECK(estimate_log_likelihood(*loaded, x, 20, a) == estimate_log_likelihood(vae, x, 20, b));
    Rng c(5), d(5);
    CHECK(loaded->generate(3, c) == vae.generate(3, d));
    CHECK(parse_vae_config("input=5 prior=two_layer latent2=4 hidden2=8,6").hidden2 == std::vector<Index>{8, 6});

    VaeConfig bad;
    bad.prior = "two_layer";
    bad.latent2 = 0;
    CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("latent2 must be at least 1"), config_error);
    auto parts = mlp_vae_parts<float>(VaeConfig{}, rng);
    parts.prior = two_layer_prior<float>(7, 2, {4}, Activation::tanh, rng);
    CHECK_THROWS_WITH_AS(Vae<float>(std::move(parts)), doctest::Contains("it is over 7 dimensions of z1"), shape_error);
}
