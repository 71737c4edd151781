// tests/vae/linear_gaussian.hpp — a VAE whose log-likelihood is exact, for the importance-sampling tests.
//
// p(z) = N(0, I), p(x|z) = N(Wz + b, σ²I), so p(x) = N(b, WWᵀ + σ²I) exactly. The encoder is set to the true
// posterior mean M⁻¹Wᵀ(x − b) (M = WᵀW + σ²I) with the diagonal of the true posterior covariance σ²M⁻¹ as its
// variance: close to, but not exactly, the true (correlated) posterior, so the ELBO lies strictly below log p(x)
// and the importance-weighted bounds climb towards it.
#pragma once

#include "vaelet/vae/model.hpp"

#include <Eigen/Dense>

#include <cmath>

namespace vaelet::testing {

struct LinearGaussianOptions {
    /// Orthogonal columns of W instead of correlated ones: the true posterior is then diagonal, q is exactly
    /// p(z|x) and every importance weight is p(x).
    bool exact_posterior = false;
    Index flow_steps = 0;         // a posterior flow (left as constructed: near the identity) of this many IAF steps
    double variance_scale = 1.0;  // q's variance: this many times the posterior's
};

struct LinearGaussian {
    static constexpr Index D = 4, d = 2;
    static constexpr double sigma = 0.5;

    Eigen::MatrixXd W{D, d};
    Eigen::RowVectorXd b{D};
    Rng rng{17};
    Vae<double> vae;

    static VaeConfig config(const LinearGaussianOptions& o) {
        VaeConfig c;
        c.input = D;
        c.hidden = {};
        c.latent = d;
        c.likelihood = LikelihoodKind::gaussian_fixed;
        c.sigma = sigma;
        c.flow_steps = o.flow_steps;
        c.flow_hidden = 4;
        return c;
    }

    explicit LinearGaussian(const LinearGaussianOptions& o = {}) : vae(config(o), rng) {
        if (o.exact_posterior)
            W << 1.0, 0.5, 0.5, -1.0, -0.5, 0.0, 0.0, 0.3;
        else
            W << 1.0, 0.8, -0.5, 0.9, 0.3, -0.2, 0.7, 0.6;
        b << 0.2, -0.1, 0.4, 0.0;
        const Eigen::MatrixXd M = W.transpose() * W + sigma * sigma * Eigen::MatrixXd::Identity(d, d);
        const Eigen::MatrixXd A = M.inverse() * W.transpose();
        const Eigen::VectorXd post_var = (o.variance_scale * sigma * sigma * M.inverse()).diagonal();
        auto params = vae.named_parameters();  // fc21 (μ), fc22 (log σ²), fc4 (decoder), then any flow.*
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

}  // namespace vaelet::testing
