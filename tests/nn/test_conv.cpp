// Conv2d and ConvTranspose2d: PyTorch's initialisation, names and 4-D weight shapes, the spec that rebuilds them, and
// their values and gradients against PyTorch's for a fixed input (fixtures/make_conv_fixture.py).
#include "vaelet/io/safetensors_parameters.hpp"
#include "vaelet/nn/build.hpp"
#include "vaelet/nn/conv.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

using namespace vaelet;

namespace {

const std::string conv_fixture = std::string(VAELET_TEST_SOURCE_DIR) + "/nn/fixtures/conv_layers.safetensors";

/// The largest |entry| of a parameter and its mean square (U(−a, a) has a²/3).
template <class T>
std::pair<double, double> spread(const Parameter<T>& p) {
    const auto v = p.value.template cast<double>();
    return {v.cwiseAbs().maxCoeff(), v.array().square().mean()};
}

std::vector<std::string> names_of(const ParameterList<double>& list) {
    std::vector<std::string> names;
    for (const auto& p : list) names.push_back(p.name);
    return names;
}

}  // namespace

TEST_CASE_TEMPLATE("Conv2d and ConvTranspose2d are initialised as PyTorch's: U(±1/sqrt(fan_in)), seeded", T, float,
                   double) {
    Rng rng(5), same(5);
    // fan_in = in·kH·kW = 32·16 for Conv2d, but out·kH·kW = 1·16 for ConvTranspose2d (PyTorch reads weight.size(1)).
    Conv2d<T> conv(32, 64, 4, 2, 1, 14, 14, rng), again(32, 64, 4, 2, 1, 14, 14, same);
    ConvTranspose2d<T> up(64, 1, 4, 2, 1, 14, 14, rng);
    const double conv_bound = 1.0 / std::sqrt(512.0), up_bound = 1.0 / std::sqrt(16.0);
    const auto [conv_max, conv_square] = spread(conv.weight);
    CHECK(conv_max <= conv_bound);
    CHECK(conv_square == doctest::Approx(conv_bound * conv_bound / 3).epsilon(0.03));
    CHECK(spread(conv.bias).first <= conv_bound);
    const auto [up_max, up_square] = spread(up.weight);
    CHECK(up_max <= up_bound);
    CHECK(up_max > 0.9 * up_bound);
    CHECK(up_square == doctest::Approx(up_bound * up_bound / 3).epsilon(0.1));
    CHECK(spread(up.bias).first <= up_bound);
    CHECK(conv.weight.value == again.weight.value);
    CHECK(conv.bias.value == again.bias.value);
    CHECK(conv.weight.grad.isZero());
}

TEST_CASE("conv layers name their parameters weight and bias, with PyTorch's 4-D weight shapes") {
    Rng rng(1);
    Conv2d<double> conv(Conv2dShape{2, 9, 8, 3, 3, 2, 1, 0}, rng);  // 3×2 kernel
    ConvTranspose2d<double> up(3, 5, 4, 2, 1, 7, 6, rng);
    CHECK(names_of(conv.named_parameters("enc.0.")) == std::vector<std::string>{"enc.0.weight", "enc.0.bias"});
    CHECK(names_of(up.named_parameters()) == std::vector<std::string>{"weight", "bias"});
    CHECK(conv.weight.value.rows() == 3);
    CHECK(conv.weight.value.cols() == 2 * 3 * 2);
    CHECK(conv.weight.tensor_shape == std::vector<Index>{3, 2, 3, 2});  // out × in × kH × kW
    CHECK(up.weight.value.rows() == 3);
    CHECK(up.weight.value.cols() == 5 * 4 * 4);
    CHECK(up.weight.tensor_shape == std::vector<Index>{3, 5, 4, 4});  // in × out × kH × kW
    CHECK(conv.bias.is_vector);
    CHECK(up.bias.value.cols() == 5);

    SafeTensors st;
    save_parameters(st, conv.named_parameters("conv."));
    save_parameters(st, up.named_parameters("up."));
    CHECK(st.at("conv.weight").shape == std::vector<std::int64_t>{3, 2, 3, 2});
    CHECK(st.at("conv.bias").shape == std::vector<std::int64_t>{3});
    CHECK(st.at("up.weight").shape == std::vector<std::int64_t>{3, 5, 4, 4});
    Rng other(2);
    Conv2d<double> loaded(Conv2dShape{2, 9, 8, 3, 3, 2, 1, 0}, other);
    load_parameters(st, loaded.named_parameters("conv."));
    CHECK(loaded.weight.value == conv.weight.value);
}

TEST_CASE_TEMPLATE("conv layers record the ops on their own parameters and check the input width", T, float, double) {
    Rng rng(3);
    Conv2d<T> conv(2, 3, 3, 1, 1, 5, 4, rng);
    ConvTranspose2d<T> up(3, 2, 4, 2, 1, 5, 4, rng);
    Matrix<T> x(2, 2 * 5 * 4);
    rng.fill_uniform(x, -1.0, 1.0);
    Tape<T> tape;
    const auto input = tape.constant(x);
    const Var<T> h = conv(tape, input);
    const Matrix<T> by_op =
        conv2d(input, tape.constant(conv.weight.value), tape.constant(conv.bias.value), conv.shape()).value();
    CHECK(h.value() == by_op);
    CHECK(h.cols() == 3 * 5 * 4);
    const Var<T> y = up(tape, h);
    const Matrix<T> up_by_op =
        conv_transpose2d(h, tape.constant(up.weight.value), tape.constant(up.bias.value), up.shape()).value();
    CHECK(y.value() == up_by_op);
    CHECK(y.cols() == 2 * 10 * 8);

    tape.backward(sum(y));
    CHECK(conv.weight.grad.cwiseAbs().sum() > 0);
    CHECK(up.bias.grad(0, 0) == doctest::Approx(2 * 10 * 8).epsilon(1e-6));  // ∂Σy/∂b = batch × positions

    CHECK_THROWS_WITH_AS(conv(tape, tape.constant(Matrix<T>::Ones(2, 41))),
                         doctest::Contains("Conv2d (in 2x5x4, out 3, kernel 3x3, stride 1, padding 1): each row must "
                                           "hold 40 values but the batch is 2x41"),
                         shape_error);
    CHECK_THROWS_WITH_AS(up(tape, input), doctest::Contains("ConvTranspose2d (in 3x5x4"), shape_error);
    CHECK_THROWS_WITH_AS(Conv2d<T>(1, 8, 5, 1, 0, 4, 4, rng), doctest::Contains("Conv2d: the kernel is larger"),
                         config_error);
    CHECK_THROWS_WITH_AS(ConvTranspose2d<T>(1, 8, 3, 0, 0, 4, 4, rng), doctest::Contains("ConvTranspose2d: "),
                         config_error);
}

TEST_CASE("conv layers' specs rebuild them through build_module") {
    Rng rng(4);
    Sequential<double> net;
    net.add("conv", Conv2d<double>(Conv2dShape{1, 12, 10, 4, 4, 3, 2, 1}, rng))
        .add(Activation::relu)
        .add("up", ConvTranspose2d<double>(4, 1, 4, 2, 1, 6, 5, rng));
    const ModuleSpec spec = net.spec();
    const ModuleSpec& conv_spec = spec.children[0].second;
    CHECK(conv_spec.type == "Conv2d");
    CHECK(conv_spec.size("kernel_height") == 4);
    CHECK(conv_spec.size("kernel_width") == 3);
    CHECK(conv_spec.size("height") == 12);
    CHECK(spec.children[2].second.type == "ConvTranspose2d");

    Rng fresh(9);
    ModulePtr<double> rebuilt = build_module<double>(spec, fresh);
    CHECK(rebuilt->spec() == spec);
    auto mine = net.named_parameters(), theirs = rebuilt->named_parameters();
    REQUIRE(mine.size() == theirs.size());
    for (std::size_t i = 0; i < mine.size(); ++i) {
        CHECK(theirs[i].name == mine[i].name);
        CHECK(theirs[i].param->tensor_shape == mine[i].param->tensor_shape);
        CHECK(theirs[i].param->value.rows() == mine[i].param->value.rows());
        CHECK(theirs[i].param->value.cols() == mine[i].param->value.cols());
    }
    Tape<double> tape;
    CHECK(rebuilt->forward(tape, tape.constant(Matrix<double>::Ones(3, 120))).cols() == 120);

    ModuleSpec missing = conv_spec;
    missing.sizes.erase("stride");
    CHECK_THROWS_WITH_AS(build_module<double>(missing, fresh), doctest::Contains("no size \"stride\""), config_error);
}

TEST_CASE_TEMPLATE("conv layers with PyTorch's weights compute PyTorch's outputs and gradients", T, float, double) {
    // fixtures/make_conv_fixture.py: nn.Conv2d(2, 3, (3, 2), stride=2, padding=1) on 2x5x6 and
    // nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1) on 3x3x4, in float64; tensors in PyTorch's shapes.
    const T tolerance = std::is_same<T, float>::value ? T(1e-5) : T(1e-12);
    const SafeTensors st = load_safetensors(conv_fixture);
    Rng rng(1);
    Conv2d<T> conv(Conv2dShape{2, 5, 6, 3, 3, 2, 2, 1}, rng);
    ConvTranspose2d<T> up(3, 2, 4, 2, 1, 3, 4, rng);
    // The 4-D weights load by name and shape, as any PyTorch state_dict would.
    load_parameters(st, conv.named_parameters("conv."), Strict::no, FloatCast::allow);
    load_parameters(st, up.named_parameters("tconv."), Strict::no, FloatCast::allow);

    const auto check_layer = [&](Module<T>& layer, Parameter<T>& weight, Parameter<T>& bias, const std::string& name) {
        INFO(name);
        const auto get = [&](const std::string& what) { return st.get_matrix<T>(name + "." + what, FloatCast::allow); };
        Tape<T> tape;
        Matrix<T> x = get("x"), grad_x = Matrix<T>::Zero(x.rows(), x.cols());  // [n, C, H, W] read as n × C·H·W
        const Var<T> y = layer(tape, tape.variable(x, grad_x));
        const Matrix<T> expected = get("y");
        REQUIRE(y.rows() == expected.rows());
        REQUIRE(y.cols() == expected.cols());
        CHECK((y.value() - expected).cwiseAbs().maxCoeff() <= tolerance);

        tape.backward(sum(mul(y, tape.constant(get("grad_y")))));
        CHECK((grad_x - get("grad_x")).cwiseAbs().maxCoeff() <= tolerance);
        CHECK((weight.grad - get("grad_weight")).cwiseAbs().maxCoeff() <= tolerance);
        CHECK((bias.grad - get("grad_bias")).cwiseAbs().maxCoeff() <= tolerance);
    };
    check_layer(conv, conv.weight, conv.bias, "conv");
    check_layer(up, up.weight, up.bias, "tconv");
}
