/// \file
/// vaelet/nn/conv.hpp — the layers Conv2d and ConvTranspose2d, initialised, named and laid out as PyTorch's, so their
/// weights move both ways. Each knows the C×H×W of its input (one example per row, NCHW order).
///
///     vaelet::Rng rng(1);
///     vaelet::Conv2d<float> conv1(1, 32, 4, /*stride=*/2, /*padding=*/1, /*height=*/28, /*width=*/28, rng);
///     auto h = conv1(tape, x);                     // x is n×(1·28·28), h is n×(32·14·14)
///     vaelet::ConvTranspose2d<float> up(32, 1, 4, 2, 1, 14, 14, rng);   // n×(32·14·14) → n×(1·28·28)
///
/// In a model file a weight has its PyTorch shape: Conv2d's out×in×kH×kW, ConvTranspose2d's in×out×kH×kW (vaelet
/// holds it as a matrix of the same row-major entries, out × in·kH·kW or in × out·kH·kW); a bias is [out].
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/conv.hpp"
#include "vaelet/core/random.hpp"
#include "vaelet/nn/module.hpp"
#include "vaelet/nn/parameter.hpp"

#include <cmath>
#include <string>

namespace vaelet {

namespace detail {

/// The sizes of a convolution layer's spec, named as the fields of Conv2dShape.
inline ModuleSpec conv_spec(const char* type, const Conv2dShape& s) {
    return {type,
            {{"in_channels", s.in_channels},
             {"height", s.height},
             {"width", s.width},
             {"out_channels", s.out_channels},
             {"kernel_height", s.kernel_height},
             {"kernel_width", s.kernel_width},
             {"stride", s.stride},
             {"padding", s.padding}},
            {},
            {},
            {}};
}

/// The Conv2dShape a convolution layer's spec describes (config_error naming a missing size).
inline Conv2dShape conv_shape_from(const ModuleSpec& spec) {
    return {spec.size("in_channels"),   spec.size("height"),       spec.size("width"),
            spec.size("out_channels"),  spec.size("kernel_height"), spec.size("kernel_width"),
            spec.size("stride"),        spec.size("padding")};
}

/// `s`, after a config_error naming the layer unless it is a valid geometry for it.
inline const Conv2dShape& checked_layer_shape(const char* layer, const Conv2dShape& s, bool transposed) {
    const std::string problem = conv_shape_problem(s, transposed);
    if (!problem.empty()) throw config_error(std::string(layer) + ": " + problem);
    return s;
}

/// shape_error naming the layer unless each row of x holds the layer's C·H·W input values.
template <class T>
void check_layer_input(const char* layer, const Conv2dShape& s, const Var<T>& x) {
    if (x.cols() != s.in_size())
        throw shape_error(std::string(layer) + " (" + describe(s) + "): each row must hold " +
                          std::to_string(s.in_size()) + " values but the batch is " + shape_string(x.value()));
}

/// PyTorch's default for a convolution (kaiming_uniform with a = √5, then the bias): weight and bias ~
/// U(−1/√fan_in, 1/√fan_in), fan_in = weight.size(1)·kH·kW (torch.nn.init._calculate_fan_in_and_fan_out).
template <class T>
void init_like_pytorch(Parameter<T>& weight, Parameter<T>& bias, Index fan_in, Rng& rng) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    rng.fill_uniform(weight.value, -bound, bound);
    rng.fill_uniform(bias.value, -bound, bound);
}

}  // namespace detail

/// nn.Conv2d(in_channels, out_channels, kernel, stride, padding) on inputs of in_channels×height×width: each output
/// row is out_channels×conv_height×conv_width (Conv2dShape), NCHW.
template <class T>
class Conv2d : public Module<T> {
    Conv2dShape shape_;  // first, so that it is checked before the parameters are sized from it

public:
    Parameter<T> weight;  ///< out × (in·kH·kW); to other tools out×in×kH×kW, PyTorch's layout
    Parameter<T> bias;    ///< 1 × out, a 1-D tensor to other tools

    /// A square kernel, as nn.Conv2d(in, out, kernel, stride, padding), on inputs of in×height×width.
    Conv2d(Index in_channels, Index out_channels, Index kernel, Index stride, Index padding, Index height, Index width,
           Rng& rng)
        : Conv2d(Conv2dShape{in_channels, height, width, out_channels, kernel, kernel, stride, padding}, rng) {}

    /// Any geometry, e.g. a kH×kW kernel. Initialised as nn.Conv2d: U(±1/√fan_in), fan_in = in·kH·kW.
    Conv2d(const Conv2dShape& shape, Rng& rng)
        : shape_(detail::checked_layer_shape("Conv2d", shape, false)),
          weight(shape.out_channels, shape.in_channels * shape.kernel_height * shape.kernel_width),
          bias(1, shape.out_channels, /*vector=*/true) {
        weight.tensor_shape = {shape.out_channels, shape.in_channels, shape.kernel_height, shape.kernel_width};
        detail::init_like_pytorch(weight, bias, shape.in_channels * shape.kernel_height * shape.kernel_width, rng);
    }

    /// The geometry: input C×H×W, kernel, stride, padding (and so the output size).
    const Conv2dShape& shape() const { return shape_; }

    Var<T> forward(Tape<T>& tape, const Var<T>& x) override {
        detail::check_layer_input("Conv2d", shape_, x);
        return conv2d(x, weight.on(tape), bias.on(tape), shape_);
    }

    /// Appends "<prefix>weight" and "<prefix>bias".
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        list.push_back({prefix + "weight", &weight});
        list.push_back({prefix + "bias", &bias});
    }

    ModuleSpec spec() const override { return detail::conv_spec("Conv2d", shape_); }
};

/// nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, padding) with output_padding 0, on inputs of
/// in_channels×height×width: each output row is out_channels×transposed_height×transposed_width (Conv2dShape), NCHW.
template <class T>
class ConvTranspose2d : public Module<T> {
    Conv2dShape shape_;  // first, so that it is checked before the parameters are sized from it

public:
    Parameter<T> weight;  ///< in × (out·kH·kW); to other tools in×out×kH×kW, PyTorch's layout
    Parameter<T> bias;    ///< 1 × out, a 1-D tensor to other tools

    /// A square kernel, as nn.ConvTranspose2d(in, out, kernel, stride, padding), on inputs of in×height×width.
    ConvTranspose2d(Index in_channels, Index out_channels, Index kernel, Index stride, Index padding, Index height,
                    Index width, Rng& rng)
        : ConvTranspose2d(Conv2dShape{in_channels, height, width, out_channels, kernel, kernel, stride, padding},
                          rng) {}

    /// Any geometry. Initialised as nn.ConvTranspose2d: U(±1/√fan_in) with PyTorch's fan_in of its in×out×kH×kW
    /// weight, out·kH·kW.
    ConvTranspose2d(const Conv2dShape& shape, Rng& rng)
        : shape_(detail::checked_layer_shape("ConvTranspose2d", shape, true)),
          weight(shape.in_channels, shape.out_channels * shape.kernel_height * shape.kernel_width),
          bias(1, shape.out_channels, /*vector=*/true) {
        weight.tensor_shape = {shape.in_channels, shape.out_channels, shape.kernel_height, shape.kernel_width};
        detail::init_like_pytorch(weight, bias, shape.out_channels * shape.kernel_height * shape.kernel_width, rng);
    }

    /// The geometry: input C×H×W, kernel, stride, padding (and so the output size).
    const Conv2dShape& shape() const { return shape_; }

    Var<T> forward(Tape<T>& tape, const Var<T>& x) override {
        detail::check_layer_input("ConvTranspose2d", shape_, x);
        return conv_transpose2d(x, weight.on(tape), bias.on(tape), shape_);
    }

    /// Appends "<prefix>weight" and "<prefix>bias".
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        list.push_back({prefix + "weight", &weight});
        list.push_back({prefix + "bias", &bias});
    }

    ModuleSpec spec() const override { return detail::conv_spec("ConvTranspose2d", shape_); }
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_CONV_LAYERS_TEMPLATES(prefix, T) \
    prefix template class Conv2d<T>;          \
    prefix template class ConvTranspose2d<T>;
VAELET_EXTERN_TEMPLATES(VAELET_CONV_LAYERS_TEMPLATES)

}  // namespace vaelet
