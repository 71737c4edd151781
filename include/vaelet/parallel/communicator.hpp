/// \file
/// vaelet/parallel/communicator.hpp — the processes that train one model together, as the Trainer sees them: how
/// many there are, which one this is, a sum across all of them and a broadcast from one. Data-parallel training
/// (train/trainer.hpp) needs nothing more, so the library has no MPI in it: vaelet/parallel/mpi.hpp implements
/// this on MPI (the vaelet::mpi CMake component), and a test can implement it on threads.
///
///     vaelet::MpiSession mpi;                                   // MPI_Init … MPI_Finalize
///     vaelet::MpiCommunicator world;                            // MPI_COMM_WORLD
///     vaelet::Trainer<float> trainer(vae, train, options, &world);
///
/// Every call is collective: every process makes it, in the same order, with the same sizes.
#pragma once

#include <cstddef>

namespace vaelet {

/// The group of processes that train one model together: what the Trainer needs for data-parallel training.
/// Implement it on your own transport, or use MpiCommunicator (vaelet/parallel/mpi.hpp). `sum` and `broadcast` are
/// collective: every process makes the call, in the same order, with the same sizes.
class Communicator {
public:
    virtual ~Communicator() = default;  ///< communicators are used through this interface

    /// This process's number, 0 … size() − 1. Process 0 is the leader: it alone writes files.
    virtual int rank() const = 0;
    /// How many processes train together.
    virtual int size() const = 0;

    /// Replaces each of the `n` values with its sum over all processes (an all-reduce).
    virtual void sum(float* values, std::size_t n) = 0;
    /// The same for doubles.
    virtual void sum(double* values, std::size_t n) = 0;

    /// Copies `bytes` bytes at `data` on process `root` to `data` on every other process.
    virtual void broadcast(void* data, std::size_t bytes, int root) = 0;

    /// True on process 0, the one that writes files (checkpoints, metrics, images).
    bool leader() const { return rank() == 0; }
};

}  // namespace vaelet
