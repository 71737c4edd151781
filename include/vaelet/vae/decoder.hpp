// vaelet/vae/decoder.hpp — the decoder network: a trunk MLP, then an output layer giving the parameters of
// p(x|z) (logits for Bernoulli, means for Gaussian). PyTorch's example calls the layers fc3 and fc4.
//
//   vaelet::Decoder<float> dec(20, {400}, 784, vaelet::Activation::relu, rng);
//   auto logits = dec(tape, z);               // n×784
#pragma once

#include "vaelet/vae/encoder.hpp"

#include <string>
#include <vector>

namespace vaelet {

template <class T>
class Decoder {
public:
    Decoder() = default;

    Decoder(Index latent, const std::vector<Index>& hidden, Index output, Activation activation, Rng& rng) {
        std::vector<Index> widths{latent};
        widths.insert(widths.end(), hidden.begin(), hidden.end());
        if (!hidden.empty()) trunk_ = Mlp<T>(widths, activation, rng, trunk_names("fc3", hidden.size()));
        out_ = Linear<T>(widths.back(), output, rng);
    }

    Var<T> operator()(Tape<T>& tape, const Var<T>& z) { return out_(tape, trunk_.empty() ? z : trunk_(tape, z)); }

    void collect_parameters(ParameterList<T>& list, const std::string& prefix) {
        if (!trunk_.empty()) trunk_.collect_parameters(list, prefix);
        out_.collect_parameters(list, prefix + "fc4.");
    }

    Index output() const { return out_.out(); }

private:
    Mlp<T> trunk_;
    Linear<T> out_;
};

}  // namespace vaelet
