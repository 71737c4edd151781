/// \file
/// vaelet/nn/parameter.hpp — a trainable matrix with its gradient, and named lists of them.
///
///     vaelet::Parameter<float> w(400, 784);          // value and grad, both zero
///     auto wv = w.on(tape);                           // a tape leaf reading w.value, accumulating into w.grad
///     for (auto& [name, p] : model.named_parameters()) std::cout << name << ' ' << p->value.rows() << '\n';
#pragma once

#include "vaelet/core/tape.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace vaelet {

/// A trainable matrix and the gradient that backward accumulates into it, of the same shape. Modules own their
/// parameters; optimizers and files reach them through a ParameterList of pointers.
template <class T>
struct Parameter {
    Matrix<T> value;  ///< the weights
    Matrix<T> grad;   ///< d loss / d value, summed over backward passes until zero_grad
    /// True for a 1×n parameter that other tools see as a 1-D tensor of length n (a bias), as in PyTorch.
    bool is_vector = false;
    /// The shape other tools see when it has more dimensions than the matrix, whose row-major entries it holds in
    /// the same order: out×in×kH×kW for a Conv2d weight stored as out × (in·kH·kW). Files carry this shape; empty
    /// means [rows, cols] (or [cols] for a vector). Its product must be rows·cols.
    std::vector<Index> tensor_shape;

    Parameter() = default;
    /// A rows × cols parameter, value and grad zero; `vector` marks a 1 × n one as a 1-D tensor (is_vector).
    Parameter(Index rows, Index cols, bool vector = false)
        : value(Matrix<T>::Zero(rows, cols)), grad(Matrix<T>::Zero(rows, cols)), is_vector(vector) {}

    /// A leaf on `tape` that points at this parameter's storage (nothing is copied).
    Var<T> on(Tape<T>& tape) { return tape.variable(value, grad); }
    /// Sets the gradient to zero (optimizers do it after each step).
    void zero_grad() { grad.setZero(); }
    /// The number of entries, rows·cols.
    Index size() const { return value.size(); }
};

/// A parameter with its dotted name, e.g. "encoder.fc1.weight".
template <class T>
struct NamedParameter {
    std::string name;     ///< dotted, as torch's named_parameters() gives it
    Parameter<T>* param;  ///< not owned: the module holding the parameter must outlive the list
};

/// All parameters of a model in a fixed order, like torch's `named_parameters()`.
template <class T>
using ParameterList = std::vector<NamedParameter<T>>;

/// Whether every entry of `m` is finite, at the speed of a vectorized sum: a NaN or an infinity anywhere makes the
/// sum non-finite, and only then (or when finite values overflow the sum) are the entries looked at one by one.
/// Eigen's allFinite alone costs about as much as an optimizer step over the same values.
template <class T>
bool all_finite(const Matrix<T>& m) {
    return std::isfinite(m.sum()) || m.allFinite();
}

/// The name of the first parameter (in list order) whose gradient holds a NaN or an infinity.
template <class T>
std::optional<std::string> first_non_finite_gradient(const ParameterList<T>& params) {
    for (const auto& p : params)
        if (!all_finite(p.param->grad)) return p.name;
    return std::nullopt;
}

/// The name of the first parameter whose value holds a NaN or an infinity.
template <class T>
std::optional<std::string> first_non_finite_value(const ParameterList<T>& params) {
    for (const auto& p : params)
        if (!all_finite(p.param->value)) return p.name;
    return std::nullopt;
}

}  // namespace vaelet
