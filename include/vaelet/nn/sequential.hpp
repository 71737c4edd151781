/// \file
/// vaelet/nn/sequential.hpp — modules applied one after another, as PyTorch's nn.Sequential.
///
///     vaelet::Sequential<float> net;
///     net.add("fc1", vaelet::Linear<float>(784, 400, rng)).add(vaelet::Activation::relu).add(vaelet::Flatten<float>());
///     auto h = net(tape, x);                          // records relu(fc1(x))
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/nn/activation.hpp"
#include "vaelet/nn/module.hpp"

#include <string>
#include <utility>
#include <vector>

namespace vaelet {

/// Modules applied one after another, each named (PyTorch's nn.Sequential: "0", "1", … unless named). A child
/// named "" adds its parameters under the Sequential's own prefix (for heads that name their own layers).
///
///   vaelet::Sequential<float> net;
///   net.add("fc1", vaelet::Linear<float>(784, 400, rng)).add(vaelet::Activation::relu);
template <class T>
class Sequential : public Module<T> {
public:
    Sequential() = default;
    /// Movable, not copyable (it owns its children).
    Sequential(Sequential&&) noexcept = default;
    /// Moves the children over.
    Sequential& operator=(Sequential&&) noexcept = default;

    /// Appends `m` (a module value or a ModulePtr) under `name`.
    template <class M>
    Sequential& add(std::string name, M&& m) {
        ModulePtr<T> p = module_ptr(std::forward<M>(m));
        if (!p) throw config_error("Sequential: module " + name + " is empty");
        for (const auto& [n, _] : children_)
            if (!name.empty() && n == name)
                throw config_error("Sequential: a module is already called \"" + name + "\"; names must be unique");
        children_.emplace_back(std::move(name), std::move(p));
        return *this;
    }
    /// Appends `m` under its position ("0", "1", …), as nn.Sequential names its children.
    template <class M>
    Sequential& add(M&& m) {
        return add(std::to_string(children_.size()), std::forward<M>(m));
    }
    /// Appends a built-in activation (an ActivationLayer), under `name` or its position.
    Sequential& add(std::string name, Activation a) { return add(std::move(name), ActivationLayer<T>(a)); }
    /// Appends a built-in activation under its position.
    Sequential& add(Activation a) { return add(ActivationLayer<T>(a)); }

    Var<T> forward(Tape<T>& tape, const Var<T>& x) override {
        Var<T> h = x;
        for (auto& child : children_) h = child.second->forward(tape, h);
        return h;
    }

    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        for (auto& [name, m] : children_) m->collect_parameters(list, name.empty() ? prefix : prefix + name + ".");
    }

    ModuleSpec spec() const override {
        ModuleSpec s{"Sequential", {}, {}, {}, {}};
        for (const auto& [name, m] : children_) s.children.emplace_back(name, m->spec());
        return s;
    }

    /// The number of children.
    std::size_t size() const { return children_.size(); }
    /// Whether it has no children (it then passes its input through).
    bool empty() const { return children_.empty(); }
    /// The k-th child (0-based); std::out_of_range past the end.
    Module<T>& operator[](std::size_t k) { return *children_.at(k).second; }
    /// The k-th child's name ("" for one adding its parameters under the Sequential's prefix).
    const std::string& name(std::size_t k) const { return children_.at(k).first; }

private:
    std::vector<std::pair<std::string, ModulePtr<T>>> children_;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_SEQUENTIAL_TEMPLATES(prefix, T) \
    prefix template class Sequential<T>;
VAELET_EXTERN_TEMPLATES(VAELET_SEQUENTIAL_TEMPLATES)

}  // namespace vaelet
