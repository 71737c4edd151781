/// \file
/// vaelet/nn/activation.hpp — the built-in activations, chosen at run time, as a function and as a module.
///
///     auto h = vaelet::activate(vaelet::Activation::relu, pre);
///     auto a = vaelet::parse_activation("tanh");
///     net.add(vaelet::Activation::relu);              // Sequential wraps it in an ActivationLayer
///     vaelet::mlp<float>({784, 400}, vaelet::Function<float>("swish", swish), rng);   // or one of your own
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/ops.hpp"
#include "vaelet/nn/function.hpp"
#include "vaelet/nn/module.hpp"

#include <optional>
#include <string>
#include <utility>

namespace vaelet {

/// The built-in activations, elementwise: leaky_relu's negative slope is 0.01 and softplus is log(1 + eˣ), as
/// PyTorch's defaults. activation_name gives the names flags and configs use.
enum class Activation { identity, relu, leaky_relu, tanh, sigmoid, softplus };

/// `a` applied to each entry of `x`, recorded on x's tape (identity returns `x` itself, adding no node).
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

/// The name flags and configs use: "identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus".
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

/// The activation whose activation_name is `name`; config_error listing the valid names otherwise.
inline Activation parse_activation(const std::string& name) {
    for (Activation a : {Activation::identity, Activation::relu, Activation::leaky_relu, Activation::tanh,
                         Activation::sigmoid, Activation::softplus})
        if (name == activation_name(a)) return a;
    throw config_error("unknown activation '" + name +
                       "'; use one of identity, relu, leaky_relu, tanh, sigmoid, softplus");
}

/// PyTorch's class name of an activation, used in module specs: "ReLU", "LeakyReLU", "Tanh", ….
inline const char* activation_class(Activation a) {
    switch (a) {
        case Activation::identity: return "Identity";
        case Activation::relu: return "ReLU";
        case Activation::leaky_relu: return "LeakyReLU";
        case Activation::tanh: return "Tanh";
        case Activation::sigmoid: return "Sigmoid";
        case Activation::softplus: return "Softplus";
    }
    return "?";
}

/// A built-in activation as a module (nn.ReLU, nn.Tanh, …; LeakyReLU's slope is 0.01, nn.LeakyReLU's default).
template <class T>
class ActivationLayer : public Module<T> {
public:
    /// The layer computing `a`.
    explicit ActivationLayer(Activation a) : a_(a) {}
    Var<T> forward(Tape<T>&, const Var<T>& x) override { return activate(a_, x); }
    ModuleSpec spec() const override { return {activation_class(a_), {}, {}, {}, {}}; }
    /// The activation it computes.
    Activation activation() const { return a_; }

private:
    Activation a_;
};

/// What the builders (mlp, mlp_encoder, mlp_decoder) put after each layer: a built-in activation, or a function of
/// your own as a Function (register its name with register_function to load a saved model).
template <class T>
class AnyActivation {
public:
    /// A built-in activation. Implicit on purpose: a builder takes Activation::relu or a Function as they are.
    AnyActivation(Activation a) : builtin_(a) {}
    /// A function of your own (implicit, as above).
    AnyActivation(Function<T> f) : function_(std::move(f)) {}
    /// A new module computing it.
    ModulePtr<T> module() const {
        if (function_) return std::make_unique<Function<T>>(*function_);
        return std::make_unique<ActivationLayer<T>>(builtin_);
    }

private:
    Activation builtin_ = Activation::identity;
    std::optional<Function<T>> function_;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_ACTIVATION_TEMPLATES(prefix, T) \
    prefix template Var<T> activate<T>(Activation, const Var<T>&); \
    prefix template class ActivationLayer<T>;
VAELET_EXTERN_TEMPLATES(VAELET_ACTIVATION_TEMPLATES)

}  // namespace vaelet
