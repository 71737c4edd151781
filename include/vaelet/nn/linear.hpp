/// \file
/// vaelet/nn/linear.hpp — the affine layer y = x·Wᵀ + b, initialised as PyTorch's nn.Linear.
///
///     vaelet::Rng rng(1);
///     vaelet::Linear<float> fc1(784, 400, rng);     // weight 400×784, bias 400
///     auto h = fc1(tape, x);                         // x is n×784, h is n×400
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/ops.hpp"
#include "vaelet/core/random.hpp"
#include "vaelet/nn/module.hpp"
#include "vaelet/nn/parameter.hpp"

#include <cmath>
#include <string>

namespace vaelet {

/// nn.Linear(in, out): y = x·Wᵀ + b on a batch of n × in, giving n × out. Its parameters are named "weight" and
/// "bias", as PyTorch's.
template <class T>
class Linear : public Module<T> {
public:
    Parameter<T> weight;  ///< out × in, PyTorch's layout
    Parameter<T> bias;    ///< 1 × out, a 1-D tensor to other tools

    /// A layer from `in` to `out` features (config_error unless both are positive), initialised from `rng`:
    /// Kaiming-uniform with a = √5, i.e. weights and bias ~ U(−1/√in, 1/√in), exactly as nn.Linear's default.
    Linear(Index in, Index out, Rng& rng) : weight(out, in), bias(1, out, /*vector=*/true) {
        if (in < 1 || out < 1)
            throw config_error("Linear: sizes must be positive, got in=" + std::to_string(in) +
                               " out=" + std::to_string(out));
        const double bound = 1.0 / std::sqrt(static_cast<double>(in));
        rng.fill_uniform(weight.value, -bound, bound);
        rng.fill_uniform(bias.value, -bound, bound);
    }

    /// The number of input features (columns of x).
    Index in() const { return weight.value.cols(); }
    /// The number of output features.
    Index out() const { return weight.value.rows(); }

    Var<T> forward(Tape<T>& tape, const Var<T>& x) override { return linear(x, weight.on(tape), bias.on(tape)); }

    /// Appends "<prefix>weight" and "<prefix>bias".
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        list.push_back({prefix + "weight", &weight});
        list.push_back({prefix + "bias", &bias});
    }

    ModuleSpec spec() const override { return {"Linear", {{"in_features", in()}, {"out_features", out()}}, {}, {}, {}}; }
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_LINEAR_TEMPLATES(prefix, T) \
    prefix template class Linear<T>;
VAELET_EXTERN_TEMPLATES(VAELET_LINEAR_TEMPLATES)

}  // namespace vaelet
