/// \file
/// vaelet/vae/flow.hpp — a posterior flow: an invertible map f of the Gaussian sample z₀ = μ + σ ⊙ ε, so that
/// q(z|x) is the density of z = f(z₀), log q(z|x) = log N(z₀; μ, σ²) − log |det ∂f/∂z₀|. Any Flow can be given to a
/// Vae (VaeParts::flow); InverseAutoregressiveFlow is the ready-made one.
///
/// \code
///     vaelet::VaeParts<float> parts = vaelet::mlp_vae_parts<float>(config, rng);
///     parts.flow = std::make_unique<vaelet::InverseAutoregressiveFlow<float>>(/*latent=*/20, /*steps=*/2, /*hidden=*/128, rng);
///     vaelet::Vae<float> vae(std::move(parts));                 // or VaeConfig{.flow_steps = 2, .flow_hidden = 128}
/// \endcode
///
/// Why IAF and not planar flows: a planar step moves z along one direction only, so it takes many steps to reshape
/// a posterior in 20 or more dimensions (Rezende & Mohamed used up to 80), and its log-determinant is that of a
/// rank-one update; an IAF step transforms every dimension at once, conditioned on the dimensions before it, and its
/// Jacobian is triangular, so the log-determinant is the sum of the log scales — Kingma et al. (2016) reach better
/// log-likelihoods with two steps than planar flows with many. Sampling, all that training and importance sampling
/// need, is one pass per step; only the density of an arbitrary z would need the sequential inverse.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/nn/linear.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vaelet {

/// An invertible map of the posterior's Gaussian sample, n × latent → n × latent, with its log-determinant.
template <class T>
class Flow {
public:
    virtual ~Flow() = default;

    /// The image of a sample and its log-determinant, both on the tape.
    struct Result {
        Var<T> z;        ///< f(z₀), n × latent
        Var<T> log_det;  ///< log |det ∂f/∂z₀| for each row, n × 1
    };
    /// f(z₀) and log |det ∂f/∂z₀| for each row of `z0` (n × latent), recorded on `tape`; shape_error when z0 does
    /// not have latent() columns.
    virtual Result forward(Tape<T>& tape, const Var<T>& z0) = 0;
    /// The latent dimensions it maps.
    virtual Index latent() const = 0;
    /// Appends its parameters to `list`, their names prefixed with `prefix` (the Vae gives "flow.").
    virtual void collect_parameters(ParameterList<T>& list, const std::string& prefix) = 0;
    /// The type and sizes that rebuild it.
    virtual ModuleSpec spec() const = 0;
};

/// An owned flow; VaeParts::flow holds one, null for none.
template <class T>
using FlowPtr = std::unique_ptr<Flow<T>>;

/// Inverse autoregressive flow (Kingma et al., 2016), without the encoder's context: each step computes, with a
/// MADE (Germain et al., 2015: one hidden layer of `hidden` ReLU units, masked so that output i sees only the inputs
/// before i in the step's order), a shift mᵢ and a gate σᵢ = sigmoid(sᵢ + 1) from z₍<ᵢ₎, and moves
/// zᵢ ← σᵢ·zᵢ + (1 − σᵢ)·mᵢ; log |det| = Σᵢ log σᵢ. The order is reversed from one step to the next. The +1 starts
/// the gates near 0.73, so a new flow stays close to the identity, as the paper's forget-gate bias does.
template <class T>
class InverseAutoregressiveFlow : public Flow<T> {
public:
    /// `steps` IAF steps over `latent` dimensions, each MADE with `hidden` units, initialised from `rng`;
    /// config_error when any of the three is below 1.
    InverseAutoregressiveFlow(Index latent, Index steps, Index hidden, Rng& rng) : latent_(latent), hidden_(hidden) {
        if (latent < 1) throw config_error("IAF: latent must be at least 1, got " + std::to_string(latent));
        if (steps < 1) throw config_error("IAF: steps must be at least 1, got " + std::to_string(steps));
        if (hidden < 1) throw config_error("IAF: hidden must be at least 1, got " + std::to_string(hidden));
        for (Index t = 0; t < steps; ++t) steps_.push_back(Step(latent, hidden, /*reversed=*/t % 2 == 1, rng));
    }

    typename Flow<T>::Result forward(Tape<T>& tape, const Var<T>& z0) override {
        if (z0.cols() != latent_)
            throw shape_error("IAF: z is " + shape_string(z0.value()) + " but the flow maps " + std::to_string(latent_) +
                              " dimensions");
        Var<T> z = z0, log_det;
        for (std::size_t t = 0; t < steps_.size(); ++t) {
            Step& s = steps_[t];
            const Var<T> in_mask = tape.constant(s.in_mask), out_mask = tape.constant(s.out_mask);
            const Var<T> h = relu(linear(z, s.in.weight.on(tape) * in_mask, s.in.bias.on(tape)));
            const Var<T> shift = linear(h, s.shift.weight.on(tape) * out_mask, s.shift.bias.on(tape));
            const Var<T> gate_logit = linear(h, s.gate.weight.on(tape) * out_mask, s.gate.bias.on(tape)) + T(1);
            z = shift + sigmoid(gate_logit) * (z - shift);
            const Var<T> log_gate = -sum_per_row(softplus(-gate_logit));  // Σ log σ, stable
            log_det = t == 0 ? log_gate : log_det + log_gate;
        }
        return {z, log_det};
    }

    Index latent() const override { return latent_; }
    /// The number of IAF steps.
    Index steps() const { return Index(steps_.size()); }

    /// Per step t: "<t>.in.*" (the MADE's hidden layer), "<t>.shift.*" and "<t>.gate.*" (its two outputs).
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        for (std::size_t t = 0; t < steps_.size(); ++t) {
            const std::string p = prefix + std::to_string(t) + ".";
            steps_[t].in.collect_parameters(list, p + "in.");
            steps_[t].shift.collect_parameters(list, p + "shift.");
            steps_[t].gate.collect_parameters(list, p + "gate.");
        }
    }

    ModuleSpec spec() const override {
        return {"InverseAutoregressiveFlow", {{"latent", latent_}, {"steps", steps()}, {"hidden", hidden_}}, {}, {}, {}};
    }

private:
    struct Step {
        Linear<T> in, shift, gate;
        Matrix<T> in_mask, out_mask;  // hidden × latent and latent × hidden, in the weights' out × in layout

        Step(Index latent, Index hidden, bool reversed, Rng& rng)
            : in(latent, hidden, rng), shift(hidden, latent, rng), gate(hidden, latent, rng),
              in_mask(hidden, latent), out_mask(latent, hidden) {
            // MADE's degrees: input i has its place in the order (1 … latent), hidden unit k one of 1 … latent − 1;
            // a unit sees the inputs of degree ≤ its own, output i the units of degree < input i's.
            const auto input_degree = [&](Index i) { return reversed ? latent - i : i + 1; };
            const auto hidden_degree = [&](Index k) { return k % std::max<Index>(1, latent - 1) + 1; };
            for (Index k = 0; k < hidden; ++k)
                for (Index i = 0; i < latent; ++i) {
                    in_mask(k, i) = hidden_degree(k) >= input_degree(i) ? T(1) : T(0);
                    out_mask(i, k) = input_degree(i) > hidden_degree(k) ? T(1) : T(0);
                }
        }
    };

    Index latent_, hidden_;
    std::vector<Step> steps_;
};

/// Throws config_error, in the words of `config` ("VAE config"), unless the flow settings are 0 steps (none) or
/// steps ≥ 1 of hidden ≥ 1 units.
inline void check_flow_choice(const std::string& config, Index steps, Index hidden) {
    if (steps < 0) throw config_error(config + ": flow_steps must be 0 (no flow) or more, got " + std::to_string(steps));
    if (steps > 0 && hidden < 1)
        throw config_error(config + ": flow_hidden must be at least 1, got " + std::to_string(hidden));
}

/// The flow a config names: null for 0 steps, else an InverseAutoregressiveFlow.
template <class T>
FlowPtr<T> make_flow(Index steps, Index hidden, Index latent, Rng& rng) {
    if (steps == 0) return nullptr;
    return std::make_unique<InverseAutoregressiveFlow<T>>(latent, steps, hidden, rng);
}

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_FLOW_TEMPLATES(prefix, T) \
    prefix template class InverseAutoregressiveFlow<T>;
VAELET_EXTERN_TEMPLATES(VAELET_FLOW_TEMPLATES)

}  // namespace vaelet
