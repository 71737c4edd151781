// examples/01_gradient.cpp — the tape alone: record a computation, take its gradient, check it.
//
// Least squares: the loss is L(w, b) = Σᵢ (xᵢ·wᵀ + b − yᵢ)², and its gradient is ∂L/∂w = 2·rᵀ·x, ∂L/∂b = 2·Σᵢ rᵢ
// for the residuals r = x·wᵀ + b − y. The tape computes it; we compare with the formula and with gradcheck.
#include <vaelet/core/gradcheck.hpp>
#include <vaelet/core/ops.hpp>

#include <cmath>
#include <iostream>
#include <vector>

using vaelet::Matrix;

int main() {
    Matrix<double> x(4, 3), y(4, 1), w(1, 3), b(1, 1);
    x << 1, 2, 0, 0, 1, 1, 2, 0, 1, 1, 1, 1;
    y << 1, 0, 2, 1;
    w << 0.5, -0.25, 0.1;
    b << 0.2;

    // Parameters are leaves that point at their storage; their gradients land in dw and db.
    Matrix<double> dw = Matrix<double>::Zero(1, 3), db = Matrix<double>::Zero(1, 1);
    vaelet::Tape<double> tape;
    auto residual = vaelet::linear(tape.constant(x), tape.variable(w, dw), tape.variable(b, db)) - tape.constant(y);
    auto loss = vaelet::sum(vaelet::square(residual));
    tape.backward(loss);

    const Matrix<double> r = (x * w.transpose()).array() + b(0, 0) - y.array();
    const Matrix<double> dw_formula = 2 * r.transpose() * x;
    std::cout << "loss " << loss.item() << "\n∂L/∂w " << dw << "  (formula " << dw_formula << ")\n"
              << "∂L/∂b " << db << "  (formula " << 2 * r.sum() << ")\n";

    // The same gradient against central differences, for every input entry (x too).
    auto report = vaelet::gradcheck<double>(
        [](vaelet::Tape<double>&, const std::vector<vaelet::Var<double>>& in) {
            return vaelet::sum(vaelet::square(vaelet::linear(in[0], in[1], in[2]) - in[3]));
        },
        {x, w, b, y});
    std::cout << report.describe() << '\n';

    const bool same = (dw - dw_formula).cwiseAbs().maxCoeff() < 1e-12 && std::abs(db(0, 0) - 2 * r.sum()) < 1e-12;
    return same && report.ok ? 0 : 1;
}
