// tests/consumer/openmp_main.cpp — a user's program on vaelet::openmp: it asks for two threads and gets them.
#include <vaelet/core/threads.hpp>

#include <iostream>

int main() {
    vaelet::set_threads(2);
    std::cout << "vaelet::openmp: set_threads(2) gives " << vaelet::threads() << " threads\n";
    return vaelet::threads_available && vaelet::threads() == 2 ? 0 : 1;
}
