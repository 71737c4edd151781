#include "vaelet/core/gradcheck.hpp"
#include "vaelet/nn/build.hpp"
#include "vaelet/nn/bypass.hpp"
#include "vaelet/nn/mlp.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace vaelet;

namespace {

template <class T>
Var<T> swish(const Var<T>& x) {
    return x * sigmoid(x);
}

/// A module of a user's own: h + tanh(Linear(h)), the residual block of the header comment.
template <class T>
class Residual : public Module<T> {
public:
    Residual(Index width, Rng& rng) : fc_(width, width, rng) {}
    Var<T> forward(Tape<T>& tape, const Var<T>& x) override { return x + tanh(fc_(tape, x)); }
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        fc_.collect_parameters(list, prefix + "fc.");
    }
    ModuleSpec spec() const override { return {"Residual", {{"width", fc_.in()}}, {}, {}, {}}; }

private:
    Linear<T> fc_;
};

template <class T>
std::vector<std::string> names_of(const ParameterList<T>& list) {
    std::vector<std::string> names;
    for (const auto& p : list) names.push_back(p.name);
    return names;
}

}  // namespace

TEST_CASE_TEMPLATE("Sequential chains its modules, names their parameters as nn.Sequential and its gradient checks",
                   T, float, double) {
    Rng rng(3);
    Sequential<T> net;
    net.add("fc1", Linear<T>(5, 4, rng))
        .add(Function<T>("swish", swish<T>))
        .add("block", Residual<T>(4, rng))
        .add(Activation::tanh)
        .add(Linear<T>(4, 2, rng));
    std::vector<std::string> names;
    for (const auto& p : net.named_parameters("enc.")) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"enc.fc1.weight", "enc.fc1.bias", "enc.block.fc.weight",
                                            "enc.block.fc.bias", "enc.4.weight", "enc.4.bias"});

    Tape<T> tape;
    const Matrix<T> x = Matrix<T>::Random(3, 5);
    const Var<T> out = net(tape, tape.constant(x));
    CHECK(out.rows() == 3);
    CHECK(out.cols() == 2);

    // The same computation written out with ops gives the same numbers.
    auto& fc1 = static_cast<Linear<T>&>(net[0]);
    auto& fc4 = static_cast<Linear<T>&>(net[4]);
    auto& block = static_cast<Residual<T>&>(net[2]);
    Tape<T> longhand;
    const Var<T> h = swish(fc1(longhand, longhand.constant(x)));
    const Var<T> by_ops = fc4(longhand, tanh(block(longhand, h)));
    CHECK(by_ops.value() == out.value());

    auto params = net.named_parameters();
    const Matrix<T> w = Matrix<T>::Random(3, 2);
    GradcheckOptions<T> tolerance;
    if (std::is_same<T, float>::value) tolerance.tolerance = T(2e-2);
    const auto report = gradcheck_parameters<T>(
        [&](Tape<T>& t) { return sum(net(t, t.constant(x)) * t.constant(w)); }, params, tolerance);
    INFO(report.describe());
    CHECK(report.ok);
}

TEST_CASE("Sequential refuses a name twice and an empty module") {
    Rng rng(1);
    Sequential<double> net;
    net.add("fc", Linear<double>(2, 2, rng));
    CHECK_THROWS_WITH_AS(net.add("fc", Linear<double>(2, 2, rng)), doctest::Contains("\"fc\""), config_error);
    CHECK_THROWS_WITH_AS(net.add("none", ModulePtr<double>()), doctest::Contains("none"), config_error);
    CHECK_THROWS_AS(Function<double>("", swish<double>), config_error);
}

TEST_CASE("Flatten passes a batch through, and Unflatten checks the width of C x H x W") {
    Tape<float> tape;
    const Var<float> x = tape.constant(Matrix<float>::Ones(2, 12));
    CHECK(Flatten<float>()(tape, x).index() == x.index());
    CHECK(Unflatten<float>(3, 2, 2)(tape, x).index() == x.index());
    CHECK_THROWS_WITH_AS(Unflatten<float>(3, 2, 3)(tape, x), doctest::Contains("3x2x3"), shape_error);
    CHECK_THROWS_AS(Unflatten<float>(0, 2, 3), config_error);
}

TEST_CASE_TEMPLATE("BypassTail applies its module to the leading columns and appends the tail unchanged", T, float,
                   double) {
    Rng rng(5);
    Sequential<T> inner;
    inner.add("fc", Linear<T>(3, 2, rng)).add(Activation::tanh);
    BypassTail<T> m(2, std::move(inner));
    auto params = m.named_parameters("encoder.");
    CHECK(names_of(params) == std::vector<std::string>{"encoder.fc.weight", "encoder.fc.bias"});  // no prefix

    Matrix<T> x(4, 5);
    rng.fill_uniform(x, T(-1), T(1));
    Tape<T> tape;
    const Var<T> y = m(tape, tape.constant(x));
    REQUIRE(y.cols() == 4);
    CHECK(y.value().rightCols(2) == x.rightCols(2));
    Tape<T> plain;
    CHECK(y.value().leftCols(2).isApprox(m.inner()(plain, plain.constant(Matrix<T>(x.leftCols(3)))).value()));

    const auto report = gradcheck_parameters<T>([&](Tape<T>& t) { return sum(m(t, t.constant(x)) * m(t, t.constant(x))); },
                                                params);
    INFO(report.describe());
    CHECK(report.ok);

    const ModuleSpec spec = m.spec();
    CHECK(spec.type == "BypassTail");
    CHECK(spec.size("tail") == 2);
    const ModulePtr<T> rebuilt = build_module<T>(spec, rng);
    CHECK(rebuilt->spec() == spec);
    CHECK_THROWS_WITH_AS(m(tape, tape.constant(Matrix<T>::Ones(4, 2))), doctest::Contains("more than its 2"),
                         shape_error);
    CHECK_THROWS_AS(BypassTail<T>(0, Flatten<T>()), config_error);
    CHECK_THROWS_AS(BypassTail<T>(1, ModulePtr<T>()), config_error);
}

TEST_CASE("build_module rebuilds a module from its spec, with registered functions and module types") {
    Rng rng(4);
    Sequential<double> net;
    net.add("fc1", Linear<double>(6, 5, rng)).add(Activation::leaky_relu).add("act", Function<double>("swish", swish<double>));
    net.add("block", Residual<double>(5, rng)).add(Unflatten<double>(5, 1, 1)).add(Flatten<double>());
    const ModuleSpec spec = net.spec();
    CHECK(spec.type == "Sequential");
    REQUIRE(spec.children.size() == 6);
    CHECK(spec.children[0].second.sizes.at("out_features") == 5);
    CHECK(spec.children[1].second.type == "LeakyReLU");

    Rng fresh(99);
    CHECK_THROWS_WITH_AS(build_module<double>(spec, fresh), doctest::Contains("register_function"), config_error);
    register_function<double>("swish", swish<double>);
    CHECK_THROWS_WITH_AS(build_module<double>(spec, fresh), doctest::Contains("\"Residual\""), config_error);
    register_module<double>("Residual", [](const ModuleSpec& s, Rng& r) -> ModulePtr<double> {
        return std::make_unique<Residual<double>>(s.size("width"), r);
    });
    ModulePtr<double> copy = build_module<double>(spec, fresh);
    CHECK(copy->spec() == spec);
    auto from = net.named_parameters(), to = copy->named_parameters();
    CHECK(names_of(from) == names_of(to));
    for (std::size_t k = 0; k < from.size(); ++k) to[k].param->value = from[k].param->value;
    Tape<double> tape;
    const Matrix<double> x = Matrix<double>::Random(4, 6);
    CHECK(net(tape, tape.constant(x)).value() == (*copy)(tape, tape.constant(x)).value());

    ModuleSpec bad = spec;
    bad.children[0].second.sizes.erase("in_features");
    CHECK_THROWS_WITH_AS(build_module<double>(bad, fresh), doctest::Contains("in_features"), config_error);
}

TEST_CASE("the MLP builders take a custom activation wherever they take a built-in one") {
    Rng a(5), b(5);
    const Function<double> act("swish", swish<double>);
    Sequential<double> custom = mlp<double>({4, 3, 2}, act, a, {"fc1", "fc2"});
    Sequential<double> longhand;
    longhand.add("fc1", Linear<double>(4, 3, b)).add("fc1_act", act).add("fc2", Linear<double>(3, 2, b)).add("fc2_act", act);
    CHECK(custom.spec() == longhand.spec());
    CHECK(custom.spec().children[1].second.texts.at("name") == "swish");
    Tape<double> tape;
    const Matrix<double> x = Matrix<double>::Random(3, 4);
    CHECK(custom(tape, tape.constant(x)).value() == longhand(tape, tape.constant(x)).value());

    Sequential<double> builtin = mlp<double>({4, 3}, Activation::tanh, a);
    CHECK(builtin.spec().children[1].second.type == "Tanh");
}
