// vaelet/nn/activation.hpp — the activations an MLP can use between its layers, chosen at run time.
//
//   auto h = vaelet::activate(vaelet::Activation::relu, pre);
//   auto a = vaelet::parse_activation("tanh");
#pragma once

#include "vaelet/core/ops.hpp"

#include <string>

namespace vaelet {

enum class Activation { identity, relu, leaky_relu, tanh, sigmoid, softplus };

template <class T>
Var<T> activate(Activation a, const Var<T>& x) {
    switch (a) {
        case Activation::identity: return x;
        case Activation::relu: return relu(x);
        case Activation::leaky_relu: return leaky_relu(x);
        case Activation::tanh: return tanh(x);
        case Activation::sigmoid: return sigmoid(x);
        case Activation::softplus: return softplus(x);
    }
    return x;
}

inline const char* activation_name(Activation a) {
    switch (a) {
        case Activation::identity: return "identity";
        case Activation::relu: return "relu";
        case Activation::leaky_relu: return "leaky_relu";
        case Activation::tanh: return "tanh";
        case Activation::sigmoid: return "sigmoid";
        case Activation::softplus: return "softplus";
    }
    return "?";
}

inline Activation parse_activation(const std::string& name) {
    for (Activation a : {Activation::identity, Activation::relu, Activation::leaky_relu, Activation::tanh,
                         Activation::sigmoid, Activation::softplus})
        if (name == activation_name(a)) return a;
    throw config_error("unknown activation '" + name +
                       "'; use one of identity, relu, leaky_relu, tanh, sigmoid, softplus");
}

}  // namespace vaelet
