#include "../allocation_counter.hpp"
#include "op_checks.hpp"
#include "vaelet/core/conv.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

using namespace vaelet;
using vaelet::testing::check_op;
using vaelet::testing::random_matrix;

namespace {

template <class T>
using In = const std::vector<Var<T>>&;

// {in_channels, height, width, out_channels, kernel_height, kernel_width, stride, padding}: stride 1, 2 and 3
// (larger than the kernel, so the transposed convolution leaves gaps), padding 0, 1 and 2, kernels 2 to 4,
// non-square kernels and images, one and several channels.
const std::vector<Conv2dShape> geometries = {
    {1, 5, 5, 2, 3, 3, 1, 0}, {2, 6, 7, 3, 4, 4, 2, 1}, {3, 4, 5, 2, 3, 2, 1, 1},
    {2, 7, 5, 2, 3, 3, 2, 0}, {2, 7, 8, 3, 2, 2, 3, 1}, {1, 3, 3, 2, 4, 4, 1, 2},
};

Index kernel_size(const Conv2dShape& s) { return s.kernel_height * s.kernel_width; }

/// conv2d written as its definition, one output at a time:
/// y[n, o, i, j] = b[o] + Σ_{c, ki, kj} W[o, c, ki, kj] · x[n, c, i·stride − padding + ki, j·stride − padding + kj].
template <class T>
Matrix<T> direct_conv2d(const Matrix<T>& x, const Matrix<T>& W, const Matrix<T>& b, const Conv2dShape& s) {
    const Index Ho = s.conv_height(), Wo = s.conv_width(), kh = s.kernel_height, kw = s.kernel_width;
    Matrix<T> y(x.rows(), s.out_channels * Ho * Wo);
    for (Index n = 0; n < x.rows(); ++n)
        for (Index o = 0; o < s.out_channels; ++o)
            for (Index i = 0; i < Ho; ++i)
                for (Index j = 0; j < Wo; ++j) {
                    T sum = b(0, o);
                    for (Index c = 0; c < s.in_channels; ++c)
                        for (Index ki = 0; ki < kh; ++ki)
                            for (Index kj = 0; kj < kw; ++kj) {
                                const Index row = i * s.stride - s.padding + ki, col = j * s.stride - s.padding + kj;
                                if (row < 0 || row >= s.height || col < 0 || col >= s.width) continue;
                                sum += W(o, (c * kh + ki) * kw + kj) * x(n, (c * s.height + row) * s.width + col);
                            }
                    y(n, (o * Ho + i) * Wo + j) = sum;
                }
    return y;
}

/// conv_transpose2d written as its definition: every input value x[n, c, i, j] adds W[c, o, ki, kj] times itself to
/// y[n, o, i·stride − padding + ki, j·stride − padding + kj] (where that lies inside the output), on top of b[o].
template <class T>
Matrix<T> direct_conv_transpose2d(const Matrix<T>& x, const Matrix<T>& W, const Matrix<T>& b, const Conv2dShape& s) {
    const Index Ho = s.transposed_height(), Wo = s.transposed_width(), kh = s.kernel_height, kw = s.kernel_width;
    Matrix<T> y(x.rows(), s.out_channels * Ho * Wo);
    for (Index n = 0; n < x.rows(); ++n)
        for (Index o = 0; o < s.out_channels; ++o)
            for (Index p = 0; p < Ho * Wo; ++p) y(n, o * Ho * Wo + p) = b(0, o);
    for (Index n = 0; n < x.rows(); ++n)
        for (Index c = 0; c < s.in_channels; ++c)
            for (Index i = 0; i < s.height; ++i)
                for (Index j = 0; j < s.width; ++j)
                    for (Index o = 0; o < s.out_channels; ++o)
                        for (Index ki = 0; ki < kh; ++ki)
                            for (Index kj = 0; kj < kw; ++kj) {
                                const Index row = i * s.stride - s.padding + ki, col = j * s.stride - s.padding + kj;
                                if (row < 0 || row >= Ho || col < 0 || col >= Wo) continue;
                                y(n, (o * Ho + row) * Wo + col) +=
                                    W(c, (o * kh + ki) * kw + kj) * x(n, (c * s.height + i) * s.width + j);
                            }
    return y;
}

/// Random x (batch rows), W and b for `s`: W in conv2d's layout, or conv_transpose2d's when `transposed`.
template <class T>
std::vector<Matrix<T>> conv_inputs(const Conv2dShape& s, bool transposed, Index batch, std::uint64_t seed) {
    const Index weight_rows = transposed ? s.in_channels : s.out_channels;
    const Index weight_cols = (transposed ? s.out_channels : s.in_channels) * kernel_size(s);
    return {random_matrix<T>(batch, s.in_size(), seed), random_matrix<T>(weight_rows, weight_cols, seed + 1),
            random_matrix<T>(1, s.out_channels, seed + 2)};
}

}  // namespace

template <class T>
void check_convolutions() {
    for (const Conv2dShape& s : geometries) {
        const std::string name = detail::describe(s);
        check_op<T>("conv2d " + name, [s](Tape<T>&, In<T> x) { return conv2d(x[0], x[1], x[2], s); },
                    conv_inputs<T>(s, false, 3, 31));
        check_op<T>("conv_transpose2d " + name,
                    [s](Tape<T>&, In<T> x) { return conv_transpose2d(x[0], x[1], x[2], s); },
                    conv_inputs<T>(s, true, 2, 41));
    }
    // An input used twice (fan-out through both ops) and a batch of one.
    const Conv2dShape s{2, 4, 4, 2, 3, 3, 1, 1};
    check_op<T>("conv2d of a conv2d, batch 1", [s](Tape<T>&, In<T> x) {
        return conv2d(conv2d(x[0], x[1], x[2], s), x[1], x[2], s);
    }, conv_inputs<T>(s, false, 1, 51));
    check_op<T>("conv_transpose2d of conv2d, sharing W", [](Tape<T>&, In<T> x) {
        const Conv2dShape down{2, 6, 6, 3, 4, 4, 2, 1}, up{3, 3, 3, 2, 4, 4, 2, 1};
        return conv_transpose2d(conv2d(x[0], x[1], x[2], down), x[1], x[3], up);
    }, {random_matrix<T>(2, 72, 61), random_matrix<T>(3, 32, 62), random_matrix<T>(1, 3, 63),
        random_matrix<T>(1, 2, 64)});
}

[[maybe_unused]] const bool convolutions_registered = vaelet::testing::add_op_checks(check_convolutions<double>);

TEST_CASE_TEMPLATE("conv2d and conv_transpose2d: gradient checks over strides, paddings, kernels and shapes", T,
                   float, double) {
    check_convolutions<T>();
}

TEST_CASE_TEMPLATE("conv2d and conv_transpose2d equal a direct convolution loop", T, float, double) {
    const T tolerance = std::is_same<T, float>::value ? T(1e-5) : T(1e-12);
    for (const Conv2dShape& s : geometries) {
        INFO(detail::describe(s));
        Tape<T> tape;
        for (bool transposed : {false, true}) {
            const auto in = conv_inputs<T>(s, transposed, 3, 71);
            const Var<T> x = tape.constant(in[0]), W = tape.constant(in[1]), b = tape.constant(in[2]);
            const Matrix<T> y = transposed ? conv_transpose2d(x, W, b, s).value() : conv2d(x, W, b, s).value();
            const Matrix<T> expected = transposed ? direct_conv_transpose2d(in[0], in[1], in[2], s)
                                                  : direct_conv2d(in[0], in[1], in[2], s);
            INFO((transposed ? "conv_transpose2d" : "conv2d"));
            REQUIRE(y.rows() == expected.rows());
            REQUIRE(y.cols() == expected.cols());
            CHECK((y - expected).cwiseAbs().maxCoeff() <= tolerance);
        }
    }
}

TEST_CASE_TEMPLATE("a batch of several chunks gives the values and gradients of its examples taken one by one", T,
                   float, double) {
    // Large enough that the ops split the batch: conv2d's patches are 16·4·4 × 16·16 = 65,536 values per example
    // (4 examples per chunk: 4 + 3), conv_transpose2d's 8·4·4 × 32·32 = 131,072 (2 per chunk: 2 + 2 + 2 + 1).
    const Conv2dShape s{16, 32, 32, 8, 4, 4, 2, 1};
    const Index batch = 7;
    const T tolerance = std::is_same<T, float>::value ? T(1e-4) : T(1e-11);
    for (bool transposed : {false, true}) {
        INFO((transposed ? "conv_transpose2d" : "conv2d"));
        const auto in = conv_inputs<T>(s, transposed, batch, 91);
        const auto op = [&](const Var<T>& x, const Var<T>& W, const Var<T>& b) {
            return transposed ? conv_transpose2d(x, W, b, s) : conv2d(x, W, b, s);
        };
        const Index out_cols = transposed ? s.out_channels * s.transposed_height() * s.transposed_width()
                                          : s.out_channels * s.conv_height() * s.conv_width();
        const Matrix<T> r = random_matrix<T>(batch, out_cols, 92);  // the loss is Σ y ⊙ r, so ∂y = r
        // The whole batch at once.
        Matrix<T> x = in[0], W = in[1], b = in[2];
        Matrix<T> dx = Matrix<T>::Zero(batch, s.in_size()), dW = Matrix<T>::Zero(W.rows(), W.cols()),
                  db = Matrix<T>::Zero(1, s.out_channels);
        Tape<T> tape;
        const Var<T> y = op(tape.variable(x, dx), tape.variable(W, dW), tape.variable(b, db));
        tape.backward(sum(y * tape.constant(r)));
        // Example by example (each one chunk), the weight gradients summed.
        Matrix<T> dW_sum = Matrix<T>::Zero(W.rows(), W.cols()), db_sum = Matrix<T>::Zero(1, s.out_channels);
        for (Index n = 0; n < batch; ++n) {
            CAPTURE(n);
            const Matrix<T> xn = x.row(n);
            Matrix<T> dxn = Matrix<T>::Zero(1, s.in_size());
            Tape<T> one;
            const Var<T> yn = op(one.variable(xn, dxn), one.variable(W, dW_sum), one.variable(b, db_sum));
            one.backward(sum(yn * one.constant(r.row(n))));
            CHECK((yn.value() - y.value().row(n)).cwiseAbs().maxCoeff() <= tolerance);
            CHECK((dxn - dx.row(n)).cwiseAbs().maxCoeff() <= tolerance);
        }
        CHECK((dW_sum - dW).cwiseAbs().maxCoeff() <= tolerance * T(10));
        CHECK((db_sum - db).cwiseAbs().maxCoeff() <= tolerance * T(10));
    }
}

TEST_CASE("output sizes: conv2d as PyTorch's Conv2d, conv_transpose2d as its ConvTranspose2d (output_padding 0)") {
    const Conv2dShape encoder1{1, 28, 28, 32, 4, 4, 2, 1}, decoder1{64, 7, 7, 32, 4, 4, 2, 1};
    CHECK(encoder1.conv_height() == 14);
    CHECK(encoder1.conv_width() == 14);
    CHECK(decoder1.transposed_height() == 14);
    CHECK(decoder1.transposed_width() == 14);
    const Conv2dShape odd{3, 9, 6, 2, 3, 2, 2, 0};
    CHECK(odd.conv_height() == 4);  // ⌊(9 − 3) / 2⌋ + 1
    CHECK(odd.conv_width() == 3);   // ⌊(6 − 2) / 2⌋ + 1
    CHECK(odd.transposed_height() == 19);
    CHECK(odd.transposed_width() == 12);
    CHECK(odd.in_size() == 3 * 9 * 6);
}

TEST_CASE_TEMPLATE("conv_transpose2d is the adjoint of conv2d with the same weight matrix", T, float, double) {
    // <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>: the transposed convolution is the convolution's gradient.
    const Conv2dShape down{3, 8, 5, 4, 4, 3, 2, 1};
    const Conv2dShape up{4, down.conv_height(), down.conv_width(), 3, 4, 3, 2, 1};
    REQUIRE(up.transposed_height() == down.height);
    REQUIRE(up.transposed_width() == down.width);
    const Matrix<T> x = random_matrix<T>(2, down.in_size(), 81), y = random_matrix<T>(2, up.in_size(), 82);
    const Matrix<T> W = random_matrix<T>(4, 3 * 12, 83);
    Tape<T> tape;
    const auto w = tape.constant(W);
    const Matrix<T> down_x = conv2d(tape.constant(x), w, tape.constant(Matrix<T>::Zero(1, 4)), down).value();
    const Matrix<T> up_y = conv_transpose2d(tape.constant(y), w, tape.constant(Matrix<T>::Zero(1, 3)), up).value();
    CHECK(down_x.cwiseProduct(y).sum() == doctest::Approx(x.cwiseProduct(up_y).sum()).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("conv shape errors name the op and the shapes", T, float, double) {
    const Conv2dShape s{2, 5, 5, 3, 3, 3, 1, 1};
    Tape<T> tape;
    auto x = tape.constant(Matrix<T>::Ones(4, 50));
    auto W = tape.constant(Matrix<T>::Ones(3, 18));
    auto b = tape.constant(Matrix<T>::Ones(1, 3));
    CHECK(conv2d(x, W, b, s).cols() == 75);
    CHECK_THROWS_WITH_AS(conv2d(tape.constant(Matrix<T>::Ones(4, 49)), W, b, s),
                         doctest::Contains("conv2d: x is 4x49 but each row must hold 50 values (in 2x5x5"),
                         shape_error);
    CHECK_THROWS_WITH_AS(conv2d(x, tape.constant(Matrix<T>::Ones(3, 9)), b, s),
                         doctest::Contains("conv2d: W is 3x9 but must be 3x18 (out × in·kH·kW"), shape_error);
    CHECK_THROWS_WITH_AS(conv2d(x, W, tape.constant(Matrix<T>::Ones(1, 2)), s),
                         doctest::Contains("conv2d: b is 1x2 but must be 1x3"), shape_error);
    CHECK_THROWS_WITH_AS(conv2d(x, W, b, Conv2dShape{2, 5, 5, 3, 3, 3, 0, 1}), doctest::Contains("conv2d: "),
                         shape_error);
    CHECK_THROWS_WITH_AS(conv2d(x, W, b, Conv2dShape{2, 1, 25, 3, 3, 3, 1, 0}),
                         doctest::Contains("kernel is larger than the padded input"), shape_error);
    // conv_transpose2d's W is in × out·kH·kW: here 2 × 3·9.
    CHECK(conv_transpose2d(x, tape.constant(Matrix<T>::Ones(2, 27)), b, s).cols() == 75);
    CHECK_THROWS_WITH_AS(conv_transpose2d(x, W, b, s),
                         doctest::Contains("conv_transpose2d: W is 3x18 but must be 2x27 (in × out·kH·kW"),
                         shape_error);
    const Conv2dShape empty_output{2, 1, 1, 3, 3, 3, 1, 2};
    CHECK_THROWS_WITH_AS(conv_transpose2d(x, tape.constant(Matrix<T>::Ones(2, 27)), b, empty_output),
                         doctest::Contains("output would be empty"), shape_error);
}

TEST_CASE_TEMPLATE("a warmed-up conv2d and conv_transpose2d step makes no heap allocation", T, float, double) {
    // A small conv encoder-decoder: the GEMMs stay within Eigen's stack workspace, so any allocation is ours.
    const Conv2dShape down{1, 8, 8, 4, 4, 4, 2, 1}, up{4, 4, 4, 1, 4, 4, 2, 1};
    const Matrix<T> x = random_matrix<T>(3, 64, 91, 0.0, 1.0);  // pixels
    std::vector<Matrix<T>> w = {random_matrix<T>(4, 16, 92), random_matrix<T>(1, 4, 93), random_matrix<T>(4, 16, 94),
                                random_matrix<T>(1, 1, 95)};
    std::vector<Matrix<T>> g;
    for (const auto& m : w) g.push_back(Matrix<T>::Zero(m.rows(), m.cols()));
    Tape<T> tape;
    auto step = [&] {
        tape.reset();
        auto h = relu(conv2d(tape.constant(x), tape.variable(w[0], g[0]), tape.variable(w[1], g[1]), down));
        auto logits = conv_transpose2d(h, tape.variable(w[2], g[2]), tape.variable(w[3], g[3]), up);
        auto loss = mean(sum_per_row(bce_with_logits(logits, tape.constant(x))));
        tape.backward(loss);
        return loss.item();
    };
    step();
    step();
    testing::allocations = 0;
    testing::counting = true;
    const T loss = step();
    testing::counting = false;
    CHECK(testing::allocations.load() == 0);
    CHECK(std::isfinite(loss));
}
