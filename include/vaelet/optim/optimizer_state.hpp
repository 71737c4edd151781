/// \file
/// vaelet/optim/optimizer_state.hpp — what the optimizers share: their state buffers by name, for checkpoints,
/// and the blocked walk that updates a parameter in one pass over memory.
///
///     for (const auto& s : adam.named_state()) st.put_matrix("optim." + s.name, *s.value);  // "fc1.weight.exp_avg"
///     st.put_vector<std::int64_t>("optim.step", {adam.step_count()});
///     adam.load_state("fc1.weight.exp_avg", m);   // on resume; the shape is checked
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"
#include "vaelet/nn/parameter.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace vaelet {

/// One state buffer of an optimizer, named "<parameter>.<buffer>" with PyTorch's buffer names (exp_avg,
/// exp_avg_sq, momentum_buffer). `value` points into the optimizer: write through it to restore.
template <class T>
struct NamedState {
    std::string name;   ///< "<parameter>.<buffer>", e.g. "fc1.weight.exp_avg"
    Matrix<T>* value;   ///< the buffer itself, inside the optimizer; shaped like its parameter
};

/// An optimizer's state buffers, in parameter order (Optimizer::named_state).
template <class T>
using StateList = std::vector<NamedState<T>>;

/// Copies `value` into the buffer called `name` in `state`. Throws config_error when no buffer has that name
/// and shape_error when the shapes differ (both mean the saved state belongs to another model or optimizer).
template <class T>
void load_named_state(const StateList<T>& state, const std::string& name, const Matrix<T>& value) {
    const auto it = std::find_if(state.begin(), state.end(), [&](const NamedState<T>& s) { return s.name == name; });
    if (it == state.end())
        throw config_error("optimizer state \"" + name +
                           "\" does not exist; the saved state was made with a different model or optimizer");
    if (value.rows() != it->value->rows() || value.cols() != it->value->cols())
        throw shape_error("optimizer state \"" + name + "\" is " + shape_string(value) + " but its parameter is " +
                          shape_string(*it->value) + "; the saved state was made for a different model");
    *it->value = value;
}

namespace detail {

/// Elements per block of an optimizer update. An update is a few Eigen statements; run block by block, a
/// block's arrays are still in L1/L2 cache for the next statement, so each array crosses the memory bus once.
inline constexpr Index optim_block = 1024;

template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

/// Elements [i, i + n) of `m` (row-major, contiguous) as a 1-D array.
template <class T>
ArrayMap<T> block(Matrix<T>& m, Index i, Index n) {
    return ArrayMap<T>(m.data() + i, n);
}

/// Calls f(i, n) for the blocks [i, i + n) that cover [0, size).
template <class F>
void for_each_block(Index size, F&& f) {
    for (Index i = 0; i < size; i += optim_block) f(i, std::min(optim_block, size - i));
}

/// Throws shape_error unless `m` has the shape of parameter `p`; `what` names m ("gradient", "exp_avg", ...).
/// Checked every step: a parameter resized after the optimizer was built would otherwise be walked out of bounds.
template <class T>
void check_like_parameter(const char* optimizer, const NamedParameter<T>& p, const Matrix<T>& m, const char* what) {
    if (m.rows() != p.param->value.rows() || m.cols() != p.param->value.cols())
        throw shape_error(std::string(optimizer) + ": parameter " + p.name + " is " + shape_string(p.param->value) +
                          " but its " + what + " is " + shape_string(m) +
                          "; build the optimizer after the parameters have their final shape");
}

/// Throws numeric_error naming the first parameter whose gradient is NaN or infinite, before anything changes.
template <class T>
void require_finite_gradients(const char* optimizer, const ParameterList<T>& params) {
    if (auto bad = first_non_finite_gradient(params))
        throw numeric_error(std::string(optimizer) + ": the gradient of " + *bad + " is not finite, so nothing was "
                            "updated; find where it went non-finite (first_non_finite_node in train/nan_guard.hpp), "
                            "lower the learning rate or clip the gradient norm, or set check_finite = false to step "
                            "anyway");
}

}  // namespace detail
}  // namespace vaelet
