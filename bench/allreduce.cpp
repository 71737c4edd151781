// vaelet_allreduce — what one data-parallel step's communication costs here: the time of one Communicator::sum
// (MPI_Allreduce) over the flat buffer a Trainer moves, for the MNIST model's size and a range around it.
// docs/distributed.md uses its figures; run it on a cluster to get that cluster's:
//
//   mpirun -np 2 build/release/bin/vaelet_allreduce            # each size: median µs per all-reduce, GB/s
//   mpirun -np 8 --hostfile hosts build/release/bin/vaelet_allreduce
#include <vaelet/parallel/mpi.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
    vaelet::MpiSession session(&argc, &argv);
    vaelet::MpiCommunicator world;
    // 652,824 weights of the 784-400-20 model, plus the Trainer's 4 values after them.
    const std::size_t model = 652'824 + 4;
    const std::vector<std::size_t> sizes{1'000, 10'000, 100'000, model, 4 * model};
    if (world.leader())
        std::printf("%d processes (%d on this machine); float sums; median of 50 after 5 warm-ups\n%12s %12s %12s %10s\n",
                    world.size(), world.on_this_node(), "floats", "bytes", "us", "GB/s");
    for (const std::size_t n : sizes) {
        std::vector<float> values(n, 1.0f);
        std::vector<double> micros;
        for (int i = 0; i < 55; ++i) {
            world.sum(values.data(), 0);  // a barrier of sorts: start together
            const auto start = std::chrono::steady_clock::now();
            world.sum(values.data(), n);
            const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
            if (i >= 5) micros.push_back(us);
        }
        std::nth_element(micros.begin(), micros.begin() + 25, micros.end());
        double median = micros[25];
        world.sum(&median, 1);  // the slowest process's figure is what a step waits for: report the mean of medians
        median /= world.size();
        if (world.leader())
            std::printf("%12zu %12zu %12.1f %10.2f\n", n, n * sizeof(float), median,
                        double(n * sizeof(float)) / median / 1e3);
    }
    return 0;
}
