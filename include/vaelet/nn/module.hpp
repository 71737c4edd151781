/// \file
/// vaelet/nn/module.hpp — the module concept: anything that records its forward pass on a tape and lists its named
/// parameters. An encoder or a decoder is any module; a model file stores each module's spec (its type and sizes)
/// beside the weights so the model can be rebuilt (nn/build.hpp). Sequential (nn/sequential.hpp) chains modules.
///
///     class Residual : public vaelet::Module<float> {            // a module of your own: three members
///         vaelet::Var<float> forward(vaelet::Tape<float>& tape, const vaelet::Var<float>& x) override { ... }
///         void collect_parameters(vaelet::ParameterList<float>& list, const std::string& prefix) override { ... }
///         vaelet::ModuleSpec spec() const override { return {"Residual", {{"width", width}}}; }
///     };
///
/// A batch is a matrix with one example per row, whatever its shape: an image batch of C×H×W has C·H·W columns in
/// NCHW order (PyTorch's flattening), and a layer that needs the shape (a convolution) knows it from its own sizes.
#pragma once

#include "vaelet/nn/parameter.hpp"

#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace vaelet {

/// How to rebuild a module: its type (PyTorch's class name where there is one: "Linear", "ReLU", "Sequential")
/// and its settings; a container lists its children under their names. Plain data, so a model file can store it
/// (train/model_file.hpp writes it as JSON) and build_module can turn it back into a module.
struct ModuleSpec {
    std::string type;                          ///< "Linear", "ReLU", "Sequential", … (build_module's key)
    std::map<std::string, Index> sizes;        ///< "in_features", "out_features", ...
    std::map<std::string, double> numbers;     ///< "negative_slope", ...
    std::map<std::string, std::string> texts;  ///< a function's registered name, ...
    std::vector<std::pair<std::string, ModuleSpec>> children;  ///< named submodules, in order

    /// The size called `key`; config_error naming the type and the key when it is missing.
    Index size(const std::string& key) const {
        const auto it = sizes.find(key);
        if (it == sizes.end()) throw config_error("module spec " + type + ": no size \"" + key + "\"");
        return it->second;
    }
    /// Equal when type, settings and children (names, order, specs) all are: the same architecture.
    bool operator==(const ModuleSpec& o) const {
        return type == o.type && sizes == o.sizes && numbers == o.numbers && texts == o.texts && children == o.children;
    }
    /// Not operator==.
    bool operator!=(const ModuleSpec& o) const { return !(*this == o); }
};

/// A layer or a network, on batches with one example per row: what an encoder, a decoder or a prior's network
/// is. A module of your own overrides forward and spec, and collect_parameters when it has parameters; register
/// its type with register_module (nn/build.hpp) to load it from a model file. Held by ModulePtr.
template <class T>
class Module {
public:
    /// The element type, float or double.
    using Scalar = T;

    virtual ~Module() = default;

    /// Records the forward pass of batch `x` (one example per row) on `tape` and returns its output.
    virtual Var<T> forward(Tape<T>& tape, const Var<T>& x) = 0;
    /// Appends every parameter as {prefix + its name, pointer}, in PyTorch's order. Default: none.
    virtual void collect_parameters(ParameterList<T>& list, const std::string& prefix) {
        (void)list;
        (void)prefix;
    }
    /// The type and sizes that rebuild this module (without its weights).
    virtual ModuleSpec spec() const = 0;

    /// forward(tape, x), so a module is called as PyTorch's: `h = layer(tape, x)`.
    Var<T> operator()(Tape<T>& tape, const Var<T>& x) { return forward(tape, x); }

    /// All parameters with their dotted names, as torch's `named_parameters()`.
    ParameterList<T> named_parameters(const std::string& prefix = "") {
        ParameterList<T> list;
        collect_parameters(list, prefix);
        return list;
    }
};

/// An owned module of any type, as containers (Sequential, BypassTail) and build_module hold them.
template <class T>
using ModulePtr = std::unique_ptr<Module<T>>;

namespace detail {
template <class M, class = void>
struct is_module_ptr : std::false_type {};
template <class M>
struct is_module_ptr<M, std::void_t<typename M::element_type>> : std::true_type {};
}  // namespace detail

/// Moves a module value into a ModulePtr; a ModulePtr passes through.
template <class M>
auto module_ptr(M&& m) {
    using Plain = std::decay_t<M>;
    if constexpr (detail::is_module_ptr<Plain>::value) {
        return Plain(std::move(m));
    } else {
        return ModulePtr<typename Plain::Scalar>(std::make_unique<Plain>(std::forward<M>(m)));
    }
}

}  // namespace vaelet
