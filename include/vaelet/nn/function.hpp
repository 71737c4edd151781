/// \file
/// vaelet/nn/function.hpp — any function of one Var as a module: an activation or a transform of your own.
///
///     vaelet::Function<float> swish("swish", [](const vaelet::Var<float>& x) { return x * vaelet::sigmoid(x); });
///     net.add(swish);                                 // model files store its name; see register_function
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/nn/module.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace vaelet {

/// A function of one Var as a module, e.g. an activation of your own. `name` identifies it in a model file:
/// loading the file needs the same name registered with register_function (nn/build.hpp).
///
///   vaelet::Function<float> swish("swish", [](const vaelet::Var<float>& x) { return x * vaelet::sigmoid(x); });
template <class T>
class Function : public Module<T> {
public:
    /// The function: a Var in, a Var out, recorded on the input's tape.
    using Fn = std::function<Var<T>(const Var<T>&)>;

    /// `fn` under `name`; config_error when the name or the function is empty.
    Function(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {
        if (name_.empty()) throw config_error("Function: give the function a name (it is stored in model files)");
        if (!fn_) throw config_error("Function " + name_ + ": the function is empty");
    }

    Var<T> forward(Tape<T>&, const Var<T>& x) override { return fn_(x); }
    ModuleSpec spec() const override { return {"Function", {}, {}, {{"name", name_}}, {}}; }
    /// The name stored in model files.
    const std::string& name() const { return name_; }
    /// The function it applies.
    const Fn& function() const { return fn_; }

private:
    std::string name_;
    Fn fn_;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_FUNCTION_TEMPLATES(prefix, T) \
    prefix template class Function<T>;
VAELET_EXTERN_TEMPLATES(VAELET_FUNCTION_TEMPLATES)

}  // namespace vaelet
