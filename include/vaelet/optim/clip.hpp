/// \file
/// vaelet/optim/clip.hpp — gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
///
///     tape.backward(loss);
///     const float norm = vaelet::clip_grad_norm(params, 5.0f);  // the norm before clipping, e.g. for a log
///     adam.step_and_zero_grad();
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/nn/parameter.hpp"

#include <cmath>
#include <string>

namespace vaelet {

/// The L2 norm of all gradients taken together, as one vector. Summed in T (vectorized); a parameter whose
/// sum of squares overflows T (float gradients beyond ~1e19) is summed again in double, so its norm stays finite.
template <class T>
T global_grad_norm(const ParameterList<T>& params) {
    double sum = 0;
    for (const auto& p : params) {
        const T squares = p.param->grad.squaredNorm();
        sum += std::isfinite(squares) ? double(squares) : p.param->grad.template cast<double>().squaredNorm();
    }
    return T(std::sqrt(sum));
}

/// Scales all gradients by one factor so their global L2 norm is at most `max_norm`: the factor is
/// max_norm / (norm + 1e-6) when that is below 1 (PyTorch's rule), else the gradients are left alone.
/// Returns the norm before clipping. A NaN or infinite gradient is a numeric_error naming its parameter (as
/// torch's error_if_nonfinite), the gradients left untouched; with `check_finite` false the non-finite norm is
/// returned as is instead, for a caller that handles it.
template <class T>
T clip_grad_norm(const ParameterList<T>& params, T max_norm, bool check_finite = true) {
    if (!(max_norm > 0) || !std::isfinite(max_norm))
        throw config_error("clip_grad_norm: max_norm must be a positive number, got " + std::to_string(max_norm));
    const T norm = global_grad_norm(params);
    if (check_finite && !std::isfinite(norm)) {
        const auto bad = first_non_finite_gradient(params);
        throw numeric_error("clip_grad_norm: the gradient of " + (bad ? *bad : std::string("a parameter")) +
                            " is not finite (the norm is " + std::to_string(norm) + "); nothing was clipped. Find "
                            "where it went non-finite, or pass check_finite = false to get the norm back");
    }
    const double scale = double(max_norm) / (double(norm) + 1e-6);
    if (std::isfinite(norm) && scale < 1)
        for (const auto& p : params) p.param->grad *= T(scale);
    return norm;
}

}  // namespace vaelet
