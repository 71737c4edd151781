/// \file
/// vaelet/parallel/mpi.hpp — Communicator on MPI, for data-parallel training across processes and machines
/// (docs/distributed.md). Needs the vaelet::mpi CMake target (find_package(vaelet COMPONENTS mpi), or the build
/// option VAELET_WITH_MPI), which brings `<mpi.h>` and links MPI; vaelet::vaelet alone has no MPI in it.
///
///     int main(int argc, char** argv) {
///         vaelet::MpiSession mpi(&argc, &argv);              // MPI_Init_thread … MPI_Finalize
///         vaelet::MpiCommunicator world;                     // MPI_COMM_WORLD
///         vaelet::Trainer<float> trainer(vae, train, options, &world);
///         ...
///     }
///
/// An MPI call that fails throws vaelet::error naming the call and MPI's reason (errors return instead of
/// aborting, so the program can say what went wrong first); after such an error, or any error on one process,
/// call MpiSession::abort so the other processes, which may be waiting in a collective, stop too.
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/parallel/communicator.hpp"

#include <mpi.h>

#include <climits>
#include <cstddef>
#include <exception>
#include <string>

namespace vaelet {

namespace detail {
inline void mpi_check(int code, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw error(std::string(call) + " failed: " + std::string(text, std::size_t(length)));
}

inline int mpi_count(std::size_t n, const char* call) {
    if (n > std::size_t(INT_MAX))
        throw config_error(std::string(call) + ": " + std::to_string(n) + " values is more than one MPI call moves "
                           "(INT_MAX)");
    return int(n);
}
}  // namespace detail

/// MPI for the lifetime of the object: MPI_Init_thread (only the main thread calls MPI; Eigen's OpenMP threads do
/// not), MPI_Finalize at the end. If an exception is leaving the scope, MPI_Abort instead: MPI_Finalize would
/// wait forever for processes that are blocked in a collective this one will never join.
class MpiSession {
public:
    /// Initializes MPI (MPI_Init_thread, MPI_THREAD_FUNNELED) with main's `argc` and `argv`, or none, and makes
    /// MPI_COMM_WORLD's errors return, so they become exceptions. Throws vaelet::error when initialization fails.
    MpiSession(int* argc = nullptr, char*** argv = nullptr) {
        int provided = 0;
        detail::mpi_check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    }
    /// MPI_Finalize; MPI_Abort with code 1 instead while an exception is leaving the scope.
    ~MpiSession() {
        if (std::uncaught_exceptions() > exceptions_) abort(1);
        MPI_Finalize();
    }
    MpiSession(const MpiSession&) = delete;             ///< one session per process
    MpiSession& operator=(const MpiSession&) = delete;  ///< one session per process

    /// Ends every process of the job with exit code `code` (MPI_Abort on MPI_COMM_WORLD); does not return.
    [[noreturn]] static void abort(int code) {
        MPI_Abort(MPI_COMM_WORLD, code);
        std::terminate();  // MPI_Abort does not return; this is for the compiler
    }

private:
    int exceptions_ = std::uncaught_exceptions();
};

/// A Communicator over an MPI communicator (MPI_COMM_WORLD by default), which must outlive it.
class MpiCommunicator final : public Communicator {
public:
    /// Reads this process's rank, the size and how many processes share this machine. Needs an MpiSession (MPI
    /// initialized). Every MPI call of this class throws vaelet::error when it fails, naming the call and MPI's
    /// reason; sum and broadcast throw config_error for more than INT_MAX values or bytes, MPI's limit for one call.
    explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
        detail::mpi_check(MPI_Comm_rank(comm, &rank_), "MPI_Comm_rank");
        detail::mpi_check(MPI_Comm_size(comm, &size_), "MPI_Comm_size");
        MPI_Comm node;
        detail::mpi_check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
                          "MPI_Comm_split_type");
        MPI_Comm_size(node, &on_this_node_);
        MPI_Comm_free(&node);
    }

    int rank() const override { return rank_; }
    int size() const override { return size_; }
    /// The processes of this communicator that run on this machine (they share its cores).
    int on_this_node() const { return on_this_node_; }

    void sum(float* values, std::size_t n) override { all_reduce(values, n, MPI_FLOAT); }
    void sum(double* values, std::size_t n) override { all_reduce(values, n, MPI_DOUBLE); }

    void broadcast(void* data, std::size_t bytes, int root) override {
        detail::mpi_check(MPI_Bcast(data, detail::mpi_count(bytes, "MPI_Bcast"), MPI_BYTE, root, comm_), "MPI_Bcast");
    }

private:
    void all_reduce(void* values, std::size_t n, MPI_Datatype type) {
        detail::mpi_check(MPI_Allreduce(MPI_IN_PLACE, values, detail::mpi_count(n, "MPI_Allreduce"), type, MPI_SUM, comm_),
                          "MPI_Allreduce");
    }

    MPI_Comm comm_;
    int rank_ = 0, size_ = 1, on_this_node_ = 1;
};

}  // namespace vaelet
