/// \file
/// vaelet/vae/iwae.hpp — the importance-weighted bound (Burda et al., 2016): as a training objective, with the
/// doubly reparameterized gradient as an option, and as the k-sample estimate of log p(x).
///
/// \code
///     auto terms = vaelet::iwae(vae, tape, x, rng, {/*samples=*/5});  // terms.loss = −mean IWAE-5 bound; backward it
///     auto bound = vaelet::iwae_bound(vae, tape, x, 50, rng);          // n×1, differentiable
///     vaelet::Matrix<double> log_px = vaelet::estimate_log_likelihood(vae, test_x, 5000, rng);   // n×1, no gradient
/// \endcode
///
/// With zᵢ ~ q(z|x), wᵢ = p(x|zᵢ) p(zᵢ) / q(zᵢ|x) and L_k = log (1/k) Σᵢ wᵢ: L_1 is the ELBO, L_k rises with k and
/// tends to log p(x). The k samples of each example are one batch of n·k rows through the decoder; the estimate of
/// log p(x) walks the samples in chunks and combines them with a running log-sum-exp, so k = 5000 needs no more
/// memory than a few thousand rows.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/vae/density.hpp"
#include "vaelet/vae/elbo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vaelet {

namespace detail {

/// The pieces of log wᵢ = log p(x|zᵢ) + log p(zᵢ) − log q(zᵢ|x) for k samples zᵢ per row of x, each (n·k)×1 with
/// the k samples of example r in rows r·k … r·k + k − 1.
template <class T>
struct ImportanceSamples {
    Var<T> log_px_z, log_pz, log_qz;
    VaeForward<T> forward;  // q of the n rows; ε, z and the decoder output of the n·k samples
    int reweight = -1;      // DReG: the node that rescales the gradient reaching z (see iwae), else -1
};

/// DReG's gradient reweighting: the identity going forward; going back, row r's gradient is multiplied by
/// saved(r, 0), which iwae() fills once the weights are known (ones until then). Not an op of the op set: its
/// gradient is deliberately not the derivative of its value.
template <class T>
Var<T> reweighted_gradient(const Var<T>& x) {
    Tape<T>& t = x.tape("dreg_reweight");
    Node<T>& n = t.push_custom("dreg_reweight", {x}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (n.grad.array().colwise() * n.saved.col(0).array()).matrix());
    });
    n.value = x.value();
    n.saved.setOnes(x.rows(), 1);
    return t.last();
}

/// k samples per row of x through the model. With `dreg`, log q(z|x) is evaluated with μ and log σ² held
/// constant (only its dependence on z is differentiated), and z passes through reweighted_gradient.
template <class T>
ImportanceSamples<T> importance_samples(Vae<T>& vae, Tape<T>& tape, const Var<T>& x, Index k, Rng& rng,
                                        const typename Vae<T>::Condition& condition, bool dreg) {
    if (k < 1) throw config_error("importance sampling: k must be at least 1, got " + std::to_string(k));
    if (dreg && vae.flow())
        throw config_error("DReG: a posterior flow's log q(z|x) with its parameters held would need the flow's "
                           "inverse; train a flow with IWAE without dreg");
    ImportanceSamples<T> s;
    VaeForward<T>& f = s.forward;
    f.q = vae.encode(tape, x, condition);
    const Var<T> mu = repeat_rows(f.q.mu, k), logvar = repeat_rows(f.q.logvar, k);
    VaeForward<T> samples;  // the n·k samples: their q is the repeated posterior
    samples.q = {mu, logvar};
    vae.sample(samples, rng);
    f.eps = samples.eps;
    f.z = samples.z;
    f.z0 = samples.z0;
    f.log_det = samples.log_det;
    if (dreg) {
        f.z = reweighted_gradient(f.z);
        s.reweight = f.z.index();
        s.log_qz = gaussian_log_density(f.z, tape.constant(mu.value()), tape.constant(logvar.value()));  // μ, σ held
    } else {
        s.log_qz = sample_log_density(logvar, f.eps);  // less the flow's log-determinant, when there is a flow
        if (vae.flow()) s.log_qz = s.log_qz - f.log_det;
    }
    typename Vae<T>::Condition c_k;
    if (condition) c_k = repeat_rows(*condition, k);
    f.out = vae.decode(tape, f.z, c_k);
    s.log_px_z = vae.likelihood().log_prob(tape, f.out, x);  // x's row r serves rows r·k … r·k + k − 1
    s.log_pz = vae.prior().log_prob(f.z, rng);
    return s;
}

}  // namespace detail

/// log wᵢ for k samples per row of x, as an n × k matrix on the tape.
template <class T>
Var<T> log_importance_weights(Vae<T>& vae, Tape<T>& tape, const Var<T>& x, Index k, Rng& rng,
                              const typename Vae<T>::Condition& condition = std::nullopt) {
    const detail::ImportanceSamples<T> s = detail::importance_samples(vae, tape, x, k, rng, condition, false);
    return reshape(s.log_px_z + (s.log_pz - s.log_qz), x.rows(), k);
}

/// The IWAE-k bound for each row of x, n×1: log (1/k) Σᵢ wᵢ, computed stably. k = 1 gives the ELBO.
template <class T>
Var<T> iwae_bound(Vae<T>& vae, Tape<T>& tape, const Var<T>& x, Index k, Rng& rng,
                  const typename Vae<T>::Condition& condition = std::nullopt) {
    return log_sum_exp_per_row(log_importance_weights(vae, tape, x, k, rng, condition)) - T(std::log(double(k)));
}

/// The settings of iwae(): samples per example, the β weight, and DReG.
struct IwaeOptions {
    Index samples = 5;   ///< k, importance samples per example
    double beta = 1.0;   ///< weight of log p(z) − log q(z|x) inside each log wᵢ (1: IWAE; a warm-up raises it)
    bool dreg = false;   ///< the doubly reparameterized encoder gradient (Tucker et al., 2018)
};

/// IWAE as a training objective (Burda et al., 2016): loss = −mean over the batch of the IWAE-k bound, with
/// log wᵢ = log p(x|zᵢ) + β·(log p(zᵢ) − log q(zᵢ|x)). recon and kl are the Monte-Carlo means over the k samples
/// of −log p(x|zᵢ) and of log q(zᵢ|x) − log p(zᵢ), so recon + kl is the k-sample estimate of −ELBO (kl_per_dim is
/// kl, n × 1); forward.z and forward.out hold the n·k samples.
///
/// With `dreg`, the encoder's gradient is the doubly reparameterized one: Σᵢ (w̃ᵢ² for β = 1, in general
/// w̃ᵢ·((1 − β) + β·w̃ᵢ)) ∂log wᵢ/∂zᵢ · ∂zᵢ/∂φ with w̃ the normalized weights, which has the same expectation as
/// IWAE's and does not lose its signal as k grows (Rainforth et al. 2018); the decoder's and the prior's gradient
/// and the loss's value are unchanged.
template <class T>
ElboTerms<T> iwae(Vae<T>& vae, Tape<T>& tape, const Var<T>& x, Rng& rng, const IwaeOptions& options = {},
                  const typename Vae<T>::Condition& condition = std::nullopt) {
    if (!(options.beta >= 0)) throw config_error("IWAE: beta must be 0 or more, got " + std::to_string(options.beta));
    if (x.cols() != vae.input())
        throw shape_error("IWAE: the batch is " + shape_string(x.value()) + " but the model expects " +
                          std::to_string(vae.input()) + " features per row");
    const Index n = x.rows(), k = options.samples;
    const detail::ImportanceSamples<T> s = detail::importance_samples(vae, tape, x, k, rng, condition, options.dreg);
    const Var<T> log_prior_ratio = s.log_pz - s.log_qz;
    const Var<T> log_w = reshape(s.log_px_z + log_prior_ratio * T(options.beta), n, k);
    const Var<T> lse = log_sum_exp_per_row(log_w);
    ElboTerms<T> terms;
    terms.forward = s.forward;
    terms.recon = -mean_per_row(reshape(s.log_px_z, n, k));
    terms.kl = -mean_per_row(reshape(log_prior_ratio, n, k));
    terms.kl_per_dim = terms.kl;
    terms.loss = -mean(lse) + T(std::log(double(k)));
    if (s.reweight >= 0) {  // the gradient into zᵢ gets w̃ᵢ from the log-sum-exp; make it w̃ᵢ·((1 − β) + β·w̃ᵢ)
        const Matrix<T>& normalized = tape.node(lse.index()).saved;  // the rows' softmax: w̃, n × k
        Matrix<T>& scale = tape.node(s.reweight).saved;
        const T beta = T(options.beta);
        for (Index r = 0; r < n; ++r)
            for (Index i = 0; i < k; ++i) scale(r * k + i, 0) = (T(1) - beta) + beta * normalized(r, i);
    }
    return terms;
}

/// The k-sample importance-sampled estimate of log p(x) for every row of `data`, in double whatever T is. A row
/// whose weights are NaN (a NaN in the data, say) gets NaN, never −∞, which would read as "most anomalous".
/// `rows_per_pass` bounds the rows (examples × samples) sent through the decoder at once; `conditions` are the
/// one-hot conditions of the rows of `data`, for a conditional model.
template <class T>
Matrix<double> estimate_log_likelihood(Vae<T>& vae, const Matrix<T>& data, Index k, Rng& rng,
                                       Index rows_per_pass = 4096,
                                       const typename Vae<T>::ConditionMatrix& conditions = std::nullopt) {
    if (k < 1) throw config_error("importance sampling: k must be at least 1, got " + std::to_string(k));
    if (conditions && conditions->rows() != data.rows())  // each pass reads the conditions of its rows
        throw shape_error("importance sampling: " + std::to_string(conditions->rows()) + " rows of conditions for " +
                          std::to_string(data.rows()) + " rows of data; give one condition row per data row");
    const Index chunk = std::min(k, rows_per_pass);                          // samples per pass
    const Index group = std::max<Index>(1, rows_per_pass / chunk);           // examples per pass
    Matrix<double> result(data.rows(), 1);
    Tape<T> tape;
    tape.set_grad_enabled(false);
    for (Index first = 0; first < data.rows(); first += group) {
        const Index m = std::min(group, data.rows() - first);
        Matrix<double> total = Matrix<double>::Constant(m, 1, -std::numeric_limits<double>::infinity());
        for (Index done = 0; done < k; done += chunk) {
            const Index s = std::min(chunk, k - done);
            tape.reset();
            const Var<T> x = tape.constant(data.middleRows(first, m));
            typename Vae<T>::Condition c;
            if (conditions) c = tape.constant(conditions->middleRows(first, m));
            const Var<T> lse = log_sum_exp_per_row(log_importance_weights(vae, tape, x, s, rng, c));
            for (Index i = 0; i < m; ++i) {  // total = log(e^total + e^lse); a NaN stays NaN (max() would drop it)
                const double a = total(i, 0), b = double(lse.value()(i, 0));
                if (std::isnan(a) || std::isnan(b)) {
                    total(i, 0) = std::numeric_limits<double>::quiet_NaN();
                    continue;
                }
                const double hi = std::max(a, b);
                total(i, 0) = hi == -std::numeric_limits<double>::infinity() ? hi
                                                                           : hi + std::log(std::exp(a - hi) + std::exp(b - hi));
            }
        }
        result.middleRows(first, m) = total.array() - std::log(double(k));
    }
    return result;
}

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_IWAE_TEMPLATES(prefix, T) \
    prefix template Var<T> log_importance_weights<T>(Vae<T>&, Tape<T>&, const Var<T>&, Index, Rng&, const typename Vae<T>::Condition&);                \
    prefix template Var<T> iwae_bound<T>(Vae<T>&, Tape<T>&, const Var<T>&, Index, Rng&, const typename Vae<T>::Condition&);                            \
    prefix template ElboTerms<T> iwae<T>(Vae<T>&, Tape<T>&, const Var<T>&, Rng&, const IwaeOptions&, const typename Vae<T>::Condition&);               \
    prefix template Matrix<double> estimate_log_likelihood<T>(Vae<T>&, const Matrix<T>&, Index, Rng&, Index, const typename Vae<T>::ConditionMatrix&);
VAELET_EXTERN_TEMPLATES(VAELET_IWAE_TEMPLATES)

}  // namespace vaelet
