/// \file
/// vaelet/optim/optimizer.hpp — what every optimizer offers, so the Trainer (or your loop) takes any of them: a step,
/// the learning rate for a schedule, and the state a checkpoint stores.
///
///     std::unique_ptr<vaelet::Optimizer<float>> opt = std::make_unique<vaelet::Sgd<float>>(params, sgd_options);
///     tape.backward(loss); opt->step_and_zero_grad(); opt->set_lr(0.5 * opt->lr());
#pragma once

#include "vaelet/optim/optimizer_state.hpp"

#include <cstdint>
#include <string>

namespace vaelet {

/// The interface of Sgd and Adam (and of an optimizer of your own): what the Trainer and checkpoints use, so they
/// take any optimizer. The parameters it updates are given to the optimizer's constructor and must outlive it.
template <class T>
class Optimizer {
public:
    virtual ~Optimizer() = default;  ///< optimizers are owned through this interface (std::unique_ptr)

    /// One update of every parameter from its gradient; the gradients are left as they are.
    virtual void step() = 0;
    /// `step()` then `zero_grad()`, in one pass over memory.
    virtual void step_and_zero_grad() = 0;
    /// Sets every parameter's gradient to zero, as PyTorch's `zero_grad()` (gradients accumulate across backwards).
    virtual void zero_grad() = 0;

    /// The learning rate of the next step; `set_lr` is how a schedule changes it (checked like the option).
    virtual double lr() const = 0;
    /// Sets the learning rate from the next step on; throws config_error for a negative or non-finite rate.
    virtual void set_lr(double lr) = 0;

    /// Steps taken; part of the state, since updates may depend on it (Adam's bias corrections).
    virtual std::int64_t step_count() const = 0;
    /// Sets the step count, when resuming from a checkpoint; throws config_error when negative.
    virtual void set_step_count(std::int64_t step) = 0;
    /// Its buffers by name ("<parameter>.exp_avg", …); write through the pointers to restore them.
    virtual StateList<T> named_state() = 0;
    /// "adam", "adamw", "sgd": what a checkpoint's config records.
    virtual std::string name() const = 0;
};

}  // namespace vaelet
