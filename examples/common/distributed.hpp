// examples/common/distributed.hpp — `train --distributed`: training in an MPI job (docs/distributed.md), when the
// program was built with MPI (VAELET_HAVE_MPI, from the vaelet::mpi target). Rank 0 is the leader: it alone reads
// and writes the run directory, and sends the others the run's configuration; every rank reads the data.
#pragma once

#include "train_flags.hpp"

#include <vaelet/core/error.hpp>
#include <vaelet/parallel/communicator.hpp>
#include <vaelet/train/checkpoint.hpp>
#ifdef VAELET_HAVE_MPI
#include <vaelet/parallel/mpi.hpp>
#endif

#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

namespace examples {

/// The processes of a run: none (peers == nullptr) when training alone.
struct Peers {
    vaelet::Communicator* peers = nullptr;
    int on_this_node = 1;  // processes sharing this machine's cores (for the default thread count)

    bool leader() const { return !peers || peers->leader(); }
};

/// Runs `train(Peers)` and returns its exit code. Without `distributed`, alone. With it, inside an MPI session: an
/// error on any rank is printed by that rank ("PROGRAM: error on rank R of P: …") and ends the whole job
/// (MPI_Abort), so no rank waits forever in a collective for one that has stopped.
template <class Train>
int run_training(const char* program, bool distributed, Train&& train) {
    if (!distributed) return train(Peers{});
#ifdef VAELET_HAVE_MPI
    vaelet::MpiSession session;
    vaelet::MpiCommunicator world;
    try {
        return train(Peers{&world, world.on_this_node()});
    } catch (const std::exception& e) {
        // One write, so that mpirun's own note about the abort cannot land inside the line.
        const std::string line = std::string(program) + ": error on rank " + std::to_string(world.rank()) + " of " +
                                 std::to_string(world.size()) + ": " + in_flags(e.what()) + "\n";
        std::cerr << line << std::flush;
        vaelet::MpiSession::abort(1);
    }
#else
    throw vaelet::config_error(std::string("--distributed: this ") + program + " was built without MPI; install Open "
                               "MPI (Debian: apt-get install libopenmpi-dev openmpi-bin) and build again (CMake "
                               "finds it; -DVAELET_WITH_MPI=ON insists)");
#endif
}

/// The leader's `config`, on every rank (as the JSON a checkpoint stores). The leader checks first that the
/// training options suit this many processes, so a bad setting is one error, from rank 0.
inline vaelet::RunConfig share_config(const vaelet::RunConfig& config, const Peers& p) {
    if (!p.peers) return config;
    if (p.leader()) config.train.validate(p.peers->size());
    std::string text = p.leader() ? vaelet::to_json(config).dump() : std::string();
    std::uint64_t size = text.size();
    p.peers->broadcast(&size, sizeof size, 0);
    text.resize(size);
    p.peers->broadcast(text.data(), size, 0);
    return vaelet::run_config_from_json(nlohmann::json::parse(text), "the configuration from rank 0");
}

/// Checks that every rank has the leader's `count` of `what` (its training examples, say): a rank with other
/// data would make other batches and wait for ever.
inline void require_same_count(long count, const std::string& what, const Peers& p) {
    if (!p.peers) return;
    std::int64_t leaders = count;
    p.peers->broadcast(&leaders, sizeof leaders, 0);
    if (leaders != count)
        throw vaelet::config_error("this rank has " + std::to_string(count) + " " + what + " but rank 0 has " +
                                   std::to_string(leaders) + "; every rank must read the same data (a shared "
                                   "directory, or the same files at the same path on every machine)");
}

}  // namespace examples
