/// \file
/// vaelet/core/gradcheck.hpp — checks an op's (or a whole model's) gradient against central differences.
///
///     auto report = vaelet::gradcheck<double>(
///         [](vaelet::Tape<double>&, const std::vector<vaelet::Var<double>>& in) { return vaelet::sum(vaelet::tanh(in[0])); },
///         {vaelet::Matrix<double>::Random(3, 4)});
///     if (!report.ok) std::cerr << report.describe() << '\n';
///
/// Every entry of every input is nudged by ±h, the function is rebuilt on a fresh tape each time, and
/// (f(x+h) − f(x−h)) / 2h is compared with the gradient from `backward`. The error of an entry is
/// |analytic − numeric| / max(1, |analytic|, |numeric|): relative for large gradients, absolute for small ones.
/// The report names the worst entry. `gradcheck_parameters` does the same for every parameter of a model.
#pragma once

#include "vaelet/core/tape.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace vaelet {

/// How gradcheck nudges the inputs and what error it accepts. The defaults suit float (1e-2) and double (1e-6).
template <class T>
struct GradcheckOptions {
    T step = std::is_same<T, float>::value ? T(1e-2) : T(1e-6);        ///< h
    T tolerance = std::is_same<T, float>::value ? T(1e-2) : T(1e-6);   ///< largest acceptable error
};

/// What gradcheck found: pass or fail, and the entry with the worst error (a NaN error counts as the worst).
template <class T>
struct GradcheckReport {
    bool ok = true;         ///< worst_error ≤ the tolerance
    T worst_error = 0;      ///< the largest error over all entries
    int input = -1;         ///< where it occurred: input number (-1 when nothing was checked), row, column
    /// The worst entry's row.
    Index row = -1, col = -1;
    /// The gradient from `backward` at the worst entry.
    T analytic = 0, numeric = 0;
    Index entries_checked = 0;  ///< entries nudged, over all inputs
    /// \var col
    /// The worst entry's column.
    /// \var numeric
    /// The central difference (f(x+h) − f(x−h)) / 2h at the worst entry.

    /// One line for a test's failure message: passed or FAILED, the worst error, where, and both gradients.
    std::string describe() const {
        std::ostringstream out;
        out << (ok ? "gradcheck passed" : "gradcheck FAILED") << ": worst error " << worst_error;
        if (input >= 0)
            out << " at input " << input << " (" << row << ", " << col << "): analytic " << analytic << ", numeric "
                << numeric;
        out << " over " << entries_checked << " entries";
        return out.str();
    }
};

namespace detail {

/// Compares `analytic[k]` with central differences of `evaluate()` taken by nudging each entry of `*values[k]`.
template <class T, class Evaluate>
GradcheckReport<T> compare_with_differences(const std::vector<Matrix<T>*>& values,
                                            const std::vector<Matrix<T>>& analytic, Evaluate&& evaluate,
                                            const GradcheckOptions<T>& options) {
    GradcheckReport<T> report;
    for (std::size_t k = 0; k < values.size(); ++k) {
        Matrix<T>& x = *values[k];
        for (Index i = 0; i < x.rows(); ++i) {
            for (Index j = 0; j < x.cols(); ++j) {
                const T saved = x(i, j);
                x(i, j) = saved + options.step;
                const T up = evaluate();
                x(i, j) = saved - options.step;
                const T down = evaluate();
                x(i, j) = saved;

                const T numeric = (up - down) / (T(2) * options.step);
                const T a = analytic[k](i, j);
                const T scale = std::max({T(1), std::abs(a), std::abs(numeric)});
                const T err = std::abs(a - numeric) / scale;
                ++report.entries_checked;
                const bool worse = std::isnan(err) ? !std::isnan(report.worst_error) : err > report.worst_error;
                if (worse || report.input < 0) {  // a NaN, once seen, stays the worst
                    report.worst_error = err;
                    report.input = static_cast<int>(k);
                    report.row = i;
                    report.col = j;
                    report.analytic = a;
                    report.numeric = numeric;
                }
            }
        }
    }
    report.ok = report.worst_error <= options.tolerance;
    return report;
}

}  // namespace detail

/// `f(tape, inputs)` must return a 1×1 Var built from the given input Vars. Inputs are copied; the caller's
/// matrices are not touched.
template <class T, class F>
GradcheckReport<T> gradcheck(F&& f, std::vector<Matrix<T>> inputs, GradcheckOptions<T> options = {}) {
    std::vector<Matrix<T>> grads;
    std::vector<Matrix<T>*> values;
    for (auto& x : inputs) {
        grads.push_back(Matrix<T>::Zero(x.rows(), x.cols()));
        values.push_back(&x);
    }
    Tape<T> tape;
    auto build = [&]() {
        tape.reset();
        std::vector<Var<T>> vars;
        for (std::size_t k = 0; k < inputs.size(); ++k) vars.push_back(tape.variable(inputs[k], grads[k]));
        return f(tape, vars);
    };
    tape.backward(build());
    return detail::compare_with_differences<T>(values, grads, [&]() { return build().item(); }, options);
}

/// Checks the gradient of a whole model: `f(tape)` builds a 1×1 loss from the parameters in `params` (as
/// `Parameter::on(tape)` leaves) and must be deterministic (hold any noise fixed, e.g. re-seed an Rng inside f).
/// The parameters' values are restored and their gradients zeroed afterwards. `input` in the report is the
/// index into `params`.
template <class T, class F, class Params>
GradcheckReport<T> gradcheck_parameters(F&& f, Params& params, GradcheckOptions<T> options = {}) {
    std::vector<Matrix<T>*> values;
    for (auto& p : params) {
        p.param->zero_grad();
        values.push_back(&p.param->value);
    }
    Tape<T> tape;
    auto build = [&]() {
        tape.reset();
        return f(tape);
    };
    tape.backward(build());
    std::vector<Matrix<T>> analytic;
    for (auto& p : params) analytic.push_back(p.param->grad);
    for (auto& p : params) p.param->zero_grad();
    return detail::compare_with_differences<T>(values, analytic, [&]() { return build().item(); }, options);
}

}  // namespace vaelet
