// vaelet/vae/elbo.hpp — the training objective: the negative ELBO with a β weight and free bits.
//
//   vaelet::ElboOptions opt;  opt.beta = 1;  opt.free_bits = 0;
//   auto terms = vaelet::elbo(vae, tape, x, rng, opt);
//   tape.backward(terms.loss);                 // minimise mean(recon) + β·KL term
//
// Conventions (the paper's, Kingma & Welling 2014): per example, recon = −log p(x|z) summed over the features and
// kl = KL(q(z|x) ‖ N(0, I)) summed over the latent dimensions, both in nats; the loss averages over the batch.
// PyTorch's examples/vae sums over the batch instead, which changes the loss by the factor batch size and nothing
// else under Adam; its per-image figures equal ours.
#pragma once

#include "vaelet/vae/model.hpp"

namespace vaelet {

struct ElboOptions {
    double beta = 1.0;       // weight of the KL term (β-VAE; a warm-up schedule sets it per step)
    double free_bits = 0.0;  // λ > 0: each latent dimension's batch-mean KL counts as at least λ nats
                             // (Kingma et al. 2016, "Improved variational inference with inverse autoregressive flow")
};

template <class T>
struct ElboTerms {
    Var<T> loss;    // 1×1, what to minimise: mean(recon) + β·(mean(kl) or the free-bits KL)
    Var<T> recon;   // n×1, −log p(x|z) per example
    Var<T> kl;      // n×1, KL(q(z|x) ‖ p(z)) per example, always the true KL (free bits only change the loss)
    Var<T> kl_per_dim;  // n×latent, the KL of each example in each latent dimension (kl sums its rows)
    VaeForward<T> forward;

    /// Batch means, for reporting: −ELBO = recon + kl.
    T mean_recon() const { return recon.value().mean(); }
    T mean_kl() const { return kl.value().mean(); }
};

/// The KL term of the loss from the per-dimension KL (n × latent): its per-example sum averaged over the batch,
/// or with free bits Σⱼ max(λ, mean over the batch of KLⱼ).
template <class T>
Var<T> kl_term(const Var<T>& kl_per_dim, double free_bits) {
    if (free_bits > 0) return sum(clamp_min(mean_per_col(kl_per_dim), T(free_bits)));
    return sum(kl_per_dim) / T(kl_per_dim.rows());
}

/// One pass of the model on batch `x` (n × input) with fresh noise from `rng`.
template <class T>
ElboTerms<T> elbo(Vae<T>& vae, Tape<T>& tape, const Var<T>& x, Rng& rng, const ElboOptions& options = {},
                  const Var<T>* condition = nullptr) {
    if (options.beta < 0) throw config_error("ELBO: beta must be 0 or more, got " + std::to_string(options.beta));
    if (options.free_bits < 0) throw config_error("ELBO: free bits must be 0 or more");
    if (x.cols() != vae.config().input)
        throw shape_error("ELBO: the batch is " + shape_string(x.value()) + " but the model expects " +
                          std::to_string(vae.config().input) + " features per row");
    ElboTerms<T> terms;
    terms.forward = vae.forward(tape, x, rng, condition);
    terms.kl_per_dim = gaussian_kl(terms.forward.q.mu, terms.forward.q.logvar);
    terms.recon = -vae.likelihood().log_prob(tape, terms.forward.out, x);
    terms.kl = sum_per_row(terms.kl_per_dim);
    terms.loss = mean(terms.recon) + kl_term(terms.kl_per_dim, options.free_bits) * T(options.beta);
    return terms;
}

}  // namespace vaelet
