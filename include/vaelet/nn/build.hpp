/// \file
/// vaelet/nn/build.hpp — a module rebuilt from its spec (how load_model rebuilds any composed model), and the
/// registry that teaches it your own functions and module types.
///
///     vaelet::register_function<float>("swish", [](const vaelet::Var<float>& x) { return x * vaelet::sigmoid(x); });
///     vaelet::ModulePtr<float> m = vaelet::build_module<float>(encoder.spec(), rng);  // fresh weights; load them after
///
/// Built in: Sequential, BypassTail, Linear, Conv2d, ConvTranspose2d, the activations (Identity, ReLU, LeakyReLU,
/// Tanh, Sigmoid, Softplus), Flatten, Unflatten, and Function when its name is registered. Other layers (GaussianHead
/// in vae/, a module of your own) register a factory under their spec's type with register_module. Registration is
/// meant for program start-up, before any model is loaded; the registry is not locked.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/random.hpp"
#include "vaelet/nn/bypass.hpp"
#include "vaelet/nn/conv.hpp"
#include "vaelet/nn/function.hpp"
#include "vaelet/nn/linear.hpp"
#include "vaelet/nn/sequential.hpp"
#include "vaelet/nn/shape.hpp"

#include <functional>
#include <map>
#include <string>

namespace vaelet {

/// Makes a module of a spec's type: its sizes from the spec, its weights initialised from `rng`.
template <class T>
using ModuleFactory = std::function<ModulePtr<T>(const ModuleSpec&, Rng&)>;

namespace detail {
template <class T>
struct ModuleRegistry {
    std::map<std::string, ModuleFactory<T>> modules;
    std::map<std::string, typename Function<T>::Fn> functions;

    static ModuleRegistry& instance() {
        static ModuleRegistry registry;
        return registry;
    }
};
}  // namespace detail

/// Lets build_module (and so load_model) rebuild a Function module named `name`. Registering a name again
/// replaces the function.
template <class T>
void register_function(const std::string& name, typename Function<T>::Fn fn) {
    if (!fn) throw config_error("register_function: the function for \"" + name + "\" is empty");
    detail::ModuleRegistry<T>::instance().functions[name] = std::move(fn);
}

/// Lets build_module rebuild modules whose spec has type `type`. Registering a type again replaces the factory;
/// a built-in type cannot be replaced.
template <class T>
void register_module(const std::string& type, ModuleFactory<T> factory) {
    if (!factory) throw config_error("register_module: the factory for \"" + type + "\" is empty");
    detail::ModuleRegistry<T>::instance().modules[type] = std::move(factory);
}

/// The module `spec` describes, with fresh weights from `rng`. config_error naming the type (and the fix) when
/// the spec is not one this program can build.
template <class T>
ModulePtr<T> build_module(const ModuleSpec& spec, Rng& rng) {
    const std::string& type = spec.type;
    if (type == "Sequential") {
        auto net = std::make_unique<Sequential<T>>();
        for (const auto& [name, child] : spec.children) net->add(name, build_module<T>(child, rng));
        return net;
    }
    if (type == "BypassTail") {
        if (spec.children.size() != 1) throw config_error("module spec BypassTail: it needs one inner module");
        return std::make_unique<BypassTail<T>>(spec.size("tail"), build_module<T>(spec.children.front().second, rng));
    }
    if (type == "Linear") return std::make_unique<Linear<T>>(spec.size("in_features"), spec.size("out_features"), rng);
    if (type == "Conv2d") return std::make_unique<Conv2d<T>>(detail::conv_shape_from(spec), rng);
    if (type == "ConvTranspose2d") return std::make_unique<ConvTranspose2d<T>>(detail::conv_shape_from(spec), rng);
    for (Activation a : {Activation::identity, Activation::relu, Activation::leaky_relu, Activation::tanh,
                         Activation::sigmoid, Activation::softplus})
        if (type == activation_class(a)) return std::make_unique<ActivationLayer<T>>(a);
    if (type == "Flatten") return std::make_unique<Flatten<T>>();
    if (type == "Unflatten")
        return std::make_unique<Unflatten<T>>(spec.size("channels"), spec.size("height"), spec.size("width"));
    auto& registry = detail::ModuleRegistry<T>::instance();
    if (type == "Function") {
        const auto name = spec.texts.find("name");
        if (name == spec.texts.end()) throw config_error("module spec Function: no \"name\"");
        const auto fn = registry.functions.find(name->second);
        if (fn == registry.functions.end())
            throw config_error("the model uses the function \"" + name->second + "\", which this program does not "
                               "know; call vaelet::register_function<T>(\"" + name->second + "\", …) before loading it");
        return std::make_unique<Function<T>>(name->second, fn->second);
    }
    const auto factory = registry.modules.find(type);
    if (factory == registry.modules.end())
        throw config_error("the model uses a module of type \"" + type + "\", which this program does not know; "
                           "call vaelet::register_module<T>(\"" + type + "\", …) before loading it");
    ModulePtr<T> m = factory->second(spec, rng);
    if (!m) throw config_error("the factory registered for module type \"" + type + "\" returned nothing");
    return m;
}

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_BUILD_TEMPLATES(prefix, T) \
    prefix template ModulePtr<T> build_module<T>(const ModuleSpec&, Rng&);
VAELET_EXTERN_TEMPLATES(VAELET_BUILD_TEMPLATES)

}  // namespace vaelet
