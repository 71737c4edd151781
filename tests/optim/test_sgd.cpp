#include "vaelet/optim/sgd.hpp"
#include "vaelet/core/random.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace vaelet;

namespace {

template <class T>
double tolerance() {
    return std::is_same_v<T, float> ? 1e-6 : 1e-14;
}

/// torch.optim.SGD's documented step on one scalar, in double and written independently of the optimizer.
struct ScalarSgd {
    double buffer = 0;
    bool started = false;
    double step(double p, double g, const SgdOptions& o) {
        g += o.weight_decay * p;
        if (o.momentum != 0) {
            buffer = started ? o.momentum * buffer + (1 - o.dampening) * g : g;
            started = true;
            g = o.nesterov ? g + o.momentum * buffer : buffer;
        }
        return p - o.lr * g;
    }
};

/// Three steps from p = 1 with gradients `grads`; checks p after each against `expected`, worked out by hand
/// from the formula.
template <class T>
void check_three_steps(const SgdOptions& options, const double (&grads)[3], const double (&expected)[3]) {
    Parameter<T> w(1, 1);
    w.value(0, 0) = T(1);
    Sgd<T> sgd({{"w", &w}}, options);
    for (int t = 0; t < 3; ++t) {
        w.grad(0, 0) = T(grads[t]);
        sgd.step_and_zero_grad();
        CAPTURE(t);
        CHECK(w.value(0, 0) == doctest::Approx(expected[t]).epsilon(tolerance<T>()));
    }
}

SgdOptions with(double lr, double momentum, double dampening, double weight_decay, bool nesterov) {
    SgdOptions o;
    o.lr = lr;
    o.momentum = momentum;
    o.dampening = dampening;
    o.weight_decay = weight_decay;
    o.nesterov = nesterov;
    return o;
}

}  // namespace

TEST_CASE_TEMPLATE("SGD takes the published steps", T, float, double) {
    const double ones[3] = {1, 1, 1};
    SUBCASE("plain") { check_three_steps<T>(with(0.1, 0, 0, 0, false), ones, {0.9, 0.8, 0.7}); }
    SUBCASE("momentum: the first buffer is the gradient") {
        check_three_steps<T>(with(0.1, 0.9, 0, 0, false), ones, {0.9, 0.71, 0.439});
    }
    SUBCASE("Nesterov") { check_three_steps<T>(with(0.1, 0.9, 0, 0, true), ones, {0.81, 0.539, 0.1951}); }
    SUBCASE("dampening applies from the second step") {
        check_three_steps<T>(with(0.1, 0.9, 0.5, 0, false), ones, {0.9, 0.76, 0.584});
    }
    SUBCASE("weight decay") { check_three_steps<T>(with(0.1, 0, 0, 0.1, false), ones, {0.89, 0.7811, 0.673289}); }
    SUBCASE("weight decay before Nesterov momentum") {
        check_three_steps<T>(with(0.1, 0.9, 0, 0.1, true), {0.5, -0.25, 2.0}, {0.886, 0.868066, 0.440906146});
    }
}

TEST_CASE("SGD defaults to PyTorch's hyperparameters") {
    const SgdOptions o;
    CHECK(o.lr == 1e-3);
    CHECK(o.momentum == 0.0);
    CHECK(o.dampening == 0.0);
    CHECK(o.weight_decay == 0.0);
    CHECK_FALSE(o.nesterov);
}

TEST_CASE_TEMPLATE("SGD matches the scalar formula on every element, across blocks and parameters", T, float, double) {
    const SgdOptions cases[] = {with(0.05, 0, 0, 0, false), with(0.05, 0.8, 0.3, 0.02, false),
                                with(0.05, 0.9, 0, 0.02, true)};
    for (const SgdOptions& o : cases) {
        CAPTURE(o.momentum);
        Rng rng(17);
        Parameter<T> w(3, 700), b(1, 5, /*vector=*/true);  // three update blocks, the last one partial
        rng.fill_normal(w.value);
        rng.fill_normal(b.value);
        std::vector<double> ref_w(w.value.data(), w.value.data() + w.size());
        std::vector<double> ref_b(b.value.data(), b.value.data() + b.size());
        std::vector<ScalarSgd> state_w(ref_w.size()), state_b(ref_b.size());
        Sgd<T> sgd({{"w", &w}, {"b", &b}}, o);
        for (int t = 0; t < 4; ++t) {
            rng.fill_normal(w.grad);
            rng.fill_normal(b.grad);
            for (std::size_t i = 0; i < ref_w.size(); ++i) ref_w[i] = state_w[i].step(ref_w[i], double(w.grad.data()[i]), o);
            for (std::size_t i = 0; i < ref_b.size(); ++i) ref_b[i] = state_b[i].step(ref_b[i], double(b.grad.data()[i]), o);
            sgd.step_and_zero_grad();
        }
        double worst = 0;
        for (std::size_t i = 0; i < ref_w.size(); ++i)
            worst = std::max(worst, std::abs(double(w.value.data()[i]) - ref_w[i]) / (1 + std::abs(ref_w[i])));
        for (std::size_t i = 0; i < ref_b.size(); ++i)
            worst = std::max(worst, std::abs(double(b.value.data()[i]) - ref_b[i]) / (1 + std::abs(ref_b[i])));
        CHECK(worst < tolerance<T>());
    }
}

TEST_CASE_TEMPLATE("SGD's step keeps the gradients, and step_and_zero_grad gives the same result and zeroes them", T, float, double) {
    Parameter<T> a(2, 3), b(2, 3);
    Rng rng(3);
    rng.fill_normal(a.value);
    b.value = a.value;
    const SgdOptions o = with(0.1, 0.9, 0, 0.5, true);
    Sgd<T> plain({{"w", &a}}, o), fused({{"w", &b}}, o);
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

TEST_CASE_TEMPLATE("SGD's momentum buffers are named like PyTorch's and restore exactly", T, float, double) {
    Rng rng(5);
    Parameter<T> w(4, 3), bias(1, 4, true);
    rng.fill_normal(w.value);
    rng.fill_normal(bias.value);
    Parameter<T> w2 = w, bias2 = bias;
    const SgdOptions o = with(0.1, 0.9, 0.1, 0, false);
    Sgd<T> sgd({{"fc1.weight", &w}, {"fc1.bias", &bias}}, o);

    const auto fresh = sgd.named_state();
    REQUIRE(fresh.size() == 2);
    CHECK(fresh[0].name == "fc1.weight.momentum_buffer");
    CHECK(fresh[1].name == "fc1.bias.momentum_buffer");
    CHECK(shape_string(*fresh[1].value) == "1x4");

    for (int t = 0; t < 2; ++t) {
        rng.fill_normal(w.grad);
        rng.fill_normal(bias.grad);
        sgd.step_and_zero_grad();
    }
    w2.value = w.value;
    bias2.value = bias.value;
    Sgd<T> resumed({{"fc1.weight", &w2}, {"fc1.bias", &bias2}}, o);
    for (const auto& s : sgd.named_state()) resumed.load_state(s.name, *s.value);
    resumed.set_step_count(sgd.step_count());  // past step 0: the buffers are continued, not restarted
    rng.fill_normal(w.grad);
    rng.fill_normal(bias.grad);
    w2.grad = w.grad;
    bias2.grad = bias.grad;
    sgd.step();
    resumed.step();
    CHECK(w2.value == w.value);
    CHECK(bias2.value == bias.value);

    Parameter<T> p(1, 1);
    Sgd<T> plain({{"p", &p}}, with(0.1, 0, 0, 0, false));
    CHECK(plain.named_state().empty());
    CHECK_THROWS_AS(plain.load_state("p.momentum_buffer", Matrix<T>::Zero(1, 1)), config_error);
}

TEST_CASE("SGD rejects bad options and parameters resized after construction") {
    Parameter<float> w(2, 2);
    const ParameterList<float> params = {{"w", &w}};
    CHECK_THROWS_WITH_AS(Sgd<float>(params, with(0.1, 0, 0, 0, true)), doctest::Contains("Nesterov momentum needs"),
                         config_error);
    CHECK_THROWS_AS(Sgd<float>(params, with(0.1, 0.9, 0.1, 0, true)), config_error);
    CHECK_THROWS_AS(Sgd<float>(params, with(-0.1, 0, 0, 0, false)), config_error);
    CHECK_THROWS_AS(Sgd<float>(params, with(0.1, -0.9, 0, 0, false)), config_error);
    CHECK_THROWS_AS(Sgd<float>(params, with(0.1, 0, 0, -1, false)), config_error);
    CHECK_THROWS_AS(Sgd<float>(ParameterList<float>{}), config_error);

    Sgd<float> sgd(params, with(0.1, 0.9, 0, 0, false));
    sgd.set_lr(0.01);
    CHECK(sgd.options().lr == 0.01);
    CHECK_THROWS_AS(sgd.set_step_count(-3), config_error);
    w.value.resize(3, 2);
    w.grad.resize(3, 2);
    CHECK_THROWS_WITH_AS(sgd.step(), doctest::Contains("parameter w is 3x2 but its momentum_buffer is 2x2"), shape_error);
    CHECK(sgd.step_count() == 0);
}
