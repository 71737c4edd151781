/// \file
/// vaelet/nn/mlp.hpp — a builder of the multilayer perceptron: Linear layers with an activation after each, as a
/// Sequential.
///
///     vaelet::Sequential<float> trunk = vaelet::mlp<float>({784, 400}, vaelet::Activation::relu, rng, {"fc1"});
///     auto h = trunk(tape, x);                                 // relu(fc1(x))
///     trunk.named_parameters("encoder.");                      // encoder.fc1.weight, encoder.fc1.bias
#pragma once

#include "vaelet/nn/linear.hpp"
#include "vaelet/nn/sequential.hpp"

#include <string>
#include <vector>

namespace vaelet {

/// Appends widths.size() − 1 layers to `net`, widths = {in, h1, …, out}, each Linear followed by `activation` (a
/// built-in Activation or a Function of your own).
/// `names` names the Linear layers, each activation then being "<layer>_act"; without names every module is named
/// by its position, as in nn.Sequential(Linear, ReLU, Linear, ReLU) ("0.weight", "2.weight"). Layers are
/// initialised in order from `rng`.
template <class T>
Sequential<T>& add_mlp(Sequential<T>& net, const std::vector<Index>& widths,
                       const AnyActivation<detail::Scalar<T>>& activation, Rng& rng, std::vector<std::string> names = {}) {
    if (widths.size() < 2) throw config_error("mlp: needs at least an input and an output width");
    if (!names.empty() && names.size() + 1 != widths.size())
        throw config_error("mlp: " + std::to_string(names.size()) + " names for " + std::to_string(widths.size() - 1) +
                           " layers");
    for (std::size_t k = 0; k + 1 < widths.size(); ++k) {
        Linear<T> layer(widths[k], widths[k + 1], rng);
        if (names.empty()) {
            net.add(std::move(layer)).add(activation.module());
        } else {
            net.add(names[k], std::move(layer)).add(names[k] + "_act", activation.module());
        }
    }
    return net;
}

/// A new Sequential of add_mlp's layers.
template <class T>
Sequential<T> mlp(const std::vector<Index>& widths, const AnyActivation<T>& activation, Rng& rng,
                  std::vector<std::string> names = {}) {
    Sequential<T> net;
    add_mlp(net, widths, activation, rng, std::move(names));
    return net;
}

}  // namespace vaelet
