/// \file
/// vaelet/vae/priors.hpp — the prior a model configuration names (VaeConfig, ConvVaeConfig: fields prior,
/// pseudo_inputs, latent2, hidden2), checked and built: "standard" N(0, I), "vamp" the VampPrior
/// (vae/vamp_prior.hpp), "two_layer" a second stochastic layer (vae/two_layer_prior.hpp).
#pragma once

#include "vaelet/vae/two_layer_prior.hpp"
#include "vaelet/vae/vamp_prior.hpp"

#include <string>

namespace vaelet {

/// Throws config_error, in the words of `name` ("VAE config"), unless `c.prior` names a prior this version builds
/// that suits the model: the VampPrior needs K ≥ 1 pseudo-inputs and no conditions; the two-layer prior latent2 ≥ 1
/// and positive hidden2 widths.
template <class Config>
void check_prior_choice(const std::string& name, const Config& c) {
    if (c.prior != "standard" && c.prior != "vamp" && c.prior != "two_layer")
        throw config_error(name + ": prior \"" + c.prior + "\" is not one of standard, vamp, two_layer");
    if (c.prior == "vamp") {
        if (c.pseudo_inputs < 1)
            throw config_error(name + ": pseudo_inputs must be at least 1, got " + std::to_string(c.pseudo_inputs));
        if (c.conditions > 0)
            throw config_error(name + ": the VampPrior is for unconditional models; with conditions use the standard prior");
    }
    if (c.prior == "two_layer") {
        if (c.latent2 < 1) throw config_error(name + ": latent2 must be at least 1, got " + std::to_string(c.latent2));
        for (Index h : c.hidden2)
            if (h < 1) throw config_error(name + ": each width of hidden2 must be at least 1, got " + std::to_string(h));
    }
}

/// The prior `c` names (check_prior_choice): null for "standard" (the Vae's default, N(0, I)); a VampPrior over
/// `input` features; or the two-layer prior's MLPs with `activation`, drawn from `rng`.
template <class T, class Config>
PriorPtr<T> make_prior(const Config& c, Index input, const AnyActivation<T>& activation, Rng& rng) {
    if (c.prior == "vamp") return std::make_unique<VampPrior<T>>(c.pseudo_inputs, input, rng);
    if (c.prior == "two_layer") return two_layer_prior<T>(c.latent, c.latent2, c.hidden2, activation, rng);
    return nullptr;
}

}  // namespace vaelet
