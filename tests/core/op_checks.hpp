// Shared by the core tests: gradient-check one op through a random weighted sum of its output, and remember
// which ops have been checked so that test_ops.cpp can insist that every op has a check.
#pragma once

#include "vaelet/core/gradcheck.hpp"
#include "vaelet/core/ops.hpp"
#include "vaelet/core/random.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

namespace vaelet::testing {

inline std::set<Op>& checked_ops() {
    static std::set<Op> ops;
    return ops;
}

/// Gradient checks that live in another test file (test_conv.cpp for core/conv.hpp), in double: the "every op" test
/// of test_ops.cpp runs them too. A file adds its own at start-up:
///   [[maybe_unused]] const bool registered = vaelet::testing::add_op_checks(check_convolutions<double>);
inline std::vector<void (*)()>& other_op_checks() {
    static std::vector<void (*)()> checks;
    return checks;
}
inline bool add_op_checks(void (*checks)()) {
    other_op_checks().push_back(checks);
    return true;
}

/// A rows×cols matrix of U[lo, hi) values from a fixed seed.
template <class T>
Matrix<T> random_matrix(Index rows, Index cols, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
    Rng rng(seed);
    Matrix<T> m(rows, cols);
    rng.fill_uniform(m, lo, hi);
    return m;
}

/// Values in ±[margin, margin + 1): away from the kink at 0 of relu and friends, further than the step h.
template <class T>
Matrix<T> away_from_zero(Index rows, Index cols, std::uint64_t seed, double margin = 0.1) {
    Matrix<T> m = random_matrix<T>(rows, cols, seed);
    return m.unaryExpr([margin](T v) { return v < 0 ? v - T(margin) : v + T(margin); });
}

/// Gradient-checks `build(tape, inputs)` (any shape) through loss = Σ out ⊙ W for a fixed random W.
template <class T, class Build>
void check_op(const std::string& what, Build build, std::vector<Matrix<T>> inputs) {
    Matrix<T> weights;
    auto f = [&](Tape<T>& tape, const std::vector<Var<T>>& in) {
        Var<T> out = build(tape, in);
        checked_ops().insert(tape.node(out.index()).op);
        if (weights.size() == 0) weights = random_matrix<T>(out.rows(), out.cols(), 12345);
        return sum(mul(out, tape.constant(weights)));
    };
    const auto report = gradcheck<T>(f, std::move(inputs));
    INFO(what << ": " << report.describe());
    CHECK(report.ok);
}

}  // namespace vaelet::testing
