// tests/consumer/mpi_main.cpp — a user's program on vaelet::mpi: an MPI session and one sum over the processes
// (run alone, as MPI's singleton, it is its own total).
#include <vaelet/parallel/mpi.hpp>

#include <iostream>

int main(int argc, char** argv) {
    vaelet::MpiSession mpi(&argc, &argv);
    vaelet::MpiCommunicator world;
    double ranks = 1;
    world.sum(&ranks, 1);
    std::cout << "vaelet::mpi: " << ranks << " process(es), rank " << world.rank() << '\n';
    return ranks == world.size() ? 0 : 1;
}
