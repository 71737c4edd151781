#include "op_checks.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace vaelet;
using vaelet::testing::away_from_zero;
using vaelet::testing::check_op;
using vaelet::testing::random_matrix;

namespace {

// 1×1, non-square both ways, and a wide one.
const std::vector<std::pair<Index, Index>> shapes = {{1, 1}, {3, 5}, {4, 2}, {2, 7}};

template <class T>
using In = const std::vector<Var<T>>&;

std::string shape_name(const char* op, Index r, Index c) { return std::string(op) + " " + shape_string(r, c); }

}  // namespace

template <class T>
void check_binary_ops() {
    for (auto [r, c] : shapes) {
        const auto a = random_matrix<T>(r, c, 1);
        const auto pos = random_matrix<T>(r, c, 2, 0.5, 2.0);
        // b as r×c, a row 1×c, a column r×1 and a scalar 1×1; also broadcast on the left.
        const std::vector<std::pair<Index, Index>> b_shapes = {{r, c}, {1, c}, {r, 1}, {1, 1}};
        for (auto [br, bc] : b_shapes) {
            const auto b = random_matrix<T>(br, bc, 3, 0.5, 2.0);
            const std::string s = shape_string(r, c) + " with " + shape_string(br, bc);
            check_op<T>("add " + s, [](Tape<T>&, In<T> x) { return x[0] + x[1]; }, {a, b});
            check_op<T>("add left " + s, [](Tape<T>&, In<T> x) { return x[1] + x[0]; }, {a, b});
            check_op<T>("sub " + s, [](Tape<T>&, In<T> x) { return x[0] - x[1]; }, {a, b});
            check_op<T>("sub left " + s, [](Tape<T>&, In<T> x) { return x[1] - x[0]; }, {a, b});
            check_op<T>("mul " + s, [](Tape<T>&, In<T> x) { return x[0] * x[1]; }, {a, b});
            check_op<T>("mul left " + s, [](Tape<T>&, In<T> x) { return x[1] * x[0]; }, {a, b});
            check_op<T>("div " + s, [](Tape<T>&, In<T> x) { return x[0] / x[1]; }, {a, b});
            check_op<T>("div left " + s, [](Tape<T>&, In<T> x) { return x[1] / x[0]; }, {b, pos});
        }
    }
}

template <class T>
void check_scalar_ops() {
    for (auto [r, c] : shapes) {
        const auto a = random_matrix<T>(r, c, 4);
        const auto pos = random_matrix<T>(r, c, 5, 0.5, 2.0);
        check_op<T>(shape_name("add_scalar", r, c), [](Tape<T>&, In<T> x) { return x[0] + T(1.5); }, {a});
        check_op<T>(shape_name("add_scalar left", r, c), [](Tape<T>&, In<T> x) { return T(1.5) + x[0]; }, {a});
        check_op<T>(shape_name("sub scalar", r, c), [](Tape<T>&, In<T> x) { return x[0] - T(0.5); }, {a});
        check_op<T>(shape_name("scalar sub", r, c), [](Tape<T>&, In<T> x) { return T(0.5) - x[0]; }, {a});
        check_op<T>(shape_name("mul_scalar", r, c), [](Tape<T>&, In<T> x) { return x[0] * T(-2.5); }, {a});
        check_op<T>(shape_name("mul_scalar left", r, c), [](Tape<T>&, In<T> x) { return T(3) * x[0]; }, {a});
        check_op<T>(shape_name("divide by scalar", r, c), [](Tape<T>&, In<T> x) { return x[0] / T(4); }, {a});
        check_op<T>(shape_name("scalar_div", r, c), [](Tape<T>&, In<T> x) { return T(2) / x[0]; }, {pos});
        check_op<T>(shape_name("neg", r, c), [](Tape<T>&, In<T> x) { return -x[0]; }, {a});
    }
}

template <class T>
void check_products() {
    const std::vector<std::vector<Index>> dims = {{1, 1, 1}, {3, 4, 2}, {2, 5, 6}, {5, 1, 3}};
    for (const auto& d : dims) {
        const Index n = d[0], k = d[1], m = d[2];
        const std::string s = std::to_string(n) + "x" + std::to_string(k) + "x" + std::to_string(m);
        check_op<T>("matmul " + s, [](Tape<T>&, In<T> x) { return matmul(x[0], x[1]); },
                    {random_matrix<T>(n, k, 6), random_matrix<T>(k, m, 7)});
        check_op<T>("linear " + s, [](Tape<T>&, In<T> x) { return linear(x[0], x[1], x[2]); },
                    {random_matrix<T>(n, k, 8), random_matrix<T>(m, k, 9), random_matrix<T>(1, m, 10)});
    }
}

template <class T>
void check_elementwise_functions() {
    for (auto [r, c] : shapes) {
        const auto a = random_matrix<T>(r, c, 11, -2.0, 2.0);
        const auto kinked = away_from_zero<T>(r, c, 12);
        const auto pos = random_matrix<T>(r, c, 13, 0.5, 3.0);
        check_op<T>(shape_name("relu", r, c), [](Tape<T>&, In<T> x) { return relu(x[0]); }, {kinked});
        check_op<T>(shape_name("leaky_relu", r, c), [](Tape<T>&, In<T> x) { return leaky_relu(x[0], T(0.2)); }, {kinked});
        check_op<T>(shape_name("tanh", r, c), [](Tape<T>&, In<T> x) { return tanh(x[0]); }, {a});
        check_op<T>(shape_name("sigmoid", r, c), [](Tape<T>&, In<T> x) { return sigmoid(x[0]); }, {a});
        check_op<T>(shape_name("softplus", r, c), [](Tape<T>&, In<T> x) { return softplus(x[0]); }, {a});
        check_op<T>(shape_name("exp", r, c), [](Tape<T>&, In<T> x) { return exp(x[0]); }, {a});
        check_op<T>(shape_name("log", r, c), [](Tape<T>&, In<T> x) { return log(x[0]); }, {pos});
        check_op<T>(shape_name("sqrt", r, c), [](Tape<T>&, In<T> x) { return sqrt(x[0]); }, {pos});
        check_op<T>(shape_name("square", r, c), [](Tape<T>&, In<T> x) { return square(x[0]); }, {a});
        check_op<T>(shape_name("clamp_min", r, c), [](Tape<T>&, In<T> x) { return clamp_min(x[0], T(0.05)); }, {kinked});
    }
}

template <class T>
void check_reductions() {
    for (auto [r, c] : shapes) {
        const auto a = random_matrix<T>(r, c, 14, -3.0, 3.0);
        check_op<T>(shape_name("sum", r, c), [](Tape<T>&, In<T> x) { return sum(x[0]); }, {a});
        check_op<T>(shape_name("mean", r, c), [](Tape<T>&, In<T> x) { return mean(x[0]); }, {a});
        check_op<T>(shape_name("sum_per_row", r, c), [](Tape<T>&, In<T> x) { return sum_per_row(x[0]); }, {a});
        check_op<T>(shape_name("mean_per_row", r, c), [](Tape<T>&, In<T> x) { return mean_per_row(x[0]); }, {a});
        check_op<T>(shape_name("sum_per_col", r, c), [](Tape<T>&, In<T> x) { return sum_per_col(x[0]); }, {a});
        check_op<T>(shape_name("mean_per_col", r, c), [](Tape<T>&, In<T> x) { return mean_per_col(x[0]); }, {a});
        check_op<T>(shape_name("log_sum_exp_per_row", r, c), [](Tape<T>&, In<T> x) { return log_sum_exp_per_row(x[0]); }, {a});
        check_op<T>(shape_name("log_softmax_per_row", r, c), [](Tape<T>&, In<T> x) { return log_softmax_per_row(x[0]); }, {a});
    }
}

template <class T>
void check_fused_losses() {
    for (auto [r, c] : shapes) {
        const auto logits = random_matrix<T>(r, c, 15, -4.0, 4.0);
        const auto targets = random_matrix<T>(r, c, 16, 0.0, 1.0);
        check_op<T>(shape_name("bce_with_logits", r, c), [](Tape<T>&, In<T> x) { return bce_with_logits(x[0], x[1]); },
                    {logits, targets});
        check_op<T>(shape_name("bce_with_logits_per_row", r, c),
                    [](Tape<T>&, In<T> x) { return bce_with_logits_per_row(x[0], x[1]); }, {logits, targets});
        check_op<T>(shape_name("bce_with_logits_per_row, 3 logit rows per target row", 3 * r, c),
                    [](Tape<T>&, In<T> x) { return bce_with_logits_per_row(x[0], x[1]); },
                    {random_matrix<T>(3 * r, c, 19, -4.0, 4.0), targets});
        check_op<T>(shape_name("gaussian_kl", r, c), [](Tape<T>&, In<T> x) { return gaussian_kl(x[0], x[1]); },
                    {random_matrix<T>(r, c, 17, -2.0, 2.0), random_matrix<T>(r, c, 18, -2.0, 1.0)});
    }
}

template <class T>
void check_columns() {
    const auto a = random_matrix<T>(3, 6, 19);
    const auto b = random_matrix<T>(3, 2, 20);
    check_op<T>("slice_cols middle", [](Tape<T>&, In<T> x) { return slice_cols(x[0], 2, 3); }, {a});
    check_op<T>("slice_cols first", [](Tape<T>&, In<T> x) { return slice_cols(x[0], 0, 1); }, {a});
    check_op<T>("slice_cols two slices of one input", [](Tape<T>&, In<T> x) {
        return slice_cols(x[0], 0, 3) * slice_cols(x[0], 3, 3);
    }, {a});
    check_op<T>("concat_cols", [](Tape<T>&, In<T> x) { return concat_cols(x[0], x[1]); }, {a, b});
    check_op<T>("concat_cols 1x1", [](Tape<T>&, In<T> x) { return concat_cols(x[0], x[1]); },
                {random_matrix<T>(1, 1, 21), random_matrix<T>(1, 1, 22)});
}

template <class T>
void check_reshaping() {
    const auto a = random_matrix<T>(3, 4, 24);
    check_op<T>("repeat_rows 3", [](Tape<T>&, In<T> x) { return repeat_rows(x[0], 3); }, {a});
    check_op<T>("repeat_rows 1", [](Tape<T>&, In<T> x) { return repeat_rows(x[0], 1); }, {a});
    check_op<T>("repeat_rows 1x1", [](Tape<T>&, In<T> x) { return repeat_rows(x[0], 4); }, {random_matrix<T>(1, 1, 25)});
    check_op<T>("reshape 3x4 to 2x6", [](Tape<T>&, In<T> x) { return reshape(x[0], 2, 6); }, {a});
    check_op<T>("reshape to a column", [](Tape<T>&, In<T> x) { return reshape(x[0], 12, 1); }, {a});
}

TEST_CASE_TEMPLATE("elementwise binary ops: same shapes and every broadcast", T, float, double) { check_binary_ops<T>(); }
TEST_CASE_TEMPLATE("scalar arithmetic and negation", T, float, double) { check_scalar_ops<T>(); }
TEST_CASE_TEMPLATE("matmul and the fused linear layer", T, float, double) { check_products<T>(); }
TEST_CASE_TEMPLATE("elementwise functions", T, float, double) { check_elementwise_functions<T>(); }
TEST_CASE_TEMPLATE("reductions", T, float, double) { check_reductions<T>(); }
TEST_CASE_TEMPLATE("fused losses", T, float, double) { check_fused_losses<T>(); }
TEST_CASE_TEMPLATE("column slices and concatenation", T, float, double) { check_columns<T>(); }

TEST_CASE_TEMPLATE("repeat_rows and reshape", T, float, double) { check_reshaping<T>(); }

TEST_CASE_TEMPLATE("fan-out: a node used several times receives the sum of its gradients", T, float, double) {
    const auto a = random_matrix<T>(3, 4, 23);
    check_op<T>("x*x + x", [](Tape<T>&, In<T> x) { return x[0] * x[0] + x[0]; }, {a});
    check_op<T>("shared hidden layer", [](Tape<T>&, In<T> x) {
        auto h = tanh(x[0]);
        return concat_cols(exp(h), h * h);
    }, {a});

    Tape<T> tape;
    Matrix<T> grad = Matrix<T>::Zero(3, 4);
    auto x = tape.variable(a, grad);
    tape.backward(sum(x * x + x));
    const Matrix<T> expected = (T(2) * a.array() + T(1)).matrix();
    CHECK(grad.isApprox(expected, T(1e-5)));
}

TEST_CASE("every op on the tape has a gradient check") {
    // ctest runs each case in its own process, so run every check here (in double) and see which ops they cover.
    check_binary_ops<double>();
    check_scalar_ops<double>();
    check_products<double>();
    check_elementwise_functions<double>();
    check_reductions<double>();
    check_fused_losses<double>();
    check_columns<double>();
    check_reshaping<double>();
    for (auto checks : vaelet::testing::other_op_checks()) checks();
    using vaelet::testing::checked_ops;
    std::vector<std::string> missing;
    for (int k = 0; k < static_cast<int>(Op::count_); ++k) {
        const Op op = static_cast<Op>(k);
        // leaves have no rule; Op::custom is the kind of users' own ops (tests/core/test_tape.cpp, examples/03)
        if (!checked_ops().count(op) && op != Op::constant && op != Op::variable && op != Op::custom)
            missing.push_back(op_name(op));
    }
    std::string list;
    for (const auto& m : missing) list += m + " ";
    INFO("ops without a gradient check: " << list);
    CHECK(missing.empty());
}

TEST_CASE_TEMPLATE("shape errors name the op and both shapes", T, float, double) {
    Tape<T> tape;
    auto a = tape.constant(Matrix<T>::Ones(3, 4));
    auto b = tape.constant(Matrix<T>::Ones(2, 4));
    auto w = tape.constant(Matrix<T>::Ones(5, 3));
    auto bias = tape.constant(Matrix<T>::Ones(1, 4));
    CHECK_THROWS_WITH_AS(a + b, doctest::Contains("add: shapes 3x4 and 2x4"), shape_error);
    CHECK_THROWS_WITH_AS(a * b, doctest::Contains("mul: shapes 3x4 and 2x4"), shape_error);
    CHECK_THROWS_WITH_AS(matmul(a, a), doctest::Contains("matmul: shapes 3x4 and 3x4"), shape_error);
    CHECK_THROWS_WITH_AS(linear(a, w, bias), doctest::Contains("linear: shapes 3x4 and 5x3"), shape_error);
    CHECK_THROWS_WITH_AS(bce_with_logits(a, b), doctest::Contains("bce_with_logits: shapes 3x4 and 2x4"), shape_error);
    CHECK_THROWS_WITH_AS(gaussian_kl(a, b), doctest::Contains("gaussian_kl"), shape_error);
    CHECK_THROWS_WITH_AS(concat_cols(a, b), doctest::Contains("concat_cols: shapes 3x4 and 2x4"), shape_error);
    CHECK_THROWS_WITH_AS(slice_cols(a, 2, 3), doctest::Contains("slice_cols"), shape_error);
    CHECK_THROWS_WITH_AS(tape.backward(a), doctest::Contains("1x1"), shape_error);
    CHECK_THROWS_AS(a.item(), shape_error);
    CHECK_THROWS_WITH_AS(reshape(a, 5, 2), doctest::Contains("reshape: cannot view 3x4 as 5x2"), shape_error);
    CHECK_THROWS_AS(repeat_rows(a, 0), shape_error);
    // bce_with_logits_per_row's targets: the logits' columns, and a number of rows that divides the logits' rows.
    CHECK_THROWS_WITH_AS(bce_with_logits_per_row(a, tape.constant(Matrix<T>::Zero(2, 4))),
                         doctest::Contains("bce_with_logits_per_row: shapes 3x4 and 2x4 do not fit"), shape_error);
    CHECK_THROWS_AS(bce_with_logits_per_row(a, tape.constant(Matrix<T>::Zero(1, 3))), shape_error);
    // A shape_error is a vaelet::error.
    CHECK_THROWS_AS(a - b, vaelet::error);
}

TEST_CASE_TEMPLATE("forward values match their definitions, including extreme inputs", T, float, double) {
    Tape<T> tape;
    Matrix<T> l(1, 4);
    l << T(-100), T(-1), T(0), T(100);
    Matrix<T> x(1, 4);
    x << T(0), T(1), T(0.5), T(1);
    auto bce = bce_with_logits(tape.constant(l), tape.constant(x)).value();
    CHECK(bce(0, 0) == doctest::Approx(0.0).epsilon(1e-6));          // σ(−100) ≈ 0, target 0
    CHECK(bce(0, 1) == doctest::Approx(std::log1p(std::exp(1.0))).epsilon(1e-5));
    CHECK(bce(0, 2) == doctest::Approx(std::log(2.0)).epsilon(1e-5));
    CHECK(bce(0, 3) == doctest::Approx(0.0).epsilon(1e-6));
    // The fused per-row sum is the sum of these, also with each target row serving two logit rows.
    const Matrix<T> two_rows = l.replicate(2, 1);
    auto per_row = bce_with_logits_per_row(tape.constant(two_rows), tape.constant(x)).value();
    REQUIRE(per_row.rows() == 2);
    CHECK(per_row(0, 0) == doctest::Approx(double(bce.sum())).epsilon(1e-6));
    CHECK(per_row(1, 0) == doctest::Approx(double(bce.sum())).epsilon(1e-6));
    auto sp = softplus(tape.constant(l)).value();
    CHECK(sp(0, 3) == doctest::Approx(100.0).epsilon(1e-6));        // no overflow
    CHECK(sp(0, 0) > T(0));                                          // e^−100 survives in double, ≥ 0 in float
    Matrix<T> big(1, 3);
    big << T(1000), T(1000), T(1000);
    auto lse = log_sum_exp_per_row(tape.constant(big)).value();
    CHECK(lse(0, 0) == doctest::Approx(1000.0 + std::log(3.0)).epsilon(1e-6));
    auto ls = log_softmax_per_row(tape.constant(big)).value();
    CHECK(ls(0, 1) == doctest::Approx(-std::log(3.0)).epsilon(1e-5));
    Matrix<T> mu(1, 1), lv(1, 1);
    mu << T(0.5);
    lv << T(std::log(2.0));
    auto kl = gaussian_kl(tape.constant(mu), tape.constant(lv)).value();
    // KL(N(0.5, 2) ‖ N(0, 1)) = ½(σ² + μ² − 1 − log σ²)
    CHECK(kl(0, 0) == doctest::Approx(0.5 * (2.0 + 0.25 - 1.0 - std::log(2.0))).epsilon(1e-6));
}
