/// \file
/// vaelet/core/tape.hpp — the reverse-mode tape: one node per matrix op, kept in an arena.
///
///     vaelet::Tape<float> tape;
///     auto x = tape.constant(batch);                 // a leaf that needs no gradient
///     auto w = tape.variable(W, dW);                 // a leaf that points at a parameter's storage
///     auto loss = vaelet::sum(vaelet::square(vaelet::matmul(x, w)));
///     tape.backward(loss);                           // dW += ∂loss/∂W
///     tape.reset();                                  // next step reuses every node's buffers
///
/// Why an arena: `reset()` forgets the nodes but keeps them, buffers and all, so the next step that builds
/// the same graph resizes each node's matrices to the size they already have and allocates nothing.
/// Nodes live in a std::deque so that references to them stay valid while new nodes are pushed.
/// `backward()` walks the nodes in reverse creation order, which is already topological: no recursion, no sort.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <deque>

/// \namespace vaelet
/// Everything public in vaelet: the tape, layers, optimizers, VAEs, data, I/O, training; `detail` is internal.
namespace vaelet {

/// Every op the tape knows. `op_name` gives the name used in errors; tests check each one's gradient.
/// `custom` is the kind of every op written outside the library (Tape::push_custom): its node carries its own name.
enum class Op {
    constant, variable,
    add, sub, mul, div, add_scalar, mul_scalar, scalar_div, neg,
    matmul, linear,
    relu, leaky_relu, tanh, sigmoid, softplus, exp, log, sqrt, square, clamp_min,
    sum, mean, sum_per_row, mean_per_row, sum_per_col, mean_per_col,
    log_sum_exp_per_row, log_softmax_per_row,
    bce_with_logits, bce_with_logits_per_row, gaussian_kl,
    slice_cols, concat_cols, repeat_rows, reshape,
    conv2d, conv_transpose2d,
    custom,
    count_  ///< not an op: the number of ops
};

/// The op's name as errors and the NaN guard print it ("matmul", "bce_with_logits", ...).
inline const char* op_name(Op op) {
    static constexpr std::array<const char*, static_cast<std::size_t>(Op::count_)> names = {
        "constant", "variable",
        "add", "sub", "mul", "div", "add_scalar", "mul_scalar", "scalar_div", "neg",
        "matmul", "linear",
        "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "exp", "log", "sqrt", "square", "clamp_min",
        "sum", "mean", "sum_per_row", "mean_per_row", "sum_per_col", "mean_per_col",
        "log_sum_exp_per_row", "log_softmax_per_row",
        "bce_with_logits", "bce_with_logits_per_row", "gaussian_kl",
        "slice_cols", "concat_cols", "repeat_rows", "reshape",
        "conv2d", "conv_transpose2d",
        "custom"};
    return names[static_cast<std::size_t>(op)];
}

template <class T>
class Tape;

/// One recorded op: its value, its gradient (sized only when a gradient reaches it) and the rule that
/// sends the gradient to its parents. Parameters' nodes point at the parameter's own value and gradient.
template <class T>
struct Node {
    /// A gradient rule: reads this node's gradient and its parents' values, adds to the parents' gradients with
    /// Tape::accumulate. A plain function pointer, so recording it allocates nothing.
    using Backward = void (*)(Tape<T>&, Node&);

    Op op = Op::constant;          ///< which op made the node
    Matrix<T> value;               ///< the op's output (unused by variables, which point at `external_value`)
    Matrix<T> grad;                ///< ∂loss/∂value, valid when `has_grad`
    Matrix<T> saved;               ///< whatever the forward keeps for the backward (a mask, a softmax, ...)
    std::array<Matrix<T>, 3> work; ///< more buffers for an op that needs them (a convolution's GEMM operands)
    const Matrix<T>* external_value = nullptr;  ///< a variable's value, read in place (the parameter's storage)
    Matrix<T>* external_grad = nullptr;         ///< a variable's gradient, accumulated in place
    std::array<int, 3> parents{{-1, -1, -1}};   ///< tape indices of the operands; -1 for none
    T scalar = T(0);               ///< the op's constant (alpha, the scalar operand, ...)
    Index start = 0;               ///< slice start column
    std::array<Index, 8> sizes{};  ///< more integer settings (a convolution's channels, sizes, kernel, stride, padding)
    Backward backward = nullptr;   ///< the gradient rule; null for leaves and for nodes that need no gradient
    std::string custom_name;       ///< a custom op's name (kept between steps, so setting it again allocates nothing)
    bool requires_grad = false;    ///< needs a gradient: depends on a variable, recorded with gradients on
    bool has_grad = false;         ///< `grad` holds this backward pass's gradient

    /// The value: a variable's own storage, else `value`.
    const Matrix<T>& val() const { return external_value ? *external_value : value; }
    /// The op's name for errors: a custom op's own, else op_name(op).
    const char* name() const { return op == Op::custom ? custom_name.c_str() : op_name(op); }
};

/// A handle to a value on a tape. Cheap to copy; valid until the tape's next `reset()`. Using a handle after that
/// reset, or a default-constructed one, throws vaelet::error (ops name themselves): a stale handle would otherwise
/// read whatever node took its place.
template <class T>
class Var {
public:
    using Scalar = T;  ///< the element type, float or double

    /// An empty handle; any use throws until it is assigned an op's result.
    Var() = default;
    /// The handle of node `index` of `tape`, current for the tape's present step. Ops make these (Tape::last).
    Var(Tape<T>* tape, int index);

    /// The value, rows = batch, cols = features.
    const Matrix<T>& value() const { return checked().node(index_).val(); }
    /// ∂loss/∂this after `backward`; a zero matrix of the right shape when no gradient reached it.
    const Matrix<T>& grad() const { return checked().grad(index_); }
    Index rows() const { return value().rows(); }  ///< rows of the value (the batch)
    Index cols() const { return value().cols(); }  ///< columns of the value (the features)
    /// The single entry of a 1×1 value.
    T item() const;
    /// True when a gradient will reach this value: it depends on a variable and was recorded with gradients on.
    bool requires_grad() const { return checked().node(index_).requires_grad; }

    /// The tape it was recorded on (also for a handle gone stale, so that an op can name itself in the error).
    Tape<T>& tape() const {
        if (!tape_) throw error("an empty Var (default-constructed) was used; give it the result of an op first");
        return *tape_;
    }
    /// The same, for an op about to use this handle as its first operand: an empty handle's error names the op.
    Tape<T>& tape(const char* op) const {
        if (!tape_)
            throw error(std::string(op) + ": operand 0 is an empty Var (default-constructed); give it the result of "
                        "an op first");
        return *tape_;
    }
    /// The same, naming the op by its kind.
    Tape<T>& tape(Op op) const { return tape(op_name(op)); }
    /// The node's index on its tape; throws vaelet::error for an empty or stale handle.
    int index() const {
        checked();
        return index_;
    }
    /// False for a default-constructed handle.
    bool empty() const { return tape_ == nullptr; }
    /// The tape's reset count when this was recorded: the handle is current while the tape's is the same.
    std::uint64_t generation() const { return generation_; }

private:
    Tape<T>& checked() const;

    Tape<T>* tape_ = nullptr;
    int index_ = -1;
    std::uint64_t generation_ = 0;
};

/// The record of one step's ops, for reverse-mode differentiation: leaves (`constant`, `variable`) and ops append
/// nodes, `backward` sends the loss's gradient back through them, `reset` starts the next step on the same buffers.
/// Not copyable (Vars point at their tape).
template <class T>
class Tape {
public:
    Tape() = default;                       ///< an empty tape, gradients on
    Tape(const Tape&) = delete;             ///< not copyable: Vars point at their tape
    Tape& operator=(const Tape&) = delete;  ///< not copyable: Vars point at their tape

    /// A leaf that needs no gradient; the data are copied into a reused node buffer.
    template <class Derived>
    Var<T> constant(const Eigen::MatrixBase<Derived>& data) {
        Node<T>& n = push(Op::constant);
        n.value = data;
        return last();
    }

    /// A leaf that reads `value` in place and accumulates its gradient into `grad` (same shape as `value`).
    /// The caller zeroes `grad` between steps, as with PyTorch's `zero_grad()`.
    Var<T> variable(const Matrix<T>& value, Matrix<T>& grad) {
        if (grad.rows() != value.rows() || grad.cols() != value.cols())
            throw shape_error("variable: gradient buffer is " + shape_string(grad) + " but the value is " +
                              shape_string(value) + "; size the gradient like the value");
        Node<T>& n = push(Op::variable);
        n.external_value = &value;
        n.external_grad = &grad;
        n.requires_grad = grad_enabled_;
        return last();
    }

    /// Sends d(loss)/d(loss) = 1 back through every node that `loss` depends on. `loss` must be 1×1.
    /// Intermediate gradients are recomputed each call; variables' gradients accumulate.
    void backward(const Var<T>& loss) {
        if (&loss.tape() != this) throw error("backward: the loss was recorded on a different tape");
        if (loss.generation() != generation_)
            throw error("backward: the loss was recorded before the tape's reset(), so it no longer exists");
        if (loss.rows() != 1 || loss.cols() != 1)
            throw shape_error("backward: the loss must be 1x1 but is " + shape_string(loss.value()) +
                              "; reduce it first, e.g. with sum() or mean()");
        const int top = loss.index();
        for (int i = 0; i <= top; ++i) nodes_[static_cast<std::size_t>(i)].has_grad = false;
        accumulate(top, Matrix<T>::Ones(1, 1));
        for (int i = top; i >= 0; --i) {
            Node<T>& n = nodes_[static_cast<std::size_t>(i)];
            if (n.has_grad && n.backward) n.backward(*this, n);
        }
    }

    /// Forgets all nodes but keeps their buffers for the next step; every Var recorded so far goes stale.
    void reset() {
        size_ = 0;
        ++generation_;
    }
    /// How many times the tape has been reset (Vars carry the value of their step).
    std::uint64_t generation() const { return generation_; }

    /// Number of nodes recorded since the last reset.
    int size() const { return size_; }

    /// A tape that reaches this many nodes without a reset() warns once (see vaelet::warn): a loop that forgets
    /// reset() grows without bound (1.4 GB after 3,000 steps of the MNIST VAE). Raise it for a graph this large.
    static constexpr int default_size_warning = 50000;
    /// Sets the node count at which the tape warns (default_size_warning).
    void set_size_warning(int nodes) { size_warning_ = nodes; }

    /// While false (see `NoGrad`), new nodes record no gradient rule and keep nothing for a backward pass.
    bool grad_enabled() const { return grad_enabled_; }
    /// Turns gradient recording on or off; prefer the `NoGrad` guard, which restores the previous setting.
    void set_grad_enabled(bool on) { grad_enabled_ = on; }

    /// \name Used by ops
    /// The pieces an op (the library's or your own, docs/extending.md) records itself with. Indices are not checked.
    /// @{

    /// Node `i` of this step.
    Node<T>& node(int i) { return nodes_[static_cast<std::size_t>(i)]; }
    /// Node `i` of this step.
    const Node<T>& node(int i) const { return nodes_[static_cast<std::size_t>(i)]; }
    /// The value of node `i` (a variable's own storage).
    const Matrix<T>& value(int i) const { return node(i).val(); }

    /// Throws vaelet::error naming `op` unless every operand is a handle of this tape's current step (not empty,
    /// not from another tape, not recorded before a reset()). push() checks; an op that reads its operands' values
    /// before it pushes checks first.
    void check_operands(Op op, std::initializer_list<Var<T>> operands) const { check_operands(op_name(op), operands); }
    /// The same, for an op named by a string (a custom op).
    void check_operands(const char* op, std::initializer_list<Var<T>> operands) const {
        int k = 0;
        for (const Var<T>& p : operands) {
            if (p.empty())
                throw error(std::string(op) + ": operand " + std::to_string(k) + " is an empty Var "
                            "(default-constructed); give it the result of an op first");
            if (&p.tape() != this)
                throw error(std::string(op) + ": operands were recorded on different tapes");
            if (p.generation() != generation_)
                throw error(std::string(op) + ": operand " + std::to_string(k) + " was recorded before the "
                            "tape's reset(), so it no longer exists; record it again in this step");
            ++k;
        }
    }

    /// Appends a node for `op` (reusing an old one and its buffers when there is one) and returns it.
    Node<T>& push(Op op) {
        if (static_cast<std::size_t>(size_) == nodes_.size()) {
            nodes_.emplace_back();
            if (size_ + 1 == size_warning_) warn_size();
        }
        Node<T>& n = nodes_[static_cast<std::size_t>(size_++)];
        n.op = op;
        n.external_value = nullptr;
        n.external_grad = nullptr;
        n.parents = {{-1, -1, -1}};
        n.scalar = T(0);
        n.start = 0;
        n.backward = nullptr;
        n.requires_grad = false;
        n.has_grad = false;
        return n;
    }

    /// Appends a node whose parents are `parents`; it needs a gradient when any parent does.
    Node<T>& push(Op op, std::initializer_list<Var<T>> parents, typename Node<T>::Backward backward) {
        check_operands(op, parents);
        return link_parents(push(op), parents, backward);
    }

    /// Appends the node of an op of your own (docs/extending.md): kind Op::custom, called `name` in errors and by
    /// the NaN guard. `backward` is a capture-less function; the op's constants go in the node (`scalar`, `saved`).
    /// At most three operands.
    Node<T>& push_custom(const char* name, std::initializer_list<Var<T>> parents, typename Node<T>::Backward backward) {
        if (parents.size() > 3)
            throw error(std::string(name) + ": a custom op takes at most 3 operands, got " +
                        std::to_string(parents.size()) + "; join some with concat_cols");
        check_operands(name, parents);
        Node<T>& n = push(Op::custom);
        n.custom_name = name;
        return link_parents(n, parents, backward);
    }

    /// A handle to the newest node.
    Var<T> last() { return Var<T>(this, size_ - 1); }

    /// Adds `g` to the gradient of node `i`: straight into a variable's own gradient, else into the node's
    /// buffer (assigned on first arrival, so nothing needs zeroing). `+=` makes fan-out right by construction.
    template <class Derived>
    void accumulate(int i, const Eigen::MatrixBase<Derived>& g) {
        Node<T>& n = node(i);
        if (!n.requires_grad) return;
        if (n.external_grad) {
            n.external_grad->noalias() += g;
        } else if (n.has_grad) {
            n.grad.noalias() += g;
        } else {
            n.grad.noalias() = g;
        }
        n.has_grad = true;
    }

    /// Adds `g` to columns [start, start + g.cols()) of node `i`'s gradient; the other columns get nothing.
    template <class Derived>
    void accumulate_cols(int i, Index start, const Eigen::MatrixBase<Derived>& g) {
        Node<T>& n = node(i);
        if (n.requires_grad) gradient_for_partial_update(n).middleCols(start, g.cols()).noalias() += g;
    }

    /// Adds the 1×cols gradient `g` to row `row` of node `i`'s gradient.
    template <class Derived>
    void accumulate_rows(int i, Index row, const Eigen::MatrixBase<Derived>& g) {
        Node<T>& n = node(i);
        if (n.requires_grad) gradient_for_partial_update(n).row(row).noalias() += g;
    }

    /// The gradient of node `i` after `backward` (zeros when none reached it).
    const Matrix<T>& grad(int i) {
        Node<T>& n = node(i);
        if (n.external_grad) return *n.external_grad;
        if (!n.has_grad) n.grad.setZero(n.val().rows(), n.val().cols());
        return n.grad;
    }
    /// @}

private:
    void warn_size() const {
        warn("tape: " + std::to_string(size_warning_) + " nodes recorded without reset() (" +
             std::to_string(generation_) + " resets so far); call tape.reset() after each step, or the tape keeps "
             "every step's nodes and grows without bound. If one graph is really this large, raise the bound with "
             "tape.set_size_warning(n)");
    }

    Node<T>& link_parents(Node<T>& n, std::initializer_list<Var<T>> parents, typename Node<T>::Backward backward) {
        int k = 0;
        for (const Var<T>& p : parents) {
            n.parents[static_cast<std::size_t>(k++)] = p.index();
            n.requires_grad = n.requires_grad || p.requires_grad();
        }
        n.requires_grad = n.requires_grad && grad_enabled_;
        if (n.requires_grad) n.backward = backward;
        return n;
    }

    /// The gradient that a block of `n`'s gradient is added into: a variable's own, or the node's buffer, zeroed
    /// on the first arrival since only part of it will be written.
    Matrix<T>& gradient_for_partial_update(Node<T>& n) {
        if (n.external_grad) return *n.external_grad;
        if (!n.has_grad) n.grad.setZero(n.val().rows(), n.val().cols());
        n.has_grad = true;
        return n.grad;
    }

    std::deque<Node<T>> nodes_;
    int size_ = 0;
    std::uint64_t generation_ = 0;
    int size_warning_ = default_size_warning;
    bool grad_enabled_ = true;
};

template <class T>
Var<T>::Var(Tape<T>* tape, int index) : tape_(tape), index_(index), generation_(tape ? tape->generation() : 0) {}

template <class T>
Tape<T>& Var<T>::checked() const {
    Tape<T>& t = tape();
    if (generation_ != t.generation())
        throw error("a Var was used after its tape's reset(), so its node no longer exists (it would read another "
                    "op's value); keep Vars only for the step they were recorded in");
    return t;
}

template <class T>
T Var<T>::item() const {
    const Matrix<T>& v = value();
    if (v.rows() != 1 || v.cols() != 1) throw shape_error("item: the value is " + shape_string(v) + ", not 1x1");
    return v(0, 0);
}

/// Turns gradient recording off for its lifetime: inference runs the same ops and records no rules.
///
///     { vaelet::NoGrad guard(tape); auto mu = encoder.mean(tape, x); }
template <class T>
class NoGrad {
public:
    /// Turns `tape`'s gradient recording off; the destructor restores what it was.
    explicit NoGrad(Tape<T>& tape) : tape_(tape), was_(tape.grad_enabled()) { tape_.set_grad_enabled(false); }
    ~NoGrad() { tape_.set_grad_enabled(was_); }  ///< restores the tape's setting from before the guard
    NoGrad(const NoGrad&) = delete;             ///< a guard is tied to its scope
    NoGrad& operator=(const NoGrad&) = delete;  ///< a guard is tied to its scope

private:
    Tape<T>& tape_;
    bool was_;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_TAPE_TEMPLATES(prefix, T) \
    prefix template class Var<T>;  \
    prefix template class Tape<T>;
VAELET_EXTERN_TEMPLATES(VAELET_TAPE_TEMPLATES)

}  // namespace vaelet
