/// \file
/// vaelet/optim/schedule.hpp — values that change with the step: the KL weight β's linear warm-up and a cosine
/// learning rate. Plain functions of the step, so resuming from a checkpoint needs only the step count.
///
///     const double beta = vaelet::linear_warmup(1.0, 10 * batches_per_epoch, double(step));  // 0 → 1 in 10 epochs
///     adam.set_lr(vaelet::cosine_annealing(1e-3, double(total_steps), double(step)));
///     // a constant β: linear_warmup(beta, 0, step) == beta
#pragma once

#include <algorithm>
#include <cmath>

namespace vaelet {

/// Linear warm-up ("KL annealing", Bowman et al. 2016): `start` at step 0, rising linearly to `target` at step
/// `steps`, then `target`. Steps may be fractional (an epoch count times batches per epoch). `steps` ≤ 0 (or
/// NaN) means no warm-up: always `target`.
inline double linear_warmup(double target, double steps, double t, double start = 0.0) {
    if (!(steps > 0)) return target;
    const double fraction = std::clamp(t / steps, 0.0, 1.0);
    return start + (target - start) * fraction;
}

/// Cosine annealing without restarts (Loshchilov & Hutter 2017; torch CosineAnnealingLR's closed form):
/// min_lr + (base_lr − min_lr)·(1 + cos(π·t/total_steps))/2 for 0 ≤ t ≤ total_steps, `min_lr` after it.
/// `total_steps` ≤ 0 (or NaN) means no annealing: always `base_lr`.
inline double cosine_annealing(double base_lr, double total_steps, double t, double min_lr = 0.0) {
    if (!(total_steps > 0)) return base_lr;
    const double fraction = std::clamp(t / total_steps, 0.0, 1.0);
    return min_lr + (base_lr - min_lr) * (1 + std::cos(3.14159265358979323846 * fraction)) / 2;
}

}  // namespace vaelet
