/// \file
/// vaelet/vae/vamp_prior.hpp — the VampPrior (Tomczak & Welling 2018): p(z) = (1/K) Σₖ q(z|uₖ), the mixture of the
/// encoder's own posteriors at K learned pseudo-inputs uₖ. The prior learns where the posteriors lie, so the KL
/// stops pulling every posterior towards N(0, I); the paper reports ~1–2 nats better log-likelihoods on MNIST.
///
/// \code
///     vaelet::VaeParts<float> parts = vaelet::mlp_vae_parts<float>(config, rng);
///     parts.prior = std::make_unique<vaelet::VampPrior<float>>(/*pseudo_inputs=*/500, /*input=*/784, rng);
///     vaelet::Vae<float> vae(std::move(parts));                // or VaeConfig{.prior = "vamp", .pseudo_inputs = 500}
/// \endcode
///
/// The pseudo-inputs are a parameter, "prior.pseudo_inputs" (K × input), trained with the rest; each log p(z) runs
/// the encoder over them (K rows), so a step costs about as much as one on a batch K rows larger. KL(q ‖ p) has no
/// closed form: kl_per_dim gives the one-sample estimate log q(z|x) − log p(z), n × 1.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/vae/density.hpp"
#include "vaelet/vae/prior.hpp"

#include <cmath>
#include <string>

namespace vaelet {

/// The VampPrior, p(z) = (1/K) Σₖ q(z|uₖ) over K learned pseudo-inputs uₖ (the header explains it). It runs the
/// Vae's own encoder, so it serves an unconditional model only; kl_per_dim is the one-sample estimate
/// log q(z|x) − log p(z), n × 1.
template <class T>
class VampPrior : public Prior<T> {
public:
    /// K pseudo-inputs of `input` features, drawn from N(mean, std²) (the paper's code starts them at 0.05 ± 0.01
    /// for images in [0, 1]).
    VampPrior(Index pseudo_inputs, Index input, Rng& rng, double mean = 0.05, double std = 0.01)
        : pseudo_inputs_(pseudo_inputs, input) {
        if (pseudo_inputs < 1)
            throw config_error("VampPrior: pseudo_inputs must be at least 1, got " + std::to_string(pseudo_inputs));
        if (input < 1) throw config_error("VampPrior: input must be at least 1, got " + std::to_string(input));
        rng.fill_normal(pseudo_inputs_.value);
        pseudo_inputs_.value = (pseudo_inputs_.value.array() * T(std) + T(mean)).matrix();
    }

    void attach(Module<T>& encoder, Index input, Index latent, Index conditions) override {
        if (conditions > 0)
            throw config_error("VampPrior: a conditional VAE's encoder needs a condition beside each pseudo-input; "
                               "use the standard prior for a conditional model");
        if (input != pseudo_inputs_.value.cols())
            throw shape_error("VampPrior: the pseudo-inputs have " + std::to_string(pseudo_inputs_.value.cols()) +
                              " features but the model's input has " + std::to_string(input));
        encoder_ = &encoder;
        latent_ = latent;
    }

    Var<T> kl_per_dim(const Posterior<T>& q, const Var<T>& z, Rng& rng) override {
        return gaussian_log_density(z, q.mu, q.logvar) - log_prob(z, rng);
    }

    /// log (1/K) Σₖ N(z; μ(uₖ), σ²(uₖ)) for each row of z, n × 1.
    Var<T> log_prob(const Var<T>& z, Rng&) override {
        const Posterior<T> components = split_posterior(encoder().forward(z.tape(), pseudo_inputs_.on(z.tape())), latent_);
        return log_sum_exp_per_row(pairwise_gaussian_log_density(z, components.mu, components.logvar)) -
               T(std::log(double(pseudo_inputs_.value.rows())));
    }

    /// n draws: a pseudo-input chosen uniformly for each, then z ~ q(z|uₖ).
    Matrix<T> sample(Index n, Index latent, Rng& rng) override {
        if (latent != latent_)
            throw shape_error("VampPrior: asked for " + std::to_string(latent) + " latent dimensions, the model has " +
                              std::to_string(latent_));
        tape_.reset();
        tape_.set_grad_enabled(false);
        const Posterior<T> c = split_posterior(encoder().forward(tape_, tape_.constant(pseudo_inputs_.value)), latent_);
        Matrix<T> z(n, latent);
        rng.fill_normal(z);
        const Index k = pseudo_inputs_.value.rows();
        for (Index i = 0; i < n; ++i) {
            const Index pick = std::min<Index>(k - 1, Index(rng.uniform() * double(k)));
            z.row(i) = c.mu.value().row(pick).array() + (c.logvar.value().row(pick).array() * T(0.5)).exp() * z.row(i).array();
        }
        return z;
    }

    ModuleSpec spec() const override {
        return {"VampPrior", {{"pseudo_inputs", pseudo_inputs_.value.rows()}, {"input", pseudo_inputs_.value.cols()}}, {}, {}, {}};
    }
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        list.push_back({prefix + "pseudo_inputs", &pseudo_inputs_});
    }

    /// The K pseudo-inputs, K × input: images when the data are images.
    const Matrix<T>& pseudo_inputs() const { return pseudo_inputs_.value; }

private:
    Module<T>& encoder() const {
        if (!encoder_) throw config_error("VampPrior: not part of a Vae yet; give it to a Vae (VaeParts::prior) first");
        return *encoder_;
    }

    Parameter<T> pseudo_inputs_;
    Module<T>* encoder_ = nullptr;
    Index latent_ = 0;
    Tape<T> tape_;  // for sample()
};

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_VAMP_PRIOR_TEMPLATES(prefix, T) \
    prefix template class VampPrior<T>;
VAELET_EXTERN_TEMPLATES(VAELET_VAMP_PRIOR_TEMPLATES)

}  // namespace vaelet
