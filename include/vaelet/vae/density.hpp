/// \file
/// vaelet/vae/density.hpp — log densities of diagonal Gaussians on the tape: of each row of z under its own row's
/// Gaussian, and of every row of z under every one of a set of Gaussians (the mixtures of the VampPrior, the
/// minibatch estimates of β-TCVAE).
///
///     auto log_q = vaelet::gaussian_log_density(z, q.mu, q.logvar);           // n×1: log N(zᵢ; μᵢ, σᵢ²)
///     auto table = vaelet::pairwise_gaussian_log_density(z, mu_k, logvar_k);  // n×K: log N(zᵢ; μₖ, σₖ²)
#pragma once

#include "vaelet/core/ops.hpp"

#include <string>

namespace vaelet {

/// log N(zᵢ; μᵢ, diag σᵢ²) for each row i, n×1, with all constants; z, mu and logvar (log σ²) are n × d.
template <class T>
Var<T> gaussian_log_density(const Var<T>& z, const Var<T>& mu, const Var<T>& logvar) {
    return sum_per_row(logvar + square(z - mu) * exp(-logvar)) * T(-0.5) - T(half_log_2pi * double(z.cols()));
}

/// log N(z; μ, diag σ²) for each row of a reparameterized sample z = μ + σ ⊙ ε, from log σ² and ε alone (n × d):
/// −½ Σ (log σ² + ε²) − (d/2)·log 2π. The same value as gaussian_log_density(z, μ, log σ²), without forming z − μ.
template <class T>
Var<T> sample_log_density(const Var<T>& logvar, const Var<T>& eps) {
    return sum_per_row(logvar + square(eps)) * T(-0.5) - T(half_log_2pi * double(eps.cols()));
}

/// log N(z; 0, I) for each row of z, n×1.
template <class T>
Var<T> standard_normal_log_density(const Var<T>& z) {
    return sum_per_row(square(z)) * T(-0.5) - T(half_log_2pi * double(z.cols()));
}

/// log N(zᵢ; μₖ, diag σₖ²) for every row i of z (n × d) and every row k of mu and logvar (K × d): n × K.
///
/// Written as one matrix product, [zᵢ² | zᵢ] · [σₖ⁻² | −2μₖσₖ⁻²]ᵀ + Σⱼ (μₖⱼ²σₖⱼ⁻² + log σₖⱼ²), rather than as an
/// n × K × d difference: a GEMM instead of n·K·d scattered terms. The price is cancellation in (z − μ)² when
/// |z| ≫ σ: in float about 1e-7 · (z/σ)² nats per dimension, far below the Monte-Carlo noise of these estimates.
template <class T>
Var<T> pairwise_gaussian_log_density(const Var<T>& z, const Var<T>& mu, const Var<T>& logvar) {
    if (mu.cols() != z.cols() || logvar.cols() != z.cols() || logvar.rows() != mu.rows())
        throw shape_error("pairwise_gaussian_log_density: z is " + shape_string(z.value()) + ", mu " +
                          shape_string(mu.value()) + " and logvar " + shape_string(logvar.value()) +
                          "; mu and logvar must have the same shape, with z's columns");
    const Var<T> precision = exp(-logvar);                                              // K × d
    const Var<T> weights = concat_cols(precision, mu * precision * T(-2));              // K × 2d
    const Var<T> offsets = sum_per_row(square(mu) * precision + logvar);                // K × 1
    const Var<T> quadratic = linear(concat_cols(square(z), z), weights, reshape(offsets, 1, mu.rows()));  // n × K
    return quadratic * T(-0.5) - T(half_log_2pi * double(z.cols()));
}

}  // namespace vaelet
