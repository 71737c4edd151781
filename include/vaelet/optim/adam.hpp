/// \file
/// vaelet/optim/adam.hpp — Adam and AdamW with torch.optim.Adam/AdamW's update, defaults and state names.
///
///     vaelet::Adam<float> adam(model.named_parameters(), {1e-3});            // Adam, lr 1e-3
///     vaelet::Adam<float> adamw(params, vaelet::adamw_options(1e-3, 0.01));  // AdamW: decoupled weight decay
///     tape.backward(loss); adam.step_and_zero_grad();                         // update, then gradients to zero
///
/// The update of one parameter p with gradient g at step t (Kingma & Ba 2015, Algorithm 1; AdamW: Loshchilov &
/// Hutter 2019), in PyTorch's order of operations (torch/optim/adam.py, _single_tensor_adam):
///
///     AdamW: p ← p·(1 − lr·wd)           Adam with weight decay: g ← g + wd·p
///     m ← m + (1 − β1)(g − m)             (exp_avg.lerp_, i.e. β1·m + (1 − β1)·g)
///     v ← β2·v + (1 − β2)·g·g             (exp_avg_sq)
///     p ← p − (lr / (1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + ε)
///
/// The scalar factors are computed in double, as Python does, then rounded to T once.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/optim/optimizer.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace vaelet {

/// Adam's hyperparameters; the defaults are torch.optim.Adam's.
struct AdamOptions {
    double lr = 1e-3;            ///< learning rate, ≥ 0
    double beta1 = 0.9;          ///< decay of the gradient's running mean m (exp_avg), in [0, 1)
    double beta2 = 0.999;        ///< decay of the squared gradient's running mean v (exp_avg_sq), in [0, 1)
    double eps = 1e-8;           ///< added to √v (bias-corrected) in the denominator, ≥ 0
    double weight_decay = 0.0;   ///< wd, ≥ 0: an L2 penalty, or decoupled (AdamW), see decoupled_weight_decay
    /// false: L2 penalty added to the gradient (Adam); true: p ← p·(1 − lr·wd) before the update (AdamW),
    /// as torch.optim.Adam's flag of the same name.
    bool decoupled_weight_decay = false;
    /// true: a step refuses a NaN or infinite gradient (numeric_error naming the parameter; nothing changes).
    /// The Trainer checks before it steps and turns this off.
    bool check_finite = true;

    /// Throws config_error naming the first value out of range (the ranges torch.optim.Adam accepts).
    void validate() const {
        const auto fail = [](const std::string& what, double got) {
            throw config_error("Adam: " + what + ", got " + std::to_string(got));
        };
        if (!(lr >= 0) || !std::isfinite(lr)) fail("lr must be 0 or more", lr);
        if (!(beta1 >= 0 && beta1 < 1)) fail("beta1 must be in [0, 1)", beta1);
        if (!(beta2 >= 0 && beta2 < 1)) fail("beta2 must be in [0, 1)", beta2);
        if (!(eps >= 0) || !std::isfinite(eps)) fail("eps must be 0 or more", eps);
        if (!(weight_decay >= 0) || !std::isfinite(weight_decay)) fail("weight_decay must be 0 or more", weight_decay);
    }
};

/// torch.optim.AdamW's defaults: decoupled weight decay 0.01.
inline AdamOptions adamw_options(double lr = 1e-3, double weight_decay = 1e-2) {
    AdamOptions o;
    o.lr = lr;
    o.weight_decay = weight_decay;
    o.decoupled_weight_decay = true;
    return o;
}

/// Adam, or AdamW with `adamw_options`: torch.optim.Adam's update (see the file), state names (exp_avg, exp_avg_sq)
/// and defaults. Updates each parameter in one blocked pass over memory.
template <class T>
class Adam : public Optimizer<T> {
public:
    /// Allocates the moments (zero) for every parameter now, so `named_state()` is complete before the first
    /// step and `step()` never allocates. The parameters must outlive the optimizer.
    explicit Adam(const ParameterList<T>& params, const AdamOptions& options = {})
        : params_(params), options_((options.validate(), options)) {
        if (params_.empty()) throw config_error("Adam: the parameter list is empty; nothing to optimize");
        for (const auto& p : params_) {
            if (!p.param) throw config_error("Adam: parameter " + p.name + " is a null pointer");
            exp_avg_.push_back(Matrix<T>::Zero(p.param->value.rows(), p.param->value.cols()));
            exp_avg_sq_.push_back(Matrix<T>::Zero(p.param->value.rows(), p.param->value.cols()));
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
    const AdamOptions& options() const { return options_; }
    /// For a learning-rate schedule: takes effect from the next step.
    double lr() const override { return options_.lr; }
    void set_lr(double lr) override {
        AdamOptions o = options_;
        o.lr = lr;
        o.validate();
        options_ = o;
    }

    /// Steps taken (PyTorch's state["step"]); the bias corrections depend on it, so a checkpoint stores it.
    std::int64_t step_count() const override { return step_; }
    void set_step_count(std::int64_t step) override {
        if (step < 0) throw config_error("Adam: the step count must be 0 or more, got " + std::to_string(step));
        step_ = step;
    }

    /// "<parameter>.exp_avg" and "<parameter>.exp_avg_sq" for every parameter, in parameter order.
    StateList<T> named_state() override {
        StateList<T> state;
        for (std::size_t i = 0; i < params_.size(); ++i) {
            state.push_back({params_[i].name + ".exp_avg", &exp_avg_[i]});
            state.push_back({params_[i].name + ".exp_avg_sq", &exp_avg_sq_[i]});
        }
        return state;
    }
    std::string name() const override { return options_.decoupled_weight_decay ? "adamw" : "adam"; }

    /// Restores one buffer of `named_state()`; throws config_error/shape_error on an unknown name or a wrong shape.
    void load_state(const std::string& name, const Matrix<T>& value) { load_named_state(named_state(), name, value); }

private:
    /// Checked before anything changes, so a failed step leaves parameters, state and step count as they were.
    void check_shapes() const {
        for (std::size_t k = 0; k < params_.size(); ++k) {
            detail::check_like_parameter("Adam", params_[k], params_[k].param->grad, "gradient");
            detail::check_like_parameter("Adam", params_[k], exp_avg_[k], "exp_avg");
            detail::check_like_parameter("Adam", params_[k], exp_avg_sq_[k], "exp_avg_sq");
        }
    }

    void update(bool zero_grad) {
        check_shapes();
        if (options_.check_finite) detail::require_finite_gradients("Adam", params_);
        ++step_;
        const AdamOptions& o = options_;
        const double bias_correction1 = 1 - std::pow(o.beta1, double(step_));
        const double bias_correction2 = 1 - std::pow(o.beta2, double(step_));
        const T step_size = T(-o.lr / bias_correction1);  // negative: addcdiv_ with value = −step_size
        const T bias_correction2_sqrt = T(std::sqrt(bias_correction2));
        const T one_minus_beta1 = T(1 - o.beta1), beta2 = T(o.beta2), one_minus_beta2 = T(1 - o.beta2);
        const T eps = T(o.eps);
        const bool l2 = o.weight_decay != 0 && !o.decoupled_weight_decay;
        const bool decoupled = o.weight_decay != 0 && o.decoupled_weight_decay;
        const T wd = T(o.weight_decay), decay = T(1 - o.lr * o.weight_decay);

        for (std::size_t k = 0; k < params_.size(); ++k) {
            Parameter<T>& param = *params_[k].param;
            detail::for_each_block(param.size(), [&](Index i, Index n) {
                auto p = detail::block(param.value, i, n);
                auto g = detail::block(param.grad, i, n);
                auto m = detail::block(exp_avg_[k], i, n);
                auto v = detail::block(exp_avg_sq_[k], i, n);
                // `grad` is g itself or the expression g + wd·p, read before p changes.
                const auto moments = [&](const auto& grad) {
                    m += one_minus_beta1 * (grad - m);
                    v = v * beta2 + (one_minus_beta2 * grad) * grad;
                };
                if (decoupled) p *= decay;
                if (l2)
                    moments(g + wd * p);
                else
                    moments(g);
                p += (step_size * m) / (v.sqrt() / bias_correction2_sqrt + eps);
                if (zero_grad) g.setZero();
            });
        }
    }

    ParameterList<T> params_;
    AdamOptions options_;
    std::vector<Matrix<T>> exp_avg_, exp_avg_sq_;
    std::int64_t step_ = 0;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_ADAM_TEMPLATES(prefix, T) \
    prefix template class Adam<T>;
VAELET_EXTERN_TEMPLATES(VAELET_ADAM_TEMPLATES)

}  // namespace vaelet
