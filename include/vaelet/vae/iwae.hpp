// vaelet/vae/iwae.hpp — the importance-weighted bound (Burda et al. 2016) and the k-sample estimate of log p(x).
//
//   auto bound = vaelet::iwae_bound(vae, tape, x, 50, rng);          // n×1, differentiable: a training objective
//   vaelet::Matrix<double> log_px = vaelet::estimate_log_likelihood(vae, test_x, 5000, rng);   // n×1, no gradient
//
// With zᵢ ~ q(z|x), wᵢ = p(x|zᵢ) p(zᵢ) / q(zᵢ|x) and L_k = log (1/k) Σᵢ wᵢ: L_1 is the ELBO, L_k rises with k and
// tends to log p(x). The k samples of each example are one batch of n·k rows through the decoder; the estimate of
// log p(x) walks the samples in chunks and combines them with a running log-sum-exp, so k = 5000 needs no more
// memory than a few thousand rows.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/vae/model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vaelet {

/// log wᵢ for k samples per row of x, as an n × k matrix on the tape.
template <class T>
Var<T> log_importance_weights(Vae<T>& vae, Tape<T>& tape, const Var<T>& x, Index k, Rng& rng,
                              const typename Vae<T>::Condition& condition = std::nullopt) {
    if (k < 1) throw config_error("importance sampling: k must be at least 1, got " + std::to_string(k));
    const Index n = x.rows();
    const Posterior<T> q = vae.encode(tape, x, condition);
    const Var<T> mu = repeat_rows(q.mu, k), logvar = repeat_rows(q.logvar, k);
    Var<T> eps;
    const Var<T> z = reparameterize(mu, logvar, rng, &eps);
    typename Vae<T>::Condition c_k;
    if (condition) c_k = repeat_rows(*condition, k);
    const Var<T> out = vae.decode(tape, z, c_k);
    const Var<T> log_px_z = vae.likelihood().log_prob(tape, out, repeat_rows(x, k));
    // log q(z|x) of z = μ + σ·ε: −½ Σ (log σ² + ε²) − (latent/2)·log 2π.
    const Var<T> log_qz = sum_per_row(logvar + square(eps)) * T(-0.5) - T(half_log_2pi * double(z.cols()));
    const Var<T> log_pz_over_qz = vae.prior().log_prob(z) - log_qz;
    return reshape(log_px_z + log_pz_over_qz, n, k);
}

/// The IWAE-k bound for each row of x, n×1: log (1/k) Σᵢ wᵢ, computed stably. k = 1 gives the ELBO.
template <class T>
Var<T> iwae_bound(Vae<T>& vae, Tape<T>& tape, const Var<T>& x, Index k, Rng& rng,
                  const typename Vae<T>::Condition& condition = std::nullopt) {
    return log_sum_exp_per_row(log_importance_weights(vae, tape, x, k, rng, condition)) - T(std::log(double(k)));
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

// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_IWAE_TEMPLATES(prefix, T) \
    prefix template Var<T> log_importance_weights<T>(Vae<T>&, Tape<T>&, const Var<T>&, Index, Rng&, const typename Vae<T>::Condition&);                \
    prefix template Var<T> iwae_bound<T>(Vae<T>&, Tape<T>&, const Var<T>&, Index, Rng&, const typename Vae<T>::Condition&);                            \
    prefix template Matrix<double> estimate_log_likelihood<T>(Vae<T>&, const Matrix<T>&, Index, Rng&, Index, const typename Vae<T>::ConditionMatrix&);
VAELET_EXTERN_TEMPLATES(VAELET_IWAE_TEMPLATES)

}  // namespace vaelet
