/// \file
/// vaelet/nn/shape.hpp — Flatten and Unflatten (PyTorch's nn.Flatten, nn.Unflatten) for image-shaped layers.
///
///     decoder.add(vaelet::Linear<float>(256, 3136, rng)).add(vaelet::Unflatten<float>(64, 7, 7));   // 64×7×7 per row
///
/// An example is always one row of the batch matrix, C×H×W flattened in NCHW order as PyTorch flattens it, so both
/// pass the data unchanged: Unflatten checks the width and states the shape the next layer reads.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/nn/module.hpp"

#include <string>
#include <utility>
#include <vector>

namespace vaelet {

/// nn.Flatten: an example is already one row, so the data pass unchanged; it marks where an image shape ends.
template <class T>
class Flatten : public Module<T> {
public:
    Var<T> forward(Tape<T>&, const Var<T>& x) override { return x; }
    ModuleSpec spec() const override { return {"Flatten", {}, {}, {}, {}}; }
};

/// nn.Unflatten to channels × height × width: checks that each row holds C·H·W values (NCHW order); the data
/// pass unchanged, since a layer that reads the shape (a convolution) is built with it.
template <class T>
class Unflatten : public Module<T> {
public:
    /// The shape each row holds; config_error unless all three are positive.
    Unflatten(Index channels, Index height, Index width) : c_(channels), h_(height), w_(width) {
        if (c_ < 1 || h_ < 1 || w_ < 1)
            throw config_error("Unflatten: channels, height and width must be positive, got " + shape_text());
    }

    Var<T> forward(Tape<T>&, const Var<T>& x) override {
        if (x.cols() != c_ * h_ * w_)
            throw shape_error("Unflatten to " + shape_text() + ": each row must hold " + std::to_string(c_ * h_ * w_) +
                              " values but the batch is " + shape_string(x.value()));
        return x;
    }
    ModuleSpec spec() const override {
        return {"Unflatten", {{"channels", c_}, {"height", h_}, {"width", w_}}, {}, {}, {}};
    }
    Index channels() const { return c_; }  ///< C
    Index height() const { return h_; }    ///< H
    Index width() const { return w_; }     ///< W

private:
    std::string shape_text() const {
        return std::to_string(c_) + "x" + std::to_string(h_) + "x" + std::to_string(w_);
    }
    Index c_, h_, w_;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_SHAPE_TEMPLATES(prefix, T) \
    prefix template class Flatten<T>;   \
    prefix template class Unflatten<T>;
VAELET_EXTERN_TEMPLATES(VAELET_SHAPE_TEMPLATES)

}  // namespace vaelet
