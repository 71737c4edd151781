/// \file
/// vaelet/optim/sgd.hpp — stochastic gradient descent with momentum, dampening, Nesterov and weight decay, with
/// torch.optim.SGD's update, defaults and state names.
///
///     vaelet::SgdOptions o; o.lr = 0.01; o.momentum = 0.9; o.nesterov = true;
///     vaelet::Sgd<float> sgd(model.named_parameters(), o);
///     tape.backward(loss); sgd.step_and_zero_grad();
///
/// The update of one parameter p with gradient g (torch/optim/sgd.py, _single_tensor_sgd):
///
///     g ← g + wd·p                                  (weight_decay ≠ 0)
///     b ← g on the first step, else b ← μ·b + (1 − dampening)·g     (momentum μ ≠ 0; b is momentum_buffer)
///     g ← g + μ·b with Nesterov, else g ← b
///     p ← p − lr·g
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/optim/optimizer.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace vaelet {

/// SGD's hyperparameters, in torch.optim.SGD's order and with its defaults.
struct SgdOptions {
    double lr = 1e-3;            ///< learning rate, ≥ 0
    double momentum = 0.0;       ///< μ, ≥ 0; 0 keeps no momentum buffer
    double dampening = 0.0;      ///< scales the gradient's share of the momentum buffer by (1 − dampening)
    double weight_decay = 0.0;   ///< wd, ≥ 0: an L2 penalty, wd·p added to the gradient
    bool nesterov = false;       ///< Nesterov momentum; needs momentum > 0 and dampening 0
    /// true: a step refuses a NaN or infinite gradient (numeric_error naming the parameter; nothing changes).
    /// The Trainer checks before it steps and turns this off.
    bool check_finite = true;

    /// Throws config_error naming the first value out of range (the ranges torch.optim.SGD accepts).
    void validate() const {
        const auto fail = [](const std::string& what, double got) {
            throw config_error("SGD: " + what + ", got " + std::to_string(got));
        };
        if (!(lr >= 0) || !std::isfinite(lr)) fail("lr must be 0 or more", lr);
        if (!(momentum >= 0) || !std::isfinite(momentum)) fail("momentum must be 0 or more", momentum);
        if (!std::isfinite(dampening)) fail("dampening must be a finite number", dampening);
        if (!(weight_decay >= 0) || !std::isfinite(weight_decay)) fail("weight_decay must be 0 or more", weight_decay);
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw config_error("SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum " +
                               std::to_string(momentum) + " and dampening " + std::to_string(dampening));
    }
};

/// Stochastic gradient descent: torch.optim.SGD's update (see the file), its state name (momentum_buffer) and defaults.
/// Updates each parameter in one blocked pass over memory.
template <class T>
class Sgd : public Optimizer<T> {
public:
    /// Allocates the momentum buffers (when momentum ≠ 0) now, so `named_state()` is complete before the first
    /// step and `step()` never allocates. The parameters must outlive the optimizer.
    explicit Sgd(const ParameterList<T>& params, const SgdOptions& options = {})
        : params_(params), options_((options.validate(), options)) {
        if (params_.empty()) throw config_error("SGD: the parameter list is empty; nothing to optimize");
        for (const auto& p : params_) {
            if (!p.param) throw config_error("SGD: parameter " + p.name + " is a null pointer");
            if (options_.momentum != 0)
                momentum_buffer_.push_back(Matrix<T>::Zero(p.param->value.rows(), p.param->value.cols()));
        }
    }

    /// One update of every parameter from its gradient; the gradients are left as they are.
    void step() override { update(/*zero_grad=*/false); }
    /// `step()` then `zero_grad()` in one pass over memory: each gradient is zeroed right after it is used.
    void step_and_zero_grad() override { update(/*zero_grad=*/true); }
    void zero_grad() override {
        for (auto& p : params_) p.param->zero_grad();
    }

    /// The hyperparameters in use (lr as last set by `set_lr`).
    const SgdOptions& options() const { return options_; }
    /// For a learning-rate schedule: takes effect from the next step.
    double lr() const override { return options_.lr; }
    void set_lr(double lr) override {
        SgdOptions o = options_;
        o.lr = lr;
        o.validate();
        options_ = o;
    }

    /// Steps taken. Step 0 is the one that starts the momentum buffers from the gradient (PyTorch's "buffer is
    /// None"), so a checkpoint stores it with the buffers.
    std::int64_t step_count() const override { return step_; }
    void set_step_count(std::int64_t step) override {
        if (step < 0) throw config_error("SGD: the step count must be 0 or more, got " + std::to_string(step));
        step_ = step;
    }

    /// "<parameter>.momentum_buffer" for every parameter, in parameter order; empty without momentum.
    StateList<T> named_state() override {
        StateList<T> state;
        for (std::size_t i = 0; i < momentum_buffer_.size(); ++i)
            state.push_back({params_[i].name + ".momentum_buffer", &momentum_buffer_[i]});
        return state;
    }
    std::string name() const override { return "sgd"; }

    /// Restores one buffer of `named_state()`; throws config_error/shape_error on an unknown name or a wrong shape.
    void load_state(const std::string& name, const Matrix<T>& value) { load_named_state(named_state(), name, value); }

private:
    /// Checked before anything changes, so a failed step leaves parameters, state and step count as they were.
    void check_shapes() const {
        for (std::size_t k = 0; k < params_.size(); ++k) {
            detail::check_like_parameter("SGD", params_[k], params_[k].param->grad, "gradient");
            if (!momentum_buffer_.empty())
                detail::check_like_parameter("SGD", params_[k], momentum_buffer_[k], "momentum_buffer");
        }
    }

    void update(bool zero_grad) {
        if (options_.check_finite) detail::require_finite_gradients("SGD", params_);
        check_shapes();
        const SgdOptions& o = options_;
        const bool first = step_ == 0;
        const T neg_lr = T(-o.lr), wd = T(o.weight_decay);
        const T momentum = T(o.momentum), one_minus_dampening = T(1 - o.dampening);

        for (std::size_t k = 0; k < params_.size(); ++k) {
            Parameter<T>& param = *params_[k].param;
            detail::for_each_block(param.size(), [&](Index i, Index n) {
                auto p = detail::block(param.value, i, n);
                auto g = detail::block(param.grad, i, n);
                // `grad` is g itself or the expression g + wd·p; p changes only in the last statement.
                const auto descend = [&](const auto& grad) {
                    if (o.momentum == 0) {
                        p += neg_lr * grad;
                        return;
                    }
                    auto b = detail::block(momentum_buffer_[k], i, n);
                    if (first)
                        b = grad;
                    else
                        b = b * momentum + one_minus_dampening * grad;
                    if (o.nesterov)
                        p += neg_lr * (grad + momentum * b);
                    else
                        p += neg_lr * b;
                };
                if (o.weight_decay != 0)
                    descend(g + wd * p);
                else
                    descend(g);
                if (zero_grad) g.setZero();
            });
        }
        ++step_;
    }

    ParameterList<T> params_;
    SgdOptions options_;
    std::vector<Matrix<T>> momentum_buffer_;  // one per parameter when momentum ≠ 0, else none
    std::int64_t step_ = 0;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_SGD_TEMPLATES(prefix, T) \
    prefix template class Sgd<T>;
VAELET_EXTERN_TEMPLATES(VAELET_SGD_TEMPLATES)

}  // namespace vaelet
