/// \file
/// vaelet/vae/prior.hpp — the prior p(z) of a VAE, behind a small interface: its KL to the posterior, its density
/// and its samples. StandardNormalPrior, N(0, I), is the classic choice; a learned prior (VampPrior in
/// vae/vamp_prior.hpp) implements the same members and may own parameters.
///
///     vaelet::StandardNormalPrior<float> prior;
///     auto kl = prior.kl_per_dim(q, z, rng);      // n × latent, closed form
///     vaelet::Matrix<float> z0 = prior.sample(64, 20, rng);
#pragma once

#include "vaelet/core/random.hpp"
#include "vaelet/nn/module.hpp"
#include "vaelet/vae/density.hpp"
#include "vaelet/vae/encoder.hpp"

#include <memory>
#include <string>

namespace vaelet {

/// The prior p(z) of a Vae: its KL to the posterior, its density and its samples. A Vae owns one (VaeParts::prior);
/// implement it for a prior of your own, as StandardNormalPrior, VampPrior and TwoLayerPrior do.
template <class T>
class Prior {
public:
    virtual ~Prior() = default;

    /// KL(q(z|x) ‖ p(z)) per example and latent dimension, n × latent, on the tape; `z` is the sample drawn from q,
    /// for a prior without a closed form (a Monte-Carlo estimate). A prior whose KL does not split over the
    /// dimensions returns n × 1; free bits then floor the whole KL. `rng` as for log_prob.
    virtual Var<T> kl_per_dim(const Posterior<T>& q, const Var<T>& z, Rng& rng) = 0;
    /// log p(z) for each row of z, n × 1, with all constants. A prior that is itself a latent-variable model
    /// (TwoLayerPrior) gives a one-sample lower bound instead, drawing noise_per_row() normals per row from `rng`.
    virtual Var<T> log_prob(const Var<T>& z, Rng& rng) = 0;
    /// The normals per row of z that log_prob and kl_per_dim draw. Default: none.
    virtual Index noise_per_row() const { return 0; }
    /// n draws in `latent` dimensions.
    virtual Matrix<T> sample(Index n, Index latent, Rng& rng) = 0;
    /// The type and settings that rebuild it (as a module's spec).
    virtual ModuleSpec spec() const = 0;
    /// Called once by the Vae that takes it, with its encoder (which outlives the prior) and sizes: a prior made
    /// of the encoder's posteriors (VampPrior) keeps it; one that cannot serve this model throws config_error or
    /// shape_error. Default: nothing.
    virtual void attach(Module<T>& encoder, Index input, Index latent, Index conditions) {
        (void)encoder;
        (void)input;
        (void)latent;
        (void)conditions;
    }
    /// A learned prior's parameters. Default: none.
    virtual void collect_parameters(ParameterList<T>& list, const std::string& prefix) {
        (void)list;
        (void)prefix;
    }
};

/// An owned prior; null in VaeParts::prior means N(0, I).
template <class T>
using PriorPtr = std::unique_ptr<Prior<T>>;

/// p(z) = N(0, I). The KL to a diagonal Gaussian posterior has a closed form (Kingma & Welling 2014, Appendix B):
/// −½ (1 + log σ² − μ² − σ²) per dimension.
template <class T>
class StandardNormalPrior : public Prior<T> {
public:
    Var<T> kl_per_dim(const Posterior<T>& q, const Var<T>&, Rng&) override { return gaussian_kl(q.mu, q.logvar); }
    Var<T> log_prob(const Var<T>& z, Rng&) override {
        return standard_normal_log_density(z);
    }
    Matrix<T> sample(Index n, Index latent, Rng& rng) override {
        Matrix<T> z(n, latent);
        rng.fill_normal(z);
        return z;
    }
    ModuleSpec spec() const override { return {"StandardNormal", {}, {}, {}, {}}; }
};

}  // namespace vaelet
