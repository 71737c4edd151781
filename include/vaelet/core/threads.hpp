/// \file
/// vaelet/core/threads.hpp — how many threads vaelet's matrix products use: one, unless you ask for more.
///
///     vaelet::set_threads(2);                    // two threads for Eigen's matrix products (needs OpenMP, below)
///     vaelet::set_threads(0);                    // one per core
///     vaelet::set_threads(0, ranks_on_node);     // under MPI: the cores shared out among the ranks on this machine
///
/// Why one by default: vaelet::vaelet does not bring OpenMP, so Eigen runs on the calling thread and nothing spawns
/// threads behind your back. On the models vaelet trains, a second thread gains little on a quiet machine and loses
/// 3–4× on a busy one, where OpenMP's spinning threads wait for each other (docs/performance.md). To use more threads,
/// link the CMake target vaelet::openmp instead of vaelet::vaelet (or compile and link with -fopenmp) and call
/// set_threads. With OpenMP, Eigen's own default is OMP_NUM_THREADS or one per core, until set_threads is called.
///
/// Under MPI each process sets its own count: give each rank its share of the machine's cores (the second argument),
/// or the ranks oversubscribe the cores and every one of them slows down.
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <algorithm>
#include <string>
#include <thread>

namespace vaelet {

/// True when this program was built with OpenMP, so that set_threads can give Eigen more than one thread.
inline constexpr bool threads_available =
#if defined(_OPENMP)
    true;
#else
    false;
#endif

/// Sets the number of threads for matrix products in this process: `threads` ≥ 1, or 0 for one per core, the cores
/// being shared out among `processes_on_this_machine` processes (MPI ranks on one node). Returns the count set.
/// Without OpenMP, 0 gives 1, and asking for more than one thread is a config_error that says how to get OpenMP.
inline int set_threads(int threads, int processes_on_this_machine = 1) {
    if (threads < 0)
        throw config_error("set_threads: the thread count must be 0 (one per core) or more, got " +
                           std::to_string(threads));
    if (processes_on_this_machine < 1)
        throw config_error("set_threads: processes_on_this_machine must be at least 1, got " +
                           std::to_string(processes_on_this_machine));
    const int cores = std::max(1, int(std::thread::hardware_concurrency()));
    int n = threads > 0 ? threads : std::max(1, cores / processes_on_this_machine);
    if (!threads_available) {
        if (threads > 1)
            throw config_error("set_threads(" + std::to_string(threads) + "): this program was built without OpenMP, "
                               "so matrix products run on one thread; link vaelet::openmp (CMake) or compile and "
                               "link with -fopenmp");
        n = 1;
    }
    Eigen::setNbThreads(n);
    return n;
}

/// The number of threads matrix products use now.
inline int threads() { return Eigen::nbThreads(); }

}  // namespace vaelet
