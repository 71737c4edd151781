#include "vaelet/core/gradcheck.hpp"
#include "vaelet/core/ops.hpp"

#include <doctest/doctest.h>

using namespace vaelet;

namespace {

// A user-defined op with a deliberately wrong rule: value 3a, gradient claimed to be 2.
template <class T>
Var<T> wrong_triple(const Var<T>& a) {
    Tape<T>& t = a.tape("wrong_triple");
    Node<T>& n = t.push_custom("wrong_triple", {a}, [](Tape<T>& t, Node<T>& n) { t.accumulate(n.parents[0], T(2) * n.grad); });
    n.value = T(3) * a.value();
    return t.last();
}

}  // namespace

TEST_CASE_TEMPLATE("gradcheck accepts a right gradient and reports the worst entry of a wrong one", T, float, double) {
    Matrix<T> x(2, 3);
    x << T(0.1), T(-0.4), T(0.7), T(1.2), T(-1.5), T(0.3);

    auto right = gradcheck<T>([](Tape<T>&, const std::vector<Var<T>>& in) { return sum(square(in[0])); }, {x});
    CHECK(right.ok);
    CHECK(right.entries_checked == 6);
    CHECK(right.describe().find("passed") != std::string::npos);

    auto wrong = gradcheck<T>([](Tape<T>&, const std::vector<Var<T>>& in) { return sum(wrong_triple(in[0])); }, {x});
    CHECK_FALSE(wrong.ok);
    CHECK(wrong.input == 0);
    CHECK(wrong.analytic == doctest::Approx(2.0));
    CHECK(wrong.numeric == doctest::Approx(3.0).epsilon(1e-3));
    CHECK(wrong.worst_error == doctest::Approx(1.0 / 3.0).epsilon(1e-3));
    CHECK(wrong.describe().find("FAILED") != std::string::npos);
}

TEST_CASE("gradcheck treats a NaN gradient as a failure") {
    Matrix<double> x = Matrix<double>::Constant(1, 2, -1.0);  // sqrt of a negative number
    auto report = gradcheck<double>([](Tape<double>&, const std::vector<Var<double>>& in) { return sum(sqrt(in[0])); }, {x});
    CHECK_FALSE(report.ok);
}

TEST_CASE("gradcheck leaves the caller's inputs untouched and checks several inputs") {
    Matrix<double> a = Matrix<double>::Constant(2, 2, 0.5);
    Matrix<double> b = Matrix<double>::Constant(2, 2, 2.0);
    auto report = gradcheck<double>(
        [](Tape<double>&, const std::vector<Var<double>>& in) { return sum(in[0] * in[1] + exp(in[0])); }, {a, b});
    CHECK(report.ok);
    CHECK(report.entries_checked == 8);
    CHECK(a(0, 0) == 0.5);
}
