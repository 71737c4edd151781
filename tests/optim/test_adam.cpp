#include "vaelet/optim/adam.hpp"
#include "vaelet/optim/sgd.hpp"
#include "vaelet/core/random.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace vaelet;

namespace {

template <class T>
double tolerance() {
    return std::is_same_v<T, float> ? 1e-6 : 1e-13;
}

/// The textbook Adam/AdamW step on one scalar (Kingma & Ba 2015, Algorithm 1; Loshchilov & Hutter 2019), in
/// double and written independently of the optimizer: the reference it must match.
struct ScalarAdam {
    double m = 0, v = 0;
    double step(double p, double g, int t, const AdamOptions& o) {
        if (o.decoupled_weight_decay)
            p *= 1 - o.lr * o.weight_decay;
        else
            g += o.weight_decay * p;
        m = o.beta1 * m + (1 - o.beta1) * g;
        v = o.beta2 * v + (1 - o.beta2) * g * g;
        const double m_hat = m / (1 - std::pow(o.beta1, t));
        const double v_hat = v / (1 - std::pow(o.beta2, t));
        return p - o.lr * m_hat / (std::sqrt(v_hat) + o.eps);
    }
};

/// Runs three steps on p = (0.5, −0.3) with gradients (0.2, −0.1), (−0.1, 0.4), (0.05, 0) and checks p after each
/// step against `expected` (numbers from the published formula, worked out in double outside this test).
template <class T>
void check_three_steps(const AdamOptions& options, const double (&expected)[3][2]) {
    Parameter<T> w(1, 2);
    w.value << T(0.5), T(-0.3);
    Adam<T> adam({{"w", &w}}, options);
    const double grads[3][2] = {{0.2, -0.1}, {-0.1, 0.4}, {0.05, 0.0}};
    for (int t = 0; t < 3; ++t) {
        w.grad << T(grads[t][0]), T(grads[t][1]);
        adam.step_and_zero_grad();
        CAPTURE(t);
        CHECK(w.value(0, 0) == doctest::Approx(expected[t][0]).epsilon(tolerance<T>()));
        CHECK(w.value(0, 1) == doctest::Approx(expected[t][1]).epsilon(tolerance<T>()));
    }
    CHECK(adam.step_count() == 3);
}

}  // namespace

TEST_CASE_TEMPLATE("Adam takes the published steps", T, float, double) {
    AdamOptions o;
    o.lr = 0.01;
    const double expected[3][2] = {{0.49000000049999998, -0.2900000009999999},
                                   {0.48733663027186758, -0.29559503574851281},
                                   {0.48393233904720767, -0.29992001379189048}};
    check_three_steps<T>(o, expected);
}

TEST_CASE_TEMPLATE("Adam adds L2 weight decay to the gradient", T, float, double) {
    AdamOptions o;
    o.lr = 0.01;
    o.weight_decay = 0.1;
    const double expected[3][2] = {{0.49000000039999997, -0.29000000076923071},
                                   {0.48492288818670787, -0.29480826566451679},
                                   {0.47895959463329668, -0.29803666480517832}};
    check_three_steps<T>(o, expected);
}

TEST_CASE_TEMPLATE("AdamW decays the weights before the update", T, float, double) {
    const double expected[3][2] = {{0.48950000049999998, -0.28970000099999987},
                                   {0.48634713027136756, -0.29500533574751281},
                                   {0.4824564919164363, -0.29903530845514298}};
    check_three_steps<T>(adamw_options(0.01, 0.1), expected);
}

TEST_CASE("Adam and AdamW default to PyTorch's hyperparameters") {
    const AdamOptions adam;
    CHECK(adam.lr == 1e-3);
    CHECK(adam.beta1 == 0.9);
    CHECK(adam.beta2 == 0.999);
    CHECK(adam.eps == 1e-8);
    CHECK(adam.weight_decay == 0.0);
    CHECK_FALSE(adam.decoupled_weight_decay);
    const AdamOptions adamw = adamw_options();
    CHECK(adamw.lr == 1e-3);
    CHECK(adamw.weight_decay == 0.01);
    CHECK(adamw.decoupled_weight_decay);
}

TEST_CASE_TEMPLATE("Adam matches the scalar formula on every element, across blocks and parameters", T, float, double) {
    // 3×700 spans three update blocks (the last one partial); 1×5 is a bias-sized parameter.
    for (bool decoupled : {false, true}) {
        CAPTURE(decoupled);
        AdamOptions o;
        o.lr = 0.05;
        o.beta1 = 0.8;
        o.beta2 = 0.99;
        o.eps = 1e-6;
        o.weight_decay = 0.03;
        o.decoupled_weight_decay = decoupled;
        Rng rng(11);
        Parameter<T> w(3, 700), b(1, 5, /*vector=*/true);
        rng.fill_normal(w.value);
        rng.fill_normal(b.value);
        std::vector<double> ref_w(w.value.data(), w.value.data() + w.size());
        std::vector<double> ref_b(b.value.data(), b.value.data() + b.size());
        std::vector<ScalarAdam> state_w(ref_w.size()), state_b(ref_b.size());
        Adam<T> adam({{"w", &w}, {"b", &b}}, o);
        for (int t = 1; t <= 4; ++t) {
            rng.fill_normal(w.grad);
            rng.fill_normal(b.grad);
            b.grad(0, 2) = T(1e-6 * t);  // a gradient as small as ε, where ε's place in the formula shows
            for (std::size_t i = 0; i < ref_w.size(); ++i) ref_w[i] = state_w[i].step(ref_w[i], double(w.grad.data()[i]), t, o);
            for (std::size_t i = 0; i < ref_b.size(); ++i) ref_b[i] = state_b[i].step(ref_b[i], double(b.grad.data()[i]), t, o);
            adam.step_and_zero_grad();
        }
        double worst = 0;
        for (std::size_t i = 0; i < ref_w.size(); ++i)
            worst = std::max(worst, std::abs(double(w.value.data()[i]) - ref_w[i]) / (1 + std::abs(ref_w[i])));
        for (std::size_t i = 0; i < ref_b.size(); ++i)
            worst = std::max(worst, std::abs(double(b.value.data()[i]) - ref_b[i]) / (1 + std::abs(ref_b[i])));
        CHECK(worst < tolerance<T>());
    }
}

TEST_CASE_TEMPLATE("step keeps the gradients, and step_and_zero_grad gives the same result and zeroes them", T, float, double) {
    Parameter<T> a(2, 3), b(2, 3);
    Rng rng(3);
    rng.fill_normal(a.value);
    b.value = a.value;
    AdamOptions o;
    o.weight_decay = 0.5;  // L2 decay must not leak into the stored gradient
    Adam<T> plain({{"w", &a}}, o), fused({{"w", &b}}, o);
    for (int t = 0; t < 3; ++t) {
        rng.fill_normal(a.grad);
        b.grad = a.grad;
        const Matrix<T> g = a.grad;
        plain.step();
        CHECK(a.grad == g);
        plain.zero_grad();
        CHECK(a.grad.isZero(0));
        fused.step_and_zero_grad();
        CHECK(b.grad.isZero(0));
        CHECK(a.value == b.value);
    }
}

TEST_CASE_TEMPLATE("Adam's state is named like PyTorch's, complete before the first step, and restores exactly", T, float, double) {
    Rng rng(5);
    Parameter<T> w(4, 3), bias(1, 4, true);
    rng.fill_normal(w.value);
    rng.fill_normal(bias.value);
    Parameter<T> w2 = w, bias2 = bias;
    Adam<T> adam({{"fc1.weight", &w}, {"fc1.bias", &bias}});

    const auto fresh = adam.named_state();
    REQUIRE(fresh.size() == 4);
    CHECK(fresh[0].name == "fc1.weight.exp_avg");
    CHECK(fresh[1].name == "fc1.weight.exp_avg_sq");
    CHECK(fresh[2].name == "fc1.bias.exp_avg");
    CHECK(fresh[3].name == "fc1.bias.exp_avg_sq");
    CHECK(shape_string(*fresh[0].value) == "4x3");
    CHECK(shape_string(*fresh[3].value) == "1x4");
    CHECK(fresh[1].value->isZero(0));
    CHECK(adam.step_count() == 0);

    for (int t = 0; t < 2; ++t) {
        rng.fill_normal(w.grad);
        rng.fill_normal(bias.grad);
        adam.step_and_zero_grad();
    }
    // A second optimizer on copies of the weights, given the first one's state, continues identically.
    w2.value = w.value;
    bias2.value = bias.value;
    Adam<T> resumed({{"fc1.weight", &w2}, {"fc1.bias", &bias2}});
    for (const auto& s : adam.named_state()) resumed.load_state(s.name, *s.value);
    resumed.set_step_count(adam.step_count());
    rng.fill_normal(w.grad);
    rng.fill_normal(bias.grad);
    w2.grad = w.grad;
    bias2.grad = bias.grad;
    adam.step();
    resumed.step();
    CHECK(w2.value == w.value);
    CHECK(bias2.value == bias.value);
    CHECK(resumed.step_count() == 3);
}

TEST_CASE("Adam's load_state names the buffer and the shapes it rejects") {
    Parameter<double> w(2, 2);
    Adam<double> adam({{"fc1.weight", &w}});
    CHECK_THROWS_AS(adam.load_state("fc2.weight.exp_avg", Matrix<double>::Zero(2, 2)), config_error);
    CHECK_THROWS_WITH_AS(adam.load_state("fc1.weight.exp_avg", Matrix<double>::Zero(3, 2)),
                         doctest::Contains("\"fc1.weight.exp_avg\" is 3x2 but its parameter is 2x2"), shape_error);
    CHECK_THROWS_AS(adam.set_step_count(-1), config_error);
}

TEST_CASE("Adam rejects bad options, empty lists and parameters resized after construction") {
    Parameter<float> w(2, 2);
    const ParameterList<float> params = {{"w", &w}};
    AdamOptions o;
    o.beta1 = 1.0;
    CHECK_THROWS_WITH_AS(Adam<float>(params, o), doctest::Contains("beta1 must be in [0, 1)"), config_error);
    o = AdamOptions{};
    o.lr = -1;
    CHECK_THROWS_AS(Adam<float>(params, o), config_error);
    o = AdamOptions{};
    o.eps = std::nan("");
    CHECK_THROWS_AS(Adam<float>(params, o), config_error);
    CHECK_THROWS_AS(Adam<float>(ParameterList<float>{}), config_error);

    Adam<float> adam(params);
    CHECK_THROWS_AS(adam.set_lr(-0.1), config_error);
    adam.set_lr(0.5);
    CHECK(adam.options().lr == 0.5);
    w.grad.resize(2, 3);
    CHECK_THROWS_WITH_AS(adam.step(), doctest::Contains("parameter w is 2x2 but its gradient is 2x3"), shape_error);
    w.value.resize(2, 3);
    CHECK_THROWS_WITH_AS(adam.step(), doctest::Contains("its exp_avg is 2x2"), shape_error);
    CHECK(adam.step_count() == 0);  // a failed step changes nothing
}

TEST_CASE_TEMPLATE("Adam and SGD refuse a NaN or infinite gradient naming the parameter and change nothing" *
                       doctest::test_suite("misuse"),
                   T, float, double) {
    Parameter<T> w(2, 2), b(1, 2, true);
    w.value.setConstant(T(0.5));
    w.grad.setConstant(T(0.1));
    b.grad << T(0.2), std::numeric_limits<T>::quiet_NaN();
    const ParameterList<T> params = {{"fc.weight", &w}, {"fc.bias", &b}};
    Adam<T> adam(params);
    CHECK_THROWS_WITH_AS(adam.step_and_zero_grad(), doctest::Contains("Adam: the gradient of fc.bias is not finite"),
                         numeric_error);
    CHECK(adam.step_count() == 0);
    CHECK(w.value.isConstant(T(0.5)));
    CHECK(w.grad.isConstant(T(0.1)));
    SgdOptions so;
    so.momentum = 0.9;
    Sgd<T> sgd(params, so);
    b.grad(0, 1) = std::numeric_limits<T>::infinity();
    CHECK_THROWS_WITH_AS(sgd.step(), doctest::Contains("SGD: the gradient of fc.bias"), numeric_error);
    CHECK(w.value.isConstant(T(0.5)));

    AdamOptions off;
    off.check_finite = false;  // stepping anyway, as PyTorch does: the NaN spreads into the bias
    Adam<T> anyway(params, off);
    anyway.step();
    CHECK(std::isnan(b.value(0, 1)));
}
