// vaelet/vae/encoder.hpp — the Gaussian encoder q(z|x) = N(μ(x), diag σ²(x)): a trunk MLP, then a μ head
// and a log σ² head (PyTorch's example calls them fc1, fc21 and fc22).
//
//   vaelet::GaussianEncoder<float> enc(784, {400}, 20, vaelet::Activation::relu, rng);
//   auto q = enc(tape, x);                    // q.mu and q.logvar, both n×20
#pragma once

#include "vaelet/nn/mlp.hpp"

#include <string>
#include <vector>

namespace vaelet {

/// The parameters of a diagonal Gaussian posterior for each row of a batch.
template <class T>
struct Posterior {
    Var<T> mu;      // n × latent
    Var<T> logvar;  // n × latent, log σ²
};

/// Layer names "fc1", "fc1_2", "fc1_3", … for a trunk of `layers` layers (the first matches PyTorch's example).
inline std::vector<std::string> trunk_names(const std::string& first, std::size_t layers) {
    std::vector<std::string> names;
    for (std::size_t k = 0; k < layers; ++k) names.push_back(k == 0 ? first : first + "_" + std::to_string(k + 1));
    return names;
}

template <class T>
class GaussianEncoder {
public:
    GaussianEncoder() = default;

    /// `input` features in, `hidden` trunk widths (may be empty), `latent` dimensions out.
    GaussianEncoder(Index input, const std::vector<Index>& hidden, Index latent, Activation activation, Rng& rng) {
        std::vector<Index> widths{input};
        widths.insert(widths.end(), hidden.begin(), hidden.end());
        if (!hidden.empty()) trunk_ = Mlp<T>(widths, activation, rng, trunk_names("fc1", hidden.size()));
        const Index head_in = widths.back();
        mu_ = Linear<T>(head_in, latent, rng);
        logvar_ = Linear<T>(head_in, latent, rng);
    }

    Posterior<T> operator()(Tape<T>& tape, const Var<T>& x) {
        const Var<T> h = trunk_.empty() ? x : trunk_(tape, x);
        return {mu_(tape, h), logvar_(tape, h)};
    }

    void collect_parameters(ParameterList<T>& list, const std::string& prefix) {
        if (!trunk_.empty()) trunk_.collect_parameters(list, prefix);
        mu_.collect_parameters(list, prefix + "fc21.");
        logvar_.collect_parameters(list, prefix + "fc22.");
    }

    Index latent() const { return mu_.out(); }

private:
    Mlp<T> trunk_;
    Linear<T> mu_, logvar_;
};

}  // namespace vaelet
