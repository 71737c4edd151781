#include "../allocation_counter.hpp"
#include "vaelet/core/ops.hpp"
#include "vaelet/core/random.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

using namespace vaelet;

// Counts heap allocations while `counting` is set (allocation_counter.hpp): this test program's operator new.
// Replacing the global operator new is the one portable way to see every allocation that Eigen and the standard
// library make.
using testing::allocations;
using testing::counting;

// GCC cannot see that these deletes pair with the malloc-based news just above, and says so.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t size) {
    if (counting) ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
// The nothrow forms too (std::stable_sort uses them), so every new pairs with our delete under ASan.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    if (counting) ++allocations;
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

/// A small VAE-shaped network touching every op family: linear layers, activations, broadcasting, slicing,
/// the fused losses and reductions. Returns the loss.
template <class T>
Var<T> small_network(Tape<T>& tape, const Matrix<T>& x_data, const Matrix<T>& eps_data, std::vector<Matrix<T>>& w,
                     std::vector<Matrix<T>>& g) {
    auto x = tape.constant(x_data);
    auto eps = tape.constant(eps_data);
    auto W1 = tape.variable(w[0], g[0]);
    auto b1 = tape.variable(w[1], g[1]);
    auto W2 = tape.variable(w[2], g[2]);
    auto b2 = tape.variable(w[3], g[3]);
    auto W3 = tape.variable(w[4], g[4]);
    auto b3 = tape.variable(w[5], g[5]);
    auto h = relu(linear(x, W1, b1));
    auto stats = linear(h, W2, b2);
    auto mu = slice_cols(stats, 0, 3);
    auto logvar = slice_cols(stats, 3, 3);
    auto z = mu + exp(logvar * T(0.5)) * eps;
    auto logits = linear(tanh(z), W3, b3);
    auto recon = sum_per_row(bce_with_logits(logits, x));
    auto kl = sum_per_row(gaussian_kl(mu, logvar));
    auto extra = mean(log_softmax_per_row(concat_cols(sigmoid(mu), softplus(logvar)))) +
                 mean(log_sum_exp_per_row(leaky_relu(logits))) + sum(sqrt(square(b1) + T(1))) * T(1e-3) +
                 mean(mean_per_col(log(exp(h) + T(1)))) + sum(sum_per_col(clamp_min(kl, T(0.1)) / T(2)));
    return mean(recon + kl) + extra - mean(b3 * T(0));  // the last term broadcasts a row and a scalar
}

}  // namespace

TEST_CASE_TEMPLATE("a warmed-up forward and backward makes no heap allocation", T, float, double) {
    Rng rng(7);
    Matrix<T> x(16, 8), eps(16, 3);
    rng.fill_uniform(x, 0.0, 1.0);
    rng.fill_normal(eps);
    std::vector<std::pair<Index, Index>> shapes = {{10, 8}, {1, 10}, {6, 10}, {1, 6}, {8, 3}, {1, 8}};
    std::vector<Matrix<T>> w, g;
    for (auto [r, c] : shapes) {
        w.emplace_back(r, c);
        rng.fill_uniform(w.back(), -0.5, 0.5);
        g.push_back(Matrix<T>::Zero(r, c));
    }
    Tape<T> tape;
    counting = true;  // the cold first step must allocate, which shows that the counter sees Eigen's allocations
    tape.backward(small_network(tape, x, eps, w, g));
    counting = false;
    CHECK(allocations.load() > 0);
    for (int warmup = 0; warmup < 2; ++warmup) {
        tape.reset();
        tape.backward(small_network(tape, x, eps, w, g));
    }
    allocations = 0;
    counting = true;
    tape.reset();
    auto loss = small_network(tape, x, eps, w, g);
    tape.backward(loss);
    counting = false;
    CHECK(allocations.load() == 0);
    CHECK(std::isfinite(loss.item()));
}

TEST_CASE_TEMPLATE("reset keeps the nodes, and backward twice accumulates into variables", T, float, double) {
    Matrix<T> w = Matrix<T>::Constant(2, 2, T(3));
    Matrix<T> g = Matrix<T>::Zero(2, 2);
    Tape<T> tape;
    auto loss = sum(tape.variable(w, g) * T(2));
    CHECK(tape.size() == 3);
    tape.backward(loss);
    tape.backward(loss);
    CHECK(g(1, 1) == doctest::Approx(4.0));
    tape.reset();
    CHECK(tape.size() == 0);
    g.setZero();
    tape.backward(sum(square(tape.variable(w, g))));
    CHECK(g(0, 1) == doctest::Approx(6.0));
}

TEST_CASE_TEMPLATE("backward from an intermediate scalar and gradients of unreached nodes", T, float, double) {
    Matrix<T> a = Matrix<T>::Constant(1, 3, T(2));
    Matrix<T> ga = Matrix<T>::Zero(1, 3);
    Tape<T> tape;
    auto x = tape.variable(a, ga);
    auto s1 = sum(x * x);           // d/dx = 2x = 4
    auto s2 = sum(exp(x));
    tape.backward(s1);
    CHECK(ga(0, 0) == doctest::Approx(4.0));
    CHECK(s2.grad()(0, 0) == doctest::Approx(0.0));  // nothing flowed through s2
    auto c = tape.constant(a);
    CHECK_FALSE(c.requires_grad());
    CHECK((c * x).requires_grad());
}

TEST_CASE_TEMPLATE("NoGrad evaluates the same values and records no gradient rule", T, float, double) {
    Matrix<T> w = Matrix<T>::Constant(2, 3, T(0.5));
    Matrix<T> g = Matrix<T>::Zero(2, 3);
    Tape<T> tape;
    T with_grad = sum(tanh(tape.variable(w, g))).item();
    Var<T> inferred;
    {
        NoGrad<T> guard(tape);
        CHECK_FALSE(tape.grad_enabled());
        inferred = sum(tanh(tape.variable(w, g)));
    }
    CHECK(tape.grad_enabled());
    CHECK(inferred.item() == with_grad);
    CHECK_FALSE(inferred.requires_grad());
    tape.backward(inferred);  // allowed, and nothing reaches the variable
    CHECK(g.isZero());
}

TEST_CASE("variables need a gradient buffer of their own shape, and tapes don't mix") {
    Matrix<double> w(2, 2), g(3, 2);
    Tape<double> tape, other;
    CHECK_THROWS_WITH_AS(tape.variable(w, g), doctest::Contains("3x2"), shape_error);
    auto a = tape.constant(Matrix<double>::Ones(1, 1));
    auto b = other.constant(Matrix<double>::Ones(1, 1));
    CHECK_THROWS_AS(a + b, vaelet::error);
    CHECK_THROWS_AS(other.backward(a), vaelet::error);
}

TEST_CASE_TEMPLATE("a stale or empty Var is an error naming the op and never another node's value" * doctest::test_suite("misuse"), T,
                   float, double) {
    Tape<T> tape;
    const Var<T> x = tape.constant(Matrix<T>::Constant(2, 2, T(10)));
    const Var<T> y = relu(x);
    CHECK(y.value()(0, 0) == T(10));
    tape.reset();
    const Var<T> other = tape.constant(Matrix<T>::Constant(3, 3, T(0.37)));  // takes x's node
    CHECK_THROWS_WITH_AS(x.value(), doctest::Contains("used after its tape's reset()"), vaelet::error);
    CHECK_THROWS_WITH_AS(x.item(), doctest::Contains("reset()"), vaelet::error);
    CHECK_THROWS_WITH_AS(y.grad(), doctest::Contains("reset()"), vaelet::error);
    CHECK_THROWS_WITH_AS(x + other, doctest::Contains("add: operand 0 was recorded before the tape's reset()"),
                         vaelet::error);
    CHECK_THROWS_WITH_AS(sum(x), doctest::Contains("sum: operand 0"), vaelet::error);
    CHECK_THROWS_WITH_AS(matmul(other, x), doctest::Contains("matmul: operand 1"), vaelet::error);
    CHECK_THROWS_WITH_AS(slice_cols(x, 0, 1), doctest::Contains("slice_cols: operand 0"), vaelet::error);
    CHECK_NOTHROW(tape.backward(sum(other)));  // the current step works as ever
    const int before = tape.size();
    CHECK_THROWS_AS(mul(other, x), vaelet::error);
    CHECK(tape.size() == before);  // a refused op records nothing

    Var<T> empty;
    CHECK(empty.empty());
    CHECK_THROWS_WITH_AS(empty.value(), doctest::Contains("empty Var"), vaelet::error);
    CHECK_THROWS_WITH_AS(exp(empty), doctest::Contains("exp: operand 0 is an empty Var"), vaelet::error);
    CHECK_THROWS_WITH_AS(other * empty, doctest::Contains("mul: operand 1 is an empty Var"), vaelet::error);
    CHECK_THROWS_WITH_AS(tape.backward(empty), doctest::Contains("empty Var"), vaelet::error);

    const Var<T> loss = sum(other);
    tape.reset();
    CHECK_THROWS_WITH_AS(tape.backward(loss), doctest::Contains("backward: the loss was recorded before"),
                         vaelet::error);
}

namespace {

/// A user's op: cube(a) = a³, with its rule beside it, named "cube" (not borrowing a built-in op's label).
template <class T>
Var<T> cube(const Var<T>& a) {
    Tape<T>& t = a.tape("cube");
    Node<T>& n = t.push_custom("cube", {a}, [](Tape<T>& t, Node<T>& n) {
        t.accumulate(n.parents[0], (T(3) * n.grad.array() * t.value(n.parents[0]).array().square()).matrix());
    });
    n.value = a.value().array().cube().matrix();
    return t.last();
}

}  // namespace

TEST_CASE_TEMPLATE("a custom op is a node of its own kind that carries its name into errors" *
                       doctest::test_suite("misuse"),
                   T, float, double) {
    Tape<T> tape;
    Matrix<T> w = Matrix<T>::Constant(1, 2, T(2)), dw = Matrix<T>::Zero(1, 2);
    const Var<T> c = cube(tape.variable(w, dw));
    CHECK(tape.node(c.index()).op == Op::custom);
    CHECK(std::string(tape.node(c.index()).name()) == "cube");
    CHECK(c.value()(0, 1) == T(8));
    tape.backward(sum(c));
    CHECK(dw(0, 0) == T(12));

    tape.reset();
    CHECK_THROWS_WITH_AS(cube(c), doctest::Contains("cube: operand 0 was recorded before the tape's reset()"),
                         vaelet::error);
    CHECK_THROWS_WITH_AS(cube(Var<T>()), doctest::Contains("cube: operand 0 is an empty Var"), vaelet::error);
    const Var<T> x = tape.constant(Matrix<T>::Ones(1, 1));
    CHECK_THROWS_WITH_AS(tape.push_custom("four", {x, x, x, x}, nullptr), doctest::Contains("four: a custom op takes at most 3"),
                         vaelet::error);
}

TEST_CASE("a tape that grows past its bound without reset() warns once through the warning handler" *
          doctest::test_suite("misuse")) {
    std::vector<std::string> warnings;
    const WarningHandler previous = set_warning_handler([&](const std::string& m) { warnings.push_back(m); });
    Tape<float> tape;
    tape.set_size_warning(100);
    const Var<float> x = tape.constant(Matrix<float>::Ones(1, 1));
    for (int step = 0; step < 60; ++step) sum(x * x);  // a loop that forgets tape.reset()
    CHECK(tape.size() == 121);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("100 nodes recorded without reset()") != std::string::npos);
    CHECK(warnings[0].find("set_size_warning") != std::string::npos);

    Tape<float> looped;  // a loop that resets stays quiet whatever the number of steps
    looped.set_size_warning(100);
    for (int step = 0; step < 200; ++step) {
        looped.reset();
        const Var<float> y = looped.constant(Matrix<float>::Ones(1, 1));
        sum(y * y);
    }
    CHECK(warnings.size() == 1);
    set_warning_handler(nullptr);  // an empty handler silences warnings
    Tape<float> quiet;
    quiet.set_size_warning(10);
    for (int step = 0; step < 10; ++step) quiet.constant(Matrix<float>::Ones(1, 1));
    CHECK(warnings.size() == 1);
    set_warning_handler(previous);
}
