/// \file
/// vaelet/vae/two_layer_prior.hpp — two stochastic layers (the IWAE paper's two-layer model, Burda et al., 2016,
/// §5): x ← z₁ ← z₂ with p(z₂) = N(0, I) and p(z₁|z₂) = N(μ(z₂), σ²(z₂)), inferred by q(z₁|x) (the Vae's encoder)
/// and q(z₂|z₁). Written as the prior of z₁: p(z₁) = ∫ p(z₁|z₂) p(z₂) dz₂, itself a small VAE on z₁.
///
/// \code
///     vaelet::VaeParts<float> parts = vaelet::mlp_vae_parts<float>(config, rng);        // x → z₁ → x
///     parts.prior = vaelet::two_layer_prior<float>(/*latent=*/20, /*latent2=*/10, {64}, vaelet::Activation::tanh, rng);
///     vaelet::Vae<float> vae(std::move(parts));           // or VaeConfig{.prior = "two_layer", .latent2 = 10}
/// \endcode
///
/// log_prob(z₁) draws z₂ ~ q(z₂|z₁) and returns log p(z₁|z₂) + log p(z₂) − log q(z₂|z₁), a one-sample lower bound of
/// log p(z₁). Put into the ELBO (KL = log q(z₁|x) − that) it gives the two-layer ELBO; put into an importance weight
/// p(x|z₁) p(z₁) / q(z₁|x) it gives p(x|z₁) p(z₁|z₂) p(z₂) / (q(z₁|x) q(z₂|z₁)), the two-layer model's weight under
/// the joint proposal — so iwae(), iwae_bound() and estimate_log_likelihood() are the two-layer model's own, whose
/// estimate of log p(x) is consistent as k grows. The noise of z₂ comes from the caller's stream, after z₁'s.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/nn/mlp.hpp"
#include "vaelet/vae/density.hpp"
#include "vaelet/vae/encoder.hpp"
#include "vaelet/vae/prior.hpp"
#include "vaelet/vae/sampler.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vaelet {

/// A second stochastic layer as the prior of z₁ (the header explains the model): log_prob gives a one-sample lower
/// bound of log p(z₁), drawing z₂ ~ q(z₂|z₁) from the caller's `rng`, and kl_per_dim the one-sample estimate
/// log q(z₁|x) − that bound, n × 1. Parameters under "prior.encoder." and "prior.decoder.".
template <class T>
class TwoLayerPrior : public Prior<T> {
public:
    /// q(z₂|z₁): a module latent → 2·latent2 read as [μ | log σ²]; p(z₁|z₂): a module latent2 → 2·latent, the same.
    TwoLayerPrior(ModulePtr<T> encoder, ModulePtr<T> decoder, Index latent, Index latent2)
        : encoder_(std::move(encoder)), decoder_(std::move(decoder)), latent_(latent), latent2_(latent2) {
        if (!encoder_ || !decoder_) throw config_error("two-layer prior: q(z2|z1) and p(z1|z2) are both needed");
        if (latent < 1 || latent2 < 1)
            throw config_error("two-layer prior: latent sizes must be at least 1, got " + std::to_string(latent) +
                               " and " + std::to_string(latent2));
    }

    void attach(Module<T>&, Index, Index latent, Index) override {
        if (latent != latent_)
            throw shape_error("two-layer prior: it is over " + std::to_string(latent_) +
                              " dimensions of z1, but the model's latent space has " + std::to_string(latent));
    }

    Var<T> kl_per_dim(const Posterior<T>& q, const Var<T>& z, Rng& rng) override {
        return gaussian_log_density(z, q.mu, q.logvar) - log_prob(z, rng);
    }

    Var<T> log_prob(const Var<T>& z1, Rng& rng) override {
        Tape<T>& tape = z1.tape();
        const Posterior<T> q2 = split_posterior(encoder_->forward(tape, z1), latent2_);
        Var<T> eps;
        const Var<T> z2 = reparameterize(q2.mu, q2.logvar, rng, &eps);
        const Posterior<T> p1 = split_posterior(decoder_->forward(tape, z2), latent_);
        return gaussian_log_density(z1, p1.mu, p1.logvar) + standard_normal_log_density(z2) -
               sample_log_density(q2.logvar, eps);
    }

    Index noise_per_row() const override { return latent2_; }

    /// z₂ ~ N(0, I), then z₁ ~ p(z₁|z₂).
    Matrix<T> sample(Index n, Index latent, Rng& rng) override {
        if (latent != latent_)
            throw shape_error("two-layer prior: asked for " + std::to_string(latent) + " dimensions, z1 has " +
                              std::to_string(latent_));
        tape_.reset();
        tape_.set_grad_enabled(false);
        Matrix<T> z2(n, latent2_);
        rng.fill_normal(z2);
        const Posterior<T> p1 = split_posterior(decoder_->forward(tape_, tape_.constant(z2)), latent_);
        return reparameterize(p1.mu, p1.logvar, rng).value();
    }

    ModuleSpec spec() const override {
        return {"TwoLayerPrior", {{"latent", latent_}, {"latent2", latent2_}}, {}, {},
                {{"encoder", encoder_->spec()}, {"decoder", decoder_->spec()}}};
    }
    /// q(z₂|z₁)'s parameters under "encoder.", p(z₁|z₂)'s under "decoder." (after the prior's own "prior.").
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        encoder_->collect_parameters(list, prefix + "encoder.");
        decoder_->collect_parameters(list, prefix + "decoder.");
    }

    /// Dimensions of z₂.
    Index latent2() const { return latent2_; }

private:
    ModulePtr<T> encoder_, decoder_;
    Index latent_, latent2_;
    Tape<T> tape_;  // for sample()
};

/// The IWAE paper's upper layer as MLPs: q(z₂|z₁) = z₁ → `hidden` → GaussianHead(latent2), and p(z₁|z₂) =
/// z₂ → the `hidden` widths reversed → GaussianHead(latent), with `activation` between.
template <class T>
PriorPtr<T> two_layer_prior(Index latent, Index latent2, const std::vector<Index>& hidden,
                            const AnyActivation<T>& activation, Rng& rng) {
    const std::vector<Index> reversed(hidden.rbegin(), hidden.rend());
    return std::make_unique<TwoLayerPrior<T>>(module_ptr(mlp_encoder<T>(latent, hidden, latent2, activation, rng)),
                                              module_ptr(mlp_encoder<T>(latent2, reversed, latent, activation, rng)),
                                              latent, latent2);
}

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_TWO_LAYER_PRIOR_TEMPLATES(prefix, T) \
    prefix template class TwoLayerPrior<T>;
VAELET_EXTERN_TEMPLATES(VAELET_TWO_LAYER_PRIOR_TEMPLATES)

}  // namespace vaelet
