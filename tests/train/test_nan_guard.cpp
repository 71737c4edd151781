// A NaN in a loop the user wrote themselves (no Trainer): found and named at each stage — the op that made it,
// the gradient clipping, the optimizer — and the weights left as they were.
#include "vaelet/core/ops.hpp"
#include "vaelet/nn/linear.hpp"
#include "vaelet/optim/adam.hpp"
#include "vaelet/optim/clip.hpp"
#include "vaelet/train/nan_guard.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace vaelet;

namespace {

/// A user's op, log(1 + a), which is NaN for a < −1.
Var<float> log1p_op(const Var<float>& a) {
    Tape<float>& t = a.tape("log1p");
    Node<float>& n = t.push_custom("log1p", {a}, [](Tape<float>& t, Node<float>& n) {
        t.accumulate(n.parents[0], (n.grad.array() / (1.0f + t.value(n.parents[0]).array())).matrix());
    });
    n.value = a.value().array().log1p().matrix();
    return t.last();
}

}  // namespace

TEST_CASE("a NaN in a hand-written loop is named by the NaN guard and clip_grad_norm and the optimizer" *
          doctest::test_suite("misuse")) {
    Rng rng(3);
    Linear<float> layer(2, 2, rng);
    const ParameterList<float> params = layer.named_parameters("fc.");
    Adam<float> adam(params);
    const Matrix<float> before = layer.weight.value;

    Tape<float> tape;
    Matrix<float> x(1, 2);
    x << 1e3f, -1e3f;  // pushes one output below −1
    const Var<float> loss = sum(square(log1p_op(layer(tape, tape.constant(x)))));  // the NaN reaches the gradient
    CHECK(std::isnan(loss.item()));
    const auto where = first_non_finite_node(tape);
    REQUIRE(where);
    CHECK(where->name == "log1p");
    CHECK(where->describe().find("op 'log1p'") != std::string::npos);

    tape.backward(loss);
    CHECK_THROWS_WITH_AS(clip_grad_norm(params, 1.0f), doctest::Contains("the gradient of fc."), numeric_error);
    CHECK_THROWS_WITH_AS(adam.step_and_zero_grad(), doctest::Contains("Adam: the gradient of fc."), numeric_error);
    CHECK(layer.weight.value == before);
    CHECK(adam.step_count() == 0);
}
