/// \file
/// vaelet/vae/elbo.hpp — the training objective: the negative ELBO with a β weight and free bits.
///
///     vaelet::ElboOptions opt;  opt.beta = 1;  opt.free_bits = 0;
///     auto terms = vaelet::elbo(vae, tape, x, rng, opt);
///     tape.backward(terms.loss);                 // minimise mean(recon) + β·KL term
///
/// Conventions (the paper's, Kingma & Welling 2014): per example, recon = −log p(x|z) summed over the features and
/// kl = KL(q(z|x) ‖ N(0, I)) summed over the latent dimensions, both in nats; the loss averages over the batch.
/// PyTorch's examples/vae sums over the batch instead, which changes the loss by the factor batch size and nothing
/// else under Adam; its per-image figures equal ours.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/vae/model.hpp"

namespace vaelet {

/// The settings of elbo(): the β weight of the KL term and free bits.
struct ElboOptions {
    double beta = 1.0;       ///< weight of the KL term (β-VAE; a warm-up schedule sets it per step)
    double free_bits = 0.0;  ///< λ > 0: each latent dimension's batch-mean KL counts as at least λ nats
                             ///< (Kingma et al., 2016, "Improved variational inference with inverse autoregressive flow")
};

/// The terms of a loss of the ELBO family: elbo() here, iwae() (vae/iwae.hpp), whose recon and kl are Monte-Carlo
/// means over its k samples, and tcvae() (vae/tcvae.hpp), which splits kl in three.
template <class T>
struct ElboTerms {
    Var<T> loss;    ///< 1×1, what to minimise: mean(recon) + β·(mean(kl) or the free-bits KL)
    Var<T> recon;   ///< n×1, −log p(x|z) per example
    Var<T> kl;      ///< n×1, KL(q(z|x) ‖ p(z)) per example, always the KL itself (free bits, IWAE change the loss)
    Var<T> kl_per_dim;  ///< n×latent, the KL of each example in each latent dimension (kl sums its rows); n×1 when
                        ///< the KL does not split over dimensions (iwae, tcvae, a posterior flow, VampPrior, TwoLayerPrior)
    /// β-TCVAE's index-code mutual information, log q(z|x) − log q(z), n×1; with total_correlation and
    /// dimension_kl it splits kl (vae/tcvae.hpp). Empty for the other objectives.
    Var<T> mutual_information, total_correlation, dimension_kl;
    /// \var total_correlation
    /// β-TCVAE's total correlation, log q(z) − Σ_d log q(z_d), n×1; empty for the other objectives.
    /// \var dimension_kl
    /// β-TCVAE's dimension-wise KL, Σ_d log q(z_d) − log p(z), n×1; empty for the other objectives.
    VaeForward<T> forward;  ///< the pass through the model that the terms come from

    /// Batch means, for reporting: −ELBO = recon + kl.
    T mean_recon() const { return recon.value().mean(); }
    /// The batch mean of kl, for reporting.
    T mean_kl() const { return kl.value().mean(); }
};

/// The KL term of the loss from the per-dimension KL (n × latent): its per-example sum averaged over the batch,
/// or with free bits λ the sum over dimensions j of max(λ, mⱼ), mⱼ the batch mean of KLⱼ.
///
/// `batch_kl_means` (1 × latent) are the mⱼ of the whole batch when `kl_per_dim` holds only a slice of it (data-
/// parallel training); null means this batch is the whole batch. The term is then written as
/// Σⱼ [mⱼ > λ]·(mean of KLⱼ over the rows here) + λ·#{j: mⱼ ≤ λ}: the same value and gradient for the whole batch,
/// and for a slice exactly its share of the gradient, so summing the slices' gradients weighted by their shares
/// gives the batch's.
template <class T>
Var<T> kl_term(const Var<T>& kl_per_dim, double free_bits, const Matrix<T>* batch_kl_means = nullptr) {
    if (!(free_bits > 0)) return sum(kl_per_dim) / T(kl_per_dim.rows());
    const Var<T> means = mean_per_col(kl_per_dim);
    const Matrix<T>& m = batch_kl_means ? *batch_kl_means : means.value();
    if (m.rows() != 1 || m.cols() != kl_per_dim.cols())
        throw shape_error("free bits: the batch's KL means are " + shape_string(m) + " but the KL has " +
                          std::to_string(kl_per_dim.cols()) + " dimensions");
    const T floor = T(free_bits);
    Tape<T>& tape = kl_per_dim.tape();
    Node<T>& mask = tape.push(Op::constant);  // [mⱼ > λ], in a reused node buffer
    mask.value = (m.array() > floor).template cast<T>().matrix();
    const T floored = T((m.array() <= floor).count()) * floor;
    return sum(means * tape.last()) + floored;
}

/// The loss of `terms`, mean(recon) + β·kl_term (see kl_term for `batch_kl_means`).
template <class T>
Var<T> elbo_loss(const ElboTerms<T>& terms, const ElboOptions& options, const Matrix<T>* batch_kl_means = nullptr) {
    return mean(terms.recon) + kl_term(terms.kl_per_dim, options.free_bits, batch_kl_means) * T(options.beta);
}

/// One pass of the model on batch `x` (n × input) with fresh noise from `rng`.
template <class T>
ElboTerms<T> elbo(Vae<T>& vae, Tape<T>& tape, const Var<T>& x, Rng& rng, const ElboOptions& options = {},
                  const typename Vae<T>::Condition& condition = std::nullopt) {
    if (!(options.beta >= 0)) throw config_error("ELBO: beta must be 0 or more, got " + std::to_string(options.beta));
    if (!(options.free_bits >= 0)) throw config_error("ELBO: free bits must be 0 or more");
    if (x.cols() != vae.input())
        throw shape_error("ELBO: the batch is " + shape_string(x.value()) + " but the model expects " +
                          std::to_string(vae.input()) + " features per row");
    ElboTerms<T> terms;
    terms.forward = vae.forward(tape, x, rng, condition);
    terms.kl_per_dim = vae.kl_per_dim(terms.forward, rng);
    terms.recon = -vae.likelihood().log_prob(tape, terms.forward.out, x);
    terms.kl = sum_per_row(terms.kl_per_dim);
    terms.loss = elbo_loss(terms, options);
    return terms;
}

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_ELBO_TEMPLATES(prefix, T) \
    prefix template ElboTerms<T> elbo<T>(Vae<T>&, Tape<T>&, const Var<T>&, Rng&, const ElboOptions&, const typename Vae<T>::Condition&); \
    prefix template Var<T> elbo_loss<T>(const ElboTerms<T>&, const ElboOptions&, const Matrix<T>*);
VAELET_EXTERN_TEMPLATES(VAELET_ELBO_TEMPLATES)

}  // namespace vaelet
