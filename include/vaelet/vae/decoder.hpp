/// \file
/// vaelet/vae/decoder.hpp — PyTorch's example decoder, generalised: a trunk of Linear layers with an activation
/// after each (fc3, fc3_2, …), then an output layer fc4 giving the parameters of p(x|z) (logits for Bernoulli, means
/// for Gaussian). Any module can be a decoder; this is the MLP one.
///
///     vaelet::Sequential<float> dec = vaelet::mlp_decoder<float>(20, {400}, 784, vaelet::Activation::relu, rng);
///     auto logits = dec(tape, z);               // n×784
#pragma once

#include "vaelet/vae/encoder.hpp"

#include <string>
#include <vector>

namespace vaelet {

/// PyTorch's example decoder, generalised: `latent` inputs → the `hidden` trunk (fc3, fc3_2, …, each followed by
/// `activation`) → fc4 with `output` units, the parameters of p(x|z). Input n × latent, output n × output.
template <class T>
Sequential<T> mlp_decoder(Index latent, const std::vector<Index>& hidden, Index output,
                          const AnyActivation<T>& activation, Rng& rng) {
    Sequential<T> net;
    const Index width = add_trunk(net, latent, hidden, activation, rng, "fc3");
    net.add("fc4", Linear<T>(width, output, rng));
    return net;
}

}  // namespace vaelet
