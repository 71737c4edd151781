/// \file
/// vaelet/vae/sampler.hpp — the reparameterization trick and prior samples.
///
///     auto z = vaelet::reparameterize(q.mu, q.logvar, rng);     // z = μ + exp(½ log σ²) ⊙ ε, ε ~ N(0, I)
///     vaelet::Matrix<float> z0 = vaelet::sample_prior<float>(64, 20, rng);
///
/// ε is drawn into a constant node (reused buffer), so gradients flow to μ and log σ² but not into ε.
#pragma once

#include "vaelet/core/ops.hpp"
#include "vaelet/core/random.hpp"

namespace vaelet {

/// z = μ + exp(½·logvar) ⊙ ε for a given ε (same shape as μ). Tests hold ε fixed through this overload.
template <class T>
Var<T> reparameterize(const Var<T>& mu, const Var<T>& logvar, const Var<T>& eps) {
    return mu + exp(logvar * T(0.5)) * eps;
}

/// z = μ + exp(½·logvar) ⊙ ε with ε ~ N(0, I) drawn from `rng`. Returns z; `eps_out` (optional) receives ε's Var.
template <class T>
Var<T> reparameterize(const Var<T>& mu, const Var<T>& logvar, Rng& rng, Var<T>* eps_out = nullptr) {
    Tape<T>& tape = mu.tape();
    // Draw straight into the constant node's reused buffer: no copy, no allocation once warmed up.
    Node<T>& n = tape.push(Op::constant);
    n.value.resize(mu.rows(), mu.cols());
    rng.fill_normal(n.value);
    const Var<T> eps = tape.last();
    if (eps_out) *eps_out = eps;
    return reparameterize(mu, logvar, eps);
}

/// n draws from the prior N(0, I) in `latent` dimensions.
template <class T>
Matrix<T> sample_prior(Index n, Index latent, Rng& rng) {
    Matrix<T> z(n, latent);
    rng.fill_normal(z);
    return z;
}

}  // namespace vaelet
