/// \file
/// vaelet/core/ops.hpp — the op set. Each op computes its value and, right beside it, records its gradient rule.
///
///     auto h = vaelet::relu(vaelet::linear(x, W, b));           // x·Wᵀ + b, then max(·, 0)
///     auto loss = vaelet::mean(vaelet::sum_per_row(vaelet::bce_with_logits(logits, x)));
///     tape.backward(loss);
///
/// Conventions:
///  * Elementwise binary ops broadcast: each operand is r×c, 1×c (a row, repeated over the batch), r×1 (a column,
///    repeated over the features) or 1×1. The gradient of a broadcast operand is summed back to its shape.
///  * A gradient rule reads the node's own value/gradient and its parents' values (all still on the tape) and
///    adds to the parents' gradients with `Tape::accumulate`, so a node used twice receives both contributions.
///  * Rules are plain functions (capture-less lambdas), so recording an op allocates nothing.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/tape.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

namespace vaelet {

/// ½·log 2π, the constant of every Gaussian log-density (likelihoods, priors, the posterior in IWAE).
inline constexpr double half_log_2pi = 0.91893853320467274178;

namespace detail {

template <class T>
using Scalar = typename std::common_type<T>::type;  // keeps a scalar argument out of template deduction

template <class T>
[[noreturn]] void throw_shapes(Op op, const Matrix<T>& a, const Matrix<T>& b, const char* why) {
    throw shape_error(std::string(op_name(op)) + ": shapes " + shape_string(a) + " and " + shape_string(b) + " " +
                      why);
}

/// The shape two operands broadcast to; each dimension must match or be 1 on one side.
template <class T>
void broadcast_shape(Op op, const Matrix<T>& a, const Matrix<T>& b, Index& rows, Index& cols) {
    auto fits = [](Index x, Index y) { return x == y || x == 1 || y == 1; };
    if (!fits(a.rows(), b.rows()) || !fits(a.cols(), b.cols()))
        throw_shapes(op, a, b, "do not broadcast (each dimension must match or be 1)");
    rows = std::max(a.rows(), b.rows());
    cols = std::max(a.cols(), b.cols());
}

/// Writes `m` (1×cols, rows×1 or 1×1) repeated to rows×cols into `out`.
template <class T>
void expand_into(const Matrix<T>& m, Index rows, Index cols, Matrix<T>& out) {
    out.resize(rows, cols);
    if (m.rows() == 1 && m.cols() == cols)
        out.rowwise() = m.row(0);
    else if (m.cols() == 1 && m.rows() == rows)
        out.colwise() = m.col(0);
    else
        out.setConstant(m(0, 0));
}

/// Calls `f(x, y)` with `a` and `b` as arrays of their common shape. When one operand already has that shape,
/// the other is expanded into `scratch` (a node buffer, so no allocation once warmed up) and both are read
/// straight, which Eigen vectorizes; only a row against a column goes through replicate.
template <class T, class F>
void with_broadcast(Op op, const Matrix<T>& a, const Matrix<T>& b, Matrix<T>& scratch, F&& f) {
    if (a.rows() == b.rows() && a.cols() == b.cols()) {
        f(a.array(), b.array());
        return;
    }
    Index rows = 0, cols = 0;
    broadcast_shape(op, a, b, rows, cols);
    if (a.rows() == rows && a.cols() == cols) {
        expand_into(b, rows, cols, scratch);
        f(a.array(), scratch.array());
    } else if (b.rows() == rows && b.cols() == cols) {
        expand_into(a, rows, cols, scratch);
        f(scratch.array(), b.array());
    } else {
        f(a.replicate(rows / a.rows(), cols / a.cols()).array(), b.replicate(rows / b.rows(), cols / b.cols()).array());
    }
}

/// Adds the gradient `g` (of the broadcast shape) to node `i`, summed over the dimensions `i` was repeated along.
template <class T, class Derived>
void accumulate_reduced(Tape<T>& t, int i, const Eigen::ArrayBase<Derived>& g) {
    const Node<T>& n = t.node(i);
    if (!n.requires_grad) return;
    const Matrix<T>& v = n.val();
    if (v.rows() == g.rows() && v.cols() == g.cols())
        t.accumulate(i, g.matrix());
    else if (v.rows() == 1 && v.cols() == g.cols())
        t.accumulate(i, g.matrix().colwise().sum());
    else if (v.cols() == 1 && v.rows() == g.rows())
        t.accumulate(i, g.matrix().rowwise().sum());
    else
        t.accumulate(i, Matrix<T>::Constant(1, 1, g.sum()));
}

template <class T>
void require_same_shape(Op op, const Matrix<T>& a, const Matrix<T>& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) throw_shapes(op, a, b, "must be equal");
}

}  // namespace detail

// ---- elementwise arithmetic (broadcasting) ---------------------------------------------------------------------

/// a + b elementwise, broadcasting (a row, a column or a 1×1 against a matrix); throws shape_error when the
/// shapes do not broadcast.
template <class T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
    Tape<T>& t = a.tape(Op::add);
    Node<T>& n = t.push(Op::add, {a, b}, [](Tape<T>& t, Node<T>& n) {
        detail::accumulate_reduced(t, n.parents[0], n.grad.array());
        detail::accumulate_reduced(t, n.parents[1], n.grad.array());
    });
    detail::with_broadcast(Op::add, a.value(), b.value(), n.saved, [&](const auto& x, const auto& y) { n.value = (x + y).matrix(); });
    return t.last();
}

/// a − b elementwise, broadcasting as `add`.
template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
    Tape<T>& t = a.tape(Op::sub);
    Node<T>& n = t.push(Op::sub, {a, b}, [](Tape<T>& t, Node<T>& n) {
        detail::accumulate_reduced(t, n.parents[0], n.grad.array());
        detail::accumulate_reduced(t, n.parents[1], -n.grad.array());
    });
    detail::with_broadcast(Op::sub, a.value(), b.value(), n.saved, [&](const auto& x, const auto& y) { n.value = (x - y).matrix(); });
    return t.last();
}

/// a ⊙ b, the elementwise product, broadcasting as `add` (for the matrix product see `matmul`).
template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
    Tape<T>& t = a.tape(Op::mul);
    Node<T>& n = t.push(Op::mul, {a, b}, [](Tape<T>& t, Node<T>& n) {
        detail::with_broadcast(Op::mul, t.value(n.parents[0]), t.value(n.parents[1]), n.saved, [&](const auto& x, const auto& y) {
            detail::accumulate_reduced(t, n.parents[0], n.grad.array() * y);
            detail::accumulate_reduced(t, n.parents[1], n.grad.array() * x);
        });
    });
    detail::with_broadcast(Op::mul, a.value(), b.value(), n.saved, [&](const auto& x, const auto& y) { n.value = (x * y).matrix(); });
    return t.last();
}

/// a / b elementwise, broadcasting as `add`. A zero in b gives inf or NaN, as plain division does.
template <class T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
    Tape<T>& t = a.tape(Op::div);
    Node<T>& n = t.push(Op::div, {a, b}, [](Tape<T>& t, Node<T>& n) {
        detail::with_broadcast(Op::div, t.value(n.parents[0]), t.value(n.parents[1]), n.saved, [&](const auto& x, const auto& y) {
            detail::accumulate_reduced(t, n.parents[0], n.grad.array() / y);
            detail::accumulate_reduced(t, n.parents[1], -n.grad.array() * x / y.square());
        });
    });
    detail::with_broadcast(Op::div, a.value(), b.value(), n.saved, [&](const auto& x, const auto& y) { n.value = (x / y).matrix(); });
    return t.last();
}

/// a + s
template <class T>
Var<T> add_scalar(const Var<T>& a, detail::Scalar<T> s) {
    Tape<T>& t = a.tape(Op::add_scalar);
    Node<T>& n = t.push(Op::add_scalar, {a}, [](Tape<T>& t, Node<T>& n) { t.accumulate(n.parents[0], n.grad); });
    n.scalar = s;  // for the record (the ONNX export reads it); the gradient does not need it
    n.value = (a.value().array() + s).matrix();
    return t.last();
}

/// a · s
template <class T>
Var<T> mul_scalar(const Var<T>& a, detail::Scalar<T> s) {
    Tape<T>& t = a.tape(Op::mul_scalar);
    Node<T>& n = t.push(Op::mul_scalar, {a}, [](Tape<T>& t, Node<T>& n) { t.accumulate(n.parents[0], n.scalar * n.grad); });
    n.scalar = s;
    n.value = s * a.value();
    return t.last();
}

/// s / a
template <class T>
Var<T> scalar_div(detail::Scalar<T> s, const Var<T>& a) {
    Tape<T>& t = a.tape(Op::scalar_div);
    Node<T>& n = t.push(Op::scalar_div, {a}, [](Tape<T>& t, Node<T>& n) {
        // d(s/a)/da = −s/a² = −value/a
        t.accumulate(n.parents[0], (-n.grad.array() * n.value.array() / t.value(n.parents[0]).array()).matrix());
    });
    n.scalar = s;  // for the record, as add_scalar's
    n.value = (s / a.value().array()).matrix();
    return t.last();
}

/// −a
template <class T>
Var<T> neg(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::neg);
    Node<T>& n = t.push(Op::neg, {a}, [](Tape<T>& t, Node<T>& n) { t.accumulate(n.parents[0], -n.grad); });
    n.value = -a.value();
    return t.last();
}

/// add(a, b): elementwise, broadcasting.
template <class T> Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }
/// sub(a, b): elementwise, broadcasting.
template <class T> Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
/// mul(a, b): elementwise, broadcasting; not the matrix product (`matmul`).
template <class T> Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
/// div(a, b): elementwise, broadcasting.
template <class T> Var<T> operator/(const Var<T>& a, const Var<T>& b) { return div(a, b); }
/// neg(a)
template <class T> Var<T> operator-(const Var<T>& a) { return neg(a); }
/// a + s, s a plain number: add_scalar(a, s).
template <class T> Var<T> operator+(const Var<T>& a, detail::Scalar<T> s) { return add_scalar(a, s); }
/// s + a: add_scalar(a, s).
template <class T> Var<T> operator+(detail::Scalar<T> s, const Var<T>& a) { return add_scalar(a, s); }
/// a − s: add_scalar(a, −s).
template <class T> Var<T> operator-(const Var<T>& a, detail::Scalar<T> s) { return add_scalar(a, -s); }
/// s − a: add_scalar(−a, s).
template <class T> Var<T> operator-(detail::Scalar<T> s, const Var<T>& a) { return add_scalar(neg(a), s); }
/// a · s: mul_scalar(a, s).
template <class T> Var<T> operator*(const Var<T>& a, detail::Scalar<T> s) { return mul_scalar(a, s); }
/// s · a: mul_scalar(a, s).
template <class T> Var<T> operator*(detail::Scalar<T> s, const Var<T>& a) { return mul_scalar(a, s); }
/// a / s: mul_scalar(a, 1/s).
template <class T> Var<T> operator/(const Var<T>& a, detail::Scalar<T> s) { return mul_scalar(a, T(1) / s); }
/// s / a elementwise: scalar_div(s, a).
template <class T> Var<T> operator/(detail::Scalar<T> s, const Var<T>& a) { return scalar_div(s, a); }

// ---- matrix products ---------------------------------------------------------------------------------------------

/// a·b for a (n×k) and b (k×m).
template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b) {
    Tape<T>& t = a.tape(Op::matmul);
    t.check_operands(Op::matmul, {a, b});
    if (a.cols() != b.rows()) detail::throw_shapes(Op::matmul, a.value(), b.value(), "do not multiply (a.cols must equal b.rows)");
    Node<T>& n = t.push(Op::matmul, {a, b}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], n.grad * t.value(n.parents[1]).transpose());
        t.accumulate(n.parents[1], t.value(n.parents[0]).transpose() * n.grad);
    });
    n.value.noalias() = a.value() * b.value();
    return t.last();
}

/// x·Wᵀ + b, the fused affine layer: x is n×in, W is out×in (PyTorch's layout), b is 1×out.
template <class T>
Var<T> linear(const Var<T>& x, const Var<T>& W, const Var<T>& b) {
    Tape<T>& t = x.tape(Op::linear);
    t.check_operands(Op::linear, {x, W, b});
    if (x.cols() != W.cols())
        detail::throw_shapes(Op::linear, x.value(), W.value(), "do not fit x·Wᵀ (x.cols must equal W.cols)");
    if (b.rows() != 1 || b.cols() != W.rows())
        detail::throw_shapes(Op::linear, W.value(), b.value(), "do not fit: the bias must be 1×W.rows");
    Node<T>& n = t.push(Op::linear, {x, W, b}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], n.grad * t.value(n.parents[1]));
        t.accumulate(n.parents[1], n.grad.transpose() * t.value(n.parents[0]));
        t.accumulate(n.parents[2], n.grad.colwise().sum());
    });
    n.value.noalias() = x.value() * W.value().transpose();
    n.value.rowwise() += b.value().row(0);
    return t.last();
}

// ---- elementwise functions ---------------------------------------------------------------------------------------

/// max(a, 0) elementwise.
template <class T>
Var<T> relu(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::relu);
    Node<T>& n = t.push(Op::relu, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (n.value.array() > T(0)).select(n.grad.array(), T(0)).matrix());
    });
    n.value = a.value().cwiseMax(T(0));
    return t.last();
}

/// a where a > 0, alpha·a elsewhere.
template <class T>
Var<T> leaky_relu(const Var<T>& a, detail::Scalar<T> alpha = T(0.01)) {
    Tape<T>& t = a.tape(Op::leaky_relu);
    Node<T>& n = t.push(Op::leaky_relu, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (t.value(n.parents[0]).array() > T(0)).select(n.grad.array(), n.scalar * n.grad.array()).matrix());
    });
    n.scalar = alpha;
    n.value = (a.value().array() > T(0)).select(a.value().array(), alpha * a.value().array()).matrix();
    return t.last();
}

/// tanh(a) elementwise.
template <class T>
Var<T> tanh(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::tanh);
    Node<T>& n = t.push(Op::tanh, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (n.grad.array() * (T(1) - n.value.array().square())).matrix());
    });
    n.value = a.value().array().tanh().matrix();
    return t.last();
}

/// 1 / (1 + e^−a) elementwise. For a Bernoulli likelihood use `bce_with_logits` on the logits instead: it is stable.
template <class T>
Var<T> sigmoid(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::sigmoid);
    Node<T>& n = t.push(Op::sigmoid, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (n.grad.array() * n.value.array() * (T(1) - n.value.array())).matrix());
    });
    n.value = (T(1) / (T(1) + (-a.value().array()).exp())).matrix();
    return t.last();
}

/// log(1 + eᵃ), computed as max(a, 0) + log1p(e^−|a|) so that it neither overflows nor loses small values.
template <class T>
Var<T> softplus(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::softplus);
    Node<T>& n = t.push(Op::softplus, {a}, [](Tape<T>& t, Node<T>& n) {
        const auto x = t.value(n.parents[0]).array();
        t.accumulate(n.parents[0], (n.grad.array() / (T(1) + (-x).exp())).matrix());
    });
    const auto x = a.value().array();
    n.value = (x.max(T(0)) + (-x.abs()).exp().log1p()).matrix();
    return t.last();
}

/// eᵃ elementwise (σ = exp(½·log σ²) in the sampler).
template <class T>
Var<T> exp(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::exp);
    Node<T>& n = t.push(Op::exp, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (n.grad.array() * n.value.array()).matrix());
    });
    n.value = a.value().array().exp().matrix();
    return t.last();
}

/// log a elementwise; a must be positive (0 gives −inf, a negative entry NaN; nothing is checked).
template <class T>
Var<T> log(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::log);
    Node<T>& n = t.push(Op::log, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (n.grad.array() / t.value(n.parents[0]).array()).matrix());
    });
    n.value = a.value().array().log().matrix();
    return t.last();
}

/// √a elementwise; a ≥ 0. The gradient is infinite at 0.
template <class T>
Var<T> sqrt(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::sqrt);
    Node<T>& n = t.push(Op::sqrt, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (T(0.5) * n.grad.array() / n.value.array()).matrix());
    });
    n.value = a.value().array().sqrt().matrix();
    return t.last();
}

/// a² elementwise.
template <class T>
Var<T> square(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::square);
    Node<T>& n = t.push(Op::square, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (T(2) * n.grad.array() * t.value(n.parents[0]).array()).matrix());
    });
    n.value = a.value().array().square().matrix();
    return t.last();
}

/// max(a, floor) elementwise; the gradient passes where a > floor. Free bits use it as a KL floor.
template <class T>
Var<T> clamp_min(const Var<T>& a, detail::Scalar<T> floor) {
    Tape<T>& t = a.tape(Op::clamp_min);
    Node<T>& n = t.push(Op::clamp_min, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (t.value(n.parents[0]).array() > n.scalar).select(n.grad.array(), T(0)).matrix());
    });
    n.scalar = floor;
    n.value = a.value().cwiseMax(floor);
    return t.last();
}

// ---- reductions ----------------------------------------------------------------------------------------------------

/// The sum of all entries, 1×1.
template <class T>
Var<T> sum(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::sum);
    Node<T>& n = t.push(Op::sum, {a}, [](Tape<T>& t, Node<T>& n) {
        const Matrix<T>& x = t.value(n.parents[0]);
        t.accumulate(n.parents[0], Matrix<T>::Constant(x.rows(), x.cols(), n.grad(0, 0)));
    });
    n.value.resize(1, 1);
    n.value(0, 0) = a.value().sum();
    return t.last();
}

/// The mean of all entries, 1×1.
template <class T>
Var<T> mean(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::mean);
    Node<T>& n = t.push(Op::mean, {a}, [](Tape<T>& t, Node<T>& n) {
        const Matrix<T>& x = t.value(n.parents[0]);
        t.accumulate(n.parents[0], Matrix<T>::Constant(x.rows(), x.cols(), n.grad(0, 0) / T(x.size())));
    });
    n.value.resize(1, 1);
    n.value(0, 0) = a.value().mean();
    return t.last();
}

/// The sum of each row (over the features): r×c → r×1, e.g. a per-example loss.
template <class T>
Var<T> sum_per_row(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::sum_per_row);
    Node<T>& n = t.push(Op::sum_per_row, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], n.grad.replicate(1, t.value(n.parents[0]).cols()));
    });
    n.value = a.value().rowwise().sum();
    return t.last();
}

/// The mean of each row: r×c → r×1.
template <class T>
Var<T> mean_per_row(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::mean_per_row);
    Node<T>& n = t.push(Op::mean_per_row, {a}, [](Tape<T>& t, Node<T>& n) {
        const Index cols = t.value(n.parents[0]).cols();
        t.accumulate(n.parents[0], (n.grad / T(cols)).replicate(1, cols));
    });
    n.value = a.value().rowwise().mean();
    return t.last();
}

/// The sum of each column (over the batch): r×c → 1×c.
template <class T>
Var<T> sum_per_col(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::sum_per_col);
    Node<T>& n = t.push(Op::sum_per_col, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], n.grad.replicate(t.value(n.parents[0]).rows(), 1));
    });
    n.value = a.value().colwise().sum();
    return t.last();
}

/// The mean of each column: r×c → 1×c.
template <class T>
Var<T> mean_per_col(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::mean_per_col);
    Node<T>& n = t.push(Op::mean_per_col, {a}, [](Tape<T>& t, Node<T>& n) {
        const Index rows = t.value(n.parents[0]).rows();
        t.accumulate(n.parents[0], (n.grad / T(rows)).replicate(rows, 1));
    });
    n.value = a.value().colwise().mean();
    return t.last();
}

namespace detail {

/// Writes the softmax of row i of x into row i of `softmax` and returns the row's log Σ exp, shifting by the
/// row maximum so that nothing overflows. A row that is all −∞ gets −∞ and a zero softmax.
template <class T>
T softmax_row(const Matrix<T>& x, Index i, Matrix<T>& softmax) {
    const T m = x.row(i).maxCoeff();
    if (m == -std::numeric_limits<T>::infinity()) {
        softmax.row(i).setZero();
        return m;
    }
    softmax.row(i) = (x.row(i).array() - m).exp().matrix();
    const T total = softmax.row(i).sum();
    softmax.row(i) /= total;
    return m + std::log(total);
}

}  // namespace detail

/// log Σⱼ exp(a_ij) for each row: r×c → r×1, stable. Its gradient is the row's softmax.
template <class T>
Var<T> log_sum_exp_per_row(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::log_sum_exp_per_row);
    Node<T>& n = t.push(Op::log_sum_exp_per_row, {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (n.saved.array().colwise() * n.grad.col(0).array()).matrix());
    });
    const Matrix<T>& x = a.value();
    n.saved.resize(x.rows(), x.cols());
    n.value.resize(x.rows(), 1);
    for (Index i = 0; i < x.rows(); ++i) n.value(i, 0) = detail::softmax_row(x, i, n.saved);
    return t.last();
}

/// a_ij − log Σⱼ exp(a_ij) for each row, stable.
template <class T>
Var<T> log_softmax_per_row(const Var<T>& a) {
    Tape<T>& t = a.tape(Op::log_softmax_per_row);
    Node<T>& n = t.push(Op::log_softmax_per_row, {a}, [](Tape<T>& t, Node<T>& n) {
        // g − softmax · Σⱼ g_ij
        t.accumulate(n.parents[0],
                     (n.grad.array() - n.saved.array().colwise() * n.grad.array().rowwise().sum()).matrix());
    });
    const Matrix<T>& x = a.value();
    n.saved.resize(x.rows(), x.cols());
    n.value.resize(x.rows(), x.cols());
    for (Index i = 0; i < x.rows(); ++i) n.value.row(i) = x.row(i).array() - detail::softmax_row(x, i, n.saved);
    return t.last();
}

// ---- fused losses --------------------------------------------------------------------------------------------------

/// Binary cross-entropy of targets x ∈ [0, 1] given logits l, elementwise, in nats:
/// −[x·log σ(l) + (1−x)·log(1−σ(l))] = max(l, 0) − l·x + log1p(e^−|l|), which never takes the log of 0.
/// ∂/∂l = σ(l) − x and ∂/∂x = −l.
template <class T>
Var<T> bce_with_logits(const Var<T>& logits, const Var<T>& x) {
    Tape<T>& t = logits.tape(Op::bce_with_logits);
    t.check_operands(Op::bce_with_logits, {logits, x});
    detail::require_same_shape(Op::bce_with_logits, logits.value(), x.value());
    Node<T>& n = t.push(Op::bce_with_logits, {logits, x}, [](Tape<T>& t, Node<T>& n) {
        const auto l = t.value(n.parents[0]).array();
        const auto target = t.value(n.parents[1]).array();
        t.accumulate(n.parents[0], (n.grad.array() * (T(1) / (T(1) + (-l).exp()) - target)).matrix());
        t.accumulate(n.parents[1], (-n.grad.array() * l).matrix());
    });
    const auto l = logits.value().array();
    n.value = (l.max(T(0)) - l * x.value().array() + (-l.abs()).exp().log1p()).matrix();
    return t.last();
}

/// Σ over the columns of bce_with_logits(logits, x), one value per row of the logits, without the elementwise
/// matrix: the Bernoulli likelihood's −log p(x|z) in one pass forward and one back. `x` may also have fewer rows,
/// one per block of k = logits.rows() / x.rows() consecutive rows of logits (the k samples of one example, laid
/// out as repeat_rows lays them), so importance sampling never copies the data k times.
template <class T>
Var<T> bce_with_logits_per_row(const Var<T>& logits, const Var<T>& x) {
    Tape<T>& t = logits.tape(Op::bce_with_logits_per_row);
    t.check_operands(Op::bce_with_logits_per_row, {logits, x});
    const Matrix<T>& l = logits.value();
    const Matrix<T>& target = x.value();
    if (l.cols() != target.cols() || target.rows() == 0 || l.rows() % target.rows() != 0)
        detail::throw_shapes(Op::bce_with_logits_per_row, l, target,
                             "do not fit: the targets need the logits' columns, and a number of rows that divides "
                             "the logits' rows (one target row per block of samples)");
    Node<T>& n = t.push(Op::bce_with_logits_per_row, {logits, x}, [](Tape<T>& t, Node<T>& n) {
        const Matrix<T>& l = t.value(n.parents[0]);
        const Matrix<T>& target = t.value(n.parents[1]);
        const Index k = l.rows() / target.rows();
        for (Index r = 0; r < l.rows(); ++r) {  // ∂/∂l = g·(σ(l) − x), ∂/∂x = −g·l
            const T g = n.grad(r, 0);
            t.accumulate_rows(n.parents[0], r,
                              (g * (T(1) / (T(1) + (-l.row(r).array()).exp()) - target.row(r / k).array())).matrix());
            t.accumulate_rows(n.parents[1], r / k, -g * l.row(r));
        }
    });
    const Index k = l.rows() / target.rows();
    n.value.resize(l.rows(), 1);
    for (Index r = 0; r < l.rows(); ++r) {  // as bce_with_logits, summed
        const auto lr = l.row(r).array();
        n.value(r, 0) = (lr.max(T(0)) - lr * target.row(r / k).array() + (-lr.abs()).exp().log1p()).sum();
    }
    return t.last();
}

/// KL(N(μ, σ²) ‖ N(0, 1)) elementwise, in closed form: −½(1 + log σ² − μ² − σ²)
/// (Kingma & Welling 2014, Appendix B). Sum over columns for the per-example KL of a diagonal Gaussian.
template <class T>
Var<T> gaussian_kl(const Var<T>& mu, const Var<T>& logvar) {
    Tape<T>& t = mu.tape(Op::gaussian_kl);
    t.check_operands(Op::gaussian_kl, {mu, logvar});
    detail::require_same_shape(Op::gaussian_kl, mu.value(), logvar.value());
    Node<T>& n = t.push(Op::gaussian_kl, {mu, logvar}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (n.grad.array() * t.value(n.parents[0]).array()).matrix());
        t.accumulate(n.parents[1], (T(0.5) * n.grad.array() * (t.value(n.parents[1]).array().exp() - T(1))).matrix());
    });
    const auto m = mu.value().array();
    const auto lv = logvar.value().array();
    n.value = (T(-0.5) * (T(1) + lv - m.square() - lv.exp())).matrix();
    return t.last();
}

// ---- column slicing and joining ----------------------------------------------------------------------------------

/// Columns [start, start + count) of a.
template <class T>
Var<T> slice_cols(const Var<T>& a, Index start, Index count) {
    Tape<T>& t = a.tape(Op::slice_cols);
    t.check_operands(Op::slice_cols, {a});
    if (start < 0 || count < 0 || start + count > a.cols())
        throw shape_error("slice_cols: columns [" + std::to_string(start) + ", " + std::to_string(start + count) +
                          ") are outside a " + shape_string(a.value()) + " operand");
    Node<T>& n = t.push(Op::slice_cols, {a}, [](Tape<T>& t, Node<T>& n) { t.accumulate_cols(n.parents[0], n.start, n.grad); });
    n.start = start;
    n.value = a.value().middleCols(start, count);
    return t.last();
}

/// [a b]: the columns of a followed by those of b (same number of rows).
template <class T>
Var<T> concat_cols(const Var<T>& a, const Var<T>& b) {
    Tape<T>& t = a.tape(Op::concat_cols);
    t.check_operands(Op::concat_cols, {a, b});
    if (a.rows() != b.rows()) detail::throw_shapes(Op::concat_cols, a.value(), b.value(), "need the same number of rows");
    Node<T>& n = t.push(Op::concat_cols, {a, b}, [](Tape<T>& t, Node<T>& n) {
        const Index left = t.value(n.parents[0]).cols();
        t.accumulate(n.parents[0], n.grad.leftCols(left));
        t.accumulate(n.parents[1], n.grad.rightCols(n.grad.cols() - left));
    });
    n.value.resize(a.rows(), a.cols() + b.cols());
    n.value.leftCols(a.cols()) = a.value();
    n.value.rightCols(b.cols()) = b.value();
    return t.last();
}

// ---- reshaping -----------------------------------------------------------------------------------------------------

/// Each row of a repeated `times` times in place: rows i·times … i·times + times − 1 of the result are row i of a.
/// Importance sampling uses it to draw k latent samples per example in one batch.
template <class T>
Var<T> repeat_rows(const Var<T>& a, Index times) {
    if (times < 1) throw shape_error("repeat_rows: times must be at least 1, got " + std::to_string(times));
    Tape<T>& t = a.tape(Op::repeat_rows);
    Node<T>& n = t.push(Op::repeat_rows, {a}, [](Tape<T>& t, Node<T>& n) {
        const Index times = n.start;
        const Index rows = t.value(n.parents[0]).rows(), cols = n.grad.cols();
        // Row-major, so the `times` copies of row i are one contiguous times × cols block: sum its rows.
        using Block = Eigen::Map<const Matrix<T>>;
        for (Index i = 0; i < rows; ++i)
            t.accumulate_rows(n.parents[0], i, Block(n.grad.data() + i * times * cols, times, cols).colwise().sum());
    });
    n.start = times;
    const Matrix<T>& x = a.value();
    n.value.resize(x.rows() * times, x.cols());
    for (Index i = 0; i < x.rows(); ++i) n.value.middleRows(i * times, times) = x.row(i).replicate(times, 1);
    return t.last();
}

/// The same entries in row-major order as a rows×cols matrix, e.g. (n·k)×1 log-weights as n×k.
template <class T>
Var<T> reshape(const Var<T>& a, Index rows, Index cols) {
    Tape<T>& t = a.tape(Op::reshape);
    t.check_operands(Op::reshape, {a});
    if (rows < 0 || cols < 0 || rows * cols != a.value().size())
        throw shape_error("reshape: cannot view " + shape_string(a.value()) + " as " + shape_string(rows, cols));
    Node<T>& n = t.push(Op::reshape, {a}, [](Tape<T>& t, Node<T>& n) {
        const Matrix<T>& x = t.value(n.parents[0]);
        t.accumulate(n.parents[0], Eigen::Map<const Matrix<T>>(n.grad.data(), x.rows(), x.cols()));
    });
    n.value = Eigen::Map<const Matrix<T>>(a.value().data(), rows, cols);
    return t.last();
}

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_OPS_TEMPLATES(prefix, T) \
    prefix template Var<T> add<T>(const Var<T>&, const Var<T>&);                   \
    prefix template Var<T> sub<T>(const Var<T>&, const Var<T>&);                   \
    prefix template Var<T> mul<T>(const Var<T>&, const Var<T>&);                   \
    prefix template Var<T> div<T>(const Var<T>&, const Var<T>&);                   \
    prefix template Var<T> matmul<T>(const Var<T>&, const Var<T>&);                \
    prefix template Var<T> bce_with_logits<T>(const Var<T>&, const Var<T>&);       \
    prefix template Var<T> bce_with_logits_per_row<T>(const Var<T>&, const Var<T>&); \
    prefix template Var<T> gaussian_kl<T>(const Var<T>&, const Var<T>&);           \
    prefix template Var<T> concat_cols<T>(const Var<T>&, const Var<T>&);           \
    prefix template Var<T> add_scalar<T>(const Var<T>&, T);                        \
    prefix template Var<T> mul_scalar<T>(const Var<T>&, T);                        \
    prefix template Var<T> scalar_div<T>(T, const Var<T>&);                        \
    prefix template Var<T> linear<T>(const Var<T>&, const Var<T>&, const Var<T>&); \
    prefix template Var<T> leaky_relu<T>(const Var<T>&, T);                        \
    prefix template Var<T> clamp_min<T>(const Var<T>&, T);                         \
    prefix template Var<T> neg<T>(const Var<T>&);                                  \
    prefix template Var<T> relu<T>(const Var<T>&);                                 \
    prefix template Var<T> tanh<T>(const Var<T>&);                                 \
    prefix template Var<T> sigmoid<T>(const Var<T>&);                              \
    prefix template Var<T> softplus<T>(const Var<T>&);                             \
    prefix template Var<T> exp<T>(const Var<T>&);                                  \
    prefix template Var<T> log<T>(const Var<T>&);                                  \
    prefix template Var<T> sqrt<T>(const Var<T>&);                                 \
    prefix template Var<T> square<T>(const Var<T>&);                               \
    prefix template Var<T> sum<T>(const Var<T>&);                                  \
    prefix template Var<T> mean<T>(const Var<T>&);                                 \
    prefix template Var<T> sum_per_row<T>(const Var<T>&);                          \
    prefix template Var<T> mean_per_row<T>(const Var<T>&);                         \
    prefix template Var<T> sum_per_col<T>(const Var<T>&);                          \
    prefix template Var<T> mean_per_col<T>(const Var<T>&);                         \
    prefix template Var<T> log_sum_exp_per_row<T>(const Var<T>&);                  \
    prefix template Var<T> log_softmax_per_row<T>(const Var<T>&);                  \
    prefix template Var<T> slice_cols<T>(const Var<T>&, Index, Index);             \
    prefix template Var<T> repeat_rows<T>(const Var<T>&, Index);                   \
    prefix template Var<T> reshape<T>(const Var<T>&, Index, Index);
VAELET_EXTERN_TEMPLATES(VAELET_OPS_TEMPLATES)

}  // namespace vaelet
