/// \file
/// vaelet/vae/encoder.hpp — the Gaussian encoder q(z|x) = N(μ(x), diag σ²(x)). Any module can be the encoder: its
/// output, n × 2·latent, is read as [μ | log σ²]. GaussianHead makes that output from two Linear heads, and
/// mlp_encoder builds PyTorch's example encoder (fc1, then the heads fc21 and fc22).
///
///     vaelet::Sequential<float> enc = vaelet::mlp_encoder<float>(784, {400}, 20, vaelet::Activation::relu, rng);
///     vaelet::Posterior<float> q = vaelet::split_posterior(enc(tape, x));     // q.mu and q.logvar, both n×20
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/nn/mlp.hpp"

#include <string>
#include <vector>

namespace vaelet {

/// The parameters of a diagonal Gaussian posterior for each row of a batch.
template <class T>
struct Posterior {
    Var<T> mu;      ///< n × latent
    Var<T> logvar;  ///< n × latent, log σ²
};

/// Reads an encoder's output h (n × 2·latent) as [μ | log σ²].
template <class T>
Posterior<T> split_posterior(const Var<T>& h, Index latent) {
    if (h.cols() != 2 * latent)
        throw shape_error("encoder: its output is " + shape_string(h.value()) + " but a latent space of " +
                          std::to_string(latent) + " dimensions needs " + std::to_string(2 * latent) +
                          " columns per row (μ then log σ²); end the encoder with a GaussianHead or a Linear(…, " +
                          std::to_string(2 * latent) + ")");
    return {slice_cols(h, 0, latent), slice_cols(h, latent, latent)};
}

/// Two Linear heads on the same input, one for μ and one for log σ², output side by side as [μ | log σ²]. Its
/// layers carry their own names (PyTorch's example: fc21, fc22), so add it to a Sequential under the name "".
template <class T>
class GaussianHead : public Module<T> {
public:
    /// Heads from `in` features to `latent` dimensions each, initialised from `rng`; `mu_name` and `logvar_name`
    /// name their parameters.
    GaussianHead(Index in, Index latent, Rng& rng, std::string mu_name = "fc21", std::string logvar_name = "fc22")
        : mu_(in, latent, rng), logvar_(in, latent, rng), mu_name_(std::move(mu_name)),
          logvar_name_(std::move(logvar_name)) {}

    Var<T> forward(Tape<T>& tape, const Var<T>& h) override { return concat_cols(mu_(tape, h), logvar_(tape, h)); }

    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        mu_.collect_parameters(list, prefix + mu_name_ + ".");
        logvar_.collect_parameters(list, prefix + logvar_name_ + ".");
    }

    ModuleSpec spec() const override {
        return {"GaussianHead", {{"in_features", mu_.in()}, {"latent", mu_.out()}}, {},
                {{"mu", mu_name_}, {"logvar", logvar_name_}}, {}};
    }

private:
    Linear<T> mu_, logvar_;
    std::string mu_name_, logvar_name_;
};

/// Layer names "fc1", "fc1_2", "fc1_3", … for a trunk of `layers` layers (the first matches PyTorch's example).
inline std::vector<std::string> trunk_names(const std::string& first, std::size_t layers) {
    std::vector<std::string> names;
    for (std::size_t k = 0; k < layers; ++k) names.push_back(k == 0 ? first : first + "_" + std::to_string(k + 1));
    return names;
}

/// Appends a trunk of Linear layers of the `hidden` widths (each followed by `activation`; none when empty) after
/// `in` inputs, named from `first` (trunk_names); returns the trunk's output width.
template <class T>
Index add_trunk(Sequential<T>& net, Index in, const std::vector<Index>& hidden,
                const AnyActivation<detail::Scalar<T>>& activation, Rng& rng, const std::string& first) {
    if (hidden.empty()) return in;
    std::vector<Index> widths{in};
    widths.insert(widths.end(), hidden.begin(), hidden.end());
    add_mlp(net, widths, activation, rng, trunk_names(first, hidden.size()));
    return hidden.back();
}

/// PyTorch's example encoder, generalised: `input` features → the `hidden` trunk (fc1, fc1_2, …) →
/// GaussianHead(fc21, fc22) with `latent` dimensions.
template <class T>
Sequential<T> mlp_encoder(Index input, const std::vector<Index>& hidden, Index latent,
                          const AnyActivation<T>& activation, Rng& rng) {
    Sequential<T> net;
    const Index width = add_trunk(net, input, hidden, activation, rng, "fc1");
    net.add("", GaussianHead<T>(width, latent, rng));
    return net;
}

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_ENCODER_TEMPLATES(prefix, T) \
    prefix template class GaussianHead<T>;
VAELET_EXTERN_TEMPLATES(VAELET_ENCODER_TEMPLATES)

}  // namespace vaelet
