// The posterior flow (vae/flow.hpp): the IAF's log-determinant against a numerical Jacobian, its autoregressive
// structure, its gradients, the whole ELBO and IWAE losses through it, the importance-sampled log p(x) of an exact
// linear-Gaussian model with a flow posterior, and model files that bring it back.
#include "vaelet/core/gradcheck.hpp"
#include "vaelet/train/model_file.hpp"
#include "vaelet/vae/iwae.hpp"
#include "vaelet/vae/tcvae.hpp"
#include "linear_gaussian.hpp"
#include "whole_gradient.hpp"

#include <doctest/doctest.h>

#include "../temp_dir.hpp"

#include <Eigen/Dense>

#include <cmath>
#include <memory>
#include <type_traits>

using namespace vaelet;

namespace {

/// z = f(z0) for one row, in double.
Eigen::RowVectorXd flow_of(InverseAutoregressiveFlow<double>& flow, const Eigen::RowVectorXd& z0, double* log_det) {
    Tape<double> tape;
    auto r = flow.forward(tape, tape.constant(Matrix<double>(z0)));
    if (log_det) *log_det = r.log_det.item();
    return r.z.value();
}

/// A flow whose weights are spread out to ±`amplitude` (a fresh one is close to the identity), so the tests see a
/// real map.
void spread(InverseAutoregressiveFlow<double>& flow, Rng& rng, double amplitude = 0.8) {
    ParameterList<double> list;
    flow.collect_parameters(list, "");
    for (auto& p : list) rng.fill_uniform(p.param->value, -amplitude, amplitude);
}

template <class T>
std::unique_ptr<Vae<T>> flow_vae(Rng& rng) {
    VaeConfig config;
    config.input = 5;
    config.hidden = {4};
    config.latent = 3;
    config.activation = Activation::tanh;
    config.flow_steps = 2;
    config.flow_hidden = 6;
    return std::make_unique<Vae<T>>(config, rng);
}

}  // namespace

TEST_CASE("IAF: the log-determinant is log |det| of the numerical Jacobian, and one step's Jacobian is triangular") {
    Rng rng(3);
    for (const Index steps : {1, 3}) {
        CAPTURE(steps);
        InverseAutoregressiveFlow<double> flow(4, steps, 8, rng);
        spread(flow, rng);
        Eigen::RowVectorXd z0(4);
        z0 << 0.3, -1.1, 0.7, 0.2;
        double log_det = 0;
        flow_of(flow, z0, &log_det);
        Eigen::MatrixXd jacobian(4, 4);  // ∂zᵢ/∂z0ⱼ by central differences
        const double h = 1e-6;
        for (Index j = 0; j < 4; ++j) {
            Eigen::RowVectorXd up = z0, down = z0;
            up(j) += h;
            down(j) -= h;
            jacobian.col(j) = ((flow_of(flow, up, nullptr) - flow_of(flow, down, nullptr)) / (2 * h)).transpose();
        }
        INFO("Jacobian\n" << jacobian);
        CHECK(log_det == doctest::Approx(std::log(std::abs(jacobian.determinant()))).epsilon(1e-7));
        if (steps == 1) {  // output i depends on inputs before i only, and on itself with slope σᵢ ∈ (0, 1)
            for (Index i = 0; i < 4; ++i) {
                for (Index j = i + 1; j < 4; ++j) CHECK(std::abs(jacobian(i, j)) < 1e-9);
                CHECK(jacobian(i, i) > 0);
                CHECK(jacobian(i, i) < 1);
            }
        }
    }
    CHECK_THROWS_AS(InverseAutoregressiveFlow<double>(4, 0, 8, rng), config_error);
    InverseAutoregressiveFlow<double> flow(4, 1, 8, rng);
    Tape<double> tape;
    CHECK_THROWS_WITH_AS(flow.forward(tape, tape.constant(Matrix<double>::Zero(2, 3))),
                         doctest::Contains("the flow maps 4 dimensions"), shape_error);
}

TEST_CASE_TEMPLATE("IAF: gradients of z and the log-determinant in the input and every parameter", T, float, double) {
    Rng rng(5);
    InverseAutoregressiveFlow<T> flow(3, 2, 5, rng);
    ParameterList<T> params;
    flow.collect_parameters(params, "");
    for (auto& p : params) rng.fill_uniform(p.param->value, -0.8, 0.8);
    Matrix<T> z0(4, 3);
    rng.fill_normal(z0);
    Matrix<T> weights(4, 3);
    rng.fill_uniform(weights, -1.0, 1.0);
    GradcheckOptions<T> tolerance;
    if (std::is_same<T, float>::value) tolerance.tolerance = T(2e-2);
    const auto in_input = gradcheck<T>(
        [&](Tape<T>& tape, const std::vector<Var<T>>& in) {
            auto r = flow.forward(tape, in[0]);
            return sum(r.z * tape.constant(weights)) + sum(r.log_det);
        },
        {z0}, tolerance);
    INFO(in_input.describe());
    CHECK(in_input.ok);
    const auto in_parameters = gradcheck_parameters<T>(
        [&](Tape<T>& tape) {
            auto r = flow.forward(tape, tape.constant(z0));
            return sum(r.z * tape.constant(weights)) + sum(r.log_det);
        },
        params, tolerance);
    INFO(in_parameters.describe());
    CHECK(in_parameters.ok);
}

TEST_CASE_TEMPLATE("the whole ELBO and IWAE losses through a posterior flow check against every parameter", T, float,
                   double) {
    Rng init(4);
    const auto model = flow_vae<T>(init);
    Vae<T>& vae = *model;
    Matrix<T> x(3, 5);
    init.fill_uniform(x, 0.0, 1.0);
    for (const bool importance_weighted : {false, true})
        testing::check_whole_gradient<T>(vae, [&](Tape<T>& tape) {
            Rng noise(11);
            return importance_weighted ? iwae(vae, tape, tape.constant(x), noise, {3}).loss
                                       : elbo(vae, tape, tape.constant(x), noise).loss;
        }, importance_weighted ? "IWAE" : "ELBO");
}

TEST_CASE("a flow posterior on a linear-Gaussian model: the IS estimate of log p(x) lands on the exact value") {
    // The linear-Gaussian model, whose log p(x) is exact, with a flow posterior: the encoder gives the true
    // posterior mean, and the flow (spread out) bends q away from it, so only a correct log-determinant keeps the
    // importance weights right. q's variance is 4× the posterior's: each IAF step's gates (about 0.73 at the start)
    // narrow q, and importance sampling wants q wider than the posterior, not narrower.
    testing::LinearGaussian model({/*exact_posterior=*/false, /*flow_steps=*/2, /*variance_scale=*/4.0});
    Vae<double>& vae = model.vae;
    Rng rng(8);
    spread(dynamic_cast<InverseAutoregressiveFlow<double>&>(*vae.flow()), rng, 0.3);
    Eigen::RowVectorXd x(testing::LinearGaussian::D);
    x << 0.5, -0.3, 1.0, 0.2;
    const double exact = model.exact_log_px(x);
    const Index repeats = 40;
    const Matrix<double> draws = estimate_log_likelihood(vae, Matrix<double>(x.replicate(repeats, 1)), 5000, rng);
    const double mean = draws.mean();
    const double se = std::sqrt((draws.array() - mean).square().sum() / double(repeats - 1) / double(repeats));
    Tape<double> tape;
    const ElboTerms<double> terms = elbo(vae, tape, tape.constant(Matrix<double>(x.replicate(20000, 1))), rng);
    const double elbo_value = -(terms.mean_recon() + terms.mean_kl());
    INFO("exact " << exact << ", IS (k = 5000) " << mean << " ± " << se << ", ELBO " << elbo_value);
    CHECK(std::abs(mean - exact) < 4 * se + 1e-3);
    CHECK(elbo_value < exact);  // and the ELBO, through the same log-determinant, stays below it
    CHECK(se < 0.01);           // the test has power: a log-determinant off by 0.05 nats would fail it
    MESSAGE("flow posterior: exact log p(x) " << exact << ", IS (k = 5000) " << mean << " ± " << se << ", ELBO "
                                              << elbo_value);
}

TEST_CASE("a flow posterior: the code goes through the flow, a model file brings the flow back, and DReG and β-TCVAE refuse it") {
    vaelet::testing::TempDir dir;
    Rng rng(2);
    const auto model = flow_vae<float>(rng);
    Vae<float>& vae = *model;
    Matrix<float> x(4, 5);
    rng.fill_uniform(x, 0.0, 1.0);
    Matrix<float> code, logvar;
    vae.encode(x, code, logvar);
    Tape<float> tape;
    const Posterior<float> q = vae.encode(tape, tape.constant(x));
    CHECK(code == vae.flow()->forward(tape, q.mu).z.value());
    CHECK((code - q.mu.value()).cwiseAbs().maxCoeff() > 1e-3);  // the flow moved it

    const std::string path = dir / "flow.safetensors";
    save_model(path, vae);
    CHECK(load_safetensors(path).contains("flow.0.in.weight"));
    auto loaded = load_model<float>(path);
    CHECK(architecture(*loaded) == architecture(vae));
    CHECK(loaded->reconstruct(x) == vae.reconstruct(x));
    Rng a(1), b(1);
    CHECK(estimate_log_likelihood(*loaded, x, 20, a) == estimate_log_likelihood(vae, x, 20, b));
    CHECK(parse_vae_config("input=5 flow_steps=3 flow_hidden=7").flow_steps == 3);

    CHECK_THROWS_WITH_AS(iwae(vae, tape, tape.constant(x), a, {3, 1.0, /*dreg=*/true}),
                         doctest::Contains("DReG: a posterior flow"), config_error);
    CHECK_THROWS_WITH_AS(tcvae(vae, tape, tape.constant(x), a), doctest::Contains("β-TCVAE: its estimates"), config_error);
    VaeConfig bad;
    bad.flow_steps = -1;
    CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("flow_steps must be 0 (no flow) or more"), config_error);
    auto parts = mlp_vae_parts<float>(VaeConfig{}, rng);
    parts.flow = std::make_unique<InverseAutoregressiveFlow<float>>(5, 1, 8, rng);
    CHECK_THROWS_WITH_AS(Vae<float>(std::move(parts)), doctest::Contains("the posterior flow maps 5 dimensions"),
                         shape_error);
}
