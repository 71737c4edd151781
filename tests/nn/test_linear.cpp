#include "vaelet/nn/linear.hpp"
#include "vaelet/nn/mlp.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <cmath>

using namespace vaelet;

TEST_CASE_TEMPLATE("Linear is initialised like nn.Linear: U(-1/sqrt(in), 1/sqrt(in)), seeded", T, float, double) {
    Rng rng(3), same(3);
    Linear<T> fc(784, 400, rng), again(784, 400, same);
    const double bound = 1.0 / std::sqrt(784.0);
    CHECK(fc.weight.value.rows() == 400);
    CHECK(fc.weight.value.cols() == 784);
    CHECK(fc.bias.value.rows() == 1);
    CHECK(fc.bias.value.cols() == 400);
    CHECK(fc.bias.is_vector);
    CHECK(fc.weight.value.cwiseAbs().maxCoeff() <= T(bound));
    CHECK(fc.bias.value.cwiseAbs().maxCoeff() <= T(bound));
    // Uniform on ±bound has variance bound²/3.
    const double var = fc.weight.value.template cast<double>().array().square().mean();
    CHECK(var == doctest::Approx(bound * bound / 3).epsilon(0.02));
    CHECK(fc.weight.value == again.weight.value);
    CHECK(fc.weight.grad.isZero());
}

TEST_CASE_TEMPLATE("Linear computes x·Wᵀ + b and lists its parameters", T, float, double) {
    Rng rng(1);
    Linear<T> fc(3, 2, rng);
    fc.weight.value << T(1), T(2), T(3), T(4), T(5), T(6);
    fc.bias.value << T(0.5), T(-1);
    Tape<T> tape;
    Matrix<T> x(1, 3);
    x << T(1), T(0), T(-1);
    auto y = fc(tape, tape.constant(x)).value();
    CHECK(y(0, 0) == doctest::Approx(1 - 3 + 0.5));
    CHECK(y(0, 1) == doctest::Approx(4 - 6 - 1));
    ParameterList<T> list;
    fc.collect_parameters(list, "fc1.");
    REQUIRE(list.size() == 2);
    CHECK(list[0].name == "fc1.weight");
    CHECK(list[1].name == "fc1.bias");
    CHECK_THROWS_AS(Linear<T>(0, 2, rng), config_error);
}

TEST_CASE("mlp builds a Sequential that applies its activation after every layer and names its layers") {
    Rng rng(2);
    Sequential<double> net = mlp<double>({4, 3, 2}, Activation::relu, rng, {"a", "b"});
    Tape<double> tape;
    auto out = net(tape, tape.constant(Matrix<double>::Random(5, 4))).value();
    CHECK(out.rows() == 5);
    CHECK(out.cols() == 2);
    CHECK(out.minCoeff() >= 0.0);
    ParameterList<double> list = net.named_parameters("enc.");
    REQUIRE(list.size() == 4);
    CHECK(list[2].name == "enc.b.weight");
    CHECK(net.size() == 4);  // a, a_act, b, b_act
    CHECK(net.name(1) == "a_act");
    CHECK_THROWS_AS(mlp<double>({4, 3}, Activation::relu, rng, {"a", "b"}), config_error);
    CHECK(parse_activation("tanh") == Activation::tanh);
    CHECK_THROWS_WITH_AS(parse_activation("swish"), doctest::Contains("swish"), config_error);

    // Without names, nn.Sequential(Linear, ReLU, Linear, ReLU)'s: the Linear layers are "0" and "2".
    Sequential<double> plain = mlp<double>({4, 3, 2}, Activation::tanh, rng);
    std::vector<std::string> names;
    for (const auto& p : plain.named_parameters()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
}
