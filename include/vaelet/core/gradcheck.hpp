// vaelet/core/gradcheck.hpp — checks an op's (or a whole model's) gradient against central differences.
//
//   auto report = vaelet::gradcheck<double>(
//       [](vaelet::Tape<double>&, const std::vector<vaelet::Var<double>>& in) { return vaelet::sum(vaelet::tanh(in[0])); },
//       {vaelet::Matrix<double>::Random(3, 4)});
//   if (!report.ok) std::cerr << report.describe() << '\n';
//
// Every entry of every input is nudged by ±h, the function is rebuilt on a fresh tape each time, and
// (f(x+h) − f(x−h)) / 2h is compared with the gradient from `backward`. The error of an entry is
// |analytic − numeric| / max(1, |analytic|, |numeric|): relative for large gradients, absolute for small ones.
// The report names the worst entry.
#pragma once

#include "vaelet/core/tape.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace vaelet {

template <class T>
struct GradcheckOptions {
    T step = std::is_same<T, float>::value ? T(1e-2) : T(1e-6);        // h
    T tolerance = std::is_same<T, float>::value ? T(1e-2) : T(1e-6);   // largest acceptable error
};

template <class T>
struct GradcheckReport {
    bool ok = true;
    T worst_error = 0;      // the largest error over all entries
    int input = -1;         // where it occurred: input number, row, column
    Index row = -1, col = -1;
    T analytic = 0, numeric = 0;
    Index entries_checked = 0;

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

/// `f(tape, inputs)` must return a 1×1 Var built from the given input Vars. Inputs are copied; the caller's
/// matrices are not touched.
template <class T, class F>
GradcheckReport<T> gradcheck(F&& f, std::vector<Matrix<T>> inputs, GradcheckOptions<T> options = {}) {
    std::vector<Matrix<T>> grads;
    for (const auto& x : inputs) grads.push_back(Matrix<T>::Zero(x.rows(), x.cols()));
    Tape<T> tape;

    auto evaluate = [&]() {
        tape.reset();
        std::vector<Var<T>> vars;
        for (std::size_t k = 0; k < inputs.size(); ++k) vars.push_back(tape.variable(inputs[k], grads[k]));
        return f(tape, vars);
    };

    tape.backward(evaluate());
    const std::vector<Matrix<T>> analytic = grads;

    GradcheckReport<T> report;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        for (Index i = 0; i < inputs[k].rows(); ++i) {
            for (Index j = 0; j < inputs[k].cols(); ++j) {
                const T saved = inputs[k](i, j);
                inputs[k](i, j) = saved + options.step;
                const T up = evaluate().item();
                inputs[k](i, j) = saved - options.step;
                const T down = evaluate().item();
                inputs[k](i, j) = saved;

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

}  // namespace vaelet
