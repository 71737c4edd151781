// tests/consumer/main.cpp — a user's program: include vaelet, take one gradient, print the version. Linked to
// vaelet::vaelet alone, it runs one thread: vaelet brings no OpenMP (vaelet::openmp does).
#include <vaelet/vaelet.hpp>

#include <iostream>

int main() {
    vaelet::Matrix<double> w(1, 1), dw = vaelet::Matrix<double>::Zero(1, 1);
    w << 3.0;
    vaelet::Tape<double> tape;
    tape.backward(vaelet::sum(vaelet::square(tape.variable(w, dw))));  // d(w²)/dw = 2w = 6
    std::cout << "vaelet " << vaelet::version() << ": d(w^2)/dw at w = 3 is " << dw(0, 0) << '\n';
    if (vaelet::threads_available || vaelet::threads() != 1) {
        std::cout << "vaelet::vaelet brought threads: " << vaelet::threads() << '\n';
        return 1;
    }
    return dw(0, 0) == 6.0 ? 0 : 1;
}
