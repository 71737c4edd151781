#include "vaelet/vae/elbo.hpp"
#include "vaelet/vae/iwae.hpp"
#include "vaelet/vae/score.hpp"

#include <doctest/doctest.h>

#include <Eigen/Dense>

#include <cmath>
#include <limits>
#include <vector>

using namespace vaelet;

// A linear-Gaussian VAE: p(z) = N(0, I), p(x|z) = N(Wz + b, σ²I), so p(x) = N(b, WWᵀ + σ²I) exactly.
// The encoder is set to the true posterior mean M⁻¹Wᵀ(x − b) (M = WᵀW + σ²I) with the diagonal of the true
// posterior covariance σ²M⁻¹ as its variance: close to, but not exactly, the true (correlated) posterior, so the
// ELBO lies strictly below log p(x) and the importance-weighted bounds climb towards it.
namespace {

constexpr Index D = 4, d = 2;
constexpr double sigma = 0.5;

struct LinearGaussian {
    Eigen::MatrixXd W{D, d};
    Eigen::RowVectorXd b{D};
    Rng rng{17};
    Vae<double> vae;

    static VaeConfig config() {
        VaeConfig c;
        c.input = D;
        c.hidden = {};
        c.latent = d;
        c.likelihood = LikelihoodKind::gaussian_fixed;
        c.sigma = sigma;
        return c;
    }

    LinearGaussian() : vae(config(), rng) {
        W << 1.0, 0.8, -0.5, 0.9, 0.3, -0.2, 0.7, 0.6;  // correlated columns: the true posterior is not diagonal
        b << 0.2, -0.1, 0.4, 0.0;
        const Eigen::MatrixXd M = W.transpose() * W + sigma * sigma * Eigen::MatrixXd::Identity(d, d);
        const Eigen::MatrixXd A = M.inverse() * W.transpose();
        const Eigen::VectorXd post_var = (sigma * sigma * M.inverse()).diagonal();
        auto params = vae.named_parameters();  // fc21 (μ), fc22 (log σ²), fc4 (decoder)
        params[0].param->value = A;
        params[1].param->value = -(A * b.transpose()).transpose();
        params[2].param->value.setZero();
        params[3].param->value = post_var.array().log().matrix().transpose();
        params[4].param->value = W;
        params[5].param->value = b;
    }

    double exact_log_px(const Eigen::RowVectorXd& x) const {
        const Eigen::MatrixXd C = W * W.transpose() + sigma * sigma * Eigen::MatrixXd::Identity(D, D);
        const Eigen::LLT<Eigen::MatrixXd> llt(C);
        const Eigen::VectorXd diff = (x - b).transpose();
        const double quad = diff.dot(llt.solve(diff));
        const double log_det = 2 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
        return -0.5 * (D * std::log(2 * 3.14159265358979323846) + log_det + quad);
    }
};

struct BoundEstimate {
    double mean, standard_error;
};

/// Mean and standard error of the k-sample bound over `repeats` independent draws for the single example x.
BoundEstimate mean_bound(LinearGaussian& model, const Matrix<double>& x, Index k, Index repeats, Rng& rng) {
    const Matrix<double> draws = estimate_log_likelihood(model.vae, Matrix<double>(x.replicate(repeats, 1)), k, rng);
    const double mean = draws.mean();
    const double variance = (draws.array() - mean).square().sum() / double(repeats - 1);
    return {mean, std::sqrt(variance / double(repeats))};
}

/// A conditional MLP VAE of 5 inputs and 3 classes (2 latent dimensions), for the condition tests.
VaeConfig conditional_config() {
    VaeConfig config;
    config.input = 5;
    config.hidden = {4};
    config.latent = 2;
    config.conditions = 3;
    return config;
}

}  // namespace

TEST_CASE("linear-Gaussian VAE: ELBO < IWAE-k rising with k < exact log p(x), and the k-sample estimate lands on it") {
    LinearGaussian model;
    Rng rng(99);
    Matrix<double> xs(3, D);
    xs << 0.5, -0.3, 1.0, 0.2, -1.2, 0.4, 0.1, 0.9, 0.0, 0.0, 0.0, 0.0;
    for (Index i = 0; i < xs.rows(); ++i) {
        const Matrix<double> x = xs.row(i);
        const double exact = model.exact_log_px(xs.row(i));

        // The ELBO from elbo() (closed-form KL) averaged over many samples agrees with the k = 1 bound.
        Tape<double> tape;
        const Matrix<double> many = x.replicate(20000, 1);
        const auto terms = elbo(model.vae, tape, tape.constant(many), rng);
        const double elbo_mean = -(terms.mean_recon() + terms.mean_kl());

        const BoundEstimate l1 = mean_bound(model, x, 1, 20000, rng);
        const BoundEstimate l10 = mean_bound(model, x, 10, 4000, rng);
        const BoundEstimate l100 = mean_bound(model, x, 100, 400, rng);
        const BoundEstimate l5000 = mean_bound(model, x, 5000, 40, rng);
        INFO("x" << i << ": exact " << exact << ", ELBO " << elbo_mean << ", L1 " << l1.mean << ", L10 " << l10.mean
                 << ", L100 " << l100.mean << " ± " << l100.standard_error << ", L5000 " << l5000.mean << " ± "
                 << l5000.standard_error);
        CHECK(std::abs(elbo_mean - l1.mean) < 4 * l1.standard_error + 0.005);
        CHECK(elbo_mean < exact - 0.02);  // a real gap: the posterior is correlated, q is diagonal
        CHECK(l1.mean + 4 * l1.standard_error < l10.mean);
        CHECK(l10.mean < l100.mean + 4 * l100.standard_error);
        CHECK(l100.mean < exact + 4 * l100.standard_error);
        CHECK(std::abs(l5000.mean - exact) < 4 * l5000.standard_error);
        CHECK(l5000.standard_error < 0.002);  // tight: within ±0.008 nats
        MESSAGE("x" << i << ": exact log p(x) " << exact << " | ELBO gap " << exact - elbo_mean << " | IWAE gap k=10 "
                    << exact - l10.mean << ", k=100 " << exact - l100.mean << ", k=5000 " << exact - l5000.mean
                    << " ± " << l5000.standard_error);
    }
}

TEST_CASE("iwae_bound is differentiable, equals the estimator's arithmetic and rejects k < 1") {
    LinearGaussian model;
    Matrix<double> x(2, D);
    x << 0.5, -0.3, 1.0, 0.2, -1.2, 0.4, 0.1, 0.9;
    Tape<double> tape;
    Rng a(5), b(5);
    auto bound = iwae_bound(model.vae, tape, tape.constant(x), 7, a);
    const Matrix<double> est = estimate_log_likelihood(model.vae, x, 7, b, 7);  // one example per pass, same draws
    CHECK(bound.rows() == 2);
    CHECK(bound.value()(0, 0) == doctest::Approx(est(0, 0)).epsilon(1e-12));
    auto params = model.vae.named_parameters();
    for (auto& p : params) p.param->zero_grad();
    tape.backward(sum(bound));
    CHECK(params[4].param->grad.norm() > 0);
    CHECK_THROWS_AS(iwae_bound(model.vae, tape, tape.constant(x), 0, a), config_error);
}

TEST_CASE("a NaN in a row gives that row NaN from the IS estimate and the scores (never -inf) and leaves the rest" *
          doctest::test_suite("misuse")) {
    Rng rng(3);
    VaeConfig config;
    config.input = 5;
    config.hidden = {4};
    config.latent = 2;
    Vae<double> vae(config, rng);
    Matrix<double> x = Matrix<double>::Constant(3, 5, 0.5);
    x(1, 2) = std::numeric_limits<double>::quiet_NaN();
    Rng a(1);
    const Matrix<double> log_px = estimate_log_likelihood(vae, x, 40, a, /*rows_per_pass=*/16);
    CHECK(std::isfinite(log_px(0, 0)));
    CHECK(std::isnan(log_px(1, 0)));
    CHECK(std::isfinite(log_px(2, 0)));
    Rng b(1);
    const ExampleScores s = score_examples(vae, x, b, 3);
    CHECK(std::isnan(s.neg_elbo(1, 0)));
    CHECK(std::isnan(s.recon_error(1, 0)));
    CHECK(std::isfinite(s.neg_elbo(0, 0)));
}

TEST_CASE("a conditional model's condition goes the same way through every tool, on a tape and as a matrix") {
    Rng rng(3);
    Vae<double> vae(conditional_config(), rng);
    const Matrix<double> x = Matrix<double>::Constant(4, 5, 0.5);
    const Matrix<double> c = one_hot<double>(std::vector<int>{0, 2, 1, 2}, 3);
    Tape<double> tape;

    Rng a(5), b(5);
    const Var<double> bound = iwae_bound(vae, tape, tape.constant(x), 7, a, tape.constant(c));
    const Matrix<double> est = estimate_log_likelihood(vae, x, 7, b, 7, c);  // one example per pass, same draws
    CHECK(bound.value()(0, 0) == doctest::Approx(est(0, 0)).epsilon(1e-12));
    CHECK(est.allFinite());

    Rng e(8), s(8);
    const ElboTerms<double> terms = elbo(vae, tape, tape.constant(x), e, {}, tape.constant(c));
    const ExampleScores scores = score_examples(vae, x, s, 1, c);  // the same draws: −ELBO = recon + kl per row
    for (Index i = 0; i < x.rows(); ++i)
        CHECK(scores.neg_elbo(i, 0) ==
              doctest::Approx(terms.recon.value()(i, 0) + terms.kl.value()(i, 0)).epsilon(1e-12));

    CHECK_THROWS_WITH_AS(score_examples(vae, x, s), doctest::Contains("condition"), config_error);
    CHECK_THROWS_WITH_AS(elbo(vae, tape, tape.constant(x), e), doctest::Contains("condition"), config_error);
}

TEST_CASE("conditions with another number of rows than the data are a shape error naming both counts" *
          doctest::test_suite("misuse")) {
    Rng rng(3);
    Vae<double> vae(conditional_config(), rng);
    const Matrix<double> x = Matrix<double>::Constant(4, 5, 0.5);
    const Matrix<double> short_c = one_hot<double>(std::vector<int>{0, 2}, 3);  // 2 rows for 4 (read past the end)
    CHECK_THROWS_WITH_AS(estimate_log_likelihood(vae, x, 7, rng, 7, short_c),
                         doctest::Contains("2 rows of conditions for 4 rows of data"), shape_error);
    CHECK_THROWS_AS(score_examples(vae, x, rng, 1, short_c), shape_error);
}
