// vaelet/nn/mlp.hpp — a stack of Linear layers with an activation after each.
//
//   vaelet::Mlp<float> trunk({784, 400}, vaelet::Activation::relu, rng, {"fc1"});   // one layer named fc1
//   auto h = trunk(tape, x);                                                        // relu(fc1(x))
//   trunk.collect_parameters(list, "encoder.");                                     // encoder.fc1.weight, ...
#pragma once

#include "vaelet/nn/activation.hpp"
#include "vaelet/nn/linear.hpp"

#include <string>
#include <vector>

namespace vaelet {

template <class T>
class Mlp {
public:
    Mlp() = default;

    /// `widths` = {in, h1, …, out} gives widths.size() − 1 layers, each followed by `activation`.
    /// `names` names the layers (default "0", "1", …); names.size() must equal the number of layers.
    Mlp(const std::vector<Index>& widths, Activation activation, Rng& rng, std::vector<std::string> names = {})
        : activation_(activation), names_(std::move(names)) {
        if (widths.size() < 2) throw config_error("Mlp: needs at least an input and an output width");
        if (names_.empty())
            for (std::size_t k = 0; k + 1 < widths.size(); ++k) names_.push_back(std::to_string(k));
        if (names_.size() + 1 != widths.size())
            throw config_error("Mlp: " + std::to_string(names_.size()) + " names for " +
                               std::to_string(widths.size() - 1) + " layers");
        for (std::size_t k = 0; k + 1 < widths.size(); ++k) layers_.emplace_back(widths[k], widths[k + 1], rng);
    }

    Var<T> operator()(Tape<T>& tape, Var<T> x) {
        for (auto& layer : layers_) x = activate(activation_, layer(tape, x));
        return x;
    }

    void collect_parameters(ParameterList<T>& list, const std::string& prefix) {
        for (std::size_t k = 0; k < layers_.size(); ++k) layers_[k].collect_parameters(list, prefix + names_[k] + ".");
    }

    Index in() const { return layers_.front().in(); }
    Index out() const { return layers_.back().out(); }
    bool empty() const { return layers_.empty(); }
    Activation activation() const { return activation_; }

private:
    Activation activation_ = Activation::relu;
    std::vector<std::string> names_;
    std::vector<Linear<T>> layers_;
};

}  // namespace vaelet
