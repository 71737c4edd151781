#include "vaelet/vae/elbo.hpp"
#include "vaelet/vae/iwae.hpp"
#include "vaelet/vae/score.hpp"
#include "linear_gaussian.hpp"
#include "whole_gradient.hpp"

#include <doctest/doctest.h>

#include <Eigen/Dense>

#include <cmath>
#include <limits>
#include <vector>

using namespace vaelet;

namespace {

using testing::LinearGaussian;
constexpr Index D = LinearGaussian::D;

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

/// A small MLP VAE (5-4-2, tanh: smooth, so central differences are exact enough everywhere).
template <class T>
Vae<T> smooth_vae(LikelihoodKind likelihood, Rng& rng) {
    VaeConfig config;
    config.input = 5;
    config.hidden = {4};
    config.latent = 2;
    config.activation = Activation::tanh;
    config.likelihood = likelihood;
    return Vae<T>(config, rng);
}

/// The gradient of iwae()'s loss for one draw of the noise from `rng`, all parameters in one row.
Eigen::RowVectorXd iwae_gradient(Vae<double>& vae, const Matrix<double>& x, Rng& rng, const IwaeOptions& options) {
    auto params = vae.named_parameters();
    for (auto& p : params) p.param->zero_grad();
    Tape<double> tape;
    tape.backward(iwae(vae, tape, tape.constant(x), rng, options).loss);
    Eigen::RowVectorXd g(vae.parameter_count());
    Index at = 0;
    for (auto& p : params) {
        g.segment(at, p.param->grad.size()) = Eigen::Map<const Eigen::RowVectorXd>(p.param->grad.data(), p.param->grad.size());
        at += p.param->grad.size();
    }
    return g;
}

/// How many of the leading entries of a gradient row are the encoder's.
Index encoder_entries(Vae<double>& vae) {
    Index n = 0;
    for (auto& p : vae.named_parameters())
        if (p.name.rfind("encoder.", 0) == 0) n += p.param->size();
    return n;
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

TEST_CASE_TEMPLATE("the whole IWAE loss's gradient checks against every parameter, ε held fixed", T, float, double) {
    for (LikelihoodKind kind : {LikelihoodKind::bernoulli, LikelihoodKind::gaussian_learned_per_dim}) {
        for (double beta : {1.0, 0.6}) {
            Rng init(4);
            Vae<T> vae = smooth_vae<T>(kind, init);
            Matrix<T> x(3, 5);
            init.fill_uniform(x, 0.0, 1.0);
            testing::check_whole_gradient<T>(vae, [&](Tape<T>& tape) {
                Rng noise(11);  // the same ε every evaluation
                return iwae(vae, tape, tape.constant(x), noise, {/*samples=*/4, beta}).loss;
            }, std::string(likelihood_name(kind)) + " beta " + std::to_string(beta));
        }
    }
}

TEST_CASE("iwae(): its loss is −mean IWAE-k bound, its terms the sample means, and k = 1 is the β-ELBO") {
    Rng init(4);
    Vae<double> vae = smooth_vae<double>(LikelihoodKind::bernoulli, init);
    Matrix<double> x(3, 5);
    init.fill_uniform(x, 0.0, 1.0);
    Tape<double> tape;
    for (const bool dreg : {false, true}) {
        CAPTURE(dreg);
        Rng a(7), b(7);
        const ElboTerms<double> terms = iwae(vae, tape, tape.constant(x), a, {6, 1.0, dreg});
        const Var<double> bound = iwae_bound(vae, tape, tape.constant(x), 6, b);
        CHECK(terms.loss.item() == doctest::Approx(-bound.value().mean()).epsilon(1e-12));
        CHECK(terms.recon.rows() == 3);
        CHECK(terms.kl.rows() == 3);
        CHECK(terms.forward.z.rows() == 18);
        // Jensen: the bound of the k weights is above their mean log, −(recon + kl).
        for (Index r = 0; r < 3; ++r)
            CHECK(-bound.value()(r, 0) <= terms.recon.value()(r, 0) + terms.kl.value()(r, 0) + 1e-12);
    }
    // k = 1: the same draws as elbo(), the same recon; the loss is recon + β·(the sample's log q − log p).
    Rng a(9), b(9);
    const ElboTerms<double> one = iwae(vae, tape, tape.constant(x), a, {1, 0.3});
    const ElboTerms<double> reference = elbo(vae, tape, tape.constant(x), b, {0.3, 0.0});
    CHECK((one.recon.value() - reference.recon.value()).cwiseAbs().maxCoeff() < 1e-12);
    CHECK(one.loss.item() == doctest::Approx(one.mean_recon() + 0.3 * one.mean_kl()).epsilon(1e-12));
    CHECK_THROWS_AS(iwae(vae, tape, tape.constant(x), a, {0}), config_error);
    CHECK_THROWS_AS(iwae(vae, tape, tape.constant(Matrix<double>::Zero(2, 4)), a), shape_error);
}

TEST_CASE("DReG: with q the exact posterior the encoder's gradient is zero (IWAE's is not), and the decoder's is IWAE's") {
    LinearGaussian model({/*exact_posterior=*/true});
    Matrix<double> x(2, D);
    x << 0.5, -0.3, 1.0, 0.2, -1.2, 0.4, 0.1, 0.9;
    const Index enc = encoder_entries(model.vae);
    for (const Index k : {1, 5}) {
        CAPTURE(k);
        Rng a(3), b(3);
        const Eigen::RowVectorXd plain = iwae_gradient(model.vae, x, a, {k, 1.0, false});
        const Eigen::RowVectorXd dreg = iwae_gradient(model.vae, x, b, {k, 1.0, true});
        INFO("encoder gradient: IWAE " << plain.head(enc) << " | DReG " << dreg.head(enc));
        CHECK(plain.head(enc).cwiseAbs().maxCoeff() > 1e-2);  // the score-function term's noise
        CHECK(dreg.head(enc).cwiseAbs().maxCoeff() < 1e-10);  // every weight is p(x): nothing to follow
        CHECK((plain.tail(plain.size() - enc) - dreg.tail(dreg.size() - enc)).cwiseAbs().maxCoeff() < 1e-12);
    }
}

TEST_CASE("DReG's encoder gradient has IWAE's expectation (β = 1 and β = 0.5), within 4 standard errors") {
    Rng init(8);
    Vae<double> vae = smooth_vae<double>(LikelihoodKind::bernoulli, init);
    Matrix<double> x(2, 5);
    init.fill_uniform(x, 0.0, 1.0);
    const Index enc = encoder_entries(vae), draws = 4000;
    for (const double beta : {1.0, 0.5}) {
        CAPTURE(beta);
        Eigen::MatrixXd plain(draws, enc), dreg(draws, enc);
        Rng a(21), b(22);
        for (Index i = 0; i < draws; ++i) {
            plain.row(i) = iwae_gradient(vae, x, a, {4, beta, false}).head(enc);
            dreg.row(i) = iwae_gradient(vae, x, b, {4, beta, true}).head(enc);
        }
        const auto mean_and_variance = [&](const Eigen::MatrixXd& g) {
            const Eigen::RowVectorXd mean = g.colwise().mean();
            const Eigen::RowVectorXd var = (g.rowwise() - mean).array().square().colwise().sum() / double(draws - 1);
            return std::make_pair(mean, var);
        };
        const auto [plain_mean, plain_var] = mean_and_variance(plain);
        const auto [dreg_mean, dreg_var] = mean_and_variance(dreg);
        const Eigen::ArrayXd z = (dreg_mean - plain_mean).array() / ((plain_var + dreg_var).array() / double(draws)).sqrt();
        INFO("largest |difference| / standard error: " << z.abs().maxCoeff() << "; mean variance IWAE "
                                                       << plain_var.mean() << ", DReG " << dreg_var.mean());
        CHECK(z.abs().maxCoeff() < 4.0);
        CHECK(dreg_var.mean() < plain_var.mean());  // the point of it
    }
}
